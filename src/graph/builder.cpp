#include "graph/builder.h"

#include <array>
#include <utility>

#include "core/error.h"
#include "graph/families/blocks.h"

namespace xpusim::graph {
namespace {

using FamilyBuilder = void (*)(BlockBuilder&);

constexpr std::array<std::pair<model::Family, FamilyBuilder>, 6> kFamilyBuilders = {{
    {model::Family::GPT2, build_pre_norm_decoder},
    {model::Family::LLAMA, build_pre_norm_decoder},
    {model::Family::MIXTRAL, build_pre_norm_decoder},
    {model::Family::QWEN3, build_pre_norm_decoder},
    {model::Family::QWEN3_MOE, build_pre_norm_decoder},
    {model::Family::GEMMA3, build_gemma3},
}};

}  // namespace

Graph build_step(const model::ModelConfig& config, const StepShape& step) {
  if (step.n_tokens <= 0) fail("{}: a step needs at least one token (got {})", config.name, step.n_tokens);
  if (step.start_pos < 0) fail("{}: negative start position {}", config.name, step.start_pos);
  if (step.kv_capacity > 0 && step.start_pos + step.n_tokens > step.kv_capacity) {
    fail("{}: positions {}..{} exceed the KV cache capacity {}", config.name, step.start_pos,
         step.start_pos + step.n_tokens - 1, step.kv_capacity);
  }
  if (config.learned_positions && step.start_pos + step.n_tokens > config.max_positions) {
    fail("{}: position {} is past the model's {} learned positions", config.name,
         step.start_pos + step.n_tokens - 1, config.max_positions);
  }
  for (const auto& [family, build] : kFamilyBuilders) {
    if (family != config.family) continue;
    BlockBuilder builder(config, step);
    build(builder);
    verify(builder.graph());
    return std::move(builder.graph());
  }
  fail("{}: no graph builder for family {}", config.name, model::family_name(config.family));
}

}  // namespace xpusim::graph
