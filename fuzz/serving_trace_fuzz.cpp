// libFuzzer target: the serve-sim JSONL trace reader (serving::load_trace) on arbitrary bytes. xpusim::Error
// is the expected outcome for bad input; any other exception, crash, sanitizer report or hang is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "serving/workload.h"

namespace {
std::string g_path;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char name[] = "/tmp/xpusim-trace-fuzz-XXXXXX";
  const int fd = mkstemp(name);
  if (fd < 0) std::abort();
  close(fd);
  g_path = name;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FILE* file = std::fopen(g_path.c_str(), "wb");
  if (file == nullptr) return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  try {
    const auto requests = xpusim::serving::load_trace(g_path, 32000);
    volatile size_t sink = 0;
    for (const auto& request : requests) sink = sink + request.prompt.size() + static_cast<size_t>(request.n);
  } catch (const xpusim::Error&) {
  }
  return 0;
}
