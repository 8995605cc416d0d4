#!/usr/bin/env python3
"""Makes the small loader fixtures, written by the reference Python packages (not by our own writer), so the C++
readers are checked against the real formats:
  tests/data/loaders/all_dtypes.safetensors   every dtype the `safetensors` package (torch backend) can write
  tests/data/loaders/tiny_llama.gguf          a 1-layer llama GGUF from `gguf` (GGUFWriter): all metadata value
                                              types incl. nested arrays, F32/F16/Q8_0 tensors, tokenizer keys
and copies them as libFuzzer seeds into fuzz/corpus/{safetensors,gguf}/.
Run: /opt/goldenv/bin/python tools/make_loader_fixtures.py   (made with safetensors 0.8.0, gguf 0.19.0,
torch 2.15.0, numpy 2.4.6). Deterministic: fixed values, no randomness.
"""
import pathlib
import shutil

import gguf
import numpy as np
import safetensors
import torch
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "loaders"
CORPUS = ROOT / "fuzz" / "corpus"


def make_safetensors(path):
    base = torch.arange(8, dtype=torch.float32).reshape(2, 4) - 3.0
    tensors = {
        "f64": base.to(torch.float64), "f32": base, "f16": base.to(torch.float16), "bf16": base.to(torch.bfloat16),
        "i64": base.to(torch.int64), "i32": base.to(torch.int32), "i16": base.to(torch.int16),
        "i8": base.to(torch.int8), "u8": (base + 3).to(torch.uint8), "bool": base > 0,
        "f8_e4m3": base.to(torch.float8_e4m3fn), "f8_e5m2": base.to(torch.float8_e5m2),
        "u16": (base + 3).to(torch.uint16), "u32": (base + 3).to(torch.uint32), "u64": (base + 3).to(torch.uint64),
        "c64": base.to(torch.complex64), "scalar": torch.tensor(1.5), "empty": torch.zeros(0, 3),
    }
    for name in ("float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"):
        if hasattr(torch, name):
            tensors[name] = (base.abs() + 1).to(getattr(torch, name))
    save_file(tensors, str(path), metadata={"format": "pt", "made_by": "tools/make_loader_fixtures.py"})


def make_gguf(path):
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny")
    w.add_context_length(64)
    w.add_embedding_length(32)
    w.add_block_count(1)
    w.add_feed_forward_length(64)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -3)
    w.add_uint16("test.u16", 65535)
    w.add_int16("test.i16", -300)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -5)
    w.add_float32("test.f32", 0.5)
    w.add_uint64("test.u64", 1 << 40)
    w.add_int64("test.i64", -7)
    w.add_float64("test.f64", 2.25)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo")
    w.add_array("test.nested", [[1, 2], [3]])
    tokens = [f"tok{i}" for i in range(16)]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types([1] * 16)
    w.add_token_merges(["t o", "to k"])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_chat_template("{{ bos_token }}")
    rows = np.arange(16 * 32, dtype=np.float32).reshape(16, 32) / 100.0
    w.add_tensor("token_embd.weight", gguf.quants.quantize(rows, gguf.GGMLQuantizationType.Q8_0),
                 raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    h, kv, f = 32, 16, 64
    w.add_tensor("blk.0.attn_norm.weight", np.ones(h, dtype=np.float32))
    w.add_tensor("blk.0.ffn_norm.weight", np.ones(h, dtype=np.float32))
    w.add_tensor("output_norm.weight", np.ones(h, dtype=np.float32))
    for name, shape in (("attn_q", (h, h)), ("attn_k", (kv, h)), ("attn_v", (kv, h)), ("attn_output", (h, h)),
                        ("ffn_gate", (f, h)), ("ffn_up", (f, h)), ("ffn_down", (h, f))):
        w.add_tensor(f"blk.0.{name}.weight", (np.arange(np.prod(shape)).reshape(shape) % 7).astype(np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    DATA.mkdir(parents=True, exist_ok=True)
    make_safetensors(DATA / "all_dtypes.safetensors")
    make_gguf(DATA / "tiny_llama.gguf")
    for kind, name in (("safetensors", "all_dtypes.safetensors"), ("gguf", "tiny_llama.gguf")):
        (CORPUS / kind).mkdir(parents=True, exist_ok=True)
        (DATA / name).chmod(0o644)
        shutil.copy(DATA / name, CORPUS / kind / name)
    print("safetensors", safetensors.__version__, "gguf", getattr(gguf, "__version__", "0.19.0"))


if __name__ == "__main__":
    main()
