#include "compiler/engine_runner.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "compiler/lower_step.h"
#include "compiler/parallel_step.h"
#include "compiler/program_cache.h"
#include "compiler/runtime_registers.h"
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
  m_chip.engines = engines_for(config, m_chip, options.engines);  // the simulated machine: engines used
  // Padding rows of the last prefill chunk store K/V up to max_step_tokens - 1 rows past the sequence end.
  // With a program cache the KV region is sized in powers of two (>= 256 tokens), so runs with nearby
  // lengths share one plan and so one set of cached programs; without one, or when that does not fit,
  // exactly what was asked for.
  m_capacity = round_up(std::max<int64_t>(options.kv_capacity, 1), 64);
  const int64_t slack = round_up(options.max_step_tokens, 64);
  auto plan_for = [&](int64_t capacity) {
    return plan_dram(
        config, options.format,
        PlanShape{options.max_step_tokens, 1, capacity + slack, !options.functional, !options.functional},
        m_chip);
  };
  int64_t bucket = 256;
  while (bucket < m_capacity) bucket *= 2;
  try {
    m_plan = plan_for(options.program_cache_dir.empty() ? m_capacity : bucket);
  } catch (const Error&) {
    m_plan = plan_for(m_capacity);
  }
  engine::RunOptions run_options;
  run_options.functional = options.functional;
  run_options.record_trace = true;
  run_options.max_trace_records = 50'000'000;
  m_sim = std::make_unique<engine::Simulator>(m_chip, run_options);
  if (m_options.functional) write_model_image(m_plan, *m_weights, m_sim->dram());
}

EngineRunner::~EngineRunner() = default;

const StepPrograms& EngineRunner::programs_for(int64_t rows) {
  auto it = m_programs.find(rows);
  if (it != m_programs.end()) return it->second;
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const ProgramCache cache(m_options.program_cache_dir);
  const std::optional<uint64_t> key =
      cache.enabled() ? program_key(m_plan, m_chip, m_chip.engines, fmt::format("generic-{}", rows))
                      : std::nullopt;
  StepPrograms programs;
  if (key) {
    if (auto loaded = cache.load(*key); loaded && static_cast<int64_t>(loaded->size()) == m_chip.engines) {
      programs.engines = std::move(*loaded);
      m_program_stats.loaded += 1;
      m_program_stats.load_seconds += std::chrono::duration<double>(clock::now() - start).count();
      return m_programs.emplace(rows, std::move(programs)).first->second;
    }
  }
  programs = compile_generic_step_programs(m_plan, m_chip, rows);
  m_program_stats.compiled += 1;
  m_program_stats.compile_seconds += std::chrono::duration<double>(clock::now() - start).count();
  if (key) cache.store(*key, programs.engines);
  return m_programs.emplace(rows, std::move(programs)).first->second;
}

StepOutput EngineRunner::forward(std::span<const int32_t> tokens) {
  if (tokens.empty()) fail("engine runner: forward needs at least one token");
  StepOutput total;
  // Functional MoE runs feed one token per step: only one-token programs dispatch on the routed experts
  // (steps of several tokens are compiled for a balanced routing, timing-only; lower_moe.cpp).
  const auto step_tokens =
      static_cast<size_t>(m_config.is_moe() && m_options.functional ? 1 : m_options.max_step_tokens);
  for (size_t at = 0; at < tokens.size(); at += step_tokens) {
    const size_t n = std::min(tokens.size() - at, step_tokens);
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
  if (m_position + n > m_capacity)
    fail("engine runner: {} tokens at position {} exceed the KV capacity of {} tokens", n, m_position,
         m_capacity);
  // The host writes the token ids; the program gathers the embedding rows on chip (lower_embedding.cpp).
  // Rows past the real tokens (padding of generic programs) read token 0.
  std::vector<uint32_t> ids(static_cast<size_t>(m_plan.shape.max_tokens), 0);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= m_config.vocab_size)
      fail("token id {} is outside the vocabulary of {} entries", tokens[i], m_config.vocab_size);
    ids[i] = static_cast<uint32_t>(tokens[i]);
  }
  if (m_config.learned_positions && m_position + n > m_config.max_positions)
    fail("position {} is beyond the {} learned positions of {}", m_position + n - 1, m_config.max_positions,
         m_config.name);
  m_sim->dram().write(m_plan.tokens, ids.data(), ids.size() * 4);
  StepPrograms specialised;
  if (!m_options.generic_programs)
    specialised = compile_step_programs(m_plan, m_chip, StepRequest{{{n, m_position}}});
  // Generic programs: the decode program for one token, else a prefill-chunk program of the smallest row
  // bucket (eighths of max_step_tokens: 8 rows of 64) that holds the chunk; its padding rows are harmless
  // but cost their compute (at most 7 rows of a 64-row chunk), as on a deployment with bucketed programs.
  const int64_t bucket = std::max<int64_t>(1, m_options.max_step_tokens / 8);
  const int64_t rows = n == 1 ? 1 : std::min(m_options.max_step_tokens, round_up(n, bucket));
  const StepPrograms& programs = m_options.generic_programs ? programs_for(rows) : specialised;
  m_sim->restart();
  for (int e = 0; e < static_cast<int>(programs.engines.size()); ++e) {  // the host writes control registers
    engine::EngineState& state = m_sim->engine_state(e);
    state.regs[kPositionRegister] = static_cast<uint32_t>(m_position);
    state.regs[kNewTokensRegister] = static_cast<uint32_t>(n);
  }
  const engine::RunResult run = run_step_programs(*m_sim, programs);
  StepOutput out;
  out.cost = step_cost_from_programs(m_chip, programs, run);
  out.cycles = run.cycles;
  out.program_instructions = programs.max_instructions();
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
