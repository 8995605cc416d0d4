// The unified engine's chips::CostModel: every step shape is compiled (compile_step) and run on the engine's
// cycle-level simulator in timing-only mode; the figures are the simulator's (cycles, DMA bytes, MACs,
// energy from the chip's energy table), attributed per op by step_timing. Results are memoised per step
// shape (the simulator is deterministic and timing never depends on values).
#include "compiler/cost_model.h"

#include <algorithm>
#include <map>

#include "compiler/lower_step.h"
#include "compiler/memory_plan.h"
#include "compiler/step_timing.h"
#include "core/error.h"
#include "engine/chip_config.h"
#include "engine/simulator.h"

namespace xpusim::compiler {
namespace {

class EngineCostModel : public chips::CostModel {
 public:
  EngineCostModel(engine::ChipConfig chip, const model::ModelConfig& config, engine::WeightFormat format)
      : m_chip(std::move(chip)), m_config(config), m_format(format) {
    // The weight plan alone (one token, one sequence) checks the model fits and sizes the KV capacity.
    const DramPlan base = plan_dram(config, format, PlanShape{1, 1, 1}, m_chip);
    m_plan.chip = m_chip.name;
    m_plan.family = chips::Family::UE;
    m_plan.chips_used = 1;
    m_plan.partition = chips::Partition::TENSOR;
    m_plan.weight_level = "dram";
    m_plan.weight_bytes = static_cast<double>(base.weight_bytes);
    m_plan.kv_bytes_per_token = static_cast<double>(config.kv_bytes_per_token(2));
    m_plan.kv_capacity_tokens =
        std::floor(static_cast<double>(m_chip.dram_bytes() - base.end) / m_plan.kv_bytes_per_token);
    m_plan.weight_format = std::string(engine::weight_format_name(format));
    m_plan.compute_precision = chips::Precision::BF16;
    const double per_engine = m_chip.peak_flops() / static_cast<double>(m_chip.engines);
    m_plan.peak_flops = per_engine;  // one engine runs the program (see notes)
    const double clock = m_chip.clock_mhz * 1e6;
    m_plan.levels.push_back({"sram", chips::MemoryKind::SRAM, static_cast<double>(m_chip.sram_bytes()),
                             // [D] operand bytes the matrix unit reads per cycle (A and B, bf16)
                             4.0 * static_cast<double>(m_chip.macs_per_cycle()) * clock});
    m_plan.levels.push_back({"dram", chips::MemoryKind::DRAM, static_cast<double>(m_chip.dram_bytes()),
                             achievable_dram_bandwidth(m_chip)});
    m_plan.notes.push_back(
        fmt::format("compiled by the engine compiler and timed by the cycle-level simulator (timing-only); "
                    "weights {:.1f} "
                    "MB in {}",
                    static_cast<double>(base.weight_bytes) / 1e6, m_plan.weight_format));
    if (m_chip.engines > 1)
      m_plan.notes.push_back(
          fmt::format("runs on 1 of the chip's {} engines: multi-engine tensor parallelism "
                      "is not compiled yet",
                      m_chip.engines));
    m_plan.notes.push_back(
        "embedding rows are gathered by the host into the step's input buffer (not timed)");
  }

  const chips::SystemPlan& plan() const override { return m_plan; }

  chips::StepCost step(const chips::StepShape& shape) override {
    if (shape.sequences.empty()) fail("engine cost model: a step needs at least one sequence");
    std::vector<std::pair<int64_t, int64_t>> key;
    StepRequest request;
    int64_t total = 0, capacity = 1;
    for (const chips::SequenceChunk& s : shape.sequences) {
      key.emplace_back(s.new_tokens, s.context);
      request.sequences.push_back({s.new_tokens, s.context});
      total += s.new_tokens;
      capacity = std::max(capacity, s.context + s.new_tokens);
    }
    auto it = m_cache.find(key);
    if (it != m_cache.end()) return it->second;
    const PlanShape plan_shape{total, static_cast<int64_t>(shape.sequences.size()), round_up(capacity, 64)};
    const DramPlan plan = plan_dram(m_config, m_format, plan_shape, m_chip);
    const CompiledProgram compiled = compile_step(plan, m_chip, request);
    engine::RunOptions options;
    options.functional = false;
    options.record_trace = true;
    options.max_trace_records = compiled.program.size() + 16;
    engine::Simulator sim(m_chip, options);
    sim.load_program(0, compiled.program);
    const engine::RunResult run = sim.run();
    chips::StepCost cost = step_cost_from_run(m_chip, compiled, run);
    if (m_cache.size() > 4096) m_cache.clear();
    m_cache.emplace(key, cost);
    return cost;
  }

 private:
  engine::ChipConfig m_chip;
  model::ModelConfig m_config;
  engine::WeightFormat m_format;
  chips::SystemPlan m_plan;
  std::map<std::vector<std::pair<int64_t, int64_t>>, chips::StepCost> m_cache;
};

}  // namespace

std::unique_ptr<chips::CostModel> make_engine_cost_model(const chips::ChipSpec& chip,
                                                         const model::ModelConfig& config,
                                                         const std::string& precision) {
  if (chip.family != chips::Family::UE)
    fail("chip '{}' is not a unified-engine (ue) chip; the engine compiler targets ue-* chips only",
         chip.name);
  engine::ChipConfig engine_chip = engine::load_chip(chip.source_path.empty() ? chip.name : chip.source_path);
  return std::make_unique<EngineCostModel>(std::move(engine_chip), config,
                                           engine_format_from_name(precision));
}

}  // namespace xpusim::compiler
