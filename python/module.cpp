// The `xpusim._core` Python extension (nanobind): the same C++ core as the CLI, called in-process. Each
// function takes plain Python values and returns JSON text that python/xpusim/__init__.py turns into lists of
// dicts or pandas DataFrames; xpusim::Error becomes xpusim.XpusimError with the same message.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>

#include "chips/loader.h"
#include "cli/targets.h"
#include "core/error.h"
#include "engine/chip_config.h"
#include "model/presets.h"
#include "report/compare_data.h"
#include "report/table.h"
#include "sweep/evaluate.h"
#include "sweep/output.h"
#include "validation/summary.h"

namespace nb = nanobind;
using namespace xpusim;

namespace {

// A chip given as TOML text (a dict edited in Python) or as a preset name / path.
chips::ChipSpec load_chip_argument(const std::string& name_or_toml, const std::string& name_for_text) {
  if (name_or_toml.find('\n') != std::string::npos)
    return chips::load_chip_from_string(name_or_toml, name_for_text + ".toml");
  chips::ChipSpec chip = chips::load_chip(name_or_toml);
  if (chip.family == chips::Family::UE)
    (void)engine::load_chip(chip.source_path.empty() ? chip.name : chip.source_path);
  return chip;
}

std::string compare_json(const std::string& model_name, const std::vector<std::string>& chip_args,
                         const std::vector<std::string>& chip_names, const std::string& precision,
                         int64_t batch, int64_t prompt_len, int64_t gen_len, const std::string& kv_dtype) {
  if (batch < 1 || prompt_len < 1 || gen_len < 1) fail("batch, prompt_len and gen_len must be >= 1");
  std::optional<model::ModelConfig> config = model::find_timing_config(model_name);
  if (!config)
    fail("unknown model '{}': give a preset name (xpusim models) or a folder with a config.json", model_name);
  std::vector<chips::ChipSpec> chip_list;
  for (size_t i = 0; i < chip_args.size(); ++i)
    chip_list.push_back(load_chip_argument(chip_args[i], chip_names[i]));
  report::CompareReport result;
  result.model = model_name;
  result.model_source = "config only (timing)";
  result.params = config->param_count();
  result.precision = precision;
  result.shape = {batch, prompt_len, gen_len};
  chips::CostOptions options;
  options.kv_dtype = kv_dtype;
  options.kv_reserve_tokens = batch * (prompt_len + gen_len);
  report::run_compare(result, chip_list, *config,
                      [&](const chips::ChipSpec& chip, const model::ModelConfig& cfg, const std::string& p) {
                        return cli::make_target_cost_model(chip, cfg, p, options);
                      });
  return report::to_json(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string sweep_json(const std::string& spec_text, const std::string& spec_name, int workers) {
  const sweep::SweepSpec spec = sweep::parse_spec(spec_text, spec_name);
  const sweep::SweepEvaluator evaluator(
      spec, [](const chips::ChipSpec& chip, const model::ModelConfig& config, const std::string& precision,
               const chips::CostOptions& options) {
        return cli::make_target_cost_model(chip, config, precision, options);
      });
  sweep::SweepResult result;
  {
    nb::gil_scoped_release release;  // the workers are C++ threads; Python may run meanwhile
    result = evaluator.run(workers);
  }
  return sweep::to_json(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string validate_json(const std::string& points_path, const std::string& family) {
  const std::filesystem::path path =
      points_path.empty() ? validation::default_points_path() : std::filesystem::path(points_path);
  return validation::render_json(
      validation::run_validation(validation::load_points(path), path.string(), family));
}

}  // namespace

NB_MODULE(_core, m) {
  m.doc() = "xpusim's C++ core (see the xpusim package)";
  nb::exception<xpusim::Error>(m, "XpusimError", PyExc_ValueError);
  m.def("compare_json", &compare_json);
  m.def("sweep_json", &sweep_json);
  m.def("validate_json", &validate_json);
  m.def("chip_file", &chips::find_chip_file);
  m.def("version", [] { return std::string(XPUSIM_VERSION); });
}
