// Block decoders for the weight layouts the CUDA target reads in its GEMV: one __host__ __device__ function
// per layout, so the host build compiles the same code (the "host twin") and tests/cuda checks it
// bit-for-bit against numerics::decode_row / decode_to_f32. The rules (operation order included) copy
// src/numerics nv_formats.cpp, mx_formats.cpp, ue_formats.cpp, scalar_formats.cpp and ggml_blocks.cpp;
// multiplies and adds go through mul_rn / add_rn so nvcc cannot fuse them into an FMA that the host does not
// do. Non-goals: encoding (numerics owns it), 8-bit block formats (uploaded decoded to fp32).
// HOWTO add a layout: add it to PackedFormat, its sizes to block_elements / block_bytes, a decode_block case,
// the mapping in device_weights.cpp and a row in tests/cuda/packed_formats_test.cpp.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define XPUSIM_HD __host__ __device__ __forceinline__
#else
#define XPUSIM_HD inline
#endif
#if defined(__CUDA_ARCH__)
#define XPUSIM_UNROLL _Pragma("unroll")  // keeps decoded blocks in registers (no local-memory arrays)
#else
#define XPUSIM_UNROLL
#endif

namespace xpusim::cuda {

enum class PackedFormat : uint8_t {
  F32,        // plain fp32 rows
  BF16,       // plain bf16 rows
  INT4,       // numerics int4: 2 nibbles per byte, two's complement, no scale
  FP4,        // numerics fp4: 2 E2M1 nibbles per byte, no scale
  NVFP4,      // E4M3 scale + 8 nibble bytes per 16, tensor amax / 2688
  NVFP4_4O6,  // as NVFP4 with tensor constant 1536
  IF4,        // as NVFP4, scale bit 7 selects INT4 (x 6/7)
  MXFP4,      // E8M0 scale + 16 nibble bytes per 32 (mxfp4 and mxfp4-ceil decode alike)
  UE_4BIT,    // bf16 scale (sign = INT codebook) + 32 nibble bytes per 64 (ue-int4, ue-fp4, ue-if4)
  Q4_0,       // ggml: fp16 d + 16 bytes per 32, element j low nibble, j + 16 high nibble
  Q4_1,       // ggml: fp16 d, fp16 m + 16 bytes per 32
  COUNT
};

constexpr int kMaxBlockElements = 64;

XPUSIM_HD constexpr int block_elements(PackedFormat f) {
  switch (f) {
    case PackedFormat::F32:
    case PackedFormat::BF16:
      return 1;
    case PackedFormat::INT4:
    case PackedFormat::FP4:
      return 2;
    case PackedFormat::NVFP4:
    case PackedFormat::NVFP4_4O6:
    case PackedFormat::IF4:
      return 16;
    case PackedFormat::MXFP4:
    case PackedFormat::Q4_0:
    case PackedFormat::Q4_1:
      return 32;
    case PackedFormat::UE_4BIT:
      return 64;
    default:
      return 1;
  }
}

XPUSIM_HD constexpr int block_bytes(PackedFormat f) {
  switch (f) {
    case PackedFormat::F32:
      return 4;
    case PackedFormat::BF16:
      return 2;
    case PackedFormat::INT4:
    case PackedFormat::FP4:
      return 1;
    case PackedFormat::NVFP4:
    case PackedFormat::NVFP4_4O6:
    case PackedFormat::IF4:
      return 9;
    case PackedFormat::MXFP4:
      return 17;
    case PackedFormat::UE_4BIT:
      return 34;
    case PackedFormat::Q4_0:
      return 18;
    case PackedFormat::Q4_1:
      return 20;
    default:
      return 4;
  }
}

namespace packed {

XPUSIM_HD float f32_from_bits(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

XPUSIM_HD uint32_t bits_of(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

// Round-to-nearest products and sums that nvcc may not contract into an FMA.
XPUSIM_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
XPUSIM_HD float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
XPUSIM_HD float div_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

XPUSIM_HD float quiet_nan() { return f32_from_bits(0x7FC00000u); }

XPUSIM_HD uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

XPUSIM_HD float bf16_to_f32(uint16_t b) { return f32_from_bits(static_cast<uint32_t>(b) << 16); }

// float_bits.h f32_to_bf16 (RNE, NaN -> quiet NaN with sign) then back to fp32.
XPUSIM_HD float round_to_bf16(float value) {
  const uint32_t u = bits_of(value);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u)
    return bf16_to_f32(static_cast<uint16_t>(((u >> 16) & 0x8000u) | 0x7FC0u));
  return bf16_to_f32(static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16));
}

// float_bits.h f16_to_f32.
XPUSIM_HD float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0) return f32_from_bits(bits_of(mul_rn(static_cast<float>(mantissa), 0x1p-24f)) | sign);
  if (exponent == 31) return f32_from_bits(sign | 0x7F800000u | (mantissa << 13));
  return f32_from_bits(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// E2M1 nibble -> value (0, 0.5, 1, 1.5, 2, 3, 4, 6; bit 3 = sign, 0x8 = -0).
XPUSIM_HD float e2m1_value(uint32_t nibble) {
  const uint32_t magnitude = nibble & 7u;
  const uint32_t sign = (nibble & 8u) << 28;
  uint32_t bits = 0;
  if (magnitude == 1) {
    bits = 0x3F000000u;  // 0.5
  } else if (magnitude >= 2) {
    bits = (((magnitude >> 1) + 126u) << 23) | ((magnitude & 1u) << 22);
  }
  return f32_from_bits(bits | sign);
}

// Two's complement nibble -> -8 .. 7.
XPUSIM_HD float int4_value(uint32_t nibble) { return static_cast<float>(static_cast<int>(nibble ^ 8u) - 8); }

// E4M3FN byte -> value (0x7F / 0xFF are NaN).
XPUSIM_HD float e4m3_value(uint32_t code) {
  const uint32_t sign = (code & 0x80u) << 24;
  const uint32_t exponent = (code >> 3) & 0xFu;
  const uint32_t mantissa = code & 7u;
  if (exponent == 15 && mantissa == 7) return quiet_nan();
  if (exponent == 0) return f32_from_bits(bits_of(mul_rn(static_cast<float>(mantissa), 0x1p-9f)) | sign);
  return f32_from_bits(sign | ((exponent + 120u) << 23) | (mantissa << 20));
}

// E8M0 byte -> 2^(code - 127) (0xFF is NaN; code 0 is the fp32 subnormal 2^-127).
XPUSIM_HD float e8m0_value(uint32_t code) {
  if (code == 0xFFu) return quiet_nan();
  if (code == 0) return f32_from_bits(0x00400000u);
  return f32_from_bits(code << 23);
}

}  // namespace packed

// Decodes one block of format F (block_bytes(F) bytes at src) into block_elements(F) values.
template <PackedFormat F>
XPUSIM_HD void decode_block(const uint8_t* src, float tensor_amax, float* out) {
  using namespace packed;
  if constexpr (F == PackedFormat::F32) {
    out[0] = f32_from_bits(static_cast<uint32_t>(src[0]) | (static_cast<uint32_t>(src[1]) << 8) |
                           (static_cast<uint32_t>(src[2]) << 16) | (static_cast<uint32_t>(src[3]) << 24));
  } else if constexpr (F == PackedFormat::BF16) {
    out[0] = bf16_to_f32(load_u16(src));
  } else if constexpr (F == PackedFormat::INT4) {
    out[0] = int4_value(src[0] & 0xFu);
    out[1] = int4_value(src[0] >> 4);
  } else if constexpr (F == PackedFormat::FP4) {
    out[0] = e2m1_value(src[0] & 0xFu);
    out[1] = e2m1_value(src[0] >> 4);
  } else if constexpr (F == PackedFormat::NVFP4 || F == PackedFormat::NVFP4_4O6 || F == PackedFormat::IF4) {
    const float constant = F == PackedFormat::NVFP4_4O6 ? 1536.0f : 2688.0f;
    const bool is_int = F == PackedFormat::IF4 && (src[0] & 0x80u) != 0;
    const float scale = e4m3_value(F == PackedFormat::IF4 ? (src[0] & 0x7Fu) : src[0]);
    float factor = mul_rn(scale, div_rn(tensor_amax, constant));
    if (is_int) factor = mul_rn(factor, static_cast<float>(6.0 / 7.0));
    XPUSIM_UNROLL
    for (int i = 0; i < 8; ++i) {
      const uint32_t byte = src[1 + i];
      out[2 * i] = mul_rn(is_int ? int4_value(byte & 0xFu) : e2m1_value(byte & 0xFu), factor);
      out[2 * i + 1] = mul_rn(is_int ? int4_value(byte >> 4) : e2m1_value(byte >> 4), factor);
    }
  } else if constexpr (F == PackedFormat::MXFP4) {
    const float scale = e8m0_value(src[0]);
    XPUSIM_UNROLL
    for (int i = 0; i < 16; ++i) {
      const uint32_t byte = src[1 + i];
      out[2 * i] = mul_rn(e2m1_value(byte & 0xFu), scale);
      out[2 * i + 1] = mul_rn(e2m1_value(byte >> 4), scale);
    }
  } else if constexpr (F == PackedFormat::UE_4BIT) {
    const uint32_t scale_bits = load_u16(src);
    const float magnitude = bf16_to_f32(static_cast<uint16_t>(scale_bits & 0x7FFFu));
    const bool is_int = (scale_bits & 0x8000u) != 0;
    XPUSIM_UNROLL
    for (int i = 0; i < 32; ++i) {
      const uint32_t byte = src[2 + i];
      const float low = is_int ? int4_value(byte & 0xFu) : e2m1_value(byte & 0xFu);
      const float high = is_int ? int4_value(byte >> 4) : e2m1_value(byte >> 4);
      out[2 * i] = round_to_bf16(mul_rn(low, magnitude));
      out[2 * i + 1] = round_to_bf16(mul_rn(high, magnitude));
    }
  } else if constexpr (F == PackedFormat::Q4_0) {
    const float d = f16_to_f32(load_u16(src));
    XPUSIM_UNROLL
    for (int j = 0; j < 16; ++j) {
      out[j] = mul_rn(static_cast<float>(static_cast<int>(src[2 + j] & 0x0F) - 8), d);
      out[j + 16] = mul_rn(static_cast<float>(static_cast<int>(src[2 + j] >> 4) - 8), d);
    }
  } else if constexpr (F == PackedFormat::Q4_1) {
    const float d = f16_to_f32(load_u16(src));
    const float m = f16_to_f32(load_u16(src + 2));
    XPUSIM_UNROLL
    for (int j = 0; j < 16; ++j) {
      out[j] = add_rn(mul_rn(static_cast<float>(src[4 + j] & 0x0F), d), m);
      out[j + 16] = add_rn(mul_rn(static_cast<float>(src[4 + j] >> 4), d), m);
    }
  }
}

// Runtime dispatch over decode_block (host tests and the embedding gather).
XPUSIM_HD void decode_block_any(PackedFormat f, const uint8_t* src, float tensor_amax, float* out) {
  switch (f) {
    case PackedFormat::F32:
      decode_block<PackedFormat::F32>(src, tensor_amax, out);
      break;
    case PackedFormat::BF16:
      decode_block<PackedFormat::BF16>(src, tensor_amax, out);
      break;
    case PackedFormat::INT4:
      decode_block<PackedFormat::INT4>(src, tensor_amax, out);
      break;
    case PackedFormat::FP4:
      decode_block<PackedFormat::FP4>(src, tensor_amax, out);
      break;
    case PackedFormat::NVFP4:
      decode_block<PackedFormat::NVFP4>(src, tensor_amax, out);
      break;
    case PackedFormat::NVFP4_4O6:
      decode_block<PackedFormat::NVFP4_4O6>(src, tensor_amax, out);
      break;
    case PackedFormat::IF4:
      decode_block<PackedFormat::IF4>(src, tensor_amax, out);
      break;
    case PackedFormat::MXFP4:
      decode_block<PackedFormat::MXFP4>(src, tensor_amax, out);
      break;
    case PackedFormat::UE_4BIT:
      decode_block<PackedFormat::UE_4BIT>(src, tensor_amax, out);
      break;
    case PackedFormat::Q4_0:
      decode_block<PackedFormat::Q4_0>(src, tensor_amax, out);
      break;
    case PackedFormat::Q4_1:
      decode_block<PackedFormat::Q4_1>(src, tensor_amax, out);
      break;
    default:
      break;
  }
}

// Bytes of one row of `cols` values (whole blocks; the last one padded), as numerics::row_bytes.
XPUSIM_HD constexpr int64_t packed_row_bytes(PackedFormat f, int64_t cols) {
  const int64_t block = block_elements(f);
  return (cols + block - 1) / block * block_bytes(f);
}

}  // namespace xpusim::cuda
