#!/usr/bin/env python3
"""Writes an F16 GGUF with random weights and a real model's shapes, for bench/vs-llama-cpp.sh.

  make_random_gguf.py --shape llama-1b|gpt2 --tokenizer-from SMOLLM2.gguf --out FILE.gguf [--seed N]
                      [--mix F16|Q4_0|Q4_K_M|Q5_K_M|Q6_K|Q8_0|IQ4_XS|Q3_K_M|Q2_K]

--mix other than F16 writes the matrices as random block bytes of the types of llama-quantize's mix of that
name, simplified: the tied embedding / LM head Q6_K (Q8_0 for Q8_0), every other matrix the mix's main type
(Q4_K_M / Q5_K_M also keep llama-quantize's Q6_K for attn_v and ffn_down of every other layer, Q3_K_M
Q4_K there, Q2_K Q3_K). The scale
fields hold small positive fp16 values, every other byte is random: speed depends only on the bytes, and the
files need no llama-quantize (for a machine where llama.cpp is not built).

Shapes: Llama-3.2-1B (arch llama: 16 layers, 2048 wide, 32 / 8 heads, FFN 8192, vocab 128256, tied head) and
GPT-2 small (arch gpt2: 12 layers, 768 wide, 12 heads, FFN 3072, 1024 positions, vocab 50257, tied head).
Weights: normal(0, 0.02) as F16, norm weights 1, biases 0. The tokenizer (a gpt2-style BPE vocab) is copied
from the given GGUF and padded with filler tokens to the shape's vocab size, so llama.cpp and xpusim both load
the file. Tensors are streamed to disk one at a time (the Llama file is ~2.5 GB). Needs numpy and gguf-py
(PYTHONPATH=<llama.cpp>/gguf-py, as the script that calls this sets).
"""
import argparse

import numpy as np
import gguf

SHAPES = {
    "llama-1b": dict(arch="llama", layers=16, width=2048, heads=32, kv_heads=8, ffn=8192, vocab=128256,
                     context=8192),
    "gpt2": dict(arch="gpt2", layers=12, width=768, heads=12, kv_heads=12, ffn=3072, vocab=50257, context=1024),
}


# ggml type, bytes per block, values per block, offsets of fp16 scale fields.
BLOCKS = {
    "Q4_0": (gguf.GGMLQuantizationType.Q4_0, 18, 32, [0]),
    "Q8_0": (gguf.GGMLQuantizationType.Q8_0, 34, 32, [0]),
    "Q4_K": (gguf.GGMLQuantizationType.Q4_K, 144, 256, [0, 2]),
    "Q5_K": (gguf.GGMLQuantizationType.Q5_K, 176, 256, [0, 2]),
    "Q6_K": (gguf.GGMLQuantizationType.Q6_K, 210, 256, [208]),
    "IQ4_XS": (gguf.GGMLQuantizationType.IQ4_XS, 136, 256, [0]),
    "Q2_K": (gguf.GGMLQuantizationType.Q2_K, 84, 256, [80, 82]),
    "Q3_K": (gguf.GGMLQuantizationType.Q3_K, 110, 256, [108]),
}
MIXES = {"Q4_0": "Q4_0", "Q4_K_M": "Q4_K", "Q5_K_M": "Q5_K", "Q6_K": "Q6_K", "Q8_0": "Q8_0", "IQ4_XS": "IQ4_XS",
         "Q3_K_M": "Q3_K", "Q2_K": "Q2_K"}
# The type of attn_v / ffn_down of every other layer in the K mixes (llama-quantize raises those).
RAISED = {"Q4_K_M": "Q6_K", "Q5_K_M": "Q6_K", "Q3_K_M": "Q4_K", "Q2_K": "Q3_K"}


def matrix_type(mix, name):
    if mix == "F16":
        return None
    if name == "token_embd.weight":
        return "Q8_0" if mix == "Q8_0" else "Q6_K"
    if name == "position_embd.weight":
        return None
    if mix in RAISED and (name.endswith("attn_v.weight") or name.endswith("ffn_down.weight")):
        if int(name.split(".")[1]) % 2 == 0:
            return RAISED[mix]
    return MIXES[mix]


