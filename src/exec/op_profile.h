// Per-op wall time of the executor's kernels, for `xpusim bench --profile` (llama.cpp's perf output, per op
// kind): an Executor given an OpProfile (set_profile) times every kernel call. LINEAR ops are split by the
// weight's stored type and kernel (exec::decode_path for one token, the GEMM for prompts), so one slow tensor
// type shows up by name. Non-goals: per-layer breakdowns, hardware counters.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "exec/kernels.h"

namespace xpusim::exec {

class OpProfile {
 public:
  struct Entry {
    std::string label;  // "LINEAR Q6_K gemv fused fp32 dot", "ATTENTION", ...
    int64_t calls = 0;
    double seconds = 0;
  };
  void add(const KernelArgs& args, std::chrono::steady_clock::duration elapsed);
  void clear() { m_entries.clear(); }
  // Entries by time, largest first.
  std::vector<Entry> sorted() const;
  double total_seconds() const;

 private:
  std::map<std::string, Entry, std::less<>> m_entries;
};

}  // namespace xpusim::exec
