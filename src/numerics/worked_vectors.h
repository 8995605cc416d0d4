// Worked vectors of the format table rows, from shared/reference/formats.md ([D] = derived there or,
// where marked "here", derived by hand from the row's documented rule). Only format_table.cpp includes
// this; tests reach the vectors through FormatRow::worked_vectors.
// HOWTO add vectors for a format: add arrays + a WorkedVector array here, point the row at it.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

#include "numerics/format_table.h"

namespace xpusim::numerics::worked {

constexpr float f(uint32_t bits) { return std::bit_cast<float>(bits); }
template <size_t N>
constexpr std::array<uint8_t, N> repeat_bytes(uint8_t value) {
  std::array<uint8_t, N> out{};
  for (auto& b : out) b = value;
  return out;
}

// §2 bf16 (RNE, canonical NaN).
inline constexpr float kBf16In[] = {1.0f,          1.00390625f,   1.01171875f, f(0x3F808001),
                                    f(0x40490FDB), f(0x3DCCCCCD), -5.0f,       f(0x000116C2),
                                    f(0x7F7FFFFF), f(0x7FC00001), -0.0f};
inline constexpr uint8_t kBf16Out[] = {0x80, 0x3F, 0x80, 0x3F, 0x82, 0x3F, 0x81, 0x3F, 0x49, 0x40, 0xCD,
                                       0x3D, 0xA0, 0xC0, 0x01, 0x00, 0x80, 0x7F, 0xC0, 0x7F, 0x00, 0x80};
// fp16 (IEEE RNE; here): 1, 65504, 65520 -> Inf, 2^-24, 2^-25 (tie -> 0), 3*2^-25 (tie -> 2), ties at 1.
inline constexpr float kFp16In[] = {1.0f,     65504.0f, 65520.0f,        0x1p-24f,
                                    0x1p-25f, 0x3p-25f, 1.0f + 0x1p-11f, 1.0f + 0x3p-11f};
inline constexpr uint8_t kFp16Out[] = {0x00, 0x3C, 0xFF, 0x7B, 0x00, 0x7C, 0x01, 0x00,
                                       0x00, 0x00, 0x02, 0x00, 0x00, 0x3C, 0x02, 0x3C};
inline constexpr float kFp32In[] = {1.0f, -0.0f};
inline constexpr uint8_t kFp32Out[] = {0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x80};
// §3 bf19 (32-bit container, low 13 bits zero). Truncation results derived here.
inline constexpr float kBf19In[] = {f(0x3F801000), f(0x3F803000), f(0x3F801001), f(0x40490FDB),
                                    f(0x3DCCCCCD)};
inline constexpr uint8_t kBf19RneOut[] = {0x00, 0x00, 0x80, 0x3F, 0x00, 0x40, 0x80, 0x3F, 0x00, 0x20,
                                          0x80, 0x3F, 0x00, 0x00, 0x49, 0x40, 0x00, 0xC0, 0xCC, 0x3D};
inline constexpr uint8_t kBf19TruncOut[] = {0x00, 0x00, 0x80, 0x3F, 0x00, 0x20, 0x80, 0x3F, 0x00, 0x00,
                                            0x80, 0x3F, 0x00, 0x00, 0x49, 0x40, 0x00, 0xC0, 0xCC, 0x3D};
// §4.1 E4M3 (RNE, saturating); the non-saturating (ml_dtypes) variant turns 500 into NaN 0x7F.
inline constexpr float kE4m3In[] = {448.0f,    464.0f, 500.0f,  0x1p-9f, 0x1p-10f, 0x3p-10f,
                                    0.015625f, 1.0f,   1.0625f, 1.1875f, -2.5f,    0.3f};
inline constexpr uint8_t kE4m3SatOut[] = {0x7E, 0x7E, 0x7E, 0x01, 0x00, 0x02,
                                          0x08, 0x38, 0x38, 0x3A, 0xC2, 0x2A};
inline constexpr uint8_t kE4m3Out[] = {0x7E, 0x7E, 0x7F, 0x01, 0x00, 0x02,
                                       0x08, 0x38, 0x38, 0x3A, 0xC2, 0x2A};
// §4.2 E5M2; 65536 overflows: Inf (0x7C) or saturated (0x7B).
inline constexpr float kE5m2In[] = {1.0f, 57344.0f, 0x1p-16f, 1.125f, -3.0f, 0.3f, 65536.0f};
inline constexpr uint8_t kE5m2Out[] = {0x3C, 0x7B, 0x01, 0x3C, 0xC2, 0x35, 0x7C};
inline constexpr uint8_t kE5m2SatOut[] = {0x3C, 0x7B, 0x01, 0x3C, 0xC2, 0x35, 0x7B};
// §4.3 E8M0 (ml_dtypes rounding: 1.5 ties up; zero has no code -> 0xFF).
inline constexpr float kE8m0In[] = {1.0f, 0x1p127f, f(0x00400000), 1.5f, 0.0f, 6.0f, -1.0f};
inline constexpr uint8_t kE8m0Out[] = {0x7F, 0xFE, 0x00, 0x80, 0xFF, 0x82, 0xFF};
// §5 integers (RNE, clamp; here).
inline constexpr float kInt8In[] = {1.5f, 2.5f, -2.5f, 127.4f, 300.0f, -300.0f, -0.4f};
inline constexpr uint8_t kInt8Out[] = {0x02, 0x02, 0xFE, 0x7F, 0x7F, 0x80, 0x00};
inline constexpr float kInt4In[] = {1.5f, 2.5f, -7.6f, 9.0f, -0.5f, 0.51f};
inline constexpr uint8_t kInt4Out[] = {0x22, 0x78, 0x10};
// §6.1 E2M1 (RNE, saturating), low nibble = even element.
inline constexpr float kFp4In[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f,  3.5f,
                                   5.0f,  5.5f,  7.0f,  -0.3f, -2.6f, 0.0f};
inline constexpr uint8_t kFp4Out[] = {0x20, 0x42, 0x64, 0x76, 0x97, 0x0D};

// §9 IF4 / NVFP4 (per-tensor A = 6, so s = 448 = 0x7E). Row 2 alone is the NVFP4 vector.
inline constexpr float kIf4In[] = {6,    -5, 5,    5,     4.6f, 5.2f, -4.8f, 5,     5.1f,   4.9f, 5,
                                   -5,   5,  4.7f, 5.3f,  5,    6,    0.1f,  -0.2f, 0.05f,  1,    -0.5f,
                                   0.3f, 0,  2.9f, -0.7f, 0.2f, 0.1f, -1.4f, 0.6f,  -0.05f, 0.4f};
inline constexpr uint8_t kIf4Out[] = {0xFE, 0xa7, 0x66, 0x65, 0x6a, 0x66, 0xa6, 0x56, 0x66,
                                      0x7E, 0x07, 0x08, 0x92, 0x01, 0x95, 0x00, 0x1b, 0x18};
inline constexpr uint8_t kNvfp4Out[] = {0x7E, 0x07, 0x08, 0x92, 0x01, 0x95, 0x00, 0x1b, 0x18};

// §8 MXFP4 worked example [7.5, -1, 0.4, 3, 0 x 28]; MXFP8 bytes for the same block derived here.
inline constexpr std::array<float, 32> kMxIn = {7.5f, -1.0f, 0.4f, 3.0f};
inline constexpr std::array<uint8_t, 17> kMxfp4FloorOut = {0x7F, 0xA7, 0x51};
inline constexpr std::array<uint8_t, 17> kMxfp4CeilOut = {0x80, 0x96, 0x30};
inline constexpr std::array<uint8_t, 33> kMxfp8FloorOut = {0x79, 0x7E, 0xE8, 0x5D, 0x74};
inline constexpr std::array<uint8_t, 33> kMxfp8CeilOut = {0x7A, 0x77, 0xE0, 0x55, 0x6C};

// §10.2 unified-engine IF4 blocks A (INT chosen) and B (FP chosen).
constexpr std::array<float, 64> ue_block_a() {
  std::array<float, 64> out{};
  for (int i = 0; i < 64; ++i) out[static_cast<size_t>(i)] = static_cast<float>(i - 32) / 8.0f;
  return out;
}
constexpr std::array<float, 64> ue_block_b() {
  constexpr float pattern[16] = {6, 0.125f, -0.25f, 0.0625f, 1,     -0.5f,  0.375f,   0,
                                 3, -0.75f, 0.25f,  0.125f,  -1.5f, 0.625f, -0.0625f, 0.5f};
  std::array<float, 64> out{};
  for (size_t i = 0; i < 64; ++i) out[i] = pattern[i % 16];
  return out;
}
inline constexpr std::array<float, 64> kUeBlockA = ue_block_a();
inline constexpr std::array<float, 64> kUeBlockB = ue_block_b();
inline constexpr uint8_t kUeBlockAOut[] = {
    0x12, 0xbf, 0x99, 0xa9, 0xaa, 0xba, 0xbb, 0xbb, 0xcc, 0xcc, 0xdc, 0xdd, 0xed, 0xee, 0xee, 0xff, 0xff,
    0x00, 0x00, 0x10, 0x11, 0x21, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x54, 0x55, 0x55, 0x66, 0x66, 0x77};
inline constexpr uint8_t kUeBlockBOut[] = {
    0x80, 0x3f, 0x87, 0x89, 0x92, 0x81, 0xa5, 0x88, 0x1b, 0x18, 0x87, 0x89, 0x92, 0x81, 0xa5, 0x88, 0x1b,
    0x18, 0x87, 0x89, 0x92, 0x81, 0xa5, 0x88, 0x1b, 0x18, 0x87, 0x89, 0x92, 0x81, 0xa5, 0x88, 0x1b, 0x18};

// §10.3 unified-engine 8-bit formats, block [1, 0.5, -0.25, 0 x 61] (derived here). INT8: s = bf16(1/127)
// = 0x3C01, 0.5/s = 63.503 -> bf16 63.5 -> RNE 64. FP8: s = bf16(1/448) = 0x3B12, 1/s -> bf16 448 -> 0x7E,
// 224 -> 0x76, -112 -> 0xEE. IF8 picks FP here (SSE 5.0e-6 vs 1.9e-5).
inline constexpr std::array<float, 64> kUe8In = {1.0f, 0.5f, -0.25f};
inline constexpr std::array<uint8_t, 66> kUeInt8Out = {0x01, 0xBC, 0x7F, 0x40, 0xE0};
inline constexpr std::array<uint8_t, 66> kUeFp8Out = {0x12, 0x3B, 0x7E, 0x76, 0xEE};

// §11.3 llama.cpp reference quantizers.
inline constexpr std::array<float, 32> kQ8In = {127.0f, 2.5f, -2.5f, 0.5f};
inline constexpr std::array<uint8_t, 34> kQ8Out = {0x00, 0x3c, 0x7f, 0x03, 0xfd, 0x01};
constexpr std::array<float, 32> q4_in() {
  std::array<float, 32> out{};
  out[0] = -8.0f;
  out[1] = 0.5f;
  out[16] = 7.0f;
  return out;
}
constexpr std::array<uint8_t, 18> q4_out() {
  std::array<uint8_t, 18> out = repeat_bytes<18>(0x88);
  out[0] = 0x00;
  out[1] = 0x3c;
  out[2] = 0xf0;
  out[3] = 0x89;
  return out;
}
inline constexpr std::array<float, 32> kQ4In = q4_in();
inline constexpr std::array<uint8_t, 18> kQ4Out = q4_out();

#define XPUSIM_VECTORS(name, ...) inline constexpr WorkedVector name[] = {__VA_ARGS__}
XPUSIM_VECTORS(kFp32, {"formats.md conventions", kFp32In, kFp32Out});
XPUSIM_VECTORS(kBf16, {"formats.md §2", kBf16In, kBf16Out});
XPUSIM_VECTORS(kFp16, {"IEEE RNE ties and overflow", kFp16In, kFp16Out});
XPUSIM_VECTORS(kBf19, {"formats.md §3", kBf19In, kBf19RneOut});
XPUSIM_VECTORS(kBf19Trunc, {"formats.md §3 inputs, truncated", kBf19In, kBf19TruncOut});
XPUSIM_VECTORS(kE4m3, {"formats.md §4.1, 500 -> NaN", kE4m3In, kE4m3Out});
XPUSIM_VECTORS(kE4m3Sat, {"formats.md §4.1", kE4m3In, kE4m3SatOut});
XPUSIM_VECTORS(kE5m2, {"formats.md §4.2, overflow -> Inf", kE5m2In, kE5m2Out});
XPUSIM_VECTORS(kE5m2Sat, {"formats.md §4.2, overflow saturates", kE5m2In, kE5m2SatOut});
XPUSIM_VECTORS(kE8m0, {"formats.md §4.3 + ml_dtypes rounding", kE8m0In, kE8m0Out});
XPUSIM_VECTORS(kInt8, {"RNE and clamp", kInt8In, kInt8Out});
XPUSIM_VECTORS(kInt4, {"RNE and clamp", kInt4In, kInt4Out});
XPUSIM_VECTORS(kFp4, {"formats.md §6.1", kFp4In, kFp4Out});
XPUSIM_VECTORS(kNvfp4, {"formats.md §9 block 2 (A = 6)", std::span(kIf4In).subspan(16), kNvfp4Out});
XPUSIM_VECTORS(kIf4, {"formats.md §9 (A = 6)", kIf4In, kIf4Out});
XPUSIM_VECTORS(kMxfp4, {"formats.md §8 floor", kMxIn, kMxfp4FloorOut});
XPUSIM_VECTORS(kMxfp4Ceil, {"formats.md §8 ceil", kMxIn, kMxfp4CeilOut});
XPUSIM_VECTORS(kMxfp8, {"formats.md §8 block, E4M3 elements", kMxIn, kMxfp8FloorOut});
XPUSIM_VECTORS(kMxfp8Ceil, {"formats.md §8 block, E4M3 elements", kMxIn, kMxfp8CeilOut});
XPUSIM_VECTORS(kUeIf4, {"formats.md §10.2 block A", kUeBlockA, kUeBlockAOut},
               {"formats.md §10.2 block B", kUeBlockB, kUeBlockBOut});
XPUSIM_VECTORS(kUeInt4, {"formats.md §10.2 block A", kUeBlockA, kUeBlockAOut});
XPUSIM_VECTORS(kUeFp4, {"formats.md §10.2 block B", kUeBlockB, kUeBlockBOut});
XPUSIM_VECTORS(kUeInt8, {"block [1, 0.5, -0.25, 0...]", kUe8In, kUeInt8Out});
XPUSIM_VECTORS(kUeFp8, {"block [1, 0.5, -0.25, 0...]", kUe8In, kUeFp8Out});
XPUSIM_VECTORS(kUeIf8, {"block [1, 0.5, -0.25, 0...]: FP wins", kUe8In, kUeFp8Out});
XPUSIM_VECTORS(kQ4_0, {"formats.md §11.3", kQ4In, kQ4Out});
XPUSIM_VECTORS(kQ8_0, {"formats.md §11.3", kQ8In, kQ8Out});
#undef XPUSIM_VECTORS

}  // namespace xpusim::numerics::worked
