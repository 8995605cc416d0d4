// The reference FPGA engine's published kernel measurements (shared/reference/engine-kernels.md: KU+ board,
// 333 MHz, DDR4 x32, "including DMA in/out") and, for each, a program that follows the reference
// compiler's schedule (shared/reference/engine.md §8), so the timing model can be checked against hardware
// with `xpusim engine bench --chip ue-ku5p [--validate]`.
// The reference schedule: tiles sized by the two 512 KiB URAM banks (4095 usable 64-element rows each), one
// dot product per output row (mat-vec ops; N·K/64 <= 4095), every op one at a time in order (the reference
// queue never overlaps DMA with compute: a fence follows each op), except where the reference streams an
// operand from DRAM while computing (quantized DOT_PRODUCT, DEQUANTIZE): there the next stream is prefetched
// into a second buffer. Quantized weights are re-streamed, scales included, for every row (the decode path
// run per row); softmax-fused matmuls keep at most 64 full score rows in URAM; attention is the reference's
// "memory-efficient" schedule (V transposed by the identity trick, Q scaled, softmax(Q·Kᵀ [+ bias]) spilled
// to DRAM, then P·V), not flash attention.
// Non-goals: the xpusim schedules (kernels.h: double-buffered tiles, flash attention in SRAM).
// HOWTO add a measurement: add a row in reference_kernels() (reference_kernels.cpp) with its source.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/chip_config.h"
#include "engine/program.h"

namespace xpusim::engine {

enum class ReferenceMetric { cycles, gflops };

struct ReferenceKernel {
  std::string name;   // e.g. "matmul_bf16+bias+gelu", "attention_s1024_hd128+bias"
  std::string group;  // section of engine-kernels.md
  std::string shape;  // e.g. "1024x1024x1024"
  ReferenceMetric metric = ReferenceMetric::cycles;
  double measured = 0;  // in the metric's unit (cycles at 333.33 MHz, or GFLOP/s)
  double flops = 0;     // as the publisher counts them
  std::function<Program(const ChipConfig&)> make;
};

// Every kernel of engine-kernels.md, in its order.
const std::vector<ReferenceKernel>& reference_kernels();
// The chip the measurements were taken on.
inline constexpr const char* kReferenceBoardChip = "ue-ku5p";
inline constexpr double kReferenceTolerance = 0.05;  // |simulated / measured - 1| allowed by issue 16

struct ReferenceResult {
  int64_t cycles = 0;
  double seconds = 0;
  double simulated = 0;  // in the kernel's metric
  double error = 0;      // simulated / measured - 1
  int64_t instructions = 0;
};
// Timing-only run of the kernel's reference-schedule program on `chip`.
ReferenceResult run_reference_kernel(const ChipConfig& chip, const ReferenceKernel& kernel);

}  // namespace xpusim::engine
