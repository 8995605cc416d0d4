// `xpusim sweep` end to end: the same bytes for any --workers, the summary, and bad specs failing with a
// message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli_runner.h"

namespace xpusim::testing {
namespace {

std::string write_spec(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path) << text;
  return path;
}

TEST(SweepCli, SameBytesForAnyWorkerCount) {
  const std::string spec = write_spec("xpusim_sweep_cli.toml", R"(
[sweep]
name = "cli"
sampling = "latin-hypercube"
samples = 40
seed = 3
[axes]
models = ["smollm2-135m", "llama-3.2-1b"]
chips = ["gpu-h100-sxm", "tpu-v5e", "lpu-groq"]
batch = [1, 2, 4, 8]
prompt_len = [32, 64]
gen_len = [8]
[axes.scale]
"efficiency.memory_bw_fraction" = [0.5, 1]
[constraints]
max_tpot_ms = 30
)");
  const CliOutput one = run_xpusim("sweep " + spec + " --csv - --workers 1 -q", "2>/dev/null");
  const CliOutput two = run_xpusim("sweep " + spec + " --csv - --workers 2 -q", "2>/dev/null");
  ASSERT_EQ(one.status, 0) << one.text;
  EXPECT_EQ(one.text, two.text);
  EXPECT_EQ(std::count(one.text.begin(), one.text.end(), '\n'), 41);  // header + 40 points
  const CliOutput json = run_xpusim("sweep " + spec + " --json - --workers 2 -q", "2>/dev/null");
  ASSERT_EQ(json.status, 0);
  EXPECT_NE(json.text.find("\"front\""), std::string::npos);
  const CliOutput summary = run_xpusim("sweep " + spec);
  ASSERT_EQ(summary.status, 0) << summary.text;
  EXPECT_NE(summary.text.find("cli: 40 points"), std::string::npos) << summary.text;
  std::filesystem::remove(spec);
}

// The page as a real browser sees it (headless Chromium, as tests/report/browser_test.cpp): the front's
// points with their hover titles and the best-points table are in the DOM.
TEST(SweepCli, HtmlRendersInChromium) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "chromium not installed (apt-get install chromium): browser test skipped";
  const std::string spec = write_spec("xpusim_sweep_html.toml", R"(
[axes]
models = ["llama-3.2-1b"]
chips = ["gpu-h100-sxm", "tpu-v5e"]
batch = [1, 4, 16]
prompt_len = [64]
gen_len = [8]
[objectives]
pareto = ["tpot_ms", "tokens_per_joule"]
)");
  const std::string html = (std::filesystem::temp_directory_path() / "xpusim_sweep_front.html").string();
  ASSERT_EQ(run_xpusim("sweep " + spec + " -q --html " + html).status, 0);
  const std::string profile = (std::filesystem::temp_directory_path() / "xpusim-sweep-chromium").string();
  const CliOutput dom = [&] {
    CliOutput out;
    const std::string command =
        "timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run "
        "--user-data-dir=" +
        profile + " --dump-dom 'file://" + html + "' 2>/dev/null";
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return out;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.text.append(buffer, n);
    out.status = pclose(pipe);
    return out;
  }();
  std::error_code ignored;
  std::filesystem::remove_all(profile, ignored);
  ASSERT_EQ(dom.status, 0);
  EXPECT_NE(dom.text.find("<circle class=\"front\""), std::string::npos) << dom.text.substr(0, 2000);
  EXPECT_NE(dom.text.find("<title>#"), std::string::npos);
  EXPECT_NE(dom.text.find("Best points per constraint"), std::string::npos);
  std::filesystem::remove(spec);
  std::filesystem::remove(html);
}

TEST(SweepCli, BadSpecsFailWithAMessage) {
  const std::string typo = write_spec("xpusim_sweep_typo.toml",
                                      "[axes]\nmodels = [\"llama-3.2-1b\"]\nchips = [\"gpu-h100-sxm\"]\n"
                                      "[axes.scale]\n\"memory.hbm.bandwith_gbps\" = [2]\n");
  CliOutput out = run_xpusim("sweep " + typo);
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find("bandwith_gbps"), std::string::npos) << out.text;
  out = run_xpusim("sweep /nonexistent/spec.toml");
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find("cannot open sweep spec"), std::string::npos) << out.text;
  std::filesystem::remove(typo);
}

}  // namespace
}  // namespace xpusim::testing
