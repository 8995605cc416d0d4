#include "cli/run_speculative.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "cli/quant_eval.h"
#include "core/error.h"
#include "numerics/format_table.h"

namespace xpusim::cli {
namespace {

constexpr std::string_view kKinds = "ngram, draft:MODEL or self:FORMAT";

// The draft's tokenizer must map the prompt to the same ids and share the vocabulary, or its tokens mean
// something else to the target.
void check_same_tokenizer(const model::LoadedModel& draft, const model::LoadedModel& target,
                          const RunRequest& request) {
  if (draft.config.vocab_size != target.config.vocab_size) {
    fail(
        "--speculative draft:{}: its vocabulary has {} tokens, {}'s has {}; a draft model needs the target's "
        "tokenizer",
        draft.name, draft.config.vocab_size, target.name, target.config.vocab_size);
  }
  const runtime::TextCodec draft_codec = runtime::TextCodec::for_model(draft);
  const runtime::TextCodec target_codec = runtime::TextCodec::for_model(target);
  if (request.encode(draft_codec) != request.encode(target_codec)) {
    fail("--speculative draft:{}: its tokenizer encodes the prompt differently from {}'s", draft.name,
         target.name);
  }
}

DrafterHandle model_drafter(std::unique_ptr<model::LoadedModel> model, std::string description,
                            const RunRequest& request) {
  DrafterHandle handle;
  handle.model = std::move(model);
  handle.executor = std::make_unique<exec::Executor>(handle.model->config, handle.model->weights,
                                                     exec::ExecOptions{request.threads, 0});
  handle.runner = std::make_unique<runtime::HostStepRunner>(*handle.executor);
  handle.drafter = std::make_unique<runtime::ModelDrafter>(description, *handle.runner, request.sampling);
  handle.description = std::move(description);
  return handle;
}

}  // namespace

DrafterHandle make_drafter(const std::string& spec, const model::LoadedModel& target,
                           const RunRequest& request) {
  if (spec == "ngram") {
    DrafterHandle handle;
    handle.drafter = std::make_unique<runtime::NgramDrafter>();
    handle.description = "ngram (prompt lookup, n = 3..1)";
    return handle;
  }
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string argument = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "self") {
    const auto format = numerics::format_from_name(argument);
    if (!format) {
      fail("--speculative self:FORMAT: unknown format '{}'; known: {}", argument,
           numerics::format_names_joined());
    }
    auto draft = std::make_unique<model::LoadedModel>();
    draft->name = target.name;
    draft->config = target.config;
    draft->weights = quantize_model_weights(target, *format, false);
    draft->source = target.source;
    return model_drafter(std::move(draft),
                         fmt::format("self:{} ({}, linear weights in {:.2f}-bit {})", argument, target.name,
                                     numerics::format_row(*format).bits_per_element(), argument),
                         request);
  }
  if (kind == "draft") {
    if (argument.empty()) fail("--speculative draft:MODEL needs a model (a preset, folder or .gguf)");
    auto draft = std::make_unique<model::LoadedModel>(model::load_model(argument));
    check_same_tokenizer(*draft, target, request);
    const std::string description =
        fmt::format("draft:{} ({}{})", argument, draft->name, draft->synthetic ? ", synthetic weights" : "");
    return model_drafter(std::move(draft), description, request);
  }
  fail("--speculative: unknown drafter '{}'; give {}", spec, kKinds);
}

void run_speculative_host(const RunRequest& request, const SpeculativeRequest& speculative,
                          const model::LoadedModel& loaded, const runtime::TextCodec& codec,
                          const std::vector<int32_t>& prompt_ids, const runtime::GenerateOptions& options,
                          const std::function<void(std::string_view)>& on_text) {
  DrafterHandle drafter = make_drafter(speculative.spec, loaded, request);
  const int64_t context = static_cast<int64_t>(prompt_ids.size()) + request.max_tokens;
  exec::Executor executor(loaded.config, loaded.weights, exec::ExecOptions{request.threads, context});
  runtime::HostStepRunner target(executor);
  runtime::SpeculativeStats stats;
  const runtime::GenerateResult result = runtime::generate_speculative(
      target, *drafter.drafter, codec, prompt_ids, options, {speculative.draft_tokens}, &stats, on_text);

  std::optional<runtime::GenerateResult> plain;
  if (speculative.baseline) {
    executor.reset();
    plain = runtime::generate(executor, codec, prompt_ids, options);
  }
  const double a = stats.per_position_acceptance();
  const double predicted = runtime::expected_tokens_per_step(a, speculative.draft_tokens);
  const double speedup = plain && result.decode_seconds > 0 && plain->decode_tokens_per_second() > 0
                             ? result.decode_tokens_per_second() / plain->decode_tokens_per_second()
                             : 0.0;
  const bool same_output = plain && plain->output_ids == result.output_ids;

  if (request.json) {
    nlohmann::json out = generation_json(loaded, result);
    out["sampling"] = request.sampling.describe();
    out["threads"] = executor.threads();
    nlohmann::json spec{{"drafter", drafter.description},
                        {"draft_tokens", speculative.draft_tokens},
                        {"verify_steps", stats.verify_steps},
                        {"drafted", stats.drafted},
                        {"accepted", stats.accepted},
                        {"rejections", stats.rejections},
                        {"acceptance_rate", stats.acceptance_rate()},
                        {"per_position_acceptance", a},
                        {"tokens_per_step", stats.tokens_per_step()},
                        {"predicted_tokens_per_step", predicted},
                        {"draft_seconds", stats.draft_seconds},
                        {"verify_seconds", stats.verify_seconds}};
    if (plain) {
      spec["plain_decode_seconds"] = plain->decode_seconds;
      spec["plain_decode_tokens_per_s"] = plain->decode_tokens_per_second();
      spec["speedup"] = speedup;
      spec["same_output"] = same_output;
    }
    out["speculative"] = spec;
    fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  if (request.quiet) {
    fmt::print("\n");
    return;
  }
  fmt::print("\n\n-- {} | weights: {} | speculative: {}, k = {}\n", loaded.name, loaded.source,
             drafter.description, speculative.draft_tokens);
  fmt::print(
      "-- acceptance {:.1f}% of {} drafted ({:.3f} per position) | {:.2f} tokens per verify step "
      "(formula at that acceptance: {:.2f}) | {} verify steps\n",
      100.0 * stats.acceptance_rate(), stats.drafted, a, stats.tokens_per_step(), predicted,
      stats.verify_steps);
  fmt::print("-- decode: {} tokens, {:.1f} tokens/s (draft {:.2f} s, verify {:.2f} s) | stop: {}\n",
             result.output_ids.size(), result.decode_tokens_per_second(), stats.draft_seconds,
             stats.verify_seconds, result.stop_reason);
  if (plain) {
    fmt::print(
        "-- plain decoding: {} tokens, {:.1f} tokens/s | speedup {:.2f}x (wall clock) | same output: {}{}\n",
        plain->output_ids.size(), plain->decode_tokens_per_second(), speedup, same_output ? "yes" : "no",
        request.sampling.greedy() || same_output ? "" : " (sampling: same distribution, not the same draws)");
  }
}

}  // namespace xpusim::cli
