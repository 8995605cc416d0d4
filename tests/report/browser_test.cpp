// The HTML reports rendered by a real browser (headless Chromium from Debian's `chromium` package): no
// console errors, every section present with non-empty SVG in the DOM the browser built, and a PNG screenshot
// saved next to the xpusim binary (build/report-*.png) for a person to look at. Skips with the reason when
// chromium is not installed (setup.sh --test installs it). Report kinds: the full fixture, and the --html
// output of `compare`, `serve-sim` (paged and contiguous), `engine trace` and `run --chip ue-*`. Every page
// is also measured in the browser by a small script appended to a copy of it (kCheckScript): no SVG text runs
// past its box, every op has one colour on every chart, and nothing is fetched from the network; the compare
// reports check each family diagram's distinctive elements against the chip files and the run (issue 24).
#include <gtest/gtest.h>

#include <unistd.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chips/loader.h"
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
  std::vector<std::string> checks;  // lines kCheckScript wrote, measured by the browser
  fs::path html;                    // the report rendered
};

// Appended to a copy of the report (the report itself has no script): measures the page as laid out by the
// browser and writes one line per finding into <pre id="xp-checks">, which --dump-dom brings back.
//   clipped <svg title> | <text>   a text element that runs past its SVG's box, or past the box (a rounded
//                                  rect) its start sits in
//   op <name> <fill>,<fill> <n>    the fills of every element drawn for op <name>, in <n> charts
//   card <chip> <family> k=v ...   the family diagram's distinctive elements
//   timeline <chip> <n>            elements drawn for ops in that chip's timeline
constexpr const char* kCheckScript = R"(<script>
(function () {
  const out = ['measured ' + document.querySelectorAll('svg text').length + ' texts'];
  const within = (r, b) => r.left >= b.left - 1 && r.right <= b.right + 1 && r.top >= b.top - 1 &&
                           r.bottom <= b.bottom + 1;
  for (const t of document.querySelectorAll('svg text')) {
    const r = t.getBoundingClientRect();
    if (r.width === 0) continue;
    const svg = t.ownerSVGElement;
    const title = svg.querySelector('title') ? svg.querySelector('title').textContent : '?';
    if (!within(r, svg.getBoundingClientRect())) { out.push('clipped ' + title + ' | ' + t.textContent); continue; }
    let box = null;
    for (const rect of svg.querySelectorAll('rect[rx]')) {
      const b = rect.getBoundingClientRect();
      if (r.left >= b.left && r.left <= b.right && r.top + r.height / 2 >= b.top && r.top + r.height / 2 <= b.bottom &&
          (!box || b.width * b.height < box.width * box.height)) box = b;
    }
    if (box && r.right > box.right + 1) out.push('clipped ' + title + ' | ' + t.textContent);
  }
  const fills = {}, charts = {};
  for (const e of document.querySelectorAll('svg [data-op]')) {
    const op = e.getAttribute('data-op');
    (fills[op] = fills[op] || new Set()).add(e.getAttribute('fill'));
    (charts[op] = charts[op] || new Set()).add(e.ownerSVGElement);
  }
  for (const op in fills) out.push('op ' + op + ' ' + [...fills[op]].join(',') + ' ' + charts[op].size);
  for (const c of document.querySelectorAll('.family-card')) {
    const grid = c.querySelector('[data-sm-count]'), chain = c.querySelector('[data-chips]');
    const waves = c.querySelectorAll('.wavefront');
    const delays = new Set([...waves].map(w => getComputedStyle(w).animationDelay));
    const animated = waves.length > 0 && getComputedStyle(waves[0]).animationName === 'xp-pulse';
    out.push('card ' + c.dataset.chip + ' ' + c.dataset.family + ' sm=' + c.querySelectorAll('.sm').length +
             ' sm_count=' + (grid ? grid.getAttribute('data-sm-count') : '') +
             ' cells=' + c.querySelectorAll('.mxu-cell').length + ' wave=' + waves.length +
             ' wave_delays=' + delays.size + ' animated=' + animated +
             ' chips=' + (chain ? chain.getAttribute('data-chips') : '') +
             ' chip_boxes=' + c.querySelectorAll('.lpu-chip').length +
             ' lanes=' + c.querySelectorAll('.ue-lane').length + ' banks=' + c.querySelectorAll('.ue-sram-bank').length +
             ' macs=' + c.querySelectorAll('.npu-mac').length + ' channels=' + c.querySelectorAll('.mem-channel').length);
  }
  for (const t of document.querySelectorAll('.chip-timeline'))
    out.push('timeline ' + t.dataset.chip + ' ' + t.querySelectorAll('[data-op]').length);
  const pre = document.createElement('pre');
  pre.id = 'xp-checks';
  pre.textContent = out.join('\n');
  document.body.appendChild(pre);
})();
</script>)";

