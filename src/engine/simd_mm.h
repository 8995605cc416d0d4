// Fast kernels of the engine's matrix numerics (engine_numerics.h), shared by the simulator's mm
// (ops_matrix.cpp) and the host policy executor (compiler/policy_executor.cpp), chosen once per process by
// CPU features: AVX-512 (simd_mm_avx512.cpp) or portable C++ (simd_mm_generic.cpp). XPUSIM_SIMD=generic
// caps the level, as for the host kernels (exec/simd).
// The work is cut in panels of kPanelCols outputs x kChunkK reduction steps: decode_panel turns a chunk of
// packed [n][k] weights into bf19 multiply inputs laid out [k][kPanelCols] (outputs fastest, so one k step
// is a few full vectors), and accumulate_panel runs the accumulation for several rows over the chunk.
// Bit-exactness: every level computes, for each output, exactly the engine's order — products rounded in
// fp32 (exact for bf19 inputs; never fused with the add), sequential over k, the accumulator rounded after
// every add — and vectorizes only across independent outputs, so levels agree bit for bit with the plain
// loops of the property tests.
// Non-goals: threading (callers split work if they want), the mm epilogue (ops_matrix.cpp).
// HOWTO add a level: a file simd_mm_<level>.cpp defining `const MmKernels* mm_kernels_<level>()` (nullptr
// when the CPU lacks it) and its entry in simd_mm.cpp; formats a level has no fast decode for fall back to
// decode_panel_generic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/engine_numerics.h"
#include "engine/isa.h"

namespace xpusim::engine::simd {

constexpr size_t kPanelCols = 64;  // outputs per panel (4 AVX-512 vectors)
constexpr size_t kChunkK = 128;    // reduction steps per decoded chunk (a multiple of every block size)

// The accumulator rounding of a NumericsPolicy as bit masks (round_to_mantissa for one fixed width).
struct AccRounding {
  uint32_t mask = 0xFFFFFFFFu;
  uint32_t half_minus_one = 0;
  uint32_t drop = 0;
  bool rne = false;
  static AccRounding from(const NumericsPolicy& policy);
};

// Packed weights in the engine's SRAM layout (block_formats.h): `codes` row j at j * code_row_bytes,
// its scales at `scales` + j * scale_row_bytes, the ue-tq4 codebook at `codebook`.
struct WeightStrip {
  WeightFormat format = WeightFormat::bf16;
  const uint8_t* codes = nullptr;
  size_t code_row_bytes = 0;
  const uint8_t* scales = nullptr;
  size_t scale_row_bytes = 0;
  const uint8_t* codebook = nullptr;
  // Optional host-side hint, no effect on results: memory the caller will read next (the functional
  // simulator's next weight strip in its DRAM image); kernels that stream may prefetch it a slice at a time
  // while they compute, so its fetch overlaps their arithmetic.
  const uint8_t* read_ahead = nullptr;
  size_t read_ahead_bytes = 0;
  static WeightStrip make(WeightFormat format, const uint8_t* codes, const uint8_t* codebook_and_scales,
                          size_t k);
};

// A host-side copy of packed weights laid out for the fastest decode (used by the host policy executor; the
// simulated engine always reads WeightStrip): rows in panels of kPanelCols, and each 32-bit word of a row
// (8 four-bit codes or 2 bf16 values) stored next to the same word of the panel's other rows, so a decode
// reads whole cache lines instead of gathering from 64 rows. ue-int4/fp4/if4 put each 64-element block's
// kPanelCols bf16 scales before its codes. Padding rows are zero. Other formats: not supported (empty).
struct InterleavedWeights {
  WeightFormat format = WeightFormat::bf16;
  size_t n = 0, k = 0;
  size_t panel_bytes = 0;
  std::vector<uint8_t> bytes;
  static bool supports(WeightFormat format);
  static InterleavedWeights from(const WeightStrip& strip, size_t n, size_t k);
};

struct MmKernels {
  std::string_view name;
  // panel[kk * kPanelCols + c] = to_bf19(weight[j0 + c][k0 + kk]) for c < cols (<= kPanelCols), kk < depth
  // (a multiple of the format's block); columns c >= cols are written as zeros.
  void (*decode_panel)(const WeightStrip& strip, size_t j0, size_t cols, size_t k0, size_t depth,
                       float* panel);
  // For r < rows, c < kPanelCols, kk < depth in order:
  //   acc[r * kPanelCols + c] = round_acc(acc[r * kPanelCols + c] + a[r * lda + kk] * panel[kk * kPanelCols +
  //   c])
  // `a` holds bf19 multiply inputs; `acc` and `panel` are 64-byte aligned.
  void (*accumulate_panel)(const float* a, size_t lda, size_t rows, const float* panel, size_t depth,
                           const AccRounding& rounding, float* acc);
  // decode_panel of panel `panel` (all kPanelCols columns) from the interleaved layout.
  void (*decode_interleaved)(const InterleavedWeights& weights, size_t panel, size_t k0, size_t depth,
                             float* out);
  // Optional (nullptr: none): the whole accumulation of one row of A (m = 1, decode) over the strip,
  // out[j] for j < n, decode fused with accumulation; returns false for formats it does not cover.
  bool (*accumulate_row)(const WeightStrip& strip, const float* a, size_t n, size_t k,
                         const AccRounding& rounding, float* out) = nullptr;
};

// out[i * n + j] = the sequentially rounded sum over k of a[i * k + kk] * to_bf19(weight[j][kk]) for i < m,
// j < n: the whole accumulation of an mm (its epilogue is the caller's). `a` holds bf19 multiply inputs.
// Scratch is per thread and reused, so steady-state calls do not allocate.
void mm_accumulate(const MmKernels& kernels, const WeightStrip& strip, const float* a, size_t m, size_t n,
                   size_t k, const AccRounding& rounding, float* out);

// mm_accumulate over interleaved weights (same results bit for bit).
void mm_accumulate(const MmKernels& kernels, const InterleavedWeights& weights, const float* a, size_t m,
                   const AccRounding& rounding, float* out);

const MmKernels& mm_kernels();                        // best level of this CPU (capped by XPUSIM_SIMD)
const MmKernels* mm_kernels_named(std::string_view);  // "avx512" or "generic"; nullptr if unavailable

const MmKernels* mm_kernels_generic();
const MmKernels* mm_kernels_avx512();
void decode_interleaved_generic(const InterleavedWeights& weights, size_t panel, size_t k0, size_t depth,
                                float* out);
void decode_panel_generic(const WeightStrip& strip, size_t j0, size_t cols, size_t k0, size_t depth,
                          float* panel);

}  // namespace xpusim::engine::simd
