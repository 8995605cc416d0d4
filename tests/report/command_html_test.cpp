// The --html option of serve-sim, engine trace and run --chip ue-* end to end without a browser (the browser
// checks are in browser_test.cpp and need chromium): the file is written with the expected sections and
// data, and misuse fails with a message.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;

fs::path temp(const std::string& name) {
  return fs::temp_directory_path() / ("xpusim_command_html_" + std::to_string(::getpid()) + "_" + name);
}

// Runs xpusim with `args`; returns stdout+stderr, sets *status to the exit status.
std::string run(const std::string& args, int* status) {
  xpusim::testing::CliOutput out = xpusim::testing::run_xpusim(args);
  *status = out.status;
  return out.text;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kTinyLlama = std::string(XPUSIM_TEST_DATA) + "/models/llama";

TEST(CommandHtml, ServeSimShowsPagedAndContiguous) {
  const fs::path html = temp("serve.html");
  int status = 0;
  const std::string out = run("serve-sim --model " + kTinyLlama +
                                  " --chip gpu-h100-sxm --workload fixed --input-len 64 --output-len 16 "
                                  "--requests 12 --rate 50 --kv-capacity 1024 --kv contiguous --html " +
                                  html.string(),
                              &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find("KV contiguous"), std::string::npos) << out;  // the printed metrics stay --kv's
  const std::string page = read_file(html);
  EXPECT_NE(page.find("id=\"sec-serving\""), std::string::npos);
  EXPECT_NE(page.find("<polyline"), std::string::npos);
  EXPECT_NE(page.find("paged"), std::string::npos);
  EXPECT_NE(page.find("12 requests"), std::string::npos);
  fs::remove(html);
}

TEST(CommandHtml, EngineTraceDrawsOneTrackPerUnit) {
  const fs::path program = temp("p.s"), html = temp("trace.html"), json = temp("trace.json");
  std::ofstream(program) << "dma.ld dram=[0x0] sram=[0x0] rows=1 bytes=256\n"
                            "dma.st dram=[0x1000] sram=[0x0] rows=1 bytes=256\nhalt\n";
  int status = 0;
  const std::string out = run(
      "engine trace --chip ue-ku5p " + program.string() + " -o " + json.string() + " --html " + html.string(),
      &status);
  ASSERT_EQ(status, 0) << out;
  const std::string page = read_file(html);
  EXPECT_NE(page.find("id=\"sec-timeline\""), std::string::npos);
  EXPECT_NE(page.find(">dma_load<"), std::string::npos);
  EXPECT_NE(page.find(">dma_store<"), std::string::npos);
  EXPECT_EQ(page.find(">vector<"), std::string::npos);  // idle units get no track
  EXPECT_NE(page.find("<title>dma.ld "), std::string::npos);
  run("engine trace --chip ue-ku5p " + program.string() + " -o " + json.string() + " --html " +
          (temp("missing") / "x.html").string(),
      &status);
  EXPECT_NE(status, 0);
  fs::remove(program);
  fs::remove(html);
  fs::remove(json);
}

TEST(CommandHtml, RunOnEngineHasTimelineAndText) {
  const fs::path html = temp("run.html");
  int status = 0;
  const std::string out =
      run("run --model " + kTinyLlama +
              " --chip ue-ku5p --prompt Hello --max-tokens 3 --temperature 0 --html " + html.string(),
          &status);
  ASSERT_EQ(status, 0) << out;
  const std::string page = read_file(html);
  EXPECT_NE(page.find("id=\"sec-timeline\""), std::string::npos);
  EXPECT_NE(page.find(">linear<"), std::string::npos);
  EXPECT_NE(page.find(">attention<"), std::string::npos);
  EXPECT_NE(page.find("prefill + 2 decode steps"), std::string::npos);
  EXPECT_NE(page.find("generated text"), std::string::npos);
  fs::remove(html);
  const std::string host =
      run("run --model " + kTinyLlama + " --prompt Hello --html " + html.string(), &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(host.find("need a simulated --chip"), std::string::npos) << host;
  EXPECT_FALSE(fs::exists(html));
}

}  // namespace
