// Plain data the serving simulator (src/serving, `xpusim serve-sim`) hands to the HTML report: per-request
// latencies and a KV-memory utilization time series, optionally for several KV layouts (paged vs contiguous)
// side by side. The report draws TTFT/TPOT distributions and KV utilization over time from it.
// Non-goals: any scheduling logic; the report only draws what it is given.
// HOWTO add a series: add a field here, draw it in html_serving.cpp.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace xpusim::report {

struct ServingRun {
  std::string label;                   // "paged", "contiguous"
  std::vector<double> ttft_s;          // one per finished request
  std::vector<double> tpot_s;          // one per finished request (mean time per output token)
  std::vector<double> time_s;          // sample times of the series below
  std::vector<double> kv_utilization;  // 0..1, KV memory in use / KV capacity, at time_s[i]
  // The run's headline figures as the terminal prints them (name, formatted value with its unit), shown as
  // the section's first table: one column per run.
  std::vector<std::pair<std::string, std::string>> summary;
};

struct ServingSection {
  std::string chip;
  std::string model;
  std::string workload;  // free text: "200 requests, Poisson 8 req/s, prompts 128-1024"
  std::vector<ServingRun> runs;
};

}  // namespace xpusim::report
