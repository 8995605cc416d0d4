// `xpusim bench`: host inference speed as llama-bench defines it. pp<P>: one forward pass over a P-token
// prompt from an empty context, tokens/s = P / time. tg<N>: N single-token decode steps from an empty
// context, tokens/s = N / time. Each test runs once to warm up, then --reps times; mean ± sd over the reps.
// Also measures the machine's limits and reports each result against its own:
//   * tg vs memory bandwidth: every decode step reads every weight matrix once (the token embedding: one row;
//     it is the LM head too when tied) plus the fp32 KV cache so far; bound = bytes per token / measured
//     streaming-read bandwidth. The bandwidth is probed around every 8 decode steps of a timed rep (the
//     executor's probe, exec/host_limits.h: the loads a GEMV issues, best pass; untimed), and a segment's
//     bound uses the mean of the probes on either side of it, so neither a probe taken at a quiet moment
//     minutes earlier nor one taken in a slump decides the fraction. The startup probes (host detection's,
//     chips/host_detect.h, and the executor's) are printed too, with the fraction against the higher of them.
//   * pp vs peak FMA: the step graph's FLOPs (graph op_traits) / time vs the measured fp32 FMA peak
//     (exec/peak_fma.h) on the same threads.
// Non-goals: other chips (their timings come from cost models: `xpusim compare`), batching (serve-sim).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>

#include "chips/host_detect.h"
#include "cli/bench_engine.h"
#include "cli/command.h"
#include "cli/cuda_target.h"
#include "cli/quant_eval.h"
#include "core/error.h"
#include "exec/executor.h"
#include "exec/fast_linear.h"
#include "exec/host_limits.h"
#include "exec/simd/simd_kernels.h"
#include "model/loader.h"
#include "numerics/decode.h"
#include "numerics/format_table.h"
#include "report/progress.h"
#include "report/table.h"

