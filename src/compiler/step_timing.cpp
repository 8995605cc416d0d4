#include "compiler/step_timing.h"

#include <algorithm>
#include <map>

#include "core/error.h"

namespace xpusim::compiler {

double achievable_dram_bandwidth(const engine::ChipConfig& chip) {
  const double clock = chip.clock_mhz * 1e6;
  const double ports = static_cast<double>(chip.dma_port_bytes_per_cycle * chip.engines) * clock;
  const double burst_cycles =
      static_cast<double>(chip.dram_burst_bytes) / static_cast<double>(chip.dma_port_bytes_per_cycle);
  // Burst overhead occupies each engine's DMA port, not the shared channel (engine/timing.cpp): several
  // engines together can keep the channel at its full aggregate rate.
  const double port_rate =
      ports * burst_cycles / (burst_cycles + static_cast<double>(chip.dram_burst_overhead_cycles));
  return std::min(chip.dram_aggregate_gbps * 1e9, port_rate);
}

chips::StepCost step_cost_from_run(const engine::ChipConfig& chip, const CompiledProgram& compiled,
                                   const engine::RunResult& run) {
  return step_cost_from_run(chip, std::span<const CompiledProgram>(&compiled, 1), run);
}

chips::StepCost step_cost_from_run(const engine::ChipConfig& chip, std::span<const CompiledProgram> programs,
                                   const engine::RunResult& run) {
  XPUSIM_ASSERT(!programs.empty());
  const CompiledProgram& compiled = programs.front();  // engine 0's timeline attributes the time
  const size_t groups = compiled.groups.size();
  std::vector<int64_t> group_end(groups, 0);
  for (const engine::InstrRecord& r : run.records) {
    if (r.engine != 0 || r.pc >= compiled.group_of_pc.size()) continue;
    const int32_t g = compiled.group_of_pc[r.pc];
    if (g >= 0) group_end[static_cast<size_t>(g)] = std::max(group_end[static_cast<size_t>(g)], r.ready);
  }
  const double clock = chip.clock_mhz * 1e6;
  const double dram_bw = achievable_dram_bandwidth(chip);
  chips::StepCost cost;
  cost.seconds = run.seconds;
  std::map<std::pair<std::string, std::string>, size_t> merged;  // (type, label) -> index in cost.ops
  int64_t path_end = 0;
  std::vector<double> op_macs, op_vector;  // per entry of cost.ops
  auto entry = [&](const OpGroup& group) -> size_t {
    auto key = std::make_pair(group.op_type, group.label);
    auto it = merged.find(key);
    if (it == merged.end()) {
      it = merged.emplace(key, cost.ops.size()).first;
      chips::OpCost op;
      op.op_type = group.op_type;
      op.label = group.label;
      op.layer = group.layer;
      op.bytes_per_level.assign(2, 0.0);
      cost.ops.push_back(op);
      op_macs.push_back(0);
      op_vector.push_back(0);
    }
    return it->second;
  };
  for (size_t g = 0; g < groups; ++g) {
    const int64_t advance = std::max<int64_t>(0, group_end[g] - path_end);
    path_end = std::max(path_end, group_end[g]);
    cost.ops[entry(compiled.groups[g])].seconds += static_cast<double>(advance) / clock;
  }
  // Work counters of every engine (tensor-parallel steps split each op's work over the engines).
  for (const CompiledProgram& program : programs)
    for (const OpGroup& group : program.groups) {
      const size_t i = entry(group);
      op_macs[i] += static_cast<double>(group.macs);
      op_vector[i] += static_cast<double>(group.vector_elements);
      chips::OpCost& op = cost.ops[i];
      // Matmul groups count their MACs only: epilogue element-wise work runs on the vector unit in parallel
      // and would put a linear layer above the MAC-array roof it is measured against.
      op.flops +=
          group.macs > 0 ? 2.0 * static_cast<double>(group.macs) : static_cast<double>(group.vector_elements);
      op.bytes_per_level[0] += static_cast<double>(group.sram_bytes);
      const auto dram = static_cast<double>(group.dram_read_bytes + group.dram_write_bytes);
      op.bytes_per_level[1] += dram;
      const double compute_pj =
          static_cast<double>(group.macs) * chip.energy_pj_per_mac +
          static_cast<double>(group.vector_elements) * chip.energy_pj_per_vector_element;
      op.energy.compute_j += compute_pj * 1e-12;
      op.energy.onchip_memory_j +=
          static_cast<double>(group.sram_bytes) * chip.energy_pj_per_sram_byte * 1e-12;
      op.energy.offchip_memory_j += dram * chip.energy_pj_per_dram_byte * 1e-12;
    }
  // The drain after the last op's recorded ready time (halt) belongs to the last op.
  if (!cost.ops.empty() && run.cycles > path_end)
    cost.ops.back().seconds += static_cast<double>(run.cycles - path_end) / clock;

  double compute_s = 0, memory_s = 0, overhead_s = 0;
  for (size_t i = 0; i < cost.ops.size(); ++i) {
    chips::OpCost& op = cost.ops[i];
    op.energy.static_j = chip.static_power_mw * 1e-3 * op.seconds;
    // Compute time on its units: MACs on the matrix unit, element-wise work on the vector lanes (the same
    // datapath when shared_vector_unit).
    const auto engines = static_cast<double>(programs.size());
    const double matrix_s = op_macs[i] / (static_cast<double>(chip.macs_per_cycle()) * engines) / clock;
    const double vector_s = op_vector[i] / (static_cast<double>(chip.vector_lanes) * engines) / clock;
    const double t_compute = chip.shared_vector_unit ? matrix_s + vector_s : std::max(matrix_s, vector_s);
    const double t_dram = op.bytes_per_level[1] / dram_bw;
    if (std::max(t_compute, t_dram) < 0.5 * op.seconds) {
      op.bound = chips::Bound::OVERHEAD;
      overhead_s += op.seconds;
    } else if (t_dram >= t_compute) {
      op.bound = chips::Bound::MEMORY;
      op.bound_level = 1;
      memory_s += op.seconds;
    } else {
      op.bound = chips::Bound::COMPUTE;
      compute_s += op.seconds;
    }
    cost.flops += op.flops;
    // Summed field by field: EnergySplit::operator+= lives in the chips family models (not a dependency
    // here).
    cost.energy.compute_j += op.energy.compute_j;
    cost.energy.onchip_memory_j += op.energy.onchip_memory_j;
    cost.energy.offchip_memory_j += op.energy.offchip_memory_j;
    cost.energy.links_j += op.energy.links_j;
    cost.energy.static_j += op.energy.static_j;
  }
  cost.bytes_per_level.assign(2, 0.0);
  for (const engine::EngineStats& e : run.engines) {
    cost.bytes_per_level[0] += static_cast<double>(e.sram_bytes);
    cost.bytes_per_level[1] += static_cast<double>(e.dram_read_bytes + e.dram_write_bytes);
  }
  cost.bound = compute_s >= memory_s && compute_s >= overhead_s ? chips::Bound::COMPUTE
               : memory_s >= overhead_s                         ? chips::Bound::MEMORY
                                                                : chips::Bound::OVERHEAD;
  return cost;
}

}  // namespace xpusim::compiler