def random_blocks(rng, type_name, shape):
    _, block_bytes, block_values, scales = BLOCKS[type_name]
    rows, cols = shape
    blocks = rows * cols // block_values
    raw = rng.integers(0, 256, size=(blocks, block_bytes), dtype=np.uint8)
    for offset in scales:
        d = (rng.random(blocks, dtype=np.float32) * 0.002 + 0.0005).astype(np.float16)
        raw[:, offset:offset + 2] = d.view(np.uint8).reshape(blocks, 2)
    return raw.reshape(rows, cols // block_values * block_bytes)


def tensor_shapes(s):
    """(name, numpy shape, kind) in file order; kind: w (random), one (norm weight), zero (bias)."""
    w, f, v = s["width"], s["ffn"], s["vocab"]
    out = [("token_embd.weight", (v, w), "w")]
    if s["arch"] == "gpt2":
        out.append(("position_embd.weight", (s["context"], w), "w"))
    kv = w // s["heads"] * s["kv_heads"]
    for i in range(s["layers"]):
        b = f"blk.{i}."
        if s["arch"] == "llama":
            out += [(b + "attn_norm.weight", (w,), "one"), (b + "attn_q.weight", (w, w), "w"),
                    (b + "attn_k.weight", (kv, w), "w"), (b + "attn_v.weight", (kv, w), "w"),
                    (b + "attn_output.weight", (w, w), "w"), (b + "ffn_norm.weight", (w,), "one"),
                    (b + "ffn_gate.weight", (f, w), "w"), (b + "ffn_up.weight", (f, w), "w"),
                    (b + "ffn_down.weight", (w, f), "w")]
        else:
            out += [(b + "attn_norm.weight", (w,), "one"), (b + "attn_norm.bias", (w,), "zero"),
                    (b + "attn_qkv.weight", (3 * w, w), "w"), (b + "attn_qkv.bias", (3 * w,), "zero"),
                    (b + "attn_output.weight", (w, w), "w"), (b + "attn_output.bias", (w,), "zero"),
                    (b + "ffn_norm.weight", (w,), "one"), (b + "ffn_norm.bias", (w,), "zero"),
                    (b + "ffn_up.weight", (f, w), "w"), (b + "ffn_up.bias", (f,), "zero"),
                    (b + "ffn_down.weight", (w, f), "w"), (b + "ffn_down.bias", (w,), "zero")]
    out.append(("output_norm.weight", (w,), "one"))
    if s["arch"] == "gpt2":
        out.append(("output_norm.bias", (w,), "zero"))
    return out


def copy_tokenizer(writer, path, vocab):
    reader = gguf.GGUFReader(path)
    field = reader.fields
    def strings(name):
        f = field[name]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    def scalar(name):
        f = field[name]
        return f.parts[f.data[0]].tolist()[0]
    tokens = strings("tokenizer.ggml.tokens")
    types = [int(field["tokenizer.ggml.token_type"].parts[i][0]) for i in field["tokenizer.ggml.token_type"].data]
    if len(tokens) > vocab:
        raise SystemExit(f"the tokenizer has {len(tokens)} tokens, more than the shape's vocab {vocab}")
    fillers = vocab - len(tokens)
    tokens += [f"<|filler_{i}|>" for i in range(fillers)]
    types += [int(gguf.TokenType.NORMAL)] * fillers
    writer.add_tokenizer_model(bytes(field["tokenizer.ggml.model"].parts[-1]).decode())
    if "tokenizer.ggml.pre" in field:
        writer.add_tokenizer_pre(bytes(field["tokenizer.ggml.pre"].parts[-1]).decode())
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(strings("tokenizer.ggml.merges"))
    for key, add in (("tokenizer.ggml.bos_token_id", writer.add_bos_token_id),
                     ("tokenizer.ggml.eos_token_id", writer.add_eos_token_id),
                     ("tokenizer.ggml.padding_token_id", writer.add_pad_token_id),
                     ("tokenizer.ggml.unknown_token_id", writer.add_unk_token_id)):
        if key in field:
            add(scalar(key))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", choices=SHAPES, required=True)
    ap.add_argument("--tokenizer-from", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--mix", default="F16", choices=["F16", *MIXES])
    args = ap.parse_args()
    s = SHAPES[args.shape]
    writer = gguf.GGUFWriter(args.out, s["arch"])
    writer.add_name(f"random-{args.shape}")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if args.mix == "F16" else
                         getattr(gguf.LlamaFileType, "MOSTLY_" + args.mix))
    writer.add_context_length(s["context"])
    writer.add_embedding_length(s["width"])
    writer.add_block_count(s["layers"])
    writer.add_feed_forward_length(s["ffn"])
    writer.add_head_count(s["heads"])
    writer.add_head_count_kv(s["kv_heads"])
    if s["arch"] == "llama":
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_rope_freq_base(500000.0)
        writer.add_rope_dimension_count(s["width"] // s["heads"])
        writer.add_vocab_size(s["vocab"])
    else:
        writer.add_layer_norm_eps(1e-5)
    copy_tokenizer(writer, args.tokenizer_from, s["vocab"])
    shapes = tensor_shapes(s)
    for name, shape, kind in shapes:
        block_type = matrix_type(args.mix, name) if kind == "w" else None
        if block_type:
            _, block_bytes, block_values, _ = BLOCKS[block_type]
            byte_shape = (shape[0], shape[1] // block_values * block_bytes)
            writer.add_tensor_info(name, byte_shape, np.uint8, int(np.prod(byte_shape)),
                                   raw_dtype=BLOCKS[block_type][0])
            continue
        dtype = np.float16 if kind == "w" else np.float32
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        writer.add_tensor_info(name, shape, dtype, nbytes)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    rng = np.random.default_rng(args.seed)
    for name, shape, kind in shapes:
        block_type = matrix_type(args.mix, name) if kind == "w" else None
        if block_type:
            data = random_blocks(rng, block_type, shape)
        elif kind == "w":
            data = (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float16)
        else:
            data = np.full(shape, 1.0 if kind == "one" else 0.0, dtype=np.float32)
        writer.write_tensor_data(data)
    writer.close()


if __name__ == "__main__":
    main()
