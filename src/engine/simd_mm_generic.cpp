// Portable level of the engine's matrix kernels (simd_mm.h): row decode through block_formats.cpp, and the
// accumulation written with 4-lane GCC/Clang vector extensions across independent outputs.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "engine/block_formats.h"
#include "engine/simd_mm.h"

namespace xpusim::engine::simd {
namespace {

typedef float f32x4 __attribute__((vector_size(16)));
typedef uint32_t u32x4 __attribute__((vector_size(16)));

f32x4 round_acc(f32x4 v, const AccRounding& r) {
  u32x4 u = (u32x4)v;
  if (r.rne) {
    const u32x4 finite = (u & 0x7F800000u) != 0x7F800000u;  // -1 where finite
    u += (r.half_minus_one + ((u >> r.drop) & 1u)) & finite;
  }
  return (f32x4)(u & r.mask);
}

// R rows at a time; products and sums are separate vector operations (never contracted: the baseline
// target has no FMA), so each lane follows the scalar reference exactly.
template <size_t R>
void accumulate_rows(const float* a, size_t lda, const float* panel, size_t depth,
                     const AccRounding& rounding, float* acc) {
  for (size_t c = 0; c < kPanelCols; c += 4) {
    f32x4 sums[R];
    for (size_t r = 0; r < R; ++r) std::memcpy(&sums[r], acc + r * kPanelCols + c, sizeof(f32x4));
    for (size_t kk = 0; kk < depth; ++kk) {
      f32x4 b;
      std::memcpy(&b, panel + kk * kPanelCols + c, sizeof b);
      for (size_t r = 0; r < R; ++r) {
        const float x = a[r * lda + kk];
        const f32x4 av = {x, x, x, x};
        sums[r] = round_acc(sums[r] + av * b, rounding);
      }
    }
    for (size_t r = 0; r < R; ++r) std::memcpy(acc + r * kPanelCols + c, &sums[r], sizeof(f32x4));
  }
}

void accumulate_panel_generic(const float* a, size_t lda, size_t rows, const float* panel, size_t depth,
                              const AccRounding& rounding, float* acc) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4)
    accumulate_rows<4>(a + r * lda, lda, panel, depth, rounding, acc + r * kPanelCols);
  for (; r < rows; ++r) accumulate_rows<1>(a + r * lda, lda, panel, depth, rounding, acc + r * kPanelCols);
}

constexpr MmKernels kGeneric{"generic", decode_panel_generic, accumulate_panel_generic,
                             decode_interleaved_generic};

}  // namespace

void decode_panel_generic(const WeightStrip& strip, size_t j0, size_t cols, size_t k0, size_t depth,
                          float* panel) {
  XPUSIM_ASSERT(depth <= kChunkK && cols <= kPanelCols);
  const BlockFormatInfo& info = block_format_info(strip.format);
  const size_t code_offset = k0 * static_cast<size_t>(info.code_bits) / 8;
  const size_t scale_offset =
      info.scale_bytes == 0 ? 0
                            : k0 / static_cast<size_t>(info.block) * static_cast<size_t>(info.scale_bytes);
  float row[kChunkK];
  for (size_t c = 0; c < kPanelCols; ++c) {
    if (c < cols) {
      const size_t j = j0 + c;
      const uint8_t* scales =
          strip.scales == nullptr ? nullptr : strip.scales + j * strip.scale_row_bytes + scale_offset;
      decode_row(strip.format, strip.codes + j * strip.code_row_bytes + code_offset, scales, strip.codebook,
                 depth, row);
    } else {
      std::fill(row, row + depth, 0.0f);
    }
    for (size_t kk = 0; kk < depth; ++kk) panel[kk * kPanelCols + c] = to_bf19(row[kk]);
  }
}

void decode_interleaved_generic(const InterleavedWeights& weights, size_t panel, size_t k0, size_t depth,
                                float* out) {
  const uint8_t* base = weights.bytes.data() + panel * weights.panel_bytes;
  auto word_at = [](const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  };
  if (weights.format == WeightFormat::bf16) {
    for (size_t kk = 0; kk < depth; ++kk) {
      const size_t e = k0 + kk;
      for (size_t c = 0; c < kPanelCols; ++c) {
        const uint32_t word = word_at(base + (e / 2 * kPanelCols + c) * 4);
        out[kk * kPanelCols + c] =
            to_bf19(bf16_value(static_cast<uint16_t>(e % 2 ? word >> 16 : word & 0xFFFFu)));
      }
    }
    return;
  }
  for (size_t kk = 0; kk < depth; ++kk) {
    const size_t e = k0 + kk;
    const uint8_t* block = base + e / 64 * kPanelCols * 34;
    for (size_t c = 0; c < kPanelCols; ++c) {
      uint16_t scale;
      std::memcpy(&scale, block + 2 * c, 2);
      const uint32_t word = word_at(block + 2 * kPanelCols + (e % 64 / 8 * kPanelCols + c) * 4);
      const auto code = static_cast<uint8_t>((word >> (4 * (e % 8))) & 0xF);
      // decode_row's 4-bit ue rule: the scale's sign picks INT4 or E2M1; value = code value x |scale|.
      const float magnitude = bf16_value(static_cast<uint16_t>(scale & 0x7FFFu));
      const float code_value =
          (scale & 0x8000u) ? static_cast<float>(code >= 8 ? code - 16 : code) : e2m1_value(code);
      out[kk * kPanelCols + c] = to_bf19(code_value * magnitude);
    }
  }
}

const MmKernels* mm_kernels_generic() { return &kGeneric; }

}  // namespace xpusim::engine::simd
