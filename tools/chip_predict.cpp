// chip_predict: prints the cost model's prediction of one run as one JSON line, for
// scripts/make-validation.sh (which compiles it against a build's static libraries; it is a dev tool, not
// part of the build). Usage: chip_predict CHIP MODEL PRECISION PROMPT_TOKENS GEN_TOKENS MODEL is a preset
// name. Prints {"chip", "model", "precision",
// "prefill_s", "decode_s" (all decode steps), "decode_steps", "compute"}.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "chips/cost_model.h"
#include "chips/loader.h"
#include "core/error.h"
#include "model/presets.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: chip_predict CHIP MODEL PRECISION PROMPT_TOKENS GEN_TOKENS\n");
    return 2;
  }
  try {
    const std::string chip_name = argv[1], model_name = argv[2],
                      precision = argv[3] == std::string("-") ? "" : argv[3];
    const auto preset = xpusim::model::find_preset(model_name);
    if (!preset) xpusim::fail("no model preset '{}'", model_name);
    const xpusim::model::ModelConfig config = preset->config;
    const auto chip = xpusim::chips::load_chip(chip_name);
    auto model = xpusim::chips::make_cost_model(chip, config, precision);
    xpusim::chips::RunShape shape;
    shape.batch = 1;
    shape.prompt_len = std::atoll(argv[4]);
    shape.gen_len = std::atoll(argv[5]);
    const auto run = xpusim::chips::estimate_run(*model, shape);
    std::printf(
        "{\"chip\": \"%s\", \"model\": \"%s\", \"precision\": \"%s\", \"prefill_s\": %.6g, \"decode_s\": "
        "%.6g, "
        "\"decode_steps\": %lld, \"compute\": \"%s\", \"prefill_bound\": \"%s\", \"decode_bound\": \"%s\"}\n",
        chip_name.c_str(), model_name.c_str(), run.plan.weight_format.c_str(), run.prefill.seconds,
        run.decode.seconds, static_cast<long long>(shape.gen_len - 1),
        std::string(xpusim::chips::precision_name(run.plan.compute_precision)).c_str(),
        xpusim::chips::bound_name(run.prefill.bound), xpusim::chips::bound_name(run.decode.bound));
  } catch (const xpusim::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
