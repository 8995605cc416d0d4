// xpusim::Error: the one exception type for bad input (files, flags, programs, requests).
// Messages name the thing (file, field, instruction), what was found, what was expected.
// Our own bugs use XPUSIM_ASSERT; input must never reach an assert.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace xpusim {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// error("{}: tensor '{}' has {} bytes, expected {}", path, name, got, want)
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

[[noreturn]] void assert_failed(const char* expr, const char* file, int line);

}  // namespace xpusim

#define XPUSIM_ASSERT(cond) ((cond) ? (void)0 : ::xpusim::assert_failed(#cond, __FILE__, __LINE__))
