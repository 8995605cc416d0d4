// `xpusim run --chip ue-*`: generation on the unified-engine simulator (compiler::EngineRunner) instead of
// the host executor, with the simulated chip's figures: TTFT, decode ms/token, tokens/s at the chip's clock,
// utilization of peak, DRAM bytes per token, program size, energy per token and a per-op-type breakdown;
// --timing-only runs the same programs without values; --trace writes a Chrome/Perfetto timeline of the ops;
// --html writes the HTML report (op timeline per op type, run parameters, generated text).
// Non-goals: host execution (cmd_run.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/run_request.h"
#include "model/loader.h"

namespace xpusim::cli {

struct EngineRunOptions : RunRequest {
  std::string trace_file, html_file;
  int64_t engines = 0;        // engines the steps are split over (tensor parallel); 0: all of the chip's
  bool program_cache = true;  // load/store compiled programs on disk (compiler/program_cache.h)
};

void run_on_engine(const EngineRunOptions& options);

// The model a simulated run needs: timing-only runs of a preset without its checkpoint on disk get the
// preset's config and no weights (1B-30B models are costed without materialising them); everything else
// loads.
model::LoadedModel load_model_for_simulation(const std::string& model_name, bool timing_only);

}  // namespace xpusim::cli
