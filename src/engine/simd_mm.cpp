// Level choice of the engine's fast matrix kernels (simd_mm.h) and the helpers every level shares.
#include "engine/simd_mm.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "engine/block_formats.h"

namespace xpusim::engine::simd {

AccRounding AccRounding::from(const NumericsPolicy& policy) {
  AccRounding r;
  if (policy.acc_mantissa_bits >= 23) return r;
  const int drop = 23 - policy.acc_mantissa_bits;
  r.mask = ~((1u << drop) - 1u);
  r.half_minus_one = (1u << (drop - 1)) - 1u;
  r.drop = static_cast<uint32_t>(drop);
  r.rne = policy.acc_rounding == Rounding::rne;
  return r;
}

WeightStrip WeightStrip::make(WeightFormat format, const uint8_t* codes, const uint8_t* codebook_and_scales,
                              size_t k) {
  const BlockFormatInfo& info = block_format_info(format);
  WeightStrip strip;
  strip.format = format;
  strip.codes = codes;
  strip.code_row_bytes = packed_bytes(format, 1, k);
  strip.codebook = codebook_and_scales;
  strip.scales = codebook_and_scales == nullptr ? nullptr : codebook_and_scales + info.codebook_bytes;
  strip.scale_row_bytes =
      info.scale_bytes == 0 ? 0 : k / static_cast<size_t>(info.block) * static_cast<size_t>(info.scale_bytes);
  return strip;
}

bool InterleavedWeights::supports(WeightFormat format) {
  return format == WeightFormat::bf16 || format == WeightFormat::ue_int4 || format == WeightFormat::ue_fp4 ||
         format == WeightFormat::ue_if4;
}

InterleavedWeights InterleavedWeights::from(const WeightStrip& strip, size_t n, size_t k) {
  InterleavedWeights w;
  if (!supports(strip.format)) return w;
  w.format = strip.format, w.n = n, w.k = k;
  const size_t panels = (n + kPanelCols - 1) / kPanelCols;
  const bool bf16 = strip.format == WeightFormat::bf16;
  // bf16: one word = 2 elements (an odd k pads the last word with zero); ue 4-bit: 64-element blocks of
  // kPanelCols scales + 8 words per row.
  const size_t words = bf16 ? (k + 1) / 2 : k / 8;
  w.panel_bytes = bf16 ? words * kPanelCols * 4 : (k / 64) * kPanelCols * (2 + 32);
  w.bytes.assign(panels * w.panel_bytes, 0);
  for (size_t j = 0; j < n; ++j) {
    uint8_t* panel = w.bytes.data() + j / kPanelCols * w.panel_bytes;
    const size_t lane = j % kPanelCols;
    const uint8_t* row = strip.codes + j * strip.code_row_bytes;
    if (bf16) {
      for (size_t e = 0; e < k; ++e)
        std::memcpy(panel + (e / 2 * kPanelCols + lane) * 4 + e % 2 * 2, row + 2 * e, 2);
      continue;
    }
    for (size_t b = 0; b < k / 64; ++b) {
      uint8_t* block = panel + b * kPanelCols * 34;
      std::memcpy(block + 2 * lane, strip.scales + j * strip.scale_row_bytes + 2 * b, 2);
      for (size_t t = 0; t < 8; ++t)
        std::memcpy(block + 2 * kPanelCols + (t * kPanelCols + lane) * 4, row + b * 32 + 4 * t, 4);
    }
  }
  return w;
}

namespace {

// Grow-only 64-byte aligned scratch, one set per thread: no allocation per instruction.
class Scratch {
 public:
  float* get(size_t floats) {
    if (floats + 16 > m_storage.size()) m_storage.resize(floats + 16);
    const auto address = reinterpret_cast<uintptr_t>(m_storage.data());
    return m_storage.data() + ((64 - address % 64) % 64) / sizeof(float);
  }

 private:
  std::vector<float> m_storage;
};

}  // namespace

void mm_accumulate(const MmKernels& kernels, const WeightStrip& strip, const float* a, size_t m, size_t n,
                   size_t k, const AccRounding& rounding, float* out) {
  if (m == 1 && kernels.accumulate_row != nullptr && kernels.accumulate_row(strip, a, n, k, rounding, out))
    return;
  thread_local Scratch panel_scratch, acc_scratch;
  float* panel = panel_scratch.get(kChunkK * kPanelCols);
  float* acc = acc_scratch.get(m * kPanelCols);
  for (size_t j0 = 0; j0 < n; j0 += kPanelCols) {
    const size_t cols = std::min(kPanelCols, n - j0);
    std::fill(acc, acc + m * kPanelCols, 0.0f);
    for (size_t k0 = 0; k0 < k; k0 += kChunkK) {
      const size_t depth = std::min(kChunkK, k - k0);
      kernels.decode_panel(strip, j0, cols, k0, depth, panel);
      kernels.accumulate_panel(a + k0, k, m, panel, depth, rounding, acc);
    }
    for (size_t i = 0; i < m; ++i)
      std::copy(acc + i * kPanelCols, acc + i * kPanelCols + cols, out + i * n + j0);
  }
}

void mm_accumulate(const MmKernels& kernels, const InterleavedWeights& weights, const float* a, size_t m,
                   const AccRounding& rounding, float* out) {
  thread_local Scratch panel_scratch, acc_scratch;
  float* panel = panel_scratch.get(kChunkK * kPanelCols);
  float* acc = acc_scratch.get(m * kPanelCols);
  const size_t n = weights.n, k = weights.k;
  for (size_t j0 = 0; j0 < n; j0 += kPanelCols) {
    const size_t cols = std::min(kPanelCols, n - j0);
    std::fill(acc, acc + m * kPanelCols, 0.0f);
    for (size_t k0 = 0; k0 < k; k0 += kChunkK) {
      const size_t depth = std::min(kChunkK, k - k0);
      kernels.decode_interleaved(weights, j0 / kPanelCols, k0, depth, panel);
      kernels.accumulate_panel(a + k0, k, m, panel, depth, rounding, acc);
    }
    for (size_t i = 0; i < m; ++i)
      std::copy(acc + i * kPanelCols, acc + i * kPanelCols + cols, out + i * n + j0);
  }
}

namespace {

const MmKernels& pick_level() {
  const char* cap_env = std::getenv("XPUSIM_SIMD");
  const std::string_view cap = cap_env ? cap_env : "";
  if (!cap.empty() && cap != "avx512" && cap != "avx2" && cap != "generic")
    fail("XPUSIM_SIMD='{}' is not a SIMD level (avx512, avx2 or generic)", cap);
  if (cap.empty() || cap == "avx512")
    if (const MmKernels* k = mm_kernels_avx512()) return *k;
  return *mm_kernels_generic();
}

}  // namespace

const MmKernels& mm_kernels() {
  static const MmKernels& chosen = pick_level();
  return chosen;
}

const MmKernels* mm_kernels_named(std::string_view name) {
  if (name == "avx512") return mm_kernels_avx512();
  if (name == "generic") return mm_kernels_generic();
  return nullptr;
}

}  // namespace xpusim::engine::simd
