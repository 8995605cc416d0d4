#include "serving/workload.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include "core/error.h"

namespace xpusim::serving {
namespace {

struct LengthLaw {
  double mean = 0;
  double sigma = 0;
  int64_t min = 1;
  int64_t max = 1024;
};

int64_t draw_length(std::mt19937_64& rng, const LengthLaw& law) {
  // A lognormal with the given mean: mu = ln(mean) - sigma^2 / 2.
  std::lognormal_distribution<double> dist(std::log(law.mean) - law.sigma * law.sigma / 2, law.sigma);
  return std::clamp(static_cast<int64_t>(std::llround(dist(rng))), law.min, law.max);
}

std::vector<int32_t> random_tokens(std::mt19937_64& rng, int64_t count, int64_t vocab_size) {
  std::vector<int32_t> tokens(static_cast<size_t>(count));
  for (int32_t& token : tokens) token = static_cast<int32_t>(rng() % static_cast<uint64_t>(vocab_size));
  return tokens;
}

constexpr LengthLaw kShareGptIn{161.31, 1.0, 4, 1024};
constexpr LengthLaw kShareGptOut{337.99, 1.0, 1, 1024};
constexpr LengthLaw kAlpacaIn{19.31, 0.6, 2, 512};
constexpr LengthLaw kAlpacaOut{58.45, 0.6, 1, 512};

}  // namespace

std::vector<SimRequest> make_workload(const WorkloadSpec& spec) {
  if (spec.kind.rfind("trace:", 0) == 0) return load_trace(spec.kind.substr(6), spec.vocab_size);
  if (spec.requests < 1) fail("--requests must be >= 1 (got {})", spec.requests);
  if (spec.rate < 0 || !std::isfinite(spec.rate)) fail("--rate must be >= 0 requests/s (got {})", spec.rate);
  if (spec.burstiness <= 0) fail("--burstiness must be > 0 (got {})", spec.burstiness);
  if (spec.max_tokens < 1) fail("--max-tokens must be >= 1 (got {})", spec.max_tokens);
  if (spec.vocab_size < 2) fail("workload: vocabulary of {} tokens", spec.vocab_size);
  const std::string& kind = spec.kind;
  if (kind != "sharegpt" && kind != "alpaca" && kind != "fixed" && kind != "shared-prefix" &&
      kind != "parallel") {
    fail("--workload: unknown workload '{}' (sharegpt, alpaca, fixed, shared-prefix, parallel, trace:PATH)",
         kind);
  }
  if (kind == "fixed" && (spec.input_len < 1 || spec.output_len < 1))
    fail("--input-len/--output-len must be >= 1");
  if (kind == "shared-prefix" && spec.prefix_len < 1) fail("--prefix-len must be >= 1");
  if (kind == "parallel" && spec.n < 1) fail("--n must be >= 1");

  std::mt19937_64 rng(spec.seed);
  std::gamma_distribution<double> gap(spec.burstiness,
                                      spec.rate > 0 ? 1.0 / (spec.rate * spec.burstiness) : 1.0);
  const std::vector<int32_t> system_prompt = random_tokens(rng, spec.prefix_len, spec.vocab_size);
  std::vector<SimRequest> requests;
  double now = 0;
  for (int64_t i = 0; i < spec.requests; ++i) {
    SimRequest request;
    request.id = i;
    if (spec.rate > 0 && i > 0) now += gap(rng);
    request.arrival_s = now;
    int64_t input = 0;
    if (kind == "alpaca") {
      input = draw_length(rng, kAlpacaIn);
      request.output_len = draw_length(rng, kAlpacaOut);
    } else if (kind == "fixed") {
      input = spec.input_len;
      request.output_len = spec.output_len;
    } else {
      input = draw_length(rng, kShareGptIn);
      request.output_len = draw_length(rng, kShareGptOut);
    }
    if (kind == "shared-prefix") request.prompt = system_prompt;
    const std::vector<int32_t> own = random_tokens(rng, input, spec.vocab_size);
    request.prompt.insert(request.prompt.end(), own.begin(), own.end());
    request.max_tokens = std::max(spec.max_tokens, request.output_len);
    request.n = kind == "parallel" ? spec.n : 1;
    requests.push_back(std::move(request));
  }
  return requests;
}

std::vector<SimRequest> load_trace(const std::string& path, int64_t vocab_size) {
  std::ifstream in(path);
  if (!in) fail("trace {}: cannot open", path);
  constexpr int64_t kMaxTraceTokens = 50'000'000, kMaxTraceRequests = 100'000;
  std::vector<SimRequest> requests;
  int64_t total_tokens = 0;
  std::mt19937_64 rng(7);
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto where = [&] { return fmt::format("trace {}:{}", path, line_no); };
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) fail("{}: not a JSON object", where());
    auto number = [&](const char* key, bool required, double fallback) {
      if (!j.contains(key)) {
        if (required) fail("{}: field '{}' is missing", where(), key);
        return fallback;
      }
      if (!j[key].is_number()) fail("{}: field '{}' must be a number", where(), key);
      const double value = j[key].get<double>();
      if (!std::isfinite(value) || value < 0 || value > 1e12)
        fail("{}: field '{}' = {} is out of range", where(), key, value);
      return value;
    };
    SimRequest request;
    request.id = static_cast<int64_t>(requests.size());
    request.arrival_s = number("arrival_s", true, 0);
    request.output_len = static_cast<int64_t>(number("output_len", true, 0));
    request.max_tokens =
        static_cast<int64_t>(number("max_tokens", false, static_cast<double>(request.output_len)));
    request.n = static_cast<int64_t>(number("n", false, 1));
    request.priority = static_cast<int64_t>(number("priority", false, 0));
    if (request.output_len < 1 || request.output_len > 10'000'000)
      fail("{}: output_len must be 1..1e7", where());
    if (request.max_tokens > 10'000'000) fail("{}: max_tokens must be <= 1e7", where());
    if (request.n < 1 || request.n > 64) fail("{}: n must be 1..64", where());
    request.max_tokens = std::max(request.max_tokens, request.output_len);
    if (j.contains("prompt_tokens")) {
      if (!j["prompt_tokens"].is_array()) fail("{}: prompt_tokens must be an array of ids", where());
      for (const auto& id : j["prompt_tokens"]) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= vocab_size) {
          fail("{}: prompt_tokens holds a value that is not a token id below {}", where(), vocab_size);
        }
        request.prompt.push_back(id.get<int32_t>());
      }
    } else {
      const double length = number("prompt_len", true, 0);
      if (length < 1 || length > 1e7) fail("{}: prompt_len must be 1..1e7", where());
      request.prompt = random_tokens(rng, static_cast<int64_t>(length), vocab_size);
    }
    if (request.prompt.empty()) fail("{}: the prompt is empty", where());
    // A trace is bounded as a whole too: a few lines of prompt_len 1e7 must not fill the memory.
    total_tokens += static_cast<int64_t>(request.prompt.size());
    if (total_tokens > kMaxTraceTokens)
      fail("{}: the trace holds more than {} prompt tokens in all", where(), kMaxTraceTokens);
    if (static_cast<int64_t>(requests.size()) >= kMaxTraceRequests)
      fail("{}: more than {} requests in one trace", where(), kMaxTraceRequests);
    requests.push_back(std::move(request));
  }
  if (requests.empty()) fail("trace {}: no requests", path);
  std::stable_sort(requests.begin(), requests.end(),
                   [](const SimRequest& a, const SimRequest& b) { return a.arrival_s < b.arrival_s; });
  return requests;
}

}  // namespace xpusim::serving
