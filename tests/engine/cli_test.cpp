// `xpusim engine ...` end to end: asm -> disasm round trip, exec with DRAM load/dump and --json, trace files,
// bench --json, and a fault exits non-zero with the PC in the message.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"

namespace {

std::string run(const std::string& args, int* status = nullptr) {
  xpusim::testing::CliOutput out = xpusim::testing::run_xpusim(args);
  if (status) *status = out.status;
  return out.text;
}

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("xpusim_engine_cli_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

TEST(EngineCli, AsmDisasmExecTraceBench) {
  const std::string src = temp("p.s"), bin = temp("p.bin"), in = temp("in.bin"), out = temp("out.bin");
  std::ofstream(src) << "dma.ld dram=[0x0] sram=[0x0] rows=1 bytes=256\n"
                        "vadd a=[0x0] b=[0x0] c=[0x400] rows=1 cols=128\n"
                        "dma.st dram=[0x1000] sram=[0x400] rows=1 bytes=256\nhalt\n";
  std::vector<uint16_t> values(128, 0x3F80);  // 1.0
  std::ofstream(in, std::ios::binary).write(reinterpret_cast<const char*>(values.data()), 256);
  int status = 0;
  run("engine asm " + src + " -o " + bin, &status);
  ASSERT_EQ(status, 0);
  const std::string text = run("engine disasm " + bin);
  EXPECT_NE(text.find("vadd a=[r0+0x0] b=[r0+0x0] c=[r0+0x400] rows=1 cols=128"), std::string::npos) << text;
  const std::string json =
      run("engine exec --chip ue-kintex7 " + bin + " --load 0x0=" + in + " --dump 0x1000:256=" + out +
              " --json --trace " + temp("t.json") + " --svg " + temp("t.svg"),
          &status);
  ASSERT_EQ(status, 0) << json;
  const auto doc = nlohmann::json::parse(json);
  EXPECT_GT(doc["cycles"].get<int64_t>(), 0);
  std::ifstream result(out, std::ios::binary);
  std::vector<uint16_t> got(128);
  result.read(reinterpret_cast<char*>(got.data()), 256);
  EXPECT_EQ(got[5], 0x4000);  // 1 + 1 = 2
  const auto trace = nlohmann::json::parse(std::ifstream(temp("t.json")));
  EXPECT_GT(trace["traceEvents"].size(), 3u);
  std::stringstream svg;
  svg << std::ifstream(temp("t.svg")).rdbuf();
  EXPECT_NE(svg.str().find("<svg"), std::string::npos);
  const auto bench = nlohmann::json::parse(
      run("engine bench --chip ue-ku5p --schedule xpusim --kernel rmsnorm --json", &status));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(bench["kernels"].size(), 2u);
  // The default schedule is the reference's, compared with the board's measurement.
  const auto reference =
      nlohmann::json::parse(run("engine bench --chip ue-ku5p --kernel rmsnorm --validate --json", &status));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(reference["schedule"], "reference");
  ASSERT_EQ(reference["kernels"].size(), 1u);
  EXPECT_EQ(reference["kernels"][0]["measured"], 290945.0);
  EXPECT_LT(std::abs(reference["kernels"][0]["error"].get<double>()), 0.05);
  // Measurements exist for the ue-ku5p board only.
  run("engine bench --chip ue-kintex7 --kernel rmsnorm --validate", &status);
  EXPECT_NE(status, 0);
}

TEST(EngineCli, FaultExitsNonZeroWithPc) {
  const std::string src = temp("bad.s");
  std::ofstream(src) << "nop\nvadd a=[0x0] b=[0x0] c=[0xfffff] rows=1 cols=64\nhalt\n";
  int status = 0;
  const std::string out = run("engine exec " + src, &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("fault at pc 1"), std::string::npos) << out;
  EXPECT_NE(out.find("SRAM overflow"), std::string::npos) << out;
}

}  // namespace
