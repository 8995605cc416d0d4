// compiler::EngineRunner: runs a model on the engine simulator step by step, like a host driver would: it
// plans DRAM once for (model, chip, precision, KV capacity), writes the weight image, and for every step
// gathers the input embedding rows on the host, compiles the step program (memoised per step shape), runs it
// (functional: values, or timing-only: the same cycles without values) and reads back the last token's
// logits and the on-chip argmax. Non-goals: sampling and text (the CLI does that with runtime::Sampler).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "chips/cost_model.h"
#include "compiler/emitter.h"
#include "compiler/memory_plan.h"
#include "engine/chip_config.h"
#include "engine/simulator.h"
#include "model/weights.h"

namespace xpusim::compiler {

struct RunnerOptions {
  engine::WeightFormat format = engine::WeightFormat::bf16;
  int64_t kv_capacity = 256;     // tokens of context the KV cache holds
  int64_t max_step_tokens = 64;  // longer prompts are fed in chunks of this many tokens
  bool functional = true;
};

struct StepOutput {
  std::vector<float> logits;  // last token, vocab entries (functional only)
  int32_t argmax = -1;        // the on-chip argmax of those logits (functional only)
  chips::StepCost cost;       // simulated time, bytes, energy, per op
  int64_t cycles = 0;
  size_t program_instructions = 0;
};

class EngineRunner {
 public:
  // `weights` may be null for timing-only runs. Throws xpusim::Error (naming the layer and the limit) when
  // the model cannot be compiled for the chip.
  EngineRunner(engine::ChipConfig chip, const model::ModelConfig& config, const model::Weights* weights,
               RunnerOptions options);
  ~EngineRunner();

  // Runs `tokens` at positions position() .. position() + n - 1 (in chunks of max_step_tokens); returns the
  // last chunk's output with the costs of all chunks summed.
  StepOutput forward(std::span<const int32_t> tokens);
  int64_t position() const { return m_position; }
  const DramPlan& plan() const { return m_plan; }
  const engine::ChipConfig& chip() const { return m_chip; }

 private:
  StepOutput run_chunk(std::span<const int32_t> tokens);

  engine::ChipConfig m_chip;
  model::ModelConfig m_config;
  const model::Weights* m_weights;
  RunnerOptions m_options;
  DramPlan m_plan;
  std::unique_ptr<engine::Simulator> m_sim;
  int64_t m_position = 0;
};

}  // namespace xpusim::compiler
