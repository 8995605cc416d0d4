// `xpusim models`: list the model presets (models/*.toml) with family, shape, exact parameter counts (from
// the config, no weights loaded) and whether real weights are in the model cache dir.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <memory>

#include "cli/command.h"
#include "core/error.h"
#include "model/loader.h"
#include "model/presets.h"
#include "report/table.h"

namespace xpusim::cli {
namespace {

struct ModelsOptions {
  bool json = false;
  bool csv = false;
};

std::string billions(int64_t params) {
  if (params >= 500'000'000) return fmt::format("{:.2f}B", static_cast<double>(params) / 1e9);
  return fmt::format("{:.0f}M", static_cast<double>(params) / 1e6);
}

// 134515008 -> "134,515,008" (independent of the locale).
std::string grouped(int64_t value) {
  std::string digits = std::to_string(value), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

void run_models(const ModelsOptions& options) {
  const std::vector<model::Preset> presets = model::list_presets();
  if (presets.empty()) fail("no model presets found (looked for models/*.toml; set XPUSIM_DATA_DIR)");
  if (options.json && options.csv) fail("give either --json or --csv, not both");
  if (options.csv) {
    fmt::print("{}", report::csv_row({"name", "family", "layers", "hidden", "heads", "kv_heads", "experts",
                                      "experts_used", "params", "active_params", "weights"}));
    for (const model::Preset& preset : presets) {
      const model::ModelConfig& c = preset.config;
      auto checkpoint = model::find_cached_checkpoint(preset);
      fmt::print("{}", report::csv_row(
                           {c.name, std::string(model::family_name(c.family)), std::to_string(c.n_layers),
                            std::to_string(c.hidden), std::to_string(c.n_heads), std::to_string(c.n_kv_heads),
                            std::to_string(c.n_experts), std::to_string(c.n_experts_used),
                            std::to_string(c.param_count()), std::to_string(c.active_param_count()),
                            checkpoint ? checkpoint->string() : std::string("synthetic")}));
    }
    return;
  }
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const model::Preset& preset : presets) {
      const model::ModelConfig& c = preset.config;
      auto checkpoint = model::find_cached_checkpoint(preset);
      out.push_back({{"name", c.name},
                     {"family", model::family_name(c.family)},
                     {"description", preset.description},
                     {"layers", c.n_layers},
                     {"hidden", c.hidden},
                     {"heads", c.n_heads},
                     {"kv_heads", c.n_kv_heads},
                     {"head_dim", c.head_dim},
                     {"vocab", c.vocab_size},
                     {"experts", c.n_experts},
                     {"experts_used", c.n_experts_used},
                     {"params", c.param_count()},
                     {"active_params", c.active_param_count()},
                     {"real_weights", checkpoint.has_value()},
                     {"weights", checkpoint ? checkpoint->string() : std::string("synthetic")},
                     {"preset_file", preset.file.string()}});
    }
    fmt::print("{}\n", out.dump(2));
    return;
  }
  fmt::print("{:<15} {:<9} {:>6} {:>6} {:>9} {:>8} {:>18} {:>8}  {}\n", "name", "family", "layers", "hidden",
             "heads/kv", "experts", "params", "active", "weights");
  for (const model::Preset& preset : presets) {
    const model::ModelConfig& c = preset.config;
    auto checkpoint = model::find_cached_checkpoint(preset);
    std::string experts = c.is_moe() ? fmt::format("{}/{}", c.n_experts_used, c.n_experts) : "-";
    fmt::print("{:<15} {:<9} {:>6} {:>6} {:>9} {:>8} {:>18} {:>8}  {}\n", c.name,
               model::family_name(c.family), c.n_layers, c.hidden,
               fmt::format("{}/{}", c.n_heads, c.n_kv_heads), experts, grouped(c.param_count()),
               billions(c.active_param_count()),
               checkpoint ? "real: " + checkpoint->string() : std::string("synthetic (no checkpoint found)"));
  }
  fmt::print("\nReal weights are looked for in {}/<name>/.\n", model::model_cache_dir().string());
}

void setup_models(CLI::App& app) {
  auto options = std::make_shared<ModelsOptions>();
  CLI::App* command = app.add_subcommand("models", "List the model presets (models/*.toml)");
  command->footer("Examples:\n  xpusim models\n  xpusim models --json\n  xpusim models --csv");
  add_output_flags(*command, options->json, options->csv);
  command->callback([options] { run_models(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_models);

}  // namespace xpusim::cli
