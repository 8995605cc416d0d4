// RunRequest: what `xpusim run` asks of every target (host, cuda, a ue-* engine, a cost-modelled chip): the
// model, the prompt or chat message, how many tokens and how to sample and stop, and how to print. The
// checks, the prompt encoding and the generation options are made here once, so the targets cannot drift
// apart.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/loader.h"
#include "runtime/generate.h"
#include "runtime/sampler.h"
#include "runtime/text_codec.h"

namespace xpusim::cli {

struct RunRequest {
  std::string model = "smollm2-135m";
  std::string chip;       // empty or "host": the host executor
  std::string precision;  // a numerics format name (host, chip) or an engine weight format (ue-*)
  std::string prompt, chat;
  int64_t max_tokens = 128;
  runtime::SamplingParams sampling;
  std::vector<std::string> stops;
  int threads = 0;           // host executor threads, 0 = one per core
  bool timing_only = false;  // simulated chips: time without values
  bool json = false;
  bool csv = false;    // simulated chips: the per-op-type breakdown as CSV, nothing else on stdout
  bool quiet = false;  // no progress bar or notes on stderr

  // The checks every target shares (xpusim::Error with the flag's name).
  void check() const;
  // The prompt or the chat message, encoded; never empty.
  std::vector<int32_t> encode(const runtime::TextCodec& codec) const;
  runtime::GenerateOptions generate_options(const runtime::TextCodec& codec,
                                            const model::ModelConfig& config) const;
};

// The JSON keys every real-execution run (host, cuda, speculative) reports for one generation.
nlohmann::json generation_json(const model::LoadedModel& loaded, const runtime::GenerateResult& result);

}  // namespace xpusim::cli
