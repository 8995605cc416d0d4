// Predicting one ledger row in-process: the row's chip preset (chip count overridden when x_chips is given),
// model preset or config folder, weight/activation/KV formats and software stack go into
// chips::make_cost_model; static rows run chips::estimate_run (one prefill of the batch, then decode steps),
// serving rows run serving::simulate_serving with every request queued at t = 0 (in-flight batching up to
// x_batch sequences). The metric is then read off the result (metric_value). Non-goals: summaries and output
// (summary.h).
#pragma once

#include <optional>
#include <string>

#include "validation/points.h"

namespace xpusim::validation {

struct Prediction {
  bool ran = false;
  std::string why;          // !ran: the reason (x_skip, or the error the model raised)
  double predicted = 0;     // in the row's metric and unit
  double error = 0;         // (predicted - measured) / measured
  std::string bound;        // what limits the predicted run ("memory", "compute", "overhead", "interconnect")
  std::string explanation;  // one line: chips used, format, step time split
  std::optional<double> predicted_power_w;  // average power over the run, all chips
};

Prediction predict_point(const Point& point);

// Metrics xpusim can predict (validation-points.md, "Metrics and units").
bool metric_supported(const std::string& metric);

}  // namespace xpusim::validation