std::vector<std::string> check_lines(const std::string& dom) {
  std::vector<std::string> lines;
  const size_t begin = dom.find("<pre id=\"xp-checks\">");
  if (begin == std::string::npos) return lines;
  const size_t from = begin + std::string("<pre id=\"xp-checks\">").size();
  std::istringstream text(dom.substr(from, dom.find("</pre>", from) - from));
  for (std::string line; std::getline(text, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// One --dump-dom run (console messages go to chromium's log on stderr) and one --screenshot run.
BrowserRun render_in_chromium(const fs::path& html, const fs::path& png) {
  const fs::path profile = fs::temp_directory_path() / ("xpusim-chromium-" + std::to_string(getpid()));
  const std::string flags =
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
      "--no-first-run --user-data-dir=" +
      profile.string() + " ";
  const fs::path log = profile.string() + ".log", dom = profile.string() + ".dom";
  BrowserRun run;
  run.html = html;
  // The DOM comes from a copy with the measuring script; the screenshot from the report as written.
  const fs::path checked = html.string() + ".checked.html";
  {
    std::string page = read_file(html);
    const size_t body_end = page.rfind("</body>");
    page.insert(body_end == std::string::npos ? page.size() : body_end, kCheckScript);
    std::ofstream(checked) << page;
  }
  std::system((flags + "--enable-logging=stderr --v=0 --dump-dom 'file://" + checked.string() + "' >" +
               dom.string() + " 2>" + log.string())
                  .c_str());
  run.dom = read_file(dom);
  run.checks = check_lines(run.dom);
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
  fs::remove(checked, ignored);
  return run;
}

// The section's markup in the browser's DOM, empty when absent.
std::string dom_section(const std::string& dom, const std::string& id) {
  const size_t begin = dom.find("<section id=\"sec-" + id + "\"");
  if (begin == std::string::npos) return "";
  return dom.substr(begin, dom.find("</section>", begin) - begin);
}

// Every report: no text runs past its box, every op has one colour on every chart, nothing is fetched.
void expect_sound_page(const BrowserRun& run) {
  ASSERT_FALSE(run.checks.empty()) << "the measuring script wrote nothing (did it run?)";
  for (const std::string& line : run.checks) {
    EXPECT_NE(line.rfind("clipped ", 0), 0u) << line;
    if (line.rfind("op ", 0) == 0) {
      std::istringstream fields(line);
      std::string tag, op, colours;
      fields >> tag >> op >> colours;
      EXPECT_EQ(colours.find(','), std::string::npos)
          << "op " << op << " drawn in several colours: " << colours;
    }
  }
  const std::string page = read_file(run.html);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  for (size_t at = page.find("http://"); at != std::string::npos; at = page.find("http://", at + 1))
    EXPECT_EQ(page.compare(at, 26, "http://www.w3.org/2000/svg"), 0) << page.substr(at, 60);
}

// The line of kCheckScript's output starting with `prefix`, empty when absent.
std::string check_line(const BrowserRun& run, const std::string& prefix) {
  for (const std::string& line : run.checks)
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}

// Value of `key=` in a "card ..." line.
std::string field(const std::string& line, const std::string& key) {
  const size_t at = line.find(" " + key + "=");
  if (at == std::string::npos) return "";
  const size_t from = at + key.size() + 2;
  return line.substr(from, line.find(' ', from) - from);
}

void expect_sections(const BrowserRun& run, const std::vector<std::string>& svg_sections) {
  EXPECT_EQ(run.console, "") << "console messages from the page";
  EXPECT_TRUE(run.screenshot_ok);
  expect_sound_page(run);
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

// `xpusim compare --json --html`: the JSON (stdout) and the rendered report of the same run.
struct CompareRun {
  BrowserRun browser;
  nlohmann::json json;
};

CompareRun run_compare_command(const std::string& name, const std::string& args) {
  const fs::path html = build_dir() / ("report-" + name + ".html"),
                 json = build_dir() / ("report-" + name + ".json");
  fs::remove(html);
  const std::string command = std::string(XPUSIM_BINARY) + " compare --quiet --json " + args + " --html " +
                              html.string() + " >" + json.string();
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  CompareRun run;
  run.json = nlohmann::json::parse(read_file(json), nullptr, false);
  run.browser = render_in_chromium(html, build_dir() / ("report-" + name + ".png"));
  return run;
}

int chips_used(const nlohmann::json& json, const std::string& chip) {
  for (const auto& row : json["chips"])
    if (row["chip"] == chip) return row["chips_used"].get<int>();
  ADD_FAILURE() << chip << " not in the compare JSON";
  return -1;
}

// Issue 24: the six family diagrams, each with its distinctive elements drawn from the chip file and the run;
// a timeline per chip; one colour per op across every chart of the page.
TEST(ReportBrowser, CompareDrawsEveryFamilyFromItsNumbers) {
  if (!have_chromium())
    GTEST_SKIP() << "chromium not installed (apt-get install chromium): browser test skipped";
  const CompareRun run = run_compare_command(
      "families", "--chips cpu-xeon-8480,gpu-h100-sxm,tpu-v5e,npu-apple-m4,lpu-groq,ue-ku5p");
  const BrowserRun& page = run.browser;
  expect_sections(page, {"families", "chip-timeline", "arch", "roofline", "energy"});
  EXPECT_NE(dom_section(page.dom, "summary").find("<table"), std::string::npos);
  // The diagrams come first, before the summary table.
  EXPECT_LT(page.dom.find("sec-families"), page.dom.find("sec-summary"));

  const std::string cpu = check_line(page, "card cpu-xeon-8480 cpu");
  EXPECT_EQ(field(cpu, "channels"), "8") << cpu;  // "8 x DDR5-4800"
  const std::string gpu = check_line(page, "card gpu-h100-sxm gpu");
  const int sms = chips::load_chip("gpu-h100-sxm").compute.units;
  EXPECT_EQ(field(gpu, "sm"), std::to_string(sms)) << gpu;
  EXPECT_EQ(field(gpu, "sm_count"), std::to_string(sms)) << gpu;
  const std::string tpu = check_line(page, "card tpu-v5e tpu");
  EXPECT_EQ(field(tpu, "cells"), "64") << tpu;  // 8 x 8 drawn for the 128 x 128 MXU
  EXPECT_EQ(field(tpu, "wave"), "64") << tpu;
  EXPECT_EQ(field(tpu, "wave_delays"), "15") << tpu;  // one per anti-diagonal: the wavefront
  EXPECT_EQ(field(tpu, "animated"), "true") << tpu;
  const std::string npu = check_line(page, "card npu-apple-m4 npu");
  EXPECT_EQ(field(npu, "macs"), std::to_string(chips::load_chip("npu-apple-m4").compute.units)) << npu;
  EXPECT_NE(dom_section(page.dom, "families").find("power budget"), std::string::npos);
  const std::string lpu = check_line(page, "card lpu-groq lpu");
  EXPECT_EQ(field(lpu, "chips"), std::to_string(chips_used(run.json, "lpu-groq"))) << lpu;
  EXPECT_EQ(field(lpu, "chip_boxes"), field(lpu, "chips")) << lpu;  // few chips: one box each
  const std::string ue = check_line(page, "card ue-ku5p ue");
  EXPECT_EQ(field(ue, "lanes"), "64") << ue;
  EXPECT_EQ(field(ue, "banks"), "2") << ue;

  // A timeline per chip, and "linear" (the op every chart has) in one colour on many charts.
  for (const char* chip :
       {"cpu-xeon-8480", "gpu-h100-sxm", "tpu-v5e", "npu-apple-m4", "lpu-groq", "ue-ku5p"}) {
    const std::string line = check_line(page, std::string("timeline ") + chip + " ");
    ASSERT_NE(line, "") << chip;
    EXPECT_GT(std::stoi(line.substr(line.rfind(' ') + 1)), 10) << line;
  }
  const std::string linear = check_line(page, "op linear ");
  ASSERT_NE(linear, "");
  EXPECT_GE(std::stoi(linear.substr(linear.rfind(' ') + 1)), 6 + 6 + 1)
      << linear;  // timelines, rooflines, bars
  // Paused for print.
  EXPECT_NE(read_file(page.html).find("@media print{.pulse"), std::string::npos);
}

// Hundreds of LPU chips are grouped into a few boxes, the count still the run's.
TEST(ReportBrowser, LpuChainGroupsHundredsOfChips) {
  if (!have_chromium())
    GTEST_SKIP() << "chromium not installed (apt-get install chromium): browser test skipped";
  const CompareRun run = run_compare_command("lpu-70b", "--chips lpu-groq --model llama-3.1-70b");
  expect_sections(run.browser, {"families", "chip-timeline"});
  const std::string lpu = check_line(run.browser, "card lpu-groq lpu");
  const int used = chips_used(run.json, "lpu-groq");
  EXPECT_GT(used, 100);
  EXPECT_EQ(field(lpu, "chips"), std::to_string(used)) << lpu;
  EXPECT_LE(std::stoi(field(lpu, "chip_boxes")), 10) << lpu;
  EXPECT_NE(dom_section(run.browser.dom, "families").find(std::to_string(used) + " chips"),
            std::string::npos);
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
  // Summary numbers first, then KV usage over time, then the latency distributions.
  const size_t summary = section.find("serving-summary"), kv = section.find("KV memory in use"),
               ttft = section.find("TTFT by request quantile");
  ASSERT_NE(summary, std::string::npos);
  EXPECT_LT(summary, kv);
  EXPECT_LT(kv, ttft);
  EXPECT_NE(section.find("requests completed"), std::string::npos);
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

// run --chip <family preset> --html: the terminal's summary (energy, bytes at the weights' level,
// utilization) first, then the chip's diagram, timeline, roofline and energy.
TEST(ReportBrowser, RunOnFamilyChipCommandReportRenders) {
  if (!have_chromium())
    GTEST_SKIP() << "chromium not installed (apt-get install chromium): browser test skipped";
  const BrowserRun run =
      render_command_report("run-chip", "run --model " + kTinyLlama +
                                            " --chip tpu-v5e --prompt Hello --max-tokens 4 --temperature 0");
  expect_sections(run, {"families", "chip-timeline", "roofline", "energy"});
  const std::string summary = dom_section(run.dom, "run");
  EXPECT_NE(summary.find("J per token"), std::string::npos);
  EXPECT_NE(summary.find("MB per decode token"), std::string::npos);
  EXPECT_NE(summary.find("utilization"), std::string::npos);
  EXPECT_LT(run.dom.find("sec-run"), run.dom.find("sec-families"));
  EXPECT_NE(check_line(run, "card tpu-v5e tpu"), "");
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
