// The HTML reports rendered by a real browser (headless Chromium from Debian's `chromium` package): no
// console errors, every section present with non-empty SVG in the DOM the browser built, and a PNG screenshot
// saved next to the xpusim binary (build/report-*.png) for a person to look at. Skips with the reason when
// chromium is not installed (setup.sh --test installs it). Report kinds: the full fixture, and the --html
// output of `compare`, `serve-sim` (paged and contiguous), `engine trace` and `run --chip ue-*`.
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

// Runs `xpusim ARGS --html FILE` and renders the report; the command's stdout goes to /dev/null.
BrowserRun render_command_report(const std::string& name, const std::string& args) {
  const fs::path html = build_dir() / ("report-" + name + ".html");
  fs::remove(html);
  const std::string command =
      std::string(XPUSIM_BINARY) + " " + args + " --html " + html.string() + " >/dev/null";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  EXPECT_TRUE(fs::exists(html)) << command;
  return render_in_chromium(html, build_dir() / ("report-" + name + ".png"));
}

const std::string kTinyLlama = std::string(XPUSIM_TEST_DATA) + "/models/llama";

TEST(ReportBrowser, ServeSimCommandReportRenders) {
  if (!have_chromium())
    GTEST_SKIP() << "chromium not installed (apt-get install chromium): browser test skipped";
  const BrowserRun run = render_command_report(
      "serve-sim", "serve-sim --model " + kTinyLlama +
                       " --chip gpu-h100-sxm --workload fixed --input-len 64 --output-len 16 --requests 12 "
                       "--rate 50 --kv-capacity 1024");
  expect_sections(run, {"serving"});
  // --html runs the requests with both allocators: both appear in the picture.
  const std::string section = dom_section(run.dom, "serving");
  EXPECT_NE(section.find("paged"), std::string::npos);
  EXPECT_NE(section.find("contiguous"), std::string::npos);
}

TEST(ReportBrowser, EngineTraceCommandReportRenders) {
  if (!have_chromium())
    GTEST_SKIP() << "chromium not installed (apt-get install chromium): browser test skipped";
  const fs::path program = build_dir() / "report-engine-trace.s";
  std::ofstream(program) << "dma.ld dram=[0x0] sram=[0x0] rows=1 bytes=256\n"
                            "vadd a=[0x0] b=[0x0] c=[0x400] rows=1 cols=128\n"
                            "dma.st dram=[0x1000] sram=[0x400] rows=1 bytes=256\nhalt\n";
  const BrowserRun run =
      render_command_report("engine-trace", "engine trace --chip ue-ku5p " + program.string() + " -o " +
                                                (build_dir() / "report-engine-trace.json").string());
  expect_sections(run, {"timeline"});
  const std::string section = dom_section(run.dom, "timeline");
  EXPECT_NE(section.find("dma_load"), std::string::npos);
  EXPECT_NE(section.find("dma.st"), std::string::npos);  // slice tooltips name the instruction
}

TEST(ReportBrowser, RunOnEngineCommandReportRenders) {
  if (!have_chromium())
    GTEST_SKIP() << "chromium not installed (apt-get install chromium): browser test skipped";
  const BrowserRun run = render_command_report(
      "run-engine",
      "run --model " + kTinyLlama + " --chip ue-ku5p --prompt Hello --max-tokens 4 --temperature 0");
  expect_sections(run, {"timeline"});
  EXPECT_NE(dom_section(run.dom, "timeline").find("linear"), std::string::npos);  // one track per op type
  const std::string params = dom_section(run.dom, "params");
  EXPECT_NE(params.find("generated text"), std::string::npos);
  EXPECT_NE(params.find("ue-ku5p"), std::string::npos);
}

}  // namespace
}  // namespace xpusim::report
