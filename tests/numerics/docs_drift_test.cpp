// docs/formats.md carries the format table generated from kFormatTable; this test fails on drift and, with
// XPUSIM_UPDATE_DOCS=1, rewrites the generated part.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "numerics/format_table.h"

namespace xpusim::numerics {
namespace {

constexpr std::string_view kBegin = "<!-- BEGIN GENERATED FORMAT TABLE -->\n";
constexpr std::string_view kEnd = "<!-- END GENERATED FORMAT TABLE -->";

TEST(Docs, FormatsMarkdownTableMatchesTheRows) {
  const std::string path = std::string(XPUSIM_SOURCE_DIR) + "/docs/formats.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  const size_t begin = text.find(kBegin);
  const size_t end = text.find(kEnd);
  ASSERT_TRUE(begin != std::string::npos && end != std::string::npos && begin < end)
      << path << ": generated-table markers missing";
  const std::string generated = format_table_markdown();
  const size_t start = begin + kBegin.size();
  if (text.compare(start, end - start, generated) == 0) return;
  const char* update = std::getenv("XPUSIM_UPDATE_DOCS");
  if (update != nullptr && std::string_view(update) == "1") {
    text.replace(start, end - start, generated);
    std::ofstream(path) << text;
    std::printf("rewrote the format table in %s\n", path.c_str());
    return;
  }
  FAIL() << path << ": the format table is out of date; run XPUSIM_UPDATE_DOCS=1 "
         << "xpusim_numerics_tests --gtest_filter='Docs.*'";
}

}  // namespace
}  // namespace xpusim::numerics
