// The HTML reports rendered by a real browser (headless Chromium from Debian's `chromium` package): no
// console errors, every section present with non-empty SVG in the DOM the browser built, and a PNG screenshot
// saved next to the xpusim binary (build/report-*.png) for a person to look at. Skips with the reason when
// chromium is not installed (setup.sh --test installs it).
#include <gtest/gtest.h>

#include <unistd.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "report/html.h"
#include "report_fixtures.h"

namespace xpusim::report {
namespace {

namespace fs = std::filesystem;

fs::path build_dir() { return fs::path(XPUSIM_BINARY).parent_path(); }

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool have_chromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

struct BrowserRun {
  std::string dom;
  std::string console;  // lines chromium logged from the page's console
  bool screenshot_ok = false;
};

// One --dump-dom run (console messages go to chromium's log on stderr) and one --screenshot run.
BrowserRun render_in_chromium(const fs::path& html, const fs::path& png) {
  const fs::path profile = fs::temp_directory_path() / ("xpusim-chromium-" + std::to_string(getpid()));
  const std::string flags =
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
      "--no-first-run --user-data-dir=" +
      profile.string() + " ";
  const fs::path log = profile.string() + ".log", dom = profile.string() + ".dom";
  BrowserRun run;
  std::system((flags + "--enable-logging=stderr --v=0 --dump-dom 'file://" + html.string() + "' >" +
               dom.string() + " 2>" + log.string())
                  .c_str());
  run.dom = read_file(dom);
  std::istringstream lines(read_file(log));
  for (std::string line; std::getline(lines, line);)
    if (line.find(":CONSOLE") != std::string::npos) run.console += line + "\n";
  fs::remove(png);
  std::system((flags + "--window-size=1400,5000 --screenshot=" + png.string() + " 'file://" + html.string() +
               "' >/dev/null 2>&1")
                  .c_str());
  run.screenshot_ok = fs::exists(png) && fs::file_size(png) > 10000;
  std::error_code ignored;
  fs::remove_all(profile, ignored);
  fs::remove(log, ignored);
  fs::remove(dom, ignored);
  return run;
}

// The section's markup in the browser's DOM, empty when absent.
std::string dom_section(const std::string& dom, const std::string& id) {
  const size_t begin = dom.find("<section id=\"sec-" + id + "\"");
  if (begin == std::string::npos) return "";
  return dom.substr(begin, dom.find("</section>", begin) - begin);
}

void expect_sections(const BrowserRun& run, const std::vector<std::string>& svg_sections) {
  EXPECT_EQ(run.console, "") << "console messages from the page";
  EXPECT_TRUE(run.screenshot_ok);
  EXPECT_NE(dom_section(run.dom, "params"), "");
  for (const std::string& id : svg_sections) {
    const std::string section = dom_section(run.dom, id);
    ASSERT_NE(section, "") << "section " << id << " missing from the DOM";
    EXPECT_NE(section.find("<svg"), std::string::npos) << id;
    EXPECT_TRUE(section.find("<rect") != std::string::npos || section.find("<polyline") != std::string::npos)
        << "empty SVG in " << id;
  }
}

TEST(ReportBrowser, FullReportRendersEverySection) {
  if (!have_chromium())
    GTEST_SKIP() << "chromium not installed (apt-get install chromium): browser test skipped";
  const fs::path html = build_dir() / "report-browser-full.html";
  write_html(testing::full_report(), html.string());
  const BrowserRun run = render_in_chromium(html, build_dir() / "report-browser-full.png");
  expect_sections(run, {"arch", "roofline", "energy", "timeline", "serving"});
}

TEST(ReportBrowser, CompareCommandReportRenders) {
  if (!have_chromium())
    GTEST_SKIP() << "chromium not installed (apt-get install chromium): browser test skipped";
  const fs::path html = build_dir() / "report-compare.html";
  fs::remove(html);
  const std::string command =
      std::string(XPUSIM_BINARY) + " compare --quiet --html " + html.string() + " >/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const BrowserRun run = render_in_chromium(html, build_dir() / "report-compare.png");
  expect_sections(run, {"arch", "roofline", "energy"});
  EXPECT_NE(dom_section(run.dom, "summary").find("<table"), std::string::npos);
}

}  // namespace
}  // namespace xpusim::report
