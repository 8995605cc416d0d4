#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace xpusim {

void assert_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "xpusim internal error: %s (%s:%d)\n", expr, file, line);
  std::abort();
}

}  // namespace xpusim