namespace xpusim::cli {
namespace {

struct BenchOptions {
  std::string model = "smollm2-135m";
  std::string chip = "host";
  int64_t prompt = 512;
  int64_t generate = 128;
  std::string precision;
  int threads = 0;
  int reps = 3;
  bool json = false, csv = false, quiet = false, verbose = false, profile = false;
};

struct Stats {
  double mean = 0, sd = 0;
};

// llama.cpp's quantize_row_q4_1_ref: per 32 values d = (max - min) / 15, m = min, nibble = round((x - m) / d)
// (element j low nibble of byte j, j + 16 high). q4_1 is a GGUF storage type, not a numerics format, so
// --precision q4_1 builds it here.
std::vector<std::byte> encode_ggml_q4_1(const std::vector<float>& values) {
  std::vector<std::byte> out(values.size() / 32 * 20);
  for (size_t b = 0; b < values.size() / 32; ++b) {
    const float* x = values.data() + 32 * b;
    float lo = x[0], hi = x[0];
    for (int j = 1; j < 32; ++j) lo = std::min(lo, x[j]), hi = std::max(hi, x[j]);
    const float d = (hi - lo) / 15.0f, inverse = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t* block = reinterpret_cast<uint8_t*>(out.data()) + 20 * b;
    const uint16_t d_bits = numerics::f32_to_f16(d), m_bits = numerics::f32_to_f16(lo);
    std::memcpy(block, &d_bits, 2);
    std::memcpy(block + 2, &m_bits, 2);
    for (int j = 0; j < 16; ++j) {
      const int low = std::min(15, static_cast<int>((x[j] - lo) * inverse + 0.5f));
      const int high = std::min(15, static_cast<int>((x[j + 16] - lo) * inverse + 0.5f));
      block[4 + j] = static_cast<uint8_t>(low | (high << 4));
    }
  }
  return out;
}

// --precision q4_1: the linear layers (2-D blk.* matrices) as GGUF Q4_1 blocks, everything else bf16 (as
// quantize_model_weights does for numerics formats).
model::Weights ggml_q4_1_weights(const model::LoadedModel& loaded) {
  auto rest = std::make_shared<model::Weights>(quantize_model_weights(loaded, std::nullopt, false));
  model::Weights out;
  out.source = rest->source;
  out.keep_alive(rest);
  for (const auto& [name, view] : rest->all()) {
    if (view.shape.size() != 2 || !name.starts_with("blk.") || view.row_elements() % 32 != 0) {
      out.add(view);
      continue;
    }
    const model::TensorView& original = loaded.weights.get(name);
    std::vector<float> values(static_cast<size_t>(original.elements()));
    numerics::decode_to_f32(original.dtype, original.data, values.data(), values.size());
    out.add_owned(name, DType::Q4_1, view.shape, encode_ggml_q4_1(values));
  }
  return out;
}

Stats stats_of(const std::vector<double>& values) {
  Stats s;
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  if (values.size() > 1) {
    double sq = 0;
    for (double v : values) sq += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(sq / static_cast<double>(values.size() - 1));
  }
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Bytes one decode step reads from weights: every matrix once, except the token embedding (one row) when the
// LM head is a separate tensor. 1-D weights are read decoded (fp32) but are tiny; counted as stored.
double weight_bytes_per_token(const model::LoadedModel& loaded) {
  double bytes = 0;
  for (const auto& [name, view] : loaded.weights.all()) {
    if (name == "token_embd.weight" && !loaded.config.tied_embeddings) {
      bytes += static_cast<double>(view.bytes) / static_cast<double>(view.rows());
    } else if (name == "position_embd.weight") {
      bytes += static_cast<double>(view.bytes) / static_cast<double>(view.rows());
    } else {
      bytes += static_cast<double>(view.bytes);
    }
  }
  return bytes;
}

// Peak resident set of this process, MiB: the kernel's high-water mark (VmHWM), which reset_peak_rss()
// restarts (Linux >= 4.0: "5" to /proc/self/clear_refs), else getrusage's lifetime peak.
bool reset_peak_rss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  return clear_refs && (clear_refs << "5").flush();
}
double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmHWM:")) return std::stod(line.substr(6)) / 1024.0;  // "VmHWM:  123456 kB"
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
}

// The decode kernel of every matrix the LINEAR op reads (exec::decode_path), grouped by stored type and
// kernel, on stderr: the whole table with --verbose, else only matrices that take the slow row-decoding
// fallback (so no type is ever silently slow).
void report_linear_kernels(const model::LoadedModel& loaded, bool verbose) {
  struct Group {
    int64_t tensors = 0;
    double bytes = 0;
  };
  std::map<std::pair<std::string, exec::LinearPath>, Group> groups;
  const exec::simd::SimdKernels& kernels = exec::simd::simd_kernels();
  for (const auto& [name, view] : loaded.weights.all()) {
    const bool linear = name.starts_with("blk.") || name == "output.weight" ||
                        (name == "token_embd.weight" && loaded.config.tied_embeddings);
    if (view.shape.size() != 2 || !linear) continue;
    const exec::Activations activations =
        exec::is_lm_head(view) ? exec::Activations::kFp32 : exec::default_activations();
    const std::string type = view.dtype == DType::NUMERICS
                                 ? std::string(numerics::format_name(view.numerics_format))
                                 : std::string(dtype_info(view.dtype).name);
    Group& group = groups[{type + (exec::is_lm_head(view) ? " (LM head)" : ""),
                           exec::decode_path(view, kernels, activations)}];
    ++group.tensors;
    group.bytes += static_cast<double>(view.bytes);
  }
  for (const auto& [key, group] : groups) {
    if (!verbose && key.second != exec::LinearPath::kDecodedRows) continue;
    fmt::print(stderr, "kernels ({}): {} x {} ({:.1f} MB): {}\n", kernels.name, group.tensors, key.first,
               group.bytes / 1e6, exec::linear_path_name(key.second));
  }
}

// --profile: time per op (per timed rep), largest first.
void print_profile(const std::string& test, const exec::OpProfile& profile, int reps) {
  const double total = profile.total_seconds();
  if (total <= 0) return;
  fmt::print("profile {} (kernel time per rep; {:.2f} ms in all):\n", test, 1e3 * total / reps);
  for (const exec::OpProfile::Entry& e : profile.sorted()) {
    fmt::print("  {:>9.3f} ms {:>5.1f}% {:>7} calls  {}\n", 1e3 * e.seconds / reps, 100 * e.seconds / total,
               e.calls / reps, e.label);
  }
}

nlohmann::json profile_json(const exec::OpProfile& profile, int reps) {
  nlohmann::json out = nlohmann::json::array();
  for (const exec::OpProfile::Entry& e : profile.sorted())
    out.push_back(
        {{"op", e.label}, {"seconds_per_rep", e.seconds / reps}, {"calls_per_rep", e.calls / reps}});
  return out;
}

// Deterministic prompt ids away from special tokens.
std::vector<int32_t> bench_tokens(int64_t count, int64_t vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    ids[static_cast<size_t>(i)] = static_cast<int32_t>((1000 + 7919 * i) % vocab);
  return ids;
}

// The results table as CSV: one row per test run (pp, tg), numbers unrounded.
void print_csv_row(const std::string& test, int64_t tokens, double rate, double sd, double bound,
                   const char* limit) {
  fmt::print("{}", report::csv_row({test, std::to_string(tokens), fmt::format("{}", rate),
                                    fmt::format("{}", sd), fmt::format("{}", bound),
                                    fmt::format("{}", bound > 0 ? rate / bound : 0.0), limit}));
}

void print_csv_header() {
  fmt::print("{}", report::csv_row({"test", "tokens", "tokens_per_second", "sd", "bound_tokens_per_second",
                                    "fraction_of_limit", "limit"}));
}

void check_bench_options(const BenchOptions& options, bool on_cuda) {
  if (options.json && options.csv) fail("give either --json or --csv, not both");
  if (options.chip != "host" && options.chip != "cpu-host" && !on_cuda) {
    fail(
        "--chip '{}': bench runs on this machine (host), its NVIDIA GPU (cuda) or a ue-* chip's functional "
        "simulator; other chips are timed by `xpusim compare`",
        options.chip);
  }
  if (on_cuda && !cuda_target_built())
    fail("--chip cuda: this xpusim was built without CUDA (no nvcc found)");
  if (options.prompt < 0 || options.generate < 0) fail("-p and -n must be >= 0");
  if (options.prompt == 0 && options.generate == 0) fail("nothing to run: -p and -n are both 0");
  if (options.reps < 1) fail("--reps must be >= 1 (got {})", options.reps);
  if (options.threads < 0) fail("--threads must be >= 0 (got {})", options.threads);
}

void run_bench_on_engine(const BenchOptions& options) {
  FunctionalBenchOptions functional;
  functional.model = options.model;
  functional.chip = options.chip;
  functional.precision = options.precision;
  functional.generate = options.generate;
  functional.reps = options.reps;
  functional.json = options.json;
  functional.csv = options.csv;
  run_bench_functional(functional);
}

// The model with --precision applied (q4_1 is a GGUF storage type, built here).
model::LoadedModel load_bench_model(const BenchOptions& options, report::ProgressBar& progress, size_t done,
                                    size_t steps) {
  progress.update(done, steps, "loading " + options.model);
  model::LoadedModel loaded = model::load_model(options.model);
  if (!options.precision.empty()) {
    progress.update(done, steps, "quantizing to " + options.precision);
    const auto format = numerics::format_from_name(options.precision);
    if (options.precision == "q4_1") {
      loaded.weights = ggml_q4_1_weights(loaded);
    } else if (!format) {
      fail("--precision: unknown format '{}'; known: {}, q4_1 (GGUF blocks)", options.precision,
           numerics::format_names_joined());
    } else {
      loaded.weights = quantize_model_weights(loaded, *format, false);
    }
  }
  const int64_t context = options.prompt + options.generate + 1;
  if (context > loaded.config.max_positions && loaded.config.max_positions > 0) {
    fail("-p {} + -n {} exceeds {}'s {} positions", options.prompt, options.generate, loaded.name,
         loaded.config.max_positions);
  }
  return loaded;
}

void print_cuda_bench(const BenchOptions& options, const model::LoadedModel& loaded,
                      const CudaBenchFigures& figures) {
  if (options.csv) {
    print_csv_header();
    if (figures.pp_tokens > 0)
      print_csv_row(fmt::format("pp{}", figures.pp_tokens), figures.pp_tokens, figures.pp_tokens_per_second,
                    0, 0, "");
    if (figures.tg_tokens > 0)
      print_csv_row(fmt::format("tg{}", figures.tg_tokens), figures.tg_tokens, figures.tg_tokens_per_second,
                    0, 0, "");
    return;
  }
  if (options.json) {
    const nlohmann::json out = {{"model", loaded.name},
                                {"chip", "cuda"},
                                {"device", figures.device},
                                {"pp_tokens", figures.pp_tokens},
                                {"tg_tokens", figures.tg_tokens},
                                {"pp_tokens_per_s", figures.pp_tokens_per_second},
                                {"tg_tokens_per_s", figures.tg_tokens_per_second},
                                {"pp_seconds_median", figures.pp_seconds},
                                {"tg_seconds_median", figures.tg_seconds},
                                {"device_weight_bytes", figures.device_weight_bytes}};
    fmt::print("{}\n", out.dump(2));
    return;
  }
  fmt::print("{} on {} (median of {} reps)\n  pp{}: {:.1f} tokens/s\n  tg{}: {:.1f} tokens/s\n", loaded.name,
             figures.device, options.reps, figures.pp_tokens, figures.pp_tokens_per_second, figures.tg_tokens,
             figures.tg_tokens_per_second);
}

// The machine's limits, probed before the runs.
struct HostLimits {
  const chips::HostInfo* host = nullptr;
  exec::FmaPeak peak;
  exec::ReadBandwidth exec_read;
  double bandwidth_gbps = 0;
};

// What the pp and tg tests measured.
struct HostBenchFigures {
  std::vector<double> pp_rates, tg_rates;
  double pp_flops = 0;
  double weight_bytes = 0, tg_bytes = 0;  // per decode token
  double tg_seconds = 0, tg_bound_seconds = 0;
  double probe_min = 0, probe_max = 0;
  exec::OpProfile pp_profile, tg_profile;
  double peak_rss = 0;
  std::string rss_note;
};

// Each timed rep runs in segments of kProbeSegment steps with a read probe (untimed, ~10 ms: the best of 6
// passes over 128 MiB) before the first and after every segment: a segment's bound is its bytes at the mean
// of the two probes around it. On a shared machine the bandwidth moves within seconds (this VM: 40-76 GB/s
// inside one 3-second run), so a limit measured at another moment misstates the fraction either way; each
// probe is already a best pass, i.e. above the average the segment could get. fraction = bound seconds /
// measured seconds.
constexpr int64_t kProbeSegment = 8;
constexpr int64_t kTgProbeBytes = int64_t{128} << 20;

// pp: one forward over the prompt; flops from the step graph.
void run_pp_test(const BenchOptions& options, const model::LoadedModel& loaded, exec::Executor& executor,
                 report::ProgressBar& progress, size_t& done, size_t steps, HostBenchFigures& figures) {
  const std::vector<int32_t> prompt = bench_tokens(options.prompt, loaded.config.vocab_size);
  for (int rep = -1; rep < options.reps; ++rep) {
    progress.update(done++, steps, rep < 0 ? "pp warm-up" : fmt::format("pp rep {}", rep + 1));
    executor.reset();
    executor.set_profile(options.profile && rep >= 0 ? &figures.pp_profile : nullptr);
    const auto start = std::chrono::steady_clock::now();
    executor.forward(prompt);
    const double elapsed = seconds_since(start);
    figures.pp_flops = executor.last_step().flops;
    if (rep >= 0) figures.pp_rates.push_back(static_cast<double>(options.prompt) / elapsed);
  }
}

// tg: single-token steps from an empty context. Bytes per step: every weight matrix once + the fp32 KV cache
// so far (position p reads p + 1 rows).
void run_tg_test(const BenchOptions& options, const model::LoadedModel& loaded, exec::Executor& executor,
                 exec::ThreadPool& probe_pool, report::ProgressBar& progress, size_t& done, size_t steps,
                 HostBenchFigures& figures) {
  const double kv_row_bytes = static_cast<double>(loaded.config.kv_bytes_per_token(4));  // fp32 cache
  const std::vector<int32_t> ids = bench_tokens(options.generate, loaded.config.vocab_size);
  exec::ReadProbe probe(probe_pool, kTgProbeBytes);
  const auto probe_gbps = [&] {
    const double gbps = probe.measure(6).gbps;
    figures.probe_min = figures.probe_min > 0 ? std::min(figures.probe_min, gbps) : gbps;
    figures.probe_max = std::max(figures.probe_max, gbps);
    return gbps;
  };
  for (int rep = -1; rep < options.reps; ++rep) {
    progress.update(done++, steps, rep < 0 ? "tg warm-up" : fmt::format("tg rep {}", rep + 1));
    executor.reset();
    const bool timed = rep >= 0;
    executor.set_profile(options.profile && timed ? &figures.tg_profile : nullptr);
    double elapsed = 0;
    double before = timed ? probe_gbps() : 0;
    for (int64_t first = 0; first < options.generate; first += kProbeSegment) {
      const int64_t end = std::min(options.generate, first + kProbeSegment);
      const auto start = std::chrono::steady_clock::now();
      for (int64_t i = first; i < end; ++i)
        executor.forward(std::span<const int32_t>(&ids[static_cast<size_t>(i)], 1));
      elapsed += seconds_since(start);
      if (!timed) continue;
      const double after = probe_gbps();
      double bytes = 0;
      for (int64_t p = first; p < end; ++p)
        bytes += figures.weight_bytes + kv_row_bytes * static_cast<double>(p + 1);
      figures.tg_bound_seconds += bytes / ((before + after) / 2 * 1e9);
      before = after;
    }
    if (timed) {
      figures.tg_rates.push_back(static_cast<double>(options.generate) / elapsed);
      figures.tg_seconds += elapsed;
    }
  }
}

// The limits each rate is judged against.
struct BenchVerdict {
  Stats pp, tg;
  double pp_flops_per_token = 0, pp_bound = 0;
  double tg_fraction = 0, tg_bound = 0, startup_bound = 0;
  std::string precision;
};

BenchVerdict judge(const BenchOptions& options, const HostLimits& limits, const HostBenchFigures& figures) {
  BenchVerdict v;
  v.tg_fraction = figures.tg_seconds > 0 ? figures.tg_bound_seconds / figures.tg_seconds : 0;
  v.tg = figures.tg_rates.empty() ? Stats{} : stats_of(figures.tg_rates);
  v.tg_bound = v.tg_fraction > 0 ? v.tg.mean / v.tg_fraction : 0;    // rate / bound = the fraction
  v.startup_bound = limits.bandwidth_gbps * 1e9 / figures.tg_bytes;  // at the probes taken before the run
  v.pp_flops_per_token = options.prompt > 0 ? figures.pp_flops / static_cast<double>(options.prompt) : 0;
  v.pp_bound = v.pp_flops_per_token > 0 ? limits.peak.gflops * 1e9 / v.pp_flops_per_token : 0;
  v.pp = figures.pp_rates.empty() ? Stats{} : stats_of(figures.pp_rates);
  v.precision = options.precision.empty() ? "as stored" : options.precision;
  return v;
}

void print_host_bench_csv(const BenchOptions& options, const HostBenchFigures& figures,
                          const BenchVerdict& v) {
  print_csv_header();
  if (!figures.pp_rates.empty())
    print_csv_row(fmt::format("pp{}", options.prompt), options.prompt, v.pp.mean, v.pp.sd, v.pp_bound,
                  "peak FMA");
  if (!figures.tg_rates.empty())
    print_csv_row(fmt::format("tg{}", options.generate), options.generate, v.tg.mean, v.tg.sd, v.tg_bound,
                  "bandwidth");
}

void print_host_bench_json(const BenchOptions& options, const model::LoadedModel& loaded,
                           exec::Executor& executor, const HostLimits& limits,
                           const HostBenchFigures& figures, const BenchVerdict& v) {
  nlohmann::json out = {
      {"model", loaded.name},
      {"source", loaded.source},
      {"synthetic", loaded.synthetic},
      {"precision", v.precision},
      {"threads", executor.threads()},
      {"simd", std::string(exec::simd::simd_kernels().name)},
      {"reps", options.reps},
      {"peak_rss_mib", figures.peak_rss},
      {"peak_rss_note", figures.rss_note},
      {"machine",
       {{"cpu", limits.host->model_name},
        {"memory_bandwidth_gbps", limits.bandwidth_gbps},
        {"host_detect_read_gbps", limits.host->dram_read_gbps},
        {"exec_read_gbps", limits.exec_read.gbps},
        {"peak_fma_gflops", limits.peak.gflops},
        {"peak_fma_threads", limits.peak.threads}}},
  };
  if (!figures.pp_rates.empty()) {
    out["pp"] = {{"tokens", options.prompt},
                 {"tokens_per_second", v.pp.mean},
                 {"sd", v.pp.sd},
                 {"flops_per_token", v.pp_flops_per_token},
                 {"bound_tokens_per_second", v.pp_bound},
                 {"fraction_of_peak", v.pp.mean / v.pp_bound},
                 {"gflops", v.pp.mean * v.pp_flops_per_token / 1e9}};
  }
  if (!figures.tg_rates.empty()) {
    out["tg"] = {{"tokens", options.generate},
                 {"tokens_per_second", v.tg.mean},
                 {"sd", v.tg.sd},
                 {"bytes_per_token", figures.tg_bytes},
                 {"bound_tokens_per_second", v.tg_bound},
                 {"fraction_of_bandwidth", v.tg_fraction},
                 {"probe_every_steps", kProbeSegment},
                 {"probe_gbps_min", figures.probe_min},
                 {"probe_gbps_max", figures.probe_max},
                 {"fraction_of_startup_probe", v.tg.mean / v.startup_bound},
                 {"gbps", v.tg.mean * figures.tg_bytes / 1e9}};
  }
  if (options.profile)
    out["profile"] = {{"pp", profile_json(figures.pp_profile, options.reps)},
                      {"tg", profile_json(figures.tg_profile, options.reps)}};
  out["pool_inline_jobs"] = executor.pool().inline_jobs();
  out["pool_stalls"] = executor.pool().stalls();
  fmt::print("{}\n", out.dump(2));
}

void print_host_bench_text(const BenchOptions& options, const model::LoadedModel& loaded,
                           exec::Executor& executor, const HostLimits& limits,
                           const HostBenchFigures& figures, const BenchVerdict& v) {
  fmt::print(
      "machine: {} | {} threads | simd {} | memory read {:.1f} GB/s (host probe {:.1f}, exec probe {:.1f}) | "
      "peak fp32 FMA {:.1f} GFLOP/s\n",
      limits.host->model_name, executor.threads(), exec::simd::simd_kernels().name, limits.bandwidth_gbps,
      limits.host->dram_read_gbps, limits.exec_read.gbps, limits.peak.gflops);
  fmt::print(
      "model: {} ({}) | precision {} | {:.1f} MB of weights read per decode token | peak RSS {:.0f} MiB "
      "({})\n",
      loaded.name, loaded.source, v.precision, figures.weight_bytes / 1e6, figures.peak_rss,
      figures.rss_note);
  if (loaded.synthetic) fmt::print("note: synthetic weights (same shapes and bytes as the real model)\n");
  fmt::print("| {:<8} | {:>18} | {:>14} | {:>22} |\n", "test", "t/s", "bound t/s", "fraction of limit");
  if (!figures.pp_rates.empty()) {
    fmt::print("| {:<8} | {:>9.2f} ± {:<6.2f} | {:>14.2f} | {:>6.1f}% of peak FMA     |\n",
               fmt::format("pp{}", options.prompt), v.pp.mean, v.pp.sd, v.pp_bound,
               100 * v.pp.mean / v.pp_bound);
  }
  if (!figures.tg_rates.empty()) {
    fmt::print("| {:<8} | {:>9.2f} ± {:<6.2f} | {:>14.2f} | {:>6.1f}% of bandwidth    |\n",
               fmt::format("tg{}", options.generate), v.tg.mean, v.tg.sd, v.tg_bound, 100 * v.tg_fraction);
    fmt::print(
        "tg bound: {:.1f} MB per token at the bandwidth probed around every {} steps ({:.1f}-{:.1f} GB/s; "
        "{:.1f}% of the startup probe's bound)\n",
        figures.tg_bytes / 1e6, kProbeSegment, figures.probe_min, figures.probe_max,
        100 * v.tg.mean / v.startup_bound);
  }
  if (executor.pool().stalls() > 0) {
    fmt::print("thread pool: {} stalls on a descheduled worker (shared cores), {} jobs run on one thread\n",
               executor.pool().stalls(), executor.pool().inline_jobs());
  }
  if (options.profile) {
    print_profile(fmt::format("pp{}", options.prompt), figures.pp_profile, options.reps);
    print_profile(fmt::format("tg{}", options.generate), figures.tg_profile, options.reps);
  }
}

void run_bench(const BenchOptions& options) {
  if (options.chip.starts_with("ue-")) {  // functional-simulation speed (bench_engine.h)
    if (options.json && options.csv) fail("give either --json or --csv, not both");
    run_bench_on_engine(options);
    return;
  }
  const bool on_cuda = is_cuda_chip(options.chip);
  check_bench_options(options, on_cuda);

  // Steps: load (+ quantize), then each test's warm-up and reps.
  const size_t steps = 1 + (options.prompt > 0 ? static_cast<size_t>(options.reps) + 1 : 0) +
                       (options.generate > 0 ? static_cast<size_t>(options.reps) + 1 : 0);
  size_t done = 0;
  report::ProgressBar progress(!options.quiet && report::ProgressBar::stderr_is_terminal(), "bench");
  const model::LoadedModel loaded = load_bench_model(options, progress, done, steps);
  progress.update(++done, steps, "measuring limits");
  if (on_cuda) {
    const CudaBenchFigures figures =
        run_bench_cuda(loaded.config, loaded.weights, options.prompt, options.generate, options.reps);
    progress.finish();
    print_cuda_bench(options, loaded, figures);
    return;
  }
  report_linear_kernels(loaded, options.verbose);
  const int64_t context = options.prompt + options.generate + 1;
  exec::Executor executor(loaded.config, loaded.weights, exec::ExecOptions{options.threads, context});
  exec::ThreadPool probe_pool(executor.threads());
  HostLimits limits;
  limits.host = &chips::detect_host();
  limits.peak = exec::measure_peak_fma(probe_pool);
  limits.exec_read = exec::measure_read_bandwidth(probe_pool);
  limits.bandwidth_gbps = std::max(limits.host->dram_read_gbps, limits.exec_read.gbps);
  // Peak RSS from here on: the model, the executor and the runs, not the startup probes' buffers (up to
  // 512 MiB, freed by now). The tg probe's buffer (kTgProbeBytes) is resident during tg and subtracted.
  const bool rss_reset = reset_peak_rss();

  HostBenchFigures figures;
  figures.weight_bytes = weight_bytes_per_token(loaded);
  const double kv_row_bytes = static_cast<double>(loaded.config.kv_bytes_per_token(4));
  figures.tg_bytes = figures.weight_bytes + kv_row_bytes * (static_cast<double>(options.generate) + 1) / 2;
  if (options.prompt > 0) run_pp_test(options, loaded, executor, progress, done, steps, figures);
  if (options.generate > 0)
    run_tg_test(options, loaded, executor, probe_pool, progress, done, steps, figures);
  executor.set_profile(nullptr);
  figures.peak_rss =
      peak_rss_mib() - (options.generate > 0 ? static_cast<double>(kTgProbeBytes) / (1 << 20) : 0);
  figures.rss_note = rss_reset ? "bench probe buffers excluded" : "incl. bench probe buffers";

  const BenchVerdict verdict = judge(options, limits, figures);
  progress.finish();
  if (options.csv) {
    print_host_bench_csv(options, figures, verdict);
  } else if (options.json) {
    print_host_bench_json(options, loaded, executor, limits, figures, verdict);
  } else {
    print_host_bench_text(options, loaded, executor, limits, figures, verdict);
  }
}

void setup_bench(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* command = app.add_subcommand(
      "bench", "Measure prompt (pp) and generation (tg) speed on this machine vs its limits");
  command->footer(
      "Examples:\n"
      "  xpusim bench --model smollm2-135m --chip host\n"
      "  xpusim bench --model llama-3.2-1b -p 512 -n 128 --precision q4_0 --reps 3 --json\n"
      "pp<P> and tg<N> follow llama-bench: P prompt tokens in one pass, N single-token steps, empty "
      "context.");
  command->add_option("--model,-m", options->model, "Preset name, checkpoint folder or .gguf")
      ->capture_default_str();
  command
      ->add_option("--chip", options->chip,
                   "host (this machine), cuda (its NVIDIA GPU, when built with CUDA) or ue-* (functional-"
                   "simulation speed vs the host running the same numerics)")
      ->capture_default_str();
  command->add_option("-p,--prompt-tokens", options->prompt, "Prompt tokens of the pp test (0 = skip)")
      ->capture_default_str();
  command->add_option("-n,--gen-tokens", options->generate, "Generated tokens of the tg test (0 = skip)")
      ->capture_default_str();
  command->add_option("--precision", options->precision,
                      "Quantize linear weights into this number format first (xpusim quant --list; also "
                      "q4_1: GGUF Q4_1 blocks)");
  command->add_option("--threads", options->threads, "Worker threads, 0 = one per core")
      ->capture_default_str();
  command->add_option("--reps,-r", options->reps, "Timed repetitions of each test")->capture_default_str();
  add_output_flags(*command, options->json, options->csv, &options->quiet);
  command->add_flag("--profile", options->profile,
                    "Print kernel time per op type (LINEAR by weight type and kernel) of the timed reps");
  command->add_flag(
      "--verbose,-v", options->verbose,
      "Print the kernel every weight type takes (slow fallbacks are always printed), on stderr");
  command->callback([options] { run_bench(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_bench);

}  // namespace xpusim::cli
