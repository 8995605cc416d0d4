// The unified engine's chips::CostModel: every step shape is compiled (compile_step) and run on the engine's
// cycle-level simulator in timing-only mode; the figures are the simulator's (cycles, DMA bytes, MACs,
// energy from the chip's energy table), attributed per op by step_timing. Results are memoised per step
// shape (the simulator is deterministic and timing never depends on values).
#include "compiler/cost_model.h"

#include <algorithm>
#include <map>

#include "compiler/lower_step.h"
#include "compiler/memory_plan.h"
#include "compiler/parallel_step.h"
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
    const int64_t chip_engines = m_chip.engines;
    m_chip.engines = engines_for(config, m_chip, 0);  // every engine (tensor_parallel.h); MoE: one
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
    m_plan.peak_flops = m_chip.peak_flops();  // of the engines used (see notes)
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
      m_plan.notes.push_back(fmt::format(
          "tensor parallel over {} engines sharing one DRAM channel: heads / output columns split, "
          "semaphore barriers between layer phases",
          m_chip.engines));
    else if (chip_engines > 1)
      m_plan.notes.push_back(fmt::format(
          "runs on 1 of the chip's {} engines: MoE layers are not split over engines", chip_engines));
    m_plan.notes.push_back("embedding rows are gathered on chip from the token ids (timed)");
    if (base.end > (4ull << 30))  // step plans alias the weights (PlanShape::timing_only)
      m_plan.notes.push_back(
          "the weights lie beyond the 4 GiB that program operands reach: weight reads alias below it "
          "(timing-only, the same cycles)");
    if (config.is_moe())
      m_plan.notes.push_back(
          "MoE: one-token steps dispatch on the routed expert ids; steps of several tokens assume a balanced "
          "routing (each of min(experts, tokens x k) experts reads its weights once)");
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
    const PlanShape plan_shape{total, static_cast<int64_t>(shape.sequences.size()), round_up(capacity, 64),
                               true};
    const DramPlan plan = plan_dram(m_config, m_format, plan_shape, m_chip);
    const StepPrograms programs = compile_step_programs(plan, m_chip, request);
    engine::RunOptions options;
    options.functional = false;
    options.record_trace = true;
    options.max_trace_records = 16;
    for (const CompiledProgram& p : programs.engines) options.max_trace_records += p.program.size();
    engine::Simulator sim(m_chip, options);
    const engine::RunResult run = run_step_programs(sim, programs);
    chips::StepCost cost = step_cost_from_programs(m_chip, programs, run);
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
