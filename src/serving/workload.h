// Serving workloads: who asks what, when. Arrivals are a Poisson process at `rate` requests/s (gamma-shaped
// gaps when burstiness != 1, as `vllm bench serve --burstiness`); rate 0 sends everything at t = 0. Lengths:
//   sharegpt      lognormal input (mean 161 tokens, sigma 1.0, clipped 4..1024) and output (mean 338, sigma
//                 1.0, clipped 1..1024) — the ShareGPT means of the PagedAttention paper (161.31 / 337.99)
//   alpaca        lognormal input (mean 19.3, sigma 0.6) and output (mean 58.5, sigma 0.6), same paper
//   fixed         every request input_len in, output_len out (vLLM "random" dataset without jitter)
//   shared-prefix a shared system prompt of prefix_len tokens + a sharegpt-like user part (prefix caching)
//   parallel      sharegpt lengths with n samples per request (parallel sampling, shared prompt blocks)
//   trace:PATH    JSONL replay, one request per line: {"arrival_s": 0.5, "prompt_len": 100 | "prompt_tokens":
//                 [..], "output_len": 50, "max_tokens": 256, "n": 1, "priority": 0}; arrival_s and output_len
//                 are required, max_tokens defaults to output_len
// Every request may generate up to max_tokens (default 1024, a chat server's cap: what a contiguous allocator
// must reserve) but stops after its drawn output length (its EOS). Prompt ids are random (seeded), so only
// the shared prefix hits the prefix cache. Non-goals: real text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xpusim::serving {

struct WorkloadSpec {
  std::string kind = "sharegpt";
  double rate = 4.0;        // requests per second; 0 = all at once
  double burstiness = 1.0;  // gamma shape of the gaps (1 = Poisson)
  int64_t requests = 100;
  uint64_t seed = 1;
  int64_t max_tokens = 1024;
  int64_t input_len = 512;   // fixed
  int64_t output_len = 128;  // fixed
  int64_t prefix_len = 512;  // shared-prefix
  int64_t n = 4;             // parallel
  int64_t vocab_size = 32000;
};

struct SimRequest {
  int64_t id = 0;
  double arrival_s = 0;
  std::vector<int32_t> prompt;
  int64_t output_len = 1;  // tokens before its EOS
  int64_t max_tokens = 1;
  int64_t n = 1;
  int64_t priority = 0;
};

// xpusim::Error for an unknown kind, bad numbers, or a trace line that does not parse (file:line, field).
std::vector<SimRequest> make_workload(const WorkloadSpec& spec);
std::vector<SimRequest> load_trace(const std::string& path, int64_t vocab_size);

}  // namespace xpusim::serving
