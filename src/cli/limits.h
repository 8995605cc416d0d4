// Stated limits of the CLI's size, count and thread arguments, and the checks every command shares, so that
// a value past a limit is refused with a message naming the flag instead of running away (docs/security.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace xpusim::cli {

// Threads: at most 4x the cores this machine has (more only adds contention), and never above 1024.
int max_threads();
// Fails ("<flag> must be in [low, high] (got value)") when value is outside.
void check_range(const char* flag, int64_t value, int64_t low, int64_t high);
// Threads flag where 0 means one per core.
void check_threads(const char* flag, int64_t threads);
// Files a command reads whole: a regular file, at most max_bytes (a directory, a device or /dev/zero are
// refused with a message). Returns the size.
uint64_t check_input_file(const std::filesystem::path& path, uint64_t max_bytes, const char* what);

}  // namespace xpusim::cli
