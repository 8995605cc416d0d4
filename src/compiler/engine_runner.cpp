#include "compiler/engine_runner.h"

#include <algorithm>
#include <cstring>

#include "compiler/lower_step.h"
#include "compiler/step_timing.h"
#include "compiler/weight_image.h"
#include "core/error.h"
#include "numerics/float_bits.h"

namespace xpusim::compiler {

EngineRunner::EngineRunner(engine::ChipConfig chip, const model::ModelConfig& config,
                           const model::Weights* weights, RunnerOptions options)
    : m_chip(std::move(chip)), m_config(config), m_weights(weights), m_options(options) {
  if (m_options.functional && m_weights == nullptr) fail("engine runner: a functional run needs weights");
  if (m_options.max_step_tokens < 1) fail("engine runner: max_step_tokens must be >= 1");
  m_plan = plan_dram(
      config, options.format,
      PlanShape{options.max_step_tokens, 1, round_up(std::max<int64_t>(options.kv_capacity, 1), 64)}, m_chip);
  engine::RunOptions run_options;
  run_options.functional = options.functional;
  run_options.record_trace = true;
  run_options.max_trace_records = 50'000'000;
  m_sim = std::make_unique<engine::Simulator>(m_chip, run_options);
  if (m_options.functional) write_model_image(m_plan, *m_weights, m_sim->dram());
}

EngineRunner::~EngineRunner() = default;

StepOutput EngineRunner::forward(std::span<const int32_t> tokens) {
  if (tokens.empty()) fail("engine runner: forward needs at least one token");
  StepOutput total;
  for (size_t at = 0; at < tokens.size(); at += static_cast<size_t>(m_options.max_step_tokens)) {
    const size_t n = std::min(tokens.size() - at, static_cast<size_t>(m_options.max_step_tokens));
    StepOutput chunk = run_chunk(tokens.subspan(at, n));
    chunk.cycles += total.cycles;
    chunk.program_instructions = std::max(chunk.program_instructions, total.program_instructions);
    if (at > 0) {
      chips::StepCost merged = total.cost;
      merged.seconds += chunk.cost.seconds;
      merged.flops += chunk.cost.flops;
      for (size_t i = 0; i < merged.bytes_per_level.size(); ++i)
        merged.bytes_per_level[i] += chunk.cost.bytes_per_level[i];
      merged.energy.compute_j += chunk.cost.energy.compute_j;
      merged.energy.onchip_memory_j += chunk.cost.energy.onchip_memory_j;
      merged.energy.offchip_memory_j += chunk.cost.energy.offchip_memory_j;
      merged.energy.static_j += chunk.cost.energy.static_j;
      merged.ops.insert(merged.ops.end(), chunk.cost.ops.begin(), chunk.cost.ops.end());
      chunk.cost = std::move(merged);
    }
    total = std::move(chunk);
  }
  return total;
}

StepOutput EngineRunner::run_chunk(std::span<const int32_t> tokens) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (m_position + n > m_plan.shape.kv_capacity)
    fail("engine runner: {} tokens at position {} exceed the KV capacity of {} tokens", n, m_position,
         m_plan.shape.kv_capacity);
  if (m_options.functional) {
    const std::vector<uint16_t> rows = embed_rows(m_config, *m_weights, tokens, m_position);
    m_sim->dram().write(m_plan.x, rows.data(), rows.size() * 2);
  }
  const CompiledProgram compiled = compile_step(m_plan, m_chip, StepRequest{{{n, m_position}}});
  m_sim->restart();
  m_sim->load_program(0, compiled.program);
  const engine::RunResult run = m_sim->run();
  StepOutput out;
  out.cost = step_cost_from_run(m_chip, compiled, run);
  out.cycles = run.cycles;
  out.program_instructions = compiled.program.size();
  if (m_options.functional) {
    const auto vocab = static_cast<size_t>(m_config.vocab_size);
    std::vector<uint16_t> logits(vocab);
    m_sim->dram().read(m_plan.logits, logits.data(), vocab * 2);
    out.logits.resize(vocab);
    for (size_t i = 0; i < vocab; ++i) out.logits[i] = numerics::bits::bf16_to_f32(logits[i]);
    const HeadLayout head = head_layout(m_plan, m_chip);
    uint32_t strip = 0, index = 0;
    m_sim->dram().read(m_plan.argmax, &strip, 4);
    m_sim->dram().read(m_plan.argmax + 4 + static_cast<uint64_t>(strip) * 4, &index, 4);
    out.argmax = static_cast<int32_t>(static_cast<int64_t>(strip) * head.strip_rows + index);
  }
  m_position += n;
  return out;
}

}  // namespace xpusim::compiler
