// Table-driven decoders for the narrow safetensors float types (every code's value is computed once).
#include "numerics/storage_decoders.h"

#include <array>
#include <cmath>

#include "numerics/scalar_codecs.h"

namespace xpusim::numerics {
namespace {

// FNUZ: sign-magnitude with subnormals; 0x80 is NaN; no Inf.
std::array<float, 256> make_fnuz_table(const MiniFloat& layout) {
  std::array<float, 256> table{};
  for (uint32_t code = 0; code < 256; ++code) {
    table[code] = code == 0x80 ? NAN : decode_minifloat(code, layout);
  }
  return table;
}

// The layouts below only feed decode_minifloat (max_finite_code = all ones: every magnitude is finite).
constexpr MiniFloat kE4M3Fnuz{4, 3, 8, 0x7F, 0, 0};
constexpr MiniFloat kE5M2Fnuz{5, 2, 16, 0x7F, 0, 0};
constexpr MiniFloat kE2M3{2, 3, 1, 0x1F, 0, 0};
constexpr MiniFloat kE3M2{3, 2, 3, 0x1F, 0, 0};

std::array<float, 64> make_fp6_table(const MiniFloat& layout) {
  std::array<float, 64> table{};
  for (uint32_t code = 0; code < 64; ++code) table[code] = decode_minifloat(code, layout);
  return table;
}

void decode_with_table(const std::array<float, 256>& table, const uint8_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = table[src[i]];
}

void decode_fp6(const std::array<float, 64>& table, const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b, src += 3, dst += 4) {
    const uint32_t word =
        src[0] | (static_cast<uint32_t>(src[1]) << 8) | (static_cast<uint32_t>(src[2]) << 16);
    for (int i = 0; i < 4; ++i) dst[i] = table[(word >> (6 * i)) & 0x3Fu];
  }
}

}  // namespace

void decode_e8m0_blocks(const uint8_t* src, float* dst, size_t count) {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (uint32_t code = 0; code < 256; ++code) t[code] = decode_e8m0(static_cast<uint8_t>(code));
    return t;
  }();
  decode_with_table(table, src, dst, count);
}

void decode_e4m3fnuz_blocks(const uint8_t* src, float* dst, size_t count) {
  static const std::array<float, 256> table = make_fnuz_table(kE4M3Fnuz);
  decode_with_table(table, src, dst, count);
}

void decode_e5m2fnuz_blocks(const uint8_t* src, float* dst, size_t count) {
  static const std::array<float, 256> table = make_fnuz_table(kE5M2Fnuz);
  decode_with_table(table, src, dst, count);
}

void decode_f4_blocks(const uint8_t* src, float* dst, size_t block_count) {
  for (size_t b = 0; b < block_count; ++b) {
    dst[2 * b] = kE2M1Values[src[b] & 0xF];
    dst[2 * b + 1] = kE2M1Values[src[b] >> 4];
  }
}

void decode_f6_e2m3_blocks(const uint8_t* src, float* dst, size_t block_count) {
  static const std::array<float, 64> table = make_fp6_table(kE2M3);
  decode_fp6(table, src, dst, block_count);
}

void decode_f6_e3m2_blocks(const uint8_t* src, float* dst, size_t block_count) {
  static const std::array<float, 64> table = make_fp6_table(kE3M2);
  decode_fp6(table, src, dst, block_count);
}

}  // namespace xpusim::numerics
