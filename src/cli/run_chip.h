// `xpusim run --chip <cpu/gpu/tpu/npu/lpu preset>`: functional simulation of a family chip. The values come
// from the host executor with the weights quantized into the chip's weight format (the plan's format), so the
// text is what that storage format gives; the time, bytes and energy of every step (the prefill, then each
// decode step at its context length) come from the chip's cost model (src/chips) through
// cli/targets.h. The cost model adds microseconds per step, so the run is as fast as plain host execution
// of the same weights. Non-goals: the unified engine (cli/run_engine.h simulates its programs), the chip's
// own MAC rounding (the host computes in fp32: the chip's bf16/fp8 accumulation is not replayed).
#pragma once

#include <string>

#include "cli/run_request.h"

namespace xpusim::cli {

struct ChipRunOptions : RunRequest {
  std::string kv_dtype;    // --kv-dtype: the KV-cache type the chip model assumes (empty: the family default)
  std::string trace_file;  // --trace: Chrome/Perfetto trace of every step's ops (report/step_trace.h)
  std::string html_file;   // --html: the HTML report of the run (summary lines, diagram, timeline, energy)
};

void run_on_family_chip(const ChipRunOptions& options);

}  // namespace xpusim::cli
