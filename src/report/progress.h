// A one-line progress bar on stderr for long commands (compare over many chips, model loading). It draws only
// when enabled (the CLI enables it when stderr is a terminal and --quiet is not given), so pipes, files and
// tests see nothing.
// Non-goals: nested bars, rates/ETAs.
#pragma once

#include <cstddef>
#include <string>

namespace xpusim::report {

class ProgressBar {
 public:
  ProgressBar(bool enabled, std::string label);
  ~ProgressBar();  // clears the line if still drawn
  void update(size_t done, size_t total, const std::string& what);
  void finish();
  static bool stderr_is_terminal();

 private:
  bool m_enabled;
  bool m_drawn = false;
  std::string m_label;
};

}  // namespace xpusim::report
