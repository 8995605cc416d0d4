#!/usr/bin/env python3
"""Makes the model golden files of tests/data/models/ (run with /opt/goldenv/bin/python; dev-only).

For each family (gpt2, llama, qwen3, gemma3, qwen3_moe, mixtral) it builds a TINY random-weight model with
Hugging Face transformers (fixed seed; weights rounded to bf16 and saved as bf16 safetensors + config.json under
tests/data/models/<family>/), reloads it in float32 with attn_implementation="eager", and writes golden.bin:
the input ids of a 16-token prompt, the fp32 logits of all 16 positions and the 32-token greedy continuation.
With --gguf PATH it also writes tests/data/models/smollm2-135m-gguf/golden.bin: transformers loading the real
SmolLM2-135M-Instruct Q4_1 GGUF (dequantized to fp32), a fixed chat prompt, its ids, the last-position logits and the
32-token greedy continuation.

golden.bin layout (little-endian): magic b"XPUGOLD\\0", u32 format version (1), u32 header length, header JSON
(generator, versions, family, prompt_ids, greedy_ids, logits_shape, min_greedy_margin), then fp32 logits row-major.
Packages: torch, transformers 5.x, safetensors, gguf, accelerate (transformers needs it to load GGUF), numpy
(versions recorded in every header).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "models")
MAGIC = b"XPUGOLD\0"
FORMAT_VERSION = 1
SEED = 20260423
PROMPT_LEN = 16
GREEDY_LEN = 32
VOCAB = 512


def tiny_configs():
    c = transformers
    common = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=64, num_attention_heads=4,
                  num_key_value_heads=2, head_dim=16, max_position_embeddings=128, initializer_range=0.08,
                  bos_token_id=1, eos_token_id=2, pad_token_id=None)
    return {
        "gpt2": c.GPT2Config(vocab_size=VOCAB, n_positions=64, n_embd=64, n_layer=3, n_head=4,
                             activation_function="gelu_new", layer_norm_epsilon=1e-5, initializer_range=0.08,
                             bos_token_id=1, eos_token_id=2),
        # llama3 rope scaling with a small original context so all three frequency bands occur at head_dim 16.
        "llama": c.LlamaConfig(**{**common, "max_position_embeddings": 512}, num_hidden_layers=3, rms_norm_eps=1e-5, tie_word_embeddings=True,
                               rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0,
                                                "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                "original_max_position_embeddings": 256}),
        "qwen3": c.Qwen3Config(**common, num_hidden_layers=3, rms_norm_eps=1e-6, tie_word_embeddings=True,
                               rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
                               use_sliding_window=False),
        # Sliding window 8 < the 16-token prompt; layers 0 and 2 local, 1 global; query_pre_attn_scalar != head_dim;
        # the final soft-cap on so the SOFTCAP op is exercised. (attn_logit_softcapping stays off: transformers'
        # Gemma3Attention stores it but never passes it to the attention function.)
        "gemma3": c.Gemma3TextConfig(**{**common, "num_key_value_heads": 1, "head_dim": 32}, num_hidden_layers=3,
                                     rms_norm_eps=1e-6, tie_word_embeddings=True, query_pre_attn_scalar=24,
                                     sliding_window=8,
                                     layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                                     rope_parameters={"full_attention": {"rope_type": "default",
                                                                         "rope_theta": 1000000.0},
                                                      "sliding_attention": {"rope_type": "default",
                                                                            "rope_theta": 10000.0}},
                                     final_logit_softcapping=10.0,
                                     hidden_activation="gelu_pytorch_tanh"),
        "qwen3_moe": c.Qwen3MoeConfig(**common, num_hidden_layers=2, rms_norm_eps=1e-6, tie_word_embeddings=False,
                                      moe_intermediate_size=32, num_experts=8, num_experts_per_tok=2,
                                      norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[],
                                      rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
        "mixtral": c.MixtralConfig(**common, num_hidden_layers=2, rms_norm_eps=1e-5, tie_word_embeddings=False,
                                   num_local_experts=4, num_experts_per_tok=2, sliding_window=None,
                                   rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
    }


def versions():
    return {"generator": "tools/make_model_goldens.py", "format_version": FORMAT_VERSION,
            "transformers": transformers.__version__, "torch": torch.__version__, "numpy": np.__version__}


def greedy(model, ids, steps):
    """Greedy continuation by full recompute (no cache); torch.argmax picks the first maximum on ties."""
    ids = list(ids)
    out, margins = [], []
    with torch.no_grad():
        for _ in range(steps):
            logits = model(torch.tensor([ids])).logits[0, -1].float()
            top2 = torch.topk(logits, 2).values
            margins.append(float(top2[0] - top2[1]))
            token = int(torch.argmax(logits))
            out.append(token)
            ids.append(token)
    return out, min(margins)


def write_golden(path, header, logits):
    logits = np.ascontiguousarray(logits, dtype="<f4")
    header = dict(header, logits_shape=list(logits.shape))
    blob = json.dumps(header, sort_keys=True).encode()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<II", FORMAT_VERSION, len(blob)))
        f.write(blob)
        f.write(logits.tobytes())
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def make_family(family, config):
    torch.manual_seed(SEED)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() == 1:  # norm weights and biases: random too, so (1+w), biases and gains are tested
                param.copy_(torch.randn_like(param) * 0.1 + (0.0 if family == "gemma3" or "bias" in name else 1.0))
            param.copy_(param.bfloat16().float())
    out_dir = os.path.join(OUT, family)
    model.to(torch.bfloat16).save_pretrained(out_dir, safe_serialization=True)
    for extra in ("generation_config.json",):
        p = os.path.join(out_dir, extra)
        if os.path.exists(p):
            os.remove(p)
    model = AutoModelForCausalLM.from_pretrained(out_dir, dtype=torch.float32, attn_implementation="eager").eval()
    gen = torch.Generator().manual_seed(SEED + 1)
    prompt = torch.randint(3, VOCAB, (PROMPT_LEN,), generator=gen).tolist()
    with torch.no_grad():
        logits = model(torch.tensor([prompt])).logits[0].float().numpy()
    tokens, margin = greedy(model, prompt, GREEDY_LEN)
    header = dict(versions(), family=family, prompt_ids=prompt, greedy_ids=tokens, min_greedy_margin=margin,
                  max_abs_logit=float(np.abs(logits).max()))
    write_golden(os.path.join(out_dir, "golden.bin"), header, logits)


CHAT_PROMPT = "What is the capital of France?"


def make_gguf(path):
    folder, name = os.path.split(os.path.abspath(path))
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": CHAT_PROMPT}], add_generation_prompt=True,
                                           tokenize=True)
    if isinstance(prompt, dict) or hasattr(prompt, "input_ids"):
        prompt = prompt["input_ids"]
    prompt = [int(t) for t in prompt]
    with torch.no_grad():
        logits = model(torch.tensor([prompt])).logits[0, -1:].float().numpy()
    tokens, margin = greedy(model, prompt, GREEDY_LEN)
    from importlib.metadata import version
    header = dict(versions(), gguf=version("gguf"), accelerate=version("accelerate"),
                  family="llama", model_file=name, chat_prompt=CHAT_PROMPT, prompt_ids=prompt, greedy_ids=tokens,
                  greedy_text=tokenizer.decode(tokens), min_greedy_margin=margin,
                  max_abs_logit=float(np.abs(logits).max()))
    write_golden(os.path.join(OUT, "smollm2-135m-gguf", "golden.bin"), header, logits)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", action="append", help="only these families (default: all)")
    parser.add_argument("--gguf", help="SmolLM2-135M-Instruct.Q4_1.gguf: also write its golden")
    args = parser.parse_args()
    for family, config in tiny_configs().items():
        if not args.family or family in args.family:
            make_family(family, config)
    if args.gguf:
        make_gguf(args.gguf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
