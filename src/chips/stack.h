// chips::StackProfile: the software stack that runs the model on a chip, as data (stacks/<name>.toml). A
// stack decides how many kernels a decode step launches per layer, what each launch costs that the hardware
// does not hide (the gap between back-to-back kernels plus a memory-bound kernel's ramp-up and tail; replayed
// CUDA graphs shorten it, eager PyTorch lengthens it), a host cost per step (Python loop, sampling,
// scheduler), whether weight-only formats are dequantized inside the matmul kernel without overlapping the
// weight stream, and whether attention reads a static KV cache of fixed length (JetStream). The family models
// add these costs in series with the step's work (docs/chips.md, "Software stacks"). Non-goals: kernel timing
// itself (the family models), request scheduling (src/serving).
#pragma once

#include <string>
#include <vector>

namespace xpusim::chips {

struct StackProfile {
  std::string name, description, source_path;
  double kernels_per_layer = 0;  // kernels one decoder layer launches in a decode step
  double kernel_gap_us = 0;      // serialised cost per kernel (gap + ramp/tail not overlapped)
  double step_overhead_us = 0;   // host work per step, not overlapped with the device
  // Weight-only formats are widened inside the matmul kernel in series with the weight stream (the batch-1
  // GEMV kernels of torch.compile / gpt-fast / torchao); false = the kernel overlaps the conversion.
  bool dequant_in_series = false;
  int64_t static_kv_tokens = 0;  // attention reads this many KV slots per sequence (0 = the real context)
  // Prefill runs op by op from the host (decode replays a trace): serialised cost per prefill op; 0 = as
  // kernel_gap_us.
  double prefill_kernel_gap_us = 0;
  // CPU stacks that quantize activations to 8 bits and multiply block-quantized weights on the integer dot
  // instructions (ggml): SIMD instructions per 32-weight block per activation row, for 128-bit NEON and for
  // 256-bit x86 (AVX2 / AVX-VNNI) kernels, in GEMV (one row) and GEMM (tiles of rows) form. 0 = no such path.
  double q8_gemv_ops_neon = 0, q8_gemm_ops_neon = 0, q8_gemv_ops_x86 = 0, q8_gemm_ops_x86 = 0;
  bool has_q8_dot() const { return q8_gemv_ops_neon > 0 && q8_gemv_ops_x86 > 0; }
  bool valid() const { return !name.empty(); }
};

// Directories searched for stacks/<name>.toml: $XPUSIM_DATA_DIR/stacks, <source dir>/stacks.
std::vector<std::string> stack_dirs();
std::vector<std::string> list_stacks();
// Loads a stack by name or path; xpusim::Error naming the file, key and allowed range on bad input, and
// listing the known stacks when the name is unknown.
StackProfile load_stack(const std::string& name_or_path);

}  // namespace xpusim::chips
