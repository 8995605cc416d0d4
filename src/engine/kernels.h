// Generated benchmark kernels (`xpusim engine bench`): complete programs built with ProgramBuilder that
// tile their operands through SRAM with double buffering (the load of the next tile is issued before the
// compute on the current one; the simulator's hazard tracking lets them overlap).
// DRAM layout of every kernel: inputs at kDramA / kDramB (+ scales at kDramScales, bias/gamma at kDramBias),
// output at kDramOut. Tiles use SRAM offsets below 1 MiB (fits every ue-* preset).
// Non-goals: a compiler (src/compiler will generate programs from model graphs with the same builder).
// HOWTO add a kernel: write a make_<name>() below, add a row to kernel_table() in kernels.cpp.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/chip_config.h"
#include "engine/program.h"

namespace xpusim::engine {

inline constexpr uint64_t kDramA = 0x0000'0000, kDramB = 0x1000'0000, kDramScales = 0x2000'0000,
                          kDramBias = 0x2800'0000, kDramOut = 0x3000'0000;

struct KernelShape {
  int64_t m = 1024, n = 1024, k = 1024;
};

struct Kernel {
  std::string name;
  Program program;
  double flops = 0;           // useful floating-point operations
  bool matrix_bound = false;  // utilization is reported against peak MAC rate (else against DRAM bandwidth)
};

struct KernelSpec {
  std::string name;
  std::function<Kernel(const ChipConfig&, const KernelShape&)> make;
};

const std::vector<KernelSpec>& kernel_table();

struct MatmulKernelOptions {
  WeightFormat fmt = WeightFormat::bf16;
  ActivationPreset act = {Activation::none, 0, 0};
  bool bias = false;
  bool softmax = false;  // softmax over each output row (needs the whole row in SRAM)
};
Kernel make_matmul_kernel(const ChipConfig& chip, const KernelShape& shape,
                          const MatmulKernelOptions& options);
std::string matmul_kernel_name(const MatmulKernelOptions& options);

}  // namespace xpusim::engine
