// `xpusim run --speculative ngram|draft:MODEL|self:FORMAT [--draft-tokens K]`: generate on the host with
// speculative decoding (runtime/speculative.h), then run plain decoding on the same prompt and report the
// acceptance rate, tokens per verify step (and the (1 − a^(k+1))/(1 − a) prediction at the measured a), the
// wall-clock decode speedup and whether the two outputs are identical (always so when greedy).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/run_request.h"
#include "exec/executor.h"
#include "model/loader.h"
#include "runtime/speculative.h"

namespace xpusim::cli {

struct SpeculativeRequest {
  std::string spec;          // ngram | draft:MODEL | self:FORMAT
  int64_t draft_tokens = 4;  // k
  bool baseline = true;      // also run plain decoding and report the speedup
};

// A drafter with whatever it owns (a draft model's weights and executor).
struct DrafterHandle {
  std::unique_ptr<model::LoadedModel> model;
  std::unique_ptr<exec::Executor> executor;
  std::unique_ptr<runtime::StepRunner> runner;
  std::unique_ptr<runtime::Drafter> drafter;
  std::string description;  // "ngram (prompt lookup)", "self:q4_0 (smollm2-135m, 4.5-bit weights)", ...
};

// Parses `spec` and builds the drafter for `target` (xpusim::Error on an unknown kind, an unknown format, or
// a draft model whose tokenizer differs).
DrafterHandle make_drafter(const std::string& spec, const model::LoadedModel& target,
                           const RunRequest& request);

// The host run with speculation: streams the text through `on_text`, prints (or --json) the comparison.
void run_speculative_host(const RunRequest& request, const SpeculativeRequest& speculative,
                          const model::LoadedModel& loaded, const runtime::TextCodec& codec,
                          const std::vector<int32_t>& prompt_ids, const runtime::GenerateOptions& options,
                          const std::function<void(std::string_view)>& on_text);

}  // namespace xpusim::cli
