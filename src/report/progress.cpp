#include "report/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace xpusim::report {

ProgressBar::ProgressBar(bool enabled, std::string label) : m_enabled(enabled), m_label(std::move(label)) {}

ProgressBar::~ProgressBar() { finish(); }

bool ProgressBar::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

void ProgressBar::update(size_t done, size_t total, const std::string& what) {
  if (!m_enabled || total == 0) return;
  constexpr size_t kWidth = 28;
  const size_t filled = done * kWidth / total;
  fmt::print(stderr, "\r\033[2K{} [{}{}] {}/{} {}", m_label, std::string(filled, '#'),
             std::string(kWidth - filled, '.'), done, total, what);
  std::fflush(stderr);
  m_drawn = true;
}

void ProgressBar::finish() {
  if (!m_drawn) return;
  fmt::print(stderr, "\r\033[2K");
  std::fflush(stderr);
  m_drawn = false;
}

}  // namespace xpusim::report
