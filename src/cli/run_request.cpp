#include "cli/run_request.h"

#include "core/error.h"

namespace xpusim::cli {

void RunRequest::check() const {
  if (json && csv) fail("give either --json or --csv, not both");
  if (!prompt.empty() && !chat.empty()) fail("give either --prompt or --chat, not both");
  if (prompt.empty() && chat.empty()) fail("give a --prompt TEXT or a --chat MESSAGE");
  if (max_tokens < 1) fail("--max-tokens must be >= 1 (got {})", max_tokens);
  for (const std::string& stop : stops)
    if (stop.empty()) fail("--stop: a stop string must not be empty");
  sampling.validate();
}

std::vector<int32_t> RunRequest::encode(const runtime::TextCodec& codec) const {
  std::vector<int32_t> ids = chat.empty() ? codec.encode_prompt(prompt) : codec.encode_chat(chat);
  if (ids.empty()) fail("the prompt encodes to no tokens");
  return ids;
}

runtime::GenerateOptions RunRequest::generate_options(const runtime::TextCodec& codec,
                                                      const model::ModelConfig& config) const {
  runtime::GenerateOptions options;
  options.max_tokens = max_tokens;
  options.sampling = sampling;
  options.stop_strings = stops;
  options.stop_ids = codec.stop_ids(config);
  return options;
}

nlohmann::json generation_json(const model::LoadedModel& loaded, const runtime::GenerateResult& result) {
  return {{"model", loaded.name},
          {"text", result.text},
          {"prompt_ids", result.prompt_ids},
          {"output_ids", result.output_ids},
          {"stop_reason", result.stop_reason},
          {"prompt_tokens", result.prompt_ids.size()},
          {"generated_tokens", result.output_ids.size()},
          {"prompt_seconds", result.prompt_seconds},
          {"decode_seconds", result.decode_seconds},
          {"prompt_tokens_per_s", result.prompt_tokens_per_second()},
          {"decode_tokens_per_s", result.decode_tokens_per_second()}};
}

}  // namespace xpusim::cli
