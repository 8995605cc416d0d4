// `xpusim serve-sim`: what would chip C serve? A workload (Poisson arrivals, ShareGPT-like lengths, shared
// prompts, parallel sampling or a JSONL trace) replayed through the continuous-batching scheduler and the
// paged (or contiguous) KV allocator, each step timed by the chip's cost model. Prints vLLM-style metrics;
// --json prints one object (with the time series) and nothing else; --html writes the HTML report (paged and
// contiguous side by side: the workload is simulated with both allocators).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <memory>

#include "chips/loader.h"
#include "cli/command.h"
#include "cli/limits.h"
#include "cli/targets.h"
#include "core/error.h"
#include "model/loader.h"
#include "report/html.h"
#include "report/progress.h"
#include "report/table.h"
#include "serving/simulator.h"

namespace xpusim::cli {
namespace {

struct ServeSimOptions {
  std::string model = "smollm2-135m";
  std::string chip;
  std::string precision;
  serving::WorkloadSpec workload;
  std::string kv = "paged";
  std::string policy = "fcfs";
  int64_t block_size = 16;
  int64_t kv_capacity = 0;  // 0 = from the chip's plan
  int64_t max_batched_tokens = 2048;
  int64_t max_running = 256;
  int64_t max_model_len = 0;  // 0 = the model's context
  bool no_prefix_caching = false;
  bool json = false, csv = false, quiet = false;
  std::string html;  // report file; when set, the workload is also run with the other KV allocator
  std::string kv_dtype;
};

model::ModelConfig config_for(const std::string& name) {
  if (auto config = model::find_timing_config(name)) return *config;  // a preset or a config.json folder
  return model::load_model(name).config;                              // a .gguf checkpoint
}

void print_stats(const char* name, const serving::LatencyStats& s) {
  fmt::print("  {:<5} mean {:9.2f} ms | p50 {:9.2f} | p90 {:9.2f} | p99 {:9.2f}\n", name, s.mean * 1e3,
             s.p50 * 1e3, s.p90 * 1e3, s.p99 * 1e3);
}

report::ServingRun serving_run(const serving::ServeSimResult& result) {
  report::ServingRun run;
  run.label = result.allocator;
  run.ttft_s = result.ttft_samples_s;
  run.tpot_s = result.tpot_samples_s;
  for (const serving::ServingSample& sample : result.series) {
    run.time_s.push_back(sample.time_s);
    run.kv_utilization.push_back(sample.kv_usage);
  }
  const auto ms = [](double seconds) { return fmt::format("{:.2f} ms", seconds * 1e3); };
  run.summary = {
      {"requests completed / rejected", fmt::format("{} / {}", result.completed, result.rejected)},
      {"duration", fmt::format("{:.3f} s", result.duration_s)},
      {"requests/s", fmt::format("{:.2f}", result.request_throughput)},
      {"output tokens/s", fmt::format("{:.1f}", result.output_tokens_per_s)},
      {"TTFT mean / p50 / p99",
       ms(result.ttft_s.mean) + " / " + ms(result.ttft_s.p50) + " / " + ms(result.ttft_s.p99)},
      {"TPOT mean / p50 / p99",
       ms(result.tpot_s.mean) + " / " + ms(result.tpot_s.p50) + " / " + ms(result.tpot_s.p99)},
      {"E2E mean / p99", ms(result.e2e_s.mean) + " / " + ms(result.e2e_s.p99)},
      {"preemptions", fmt::format("{}", result.preemptions)},
      {"largest batch / mean", fmt::format("{} / {:.1f}", result.max_running, result.mean_running)},
      {"KV in use (mean, of capacity)", fmt::format("{:.0f}%", result.mean_kv_usage * 100)},
      {"KV capacity", fmt::format("{} tokens", result.kv_capacity_tokens)}};
  return run;
}

// The HTML report: the chosen allocator's run plus the same requests (same seed) with the other allocator,
// so paged vs contiguous is visible side by side.
void write_serving_html(const ServeSimOptions& options, const std::string& chip_name,
                        const serving::WorkloadSpec& workload,
                        const std::vector<serving::SimRequest>& requests, chips::CostModel& cost,
                        const serving::ServeSimOptions& sim, const serving::ServeSimResult& result) {
  serving::ServeSimOptions other = sim;
  other.on_progress = nullptr;  // the bar counts the requested run only
  other.kv.policy =
      sim.kv.policy == serving::KvPolicy::PAGED ? serving::KvPolicy::CONTIGUOUS : serving::KvPolicy::PAGED;
  const serving::ServeSimResult other_result = serving::simulate_serving(requests, cost, other);
  report::HtmlReport html;
  html.title = fmt::format("xpusim serve-sim: {} on {}", options.model, chip_name);
  report::ServingSection section;
  section.chip = chip_name;
  section.model = options.model;
  section.workload = fmt::format("{} requests, {} at {} req/s, seed {}", workload.requests, workload.kind,
                                 workload.rate, workload.seed);
  section.runs.push_back(serving_run(result));
  section.runs.push_back(serving_run(other_result));
  html.serving = std::move(section);
  html.parameters = {{"command", "serve-sim"},
                     {"model", options.model},
                     {"chip", chip_name},
                     {"workload", workload.kind},
                     {"rate (req/s)", fmt::format("{}", workload.rate)},
                     {"requests", fmt::format("{}", workload.requests)},
                     {"seed", fmt::format("{}", workload.seed)},
                     {"KV allocator", options.kv + " (report also shows " + other_result.allocator + ")"},
                     {"KV capacity (tokens)", fmt::format("{}", sim.kv.capacity_tokens)},
                     {"block size", fmt::format("{}", sim.kv.block_size)},
                     {"prefix caching", sim.kv.prefix_caching ? "on" : "off"},
                     {"max batched tokens", fmt::format("{}", sim.scheduler.max_batched_tokens)},
                     {"max running", fmt::format("{}", sim.scheduler.max_running)},
                     {"policy", options.policy}};
  report::write_html(html, options.html);
}

// The latency table as CSV: one row per metric (TTFT, TPOT, ITL, E2E), seconds, unrounded.
void print_csv(const serving::ServeSimResult& result) {
  fmt::print("{}", report::csv_row({"metric", "mean_s", "p50_s", "p90_s", "p99_s"}));
  const std::pair<const char*, const serving::LatencyStats*> rows[] = {
      {"ttft", &result.ttft_s}, {"tpot", &result.tpot_s}, {"itl", &result.itl_s}, {"e2e", &result.e2e_s}};
  for (const auto& [name, s] : rows)
    fmt::print("{}", report::csv_row({name, fmt::format("{}", s->mean), fmt::format("{}", s->p50),
                                      fmt::format("{}", s->p90), fmt::format("{}", s->p99)}));
}

// Stated limits (docs/security.md): a simulation past them would run for hours or fill the memory.
constexpr int64_t kMaxSimRequests = 100000;
constexpr int64_t kMaxSimLength = 1 << 17;  // tokens per prompt or output
constexpr uint64_t kMaxTraceBytes = 64u << 20;

void validate(const ServeSimOptions& options) {
  const serving::WorkloadSpec& w = options.workload;
  check_range("--requests", w.requests, 1, kMaxSimRequests);
  check_range("--max-tokens", w.max_tokens, 1, kMaxSimLength);
  check_range("--input-len", w.input_len, 1, kMaxSimLength);
  check_range("--output-len", w.output_len, 1, kMaxSimLength);
  check_range("--prefix-len", w.prefix_len, 0, kMaxSimLength);
  check_range("--samples", w.n, 1, 64);
  if (!(w.rate >= 0 && w.rate <= 1e6)) fail("--rate must be in [0, 1e6] requests/s (got {})", w.rate);
  if (!(w.burstiness > 0 && w.burstiness <= 1e3))
    fail("--burstiness must be in (0, 1000] (got {})", w.burstiness);
  check_range("--block-size", options.block_size, 1, 4096);
  check_range("--kv-capacity", options.kv_capacity, 0, int64_t{1} << 32);
  check_range("--max-batched-tokens", options.max_batched_tokens, 1, 1 << 20);
  check_range("--max-running", options.max_running, 1, 1 << 16);
  check_range("--max-model-len", options.max_model_len, 0, 1 << 20);
  if (w.kind.rfind("trace:", 0) == 0) check_input_file(w.kind.substr(6), kMaxTraceBytes, "--workload trace");
}

void run_serve_sim(const ServeSimOptions& options) {
  if (options.json && options.csv) fail("give either --json or --csv, not both");
  validate(options);
  if (options.chip.empty()) fail("--chip is required (see `xpusim chips`)");
  const model::ModelConfig config = config_for(options.model);
  const chips::ChipSpec chip = chips::load_chip(options.chip);
  std::unique_ptr<chips::CostModel> cost =
      make_target_cost_model(chip, config, options.precision, chips::CostOptions{options.kv_dtype, "", {}});
  const chips::SystemPlan& plan = cost->plan();

  serving::ServeSimOptions sim;
  sim.kv.policy = serving::kv_policy_from_name(options.kv);
  sim.kv.block_size = options.block_size;
  sim.kv.prefix_caching = !options.no_prefix_caching;
  sim.kv.capacity_tokens = options.kv_capacity > 0
                               ? options.kv_capacity
                               : static_cast<int64_t>(std::floor(plan.kv_capacity_tokens));
  if (sim.kv.capacity_tokens < 1) {
    fail("chip {}: no memory left for the KV cache after {:.2f} GB of weights", chip.name,
         plan.weight_bytes / 1e9);
  }
  sim.scheduler.max_batched_tokens = options.max_batched_tokens;
  sim.scheduler.max_running = options.max_running;
  sim.scheduler.max_model_len = options.max_model_len > 0 ? options.max_model_len : config.max_positions;
  sim.scheduler.policy = serving::schedule_policy_from_name(options.policy);
  serving::WorkloadSpec workload = options.workload;
  workload.vocab_size = config.vocab_size;

  const auto wall_start = std::chrono::steady_clock::now();
  const auto requests = serving::make_workload(workload);
  report::ProgressBar progress(!options.quiet && report::ProgressBar::stderr_is_terminal(), "serve-sim");
  sim.on_progress = [&](int64_t finished, int64_t total) {
    progress.update(static_cast<size_t>(finished), static_cast<size_t>(total), "requests finished");
  };
  progress.update(0, requests.size(), "requests finished");
  serving::ServeSimResult result = serving::simulate_serving(requests, *cost, sim);
  progress.finish();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (!options.html.empty()) write_serving_html(options, chip.name, workload, requests, *cost, sim, result);

  if (options.json) {
    nlohmann::json out = serving::to_json(result);
    out["model"] = options.model;
    out["chip"] = chip.name;
    out["workload"] = workload.kind;
    out["rate"] = workload.rate;
    out["block_size"] = sim.kv.block_size;
    out["max_batched_tokens"] = sim.scheduler.max_batched_tokens;
    out["max_running_limit"] = sim.scheduler.max_running;
    out["kv_bytes_per_token"] = plan.kv_bytes_per_token;
    out["wall_s"] = wall;
    fmt::print("{}\n", out.dump(2));
    return;
  }
  if (options.csv) {
    print_csv(result);
    return;
  }
  fmt::print(
      "serve-sim: {} on {} | workload {} at {} req/s, {} requests | KV {} ({} tokens, block {}) | budget "
      "{} tokens, {} seqs\n",
      options.model, chip.name, workload.kind, workload.rate, workload.requests, result.allocator,
      result.kv_capacity_tokens, sim.kv.block_size, sim.scheduler.max_batched_tokens,
      sim.scheduler.max_running);
  fmt::print("  completed {} / {} ({} rejected) in {:.2f} s simulated, {} steps ({:.2f} s wall)\n",
             result.completed, result.requests, result.rejected, result.duration_s, result.steps, wall);
  for (const std::string& why : result.rejections) fmt::print("  rejected: {}\n", why);
  fmt::print("  throughput {:.2f} req/s | {:.1f} output tok/s | {:.1f} total tok/s\n",
             result.request_throughput, result.output_tokens_per_s, result.total_tokens_per_s);
  print_stats("TTFT", result.ttft_s);
  print_stats("TPOT", result.tpot_s);
  print_stats("ITL", result.itl_s);
  print_stats("E2E", result.e2e_s);
  fmt::print(
      "  batch: max {} seqs, mean {:.1f} | KV usage {:.1f} % | KV holding real tokens {:.1f} % of reserved\n",
      result.max_running, result.mean_running, 100 * result.mean_kv_usage, 100 * result.mean_kv_utilization);
  fmt::print("  preemptions {} | prefix-cache hit rate {:.1f} % | copy-on-write {}\n", result.preemptions,
             100 * result.prefix_hit_rate, result.copy_on_writes);
}

void setup_serve_sim(CLI::App& app) {
  auto options = std::make_shared<ServeSimOptions>();
  CLI::App* command =
      app.add_subcommand("serve-sim", "Simulate serving a request workload on a chip (vLLM-style)");
  command->footer(
      "Examples:\n"
      "  xpusim serve-sim --model llama-3.2-1b --chip gpu-h100-sxm --workload sharegpt --rate 8 --requests "
      "1000\n"
      "  xpusim serve-sim --chip gpu-h100-sxm --workload shared-prefix --prefix-len 1024 --kv paged --json\n"
      "  xpusim serve-sim --chip gpu-h100-sxm --workload trace:requests.jsonl --kv contiguous\n"
      "Workloads and their length laws: docs/serving.md.");
  command->add_option("--model,-m", options->model, "Preset name or checkpoint")->capture_default_str();
  command->add_option("--chip,-c", options->chip, "Chip preset or TOML file")->required();
  command->add_option("--precision", options->precision, "Weight format (empty: the chip's default)");
  command
      ->add_option("--workload,-w", options->workload.kind,
                   "sharegpt | alpaca | fixed | shared-prefix | parallel | trace:PATH")
      ->capture_default_str();
  command->add_option("--rate,-r", options->workload.rate, "Requests per second (Poisson); 0 = all at once")
      ->capture_default_str();
  command
      ->add_option("--burstiness", options->workload.burstiness, "Gamma shape of arrival gaps (1 = Poisson)")
      ->capture_default_str();
  command->add_option("--requests,-n", options->workload.requests, "Number of requests")
      ->capture_default_str();
  command->add_option("--seed", options->workload.seed, "Workload seed")->capture_default_str();
  command
      ->add_option("--max-tokens", options->workload.max_tokens,
                   "Per-request max_tokens (the reservation cap)")
      ->capture_default_str();
  command->add_option("--input-len", options->workload.input_len, "fixed: prompt tokens")
      ->capture_default_str();
  command->add_option("--output-len", options->workload.output_len, "fixed: output tokens")
      ->capture_default_str();
  command->add_option("--prefix-len", options->workload.prefix_len, "shared-prefix: system prompt tokens")
      ->capture_default_str();
  command->add_option("--samples", options->workload.n, "parallel: samples per request (n)")
      ->capture_default_str();
  command->add_option("--kv", options->kv, "paged | contiguous")->capture_default_str();
  command->add_option("--kv-dtype", options->kv_dtype, "KV-cache type (bf16, fp16, fp8-e4m3, int8, fp32)");
  command->add_option("--block-size", options->block_size, "Paged KV block size in tokens")
      ->capture_default_str();
  command
      ->add_option("--kv-capacity", options->kv_capacity, "KV tokens (0 = what the chip holds after weights)")
      ->capture_default_str();
  command->add_flag("--no-prefix-caching", options->no_prefix_caching, "Turn the prefix cache off");
  command->add_option("--max-batched-tokens", options->max_batched_tokens, "Token budget per step")
      ->capture_default_str();
  command->add_option("--max-running", options->max_running, "Most sequences per step")
      ->capture_default_str();
  command->add_option("--max-model-len", options->max_model_len, "Context limit (0 = the model's)")
      ->capture_default_str();
  command->add_option("--policy", options->policy, "fcfs | priority")->capture_default_str();
  command->add_flag("--csv", options->csv,
                    "Print the latency table (TTFT/TPOT/ITL/E2E) as CSV, nothing else");
  command->add_flag("--quiet,-q", options->quiet, "No progress bar");
  command->add_flag("--json", options->json, "Print one JSON object (with the time series), nothing else");
  command->add_option(
      "--html", options->html,
      "Write a self-contained HTML report here (TTFT/TPOT distributions, KV usage over time); "
      "the same requests are also run with the other --kv allocator so it shows paged vs "
      "contiguous");
  command->callback([options] { run_serve_sim(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_serve_sim);

}  // namespace xpusim::cli
