// `xpusim compare` end to end through the built binary: JSON/CSV/text output, a row per chip, errors for bad
// input, and a chip that cannot run getting a row instead of killing the table.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <array>
#include <cstdio>
#include <sstream>
#include <string>

#include "cli_runner.h"

namespace {

using Output = xpusim::testing::CliOutput;

// stdout only, or stdout + stderr with `merge`.
Output run_compare(const std::string& args, bool merge = false) {
  return xpusim::testing::run_xpusim("compare --quiet " + args, merge ? "2>&1" : "2>/dev/null");
}

// llama-3.2-1b has no checkpoint in the test environment: timed from its config, nothing generated.
TEST(CliCompare, JsonHasARowPerChipWithFigures) {
  const Output out =
      run_compare("--model llama-3.2-1b --chips gpu-h100-sxm,tpu-v5e --prompt-len 64 --gen-len 8 --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const nlohmann::json j = nlohmann::json::parse(out.text);
  EXPECT_EQ(j["model"], "llama-3.2-1b");
  EXPECT_EQ(j["prompt_len"], 64);
  ASSERT_EQ(j["chips"].size(), 2u);
  for (const auto& row : j["chips"]) {
    EXPECT_FALSE(row.contains("error")) << row.dump();
    EXPECT_GT(row["ttft_s"].get<double>(), 0);
    EXPECT_GT(row["tpot_s"].get<double>(), 0);
    EXPECT_GT(row["tokens_per_s"].get<double>(), 0);
    EXPECT_GT(row["tokens_per_joule"].get<double>(), 0);
    EXPECT_TRUE(row.contains("dominant_bound"));
  }
  EXPECT_EQ(j["chips"][1]["family"], "tpu");
  EXPECT_GE(j["explanation"].size(), 2u);
}

TEST(CliCompare, CsvHasHeaderAndOneLinePerChip) {
  const Output out =
      run_compare("--model llama-3.2-1b --chips gpu-h100-sxm,lpu-groq,cpu-host --gen-len 4 --csv");
  ASSERT_EQ(out.status, 0) << out.text;
  std::istringstream lines(out.text);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) ++count;
  EXPECT_EQ(count, 4);
  EXPECT_EQ(out.text.rfind("chip,family,chips_used,", 0), 0u);
}

TEST(CliCompare, TextTableExplainsTheWinners) {
  const Output out = run_compare("--model llama-3.2-1b --chips gpu-h100-sxm,npu-apple-m4 --gen-len 4");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("gpu-h100-sxm"), std::string::npos);
  EXPECT_NE(out.text.find("npu-apple-m4"), std::string::npos);
  EXPECT_NE(out.text.find("Fastest: "), std::string::npos);
  EXPECT_EQ(out.text.find('\033'), std::string::npos);  // no colors into a pipe
}

TEST(CliCompare, DefaultRunCoversEveryFamily) {
  const Output out = run_compare("--gen-len 4 --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const nlohmann::json j = nlohmann::json::parse(out.text);
  EXPECT_EQ(j["model"], "smollm2-135m");
  std::string families;
  for (const auto& row : j["chips"]) families += row["family"].get<std::string>() + " ";
  EXPECT_EQ(families, "cpu gpu tpu npu lpu ue ");
  // With the real checkpoint in the model cache the answer is generated once; without it, nothing is.
  const bool real = j["model_source"].get<std::string>().rfind("config only", 0) != 0;
  EXPECT_EQ(!j["generated_text"].get<std::string>().empty(), real) << j["model_source"];
}

TEST(CliCompare, BadInputFailsWithAMessage) {
  Output out = run_compare("--chips gpu-h100-sxm,no-such-chip", true);
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find("no-such-chip"), std::string::npos) << out.text;
  out = run_compare("--model no-such-model --chips gpu-h100-sxm", true);
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find("no-such-model"), std::string::npos) << out.text;
  out = run_compare("--chips gpu-h100-sxm --precision fp7", true);
  EXPECT_NE(out.status, 0);
  EXPECT_NE(out.text.find("fp7"), std::string::npos) << out.text;
  EXPECT_NE(run_compare("--chips gpu-h100-sxm --batch 0").status, 0);
  EXPECT_NE(run_compare("--chips gpu-h100-sxm --json --csv").status, 0);
  EXPECT_NE(run_compare("--chips ,").status, 0);
}

TEST(CliCompare, HtmlFileIsWritten) {
  const std::string path = ::testing::TempDir() + "xpusim-compare-" + std::to_string(::getpid()) + ".html";
  const Output out = run_compare("--model llama-3.2-1b --chips tpu-v5e --gen-len 4 --html " + path);
  ASSERT_EQ(out.status, 0) << out.text;
  FILE* file = std::fopen(path.c_str(), "r");
  ASSERT_NE(file, nullptr);
  std::array<char, 16> head{};
  EXPECT_EQ(std::fread(head.data(), 1, 15, file), 15u);
  std::fclose(file);
  std::remove(path.c_str());
  EXPECT_EQ(std::string(head.data()), "<!DOCTYPE html>");
}

}  // namespace
