// Runs the built xpusim binary (XPUSIM_BINARY) from tests that check commands end to end: one place that
// pipes its output back, so every CLI test reads it the same way.
#pragma once

#include <array>
#include <cstdio>
#include <string>

namespace xpusim::testing {

struct CliOutput {
  int status = -1;   // raw pclose() status (0 = exited 0); -1 if the process could not start
  std::string text;  // stdout, plus whatever `redirect` sends there
};

// `xpusim <args> <redirect>`; redirect is shell syntax for stderr ("2>&1", "2>/dev/null", "2>file").
inline CliOutput run_xpusim(const std::string& args, const std::string& redirect = "2>&1") {
  CliOutput out;
  const std::string command = std::string(XPUSIM_BINARY) + " " + args + " " + redirect;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.text.append(buffer.data(), n);
  out.status = pclose(pipe);
  return out;
}

}  // namespace xpusim::testing
