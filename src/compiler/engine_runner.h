// compiler::EngineRunner: runs a model on the engine simulator step by step, like a host driver would: it
// plans DRAM once for (model, chip, precision, KV capacity), writes the weight image, and for every step
// writes the token ids (the program gathers the embedding rows on chip), sets the run-time registers
// (position, real tokens; runtime_registers.h) and runs a generic program compiled once per kind (decode: 1
// row; prefill chunks: max_step_tokens rows, a partial last chunk padded to an eighth-chunk bucket; all at
// any position, from the on-disk program cache when one is given), functional (values) or timing-only (the
// same cycles without values), and reads back the last token's logits and the on-chip argmax.
// Non-goals: sampling and text (the CLI does that with runtime::Sampler).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "chips/cost_model.h"
#include "compiler/emitter.h"
#include "compiler/memory_plan.h"
#include "compiler/parallel_step.h"
#include "engine/chip_config.h"
#include "engine/simulator.h"
#include "model/weights.h"

namespace xpusim::compiler {

struct RunnerOptions {
  engine::WeightFormat format = engine::WeightFormat::bf16;
  int64_t kv_capacity = 256;     // tokens of context the KV cache holds
  int64_t max_step_tokens = 64;  // longer prompts are fed in chunks of this many tokens
  bool functional = true;
  int64_t engines = 0;  // engines the steps are split over (tensor_parallel.h); 0: all of the chip's
  std::string program_cache_dir;  // on-disk program cache (program_cache.h); empty: compile every run
  bool generic_programs = true;   // false: compile every step specialised to its shape (A/B comparisons)
};

// How the runner's generic programs were obtained (compile_generic_step or the on-disk cache).
struct ProgramStats {
  int64_t compiled = 0, loaded = 0;
  double compile_seconds = 0, load_seconds = 0;
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
  const ProgramStats& program_stats() const { return m_program_stats; }

 private:
  StepOutput run_chunk(std::span<const int32_t> tokens);
  // The generic program of `rows` rows (1: decode; else a prefill chunk bucket), compiled or loaded once.
  const StepPrograms& programs_for(int64_t rows);

  engine::ChipConfig m_chip;
  model::ModelConfig m_config;
  const model::Weights* m_weights;
  RunnerOptions m_options;
  DramPlan m_plan;
  std::unique_ptr<engine::Simulator> m_sim;
  int64_t m_position = 0;
  int64_t m_capacity = 0;  // tokens a sequence may hold (the plan adds one chunk of padding slack)
  std::map<int64_t, StepPrograms> m_programs;
  ProgramStats m_program_stats;
};

}  // namespace xpusim::compiler
