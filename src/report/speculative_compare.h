// What speculative decoding buys on each chip (`xpusim compare --speculative ...`): a verify step is costed
// as one forward of k + 1 new tokens per sequence (TiDAR: k drafts plus (k + 1)·k pre-draft mask slots,
// architectures.md §6.1), plus the drafter's own cost on the same chip (k single-token steps of the draft
// model; nothing for n-gram lookup or TiDAR). With per-position acceptance a, a verify step yields
// E = (1 − a^(k+1)) / (1 − a) tokens per sequence, so
//   TPOT = (verify + k·draft step) / E, tokens/s = batch·E / (verify + k·draft step),
//   tokens/J = batch·E / (verify + k·draft energy + the target's static power during the draft steps).
// Where decode is memory-bound the k extra tokens ride on the same weight reads (verify ≈ one decode
// step) and the speedup approaches E; where the step is compute-bound (large batch) verify costs ~(k + 1)
// decode steps and the gain vanishes. break_even_batch is the smallest power-of-two batch at which it
// does. Steps are costed at the mid-generation context (prompt + gen/2). Non-goals: tree drafts, serving.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chips/chip_spec.h"
#include "chips/cost_model.h"
#include "model/config.h"
#include "report/compare_data.h"

namespace xpusim::report {

struct SpeculativeSpec {
  std::string drafter = "ngram";  // ngram | self:FORMAT | draft:MODEL | tidar
  int64_t draft_tokens = 4;       // k
  double acceptance = 0.7;        // per-position acceptance a (measured: docs/speculative.md)
  // draft:MODEL: the draft model's config; self:FORMAT: the target's, with draft_precision = FORMAT.
  std::optional<model::ModelConfig> draft_config;
  std::string draft_precision;
  // Tokens one verify pass carries per sequence: k + 1, or k + (k + 1)·k for TiDAR.
  int64_t verify_tokens() const;
  double expected_tokens_per_step() const;  // E
};

struct SpeculativeChipResult {
  std::string chip;
  std::string error;  // why there is no result (the chip cannot run the model, KV does not fit, ...)
  double decode_step_s = 0, verify_step_s = 0, draft_step_s = 0;  // one step each, the whole batch
  double plain_tpot_s = 0, spec_tpot_s = 0;
  double plain_tokens_per_s = 0, spec_tokens_per_s = 0;
  double plain_tokens_per_j = 0, spec_tokens_per_j = 0;
  chips::Bound decode_bound = chips::Bound::MEMORY, verify_bound = chips::Bound::MEMORY;
  double speedup() const { return spec_tpot_s > 0 ? plain_tpot_s / spec_tpot_s : 0.0; }
  int64_t break_even_batch = 0;  // smallest power-of-two batch (<= 1024) with speedup < 1; 0: none found
  int64_t largest_batch = 0;     // the largest power-of-two batch that could be costed (memory, KV limits)
  std::string why;               // one sentence from the numbers
};

// Costs plain decoding and speculative decoding of `shape` on every chip (a chip that throws gets an error
// row). `precision` is the target's weight format (empty: each chip's default).
std::vector<SpeculativeChipResult> run_speculative_compare(
    const std::vector<chips::ChipSpec>& chips, const model::ModelConfig& config, const std::string& precision,
    const chips::RunShape& shape, const SpeculativeSpec& spec, const CostModelFactory& factory);

// The terminal table (markdown-style pipes) and one "why" line per chip.
std::string format_speculative_table(const std::vector<SpeculativeChipResult>& results,
                                     const SpeculativeSpec& spec, int64_t batch);

}  // namespace xpusim::report
