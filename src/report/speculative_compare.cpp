#include "report/speculative_compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>

#include "core/error.h"
#include "report/format.h"

namespace xpusim::report {
namespace {

constexpr int64_t kMaxBreakEvenBatch = 1024;

chips::StepShape uniform_step(int64_t batch, int64_t new_tokens, int64_t context) {
  chips::StepShape shape;
  shape.sequences.assign(static_cast<size_t>(batch), chips::SequenceChunk{new_tokens, context});
  return shape;
}

bool is_tidar(const SpeculativeSpec& spec) { return spec.drafter == "tidar"; }
bool has_draft_model(const SpeculativeSpec& spec) { return spec.draft_config.has_value(); }

// The cost models a chip needs: the target, and the draft model when there is one.
struct ChipModels {
  std::unique_ptr<chips::CostModel> target;
  std::unique_ptr<chips::CostModel> draft;
};

// One batch size's figures (fills the timing fields of `out`).
void cost_batch(ChipModels& models, const SpeculativeSpec& spec, int64_t batch, int64_t context,
                SpeculativeChipResult& out) {
  const chips::StepCost decode = models.target->step(uniform_step(batch, 1, context));
  const chips::StepCost verify = models.target->step(uniform_step(batch, spec.verify_tokens(), context));
  double draft_s = 0, draft_j = 0, draft_static_w = 0;
  if (models.draft) {
    const chips::StepCost draft = models.draft->step(uniform_step(batch, 1, context));
    draft_s = draft.seconds;
    draft_j = draft.energy.total();
    draft_static_w = draft.seconds > 0 ? draft.energy.static_j / draft.seconds : 0.0;
  }
  const double k = static_cast<double>(spec.draft_tokens);
  const double e = spec.expected_tokens_per_step();
  const double b = static_cast<double>(batch);
  const double spec_step_s = verify.seconds + k * draft_s;
  // While the draft runs, the target's chips keep drawing static power; the draft's own step already
  // counts that of the chips it uses (all of them for a one-chip system), so only the excess is added (an
  // auto-sized lpu system gives the smaller draft model fewer chips).
  const double target_static_w = decode.seconds > 0 ? decode.energy.static_j / decode.seconds : 0.0;
  const double idle_static_w = std::max(0.0, target_static_w - draft_static_w);
  const double spec_step_j = verify.energy.total() + k * (draft_j + idle_static_w * draft_s);
  out.decode_step_s = decode.seconds;
  out.verify_step_s = verify.seconds;
  out.draft_step_s = draft_s;
  out.decode_bound = decode.bound;
  out.verify_bound = verify.bound;
  out.plain_tpot_s = decode.seconds;
  out.spec_tpot_s = spec_step_s / e;
  out.plain_tokens_per_s = b / decode.seconds;
  out.spec_tokens_per_s = b * e / spec_step_s;
  out.plain_tokens_per_j = b / decode.energy.total();
  out.spec_tokens_per_j = b * e / spec_step_j;
}

std::string explain_chip(const SpeculativeChipResult& r, const SpeculativeSpec& spec) {
  const double ratio = r.verify_step_s / r.decode_step_s;
  std::string why = fmt::format(
      "verify of {} tokens costs {:.2f}x a decode step ({}-bound decode, {}-bound verify)",
      spec.verify_tokens(), ratio, chips::bound_name(r.decode_bound), chips::bound_name(r.verify_bound));
  if (r.draft_step_s > 0)
    why +=
        fmt::format(", plus {} draft steps of {:.2f}x", spec.draft_tokens, r.draft_step_s / r.decode_step_s);
  why += fmt::format("; E = {:.2f} tokens per step", spec.expected_tokens_per_step());
  why += r.speedup() >= 1 ? fmt::format(" -> {:.2f}x faster", r.speedup())
                          : fmt::format(" -> {:.2f}x slower", 1.0 / r.speedup());
  if (r.break_even_batch > 0) why += fmt::format("; the gain vanishes at batch {}", r.break_even_batch);
  return why;
}

}  // namespace

int64_t SpeculativeSpec::verify_tokens() const {
  return is_tidar(*this) ? draft_tokens + (draft_tokens + 1) * draft_tokens : draft_tokens + 1;
}

double SpeculativeSpec::expected_tokens_per_step() const {
  if (acceptance >= 1.0) return static_cast<double>(draft_tokens + 1);
  return (1.0 - std::pow(acceptance, static_cast<double>(draft_tokens + 1))) / (1.0 - acceptance);
}

std::vector<SpeculativeChipResult> run_speculative_compare(const std::vector<chips::ChipSpec>& chip_list,
                                                           const model::ModelConfig& config,
                                                           const std::string& precision,
                                                           const chips::RunShape& shape,
                                                           const SpeculativeSpec& spec,
                                                           const CostModelFactory& factory) {
  if (spec.draft_tokens < 1 || spec.draft_tokens > 64)
    fail("--draft-tokens must be in 1..64 (got {})", spec.draft_tokens);
  if (!(spec.acceptance >= 0 && spec.acceptance <= 1))
    fail("--acceptance must be in [0, 1] (got {})", spec.acceptance);
  const int64_t context = shape.prompt_len + shape.gen_len / 2;
  std::vector<SpeculativeChipResult> results;
  for (const chips::ChipSpec& chip : chip_list) {
    SpeculativeChipResult result;
    result.chip = chip.name;
    try {
      ChipModels models;
      models.target = factory(chip, config, precision);
      if (!models.target) fail("{}: no cost model for this chip", chip.name);
      if (has_draft_model(spec)) {
        models.draft = factory(chip, *spec.draft_config, spec.draft_precision);
        if (!models.draft) fail("{}: no cost model for the draft model", chip.name);
      }
      cost_batch(models, spec, shape.batch, context, result);
      // Where does the gain vanish? Larger batches until the speedup drops below 1 or the chip gives up.
      SpeculativeChipResult probe;
      for (int64_t batch = 1; batch <= kMaxBreakEvenBatch; batch *= 2) {
        try {
          cost_batch(models, spec, batch, context, probe);
        } catch (const std::exception&) {
          break;  // KV or memory limit: no larger batch runs either
        }
        result.largest_batch = batch;
        if (probe.speedup() < 1.0) {
          result.break_even_batch = batch;
          break;
        }
      }
      result.why = explain_chip(result, spec);
    } catch (const std::exception& error) {
      result.error = error.what();
    }
    results.push_back(std::move(result));
  }
  return results;
}

std::string format_speculative_table(const std::vector<SpeculativeChipResult>& results,
                                     const SpeculativeSpec& spec, int64_t batch) {
  std::string out = fmt::format(
      "Speculative decoding: {}, k = {}, acceptance a = {:.2f} -> E = {:.2f} tokens per verify step "
      "({} tokens per pass), batch {}\n",
      spec.drafter, spec.draft_tokens, spec.acceptance, spec.expected_tokens_per_step(), spec.verify_tokens(),
      batch);
  out +=
      "| chip | TPOT plain | TPOT spec | tok/s plain | tok/s spec | tok/J plain | tok/J spec | speedup | "
      "gain gone at batch |\n";
  out += "|---|---|---|---|---|---|---|---|---|\n";
  for (const SpeculativeChipResult& r : results) {
    if (!r.error.empty()) {
      out += fmt::format("| {} | cannot run: {} | | | | | | | |\n", r.chip, r.error);
      continue;
    }
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {:.2f}x | {} |\n", r.chip,
                       format_seconds(r.plain_tpot_s), format_seconds(r.spec_tpot_s),
                       format_rate(r.plain_tokens_per_s), format_rate(r.spec_tokens_per_s),
                       format_rate(r.plain_tokens_per_j), format_rate(r.spec_tokens_per_j), r.speedup(),
                       r.break_even_batch > 0 ? std::to_string(r.break_even_batch)
                                              : fmt::format("not up to {}", r.largest_batch));
  }
  for (const SpeculativeChipResult& r : results)
    if (r.error.empty()) out += fmt::format("{}: {}\n", r.chip, r.why);
  return out;
}

}  // namespace xpusim::report
