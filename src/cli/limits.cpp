#include "cli/limits.h"

#include <algorithm>
#include <system_error>
#include <thread>

#include "core/error.h"

namespace xpusim::cli {

int max_threads() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::min(1024, 4 * cores);
}

void check_range(const char* flag, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) fail("{} must be in [{}, {}] (got {})", flag, low, high, value);
}

void check_threads(const char* flag, int64_t threads) {
  if (threads < 0 || threads > max_threads()) {
    fail("{} must be in [0, {}] (0 = one per core; at most 4x the {} cores here) (got {})", flag,
         max_threads(), std::max(1u, std::thread::hardware_concurrency()), threads);
  }
}

uint64_t check_input_file(const std::filesystem::path& path, uint64_t max_bytes, const char* what) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status))
    fail("{}: cannot read {}: no such file", what, path.string());
  if (!std::filesystem::is_regular_file(status))
    fail("{}: {} is not a regular file (a directory, device or pipe cannot be read)", what, path.string());
  const uint64_t size = std::filesystem::file_size(path, error);
  if (error) fail("{}: cannot read {}: {}", what, path.string(), error.message());
  if (size > max_bytes)
    fail("{}: {} is {} bytes; the limit is {} bytes", what, path.string(), size, max_bytes);
  return size;
}

}  // namespace xpusim::cli
