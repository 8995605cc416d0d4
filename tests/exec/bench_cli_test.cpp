// `xpusim bench` end to end through the built binary on the tiny test checkpoint: the JSON carries pp and tg
// rates with their limits, and bad options are errors naming the option. (Speeds themselves are checked by
// people reading docs/performance.md, never by a timed test.)
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <string>

#include "cli_runner.h"

namespace {

using Output = xpusim::testing::CliOutput;

Output run_bench(const std::string& args) { return xpusim::testing::run_xpusim("bench " + args); }

const std::string kTinyModel = std::string(XPUSIM_TEST_DATA) + "/models/llama";

TEST(BenchCli, JsonReportsRatesAndLimits) {
  const Output out = run_bench("--model " + kTinyModel + " -p 16 -n 4 --reps 2 --threads 2 --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const nlohmann::json report = nlohmann::json::parse(out.text);
  EXPECT_EQ(report["threads"], 2);
  EXPECT_GT(report["machine"]["peak_fma_gflops"].get<double>(), 0);
  for (const char* test : {"pp", "tg"}) {
    EXPECT_GT(report[test]["tokens_per_second"].get<double>(), 0) << test;
    EXPECT_GE(report[test]["sd"].get<double>(), 0) << test;
  }
  EXPECT_EQ(report["pp"]["tokens"], 16);
  EXPECT_EQ(report["tg"]["tokens"], 4);
  EXPECT_GT(report["pp"]["flops_per_token"].get<double>(), 0);
  EXPECT_GT(report["tg"]["bytes_per_token"].get<double>(), 0);
}

TEST(BenchCli, TextTableNamesTheTests) {
  const Output out = run_bench("--model " + kTinyModel + " -p 8 -n 2 --reps 1 --precision q4_0");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("pp8"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("tg2"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("precision q4_0"), std::string::npos) << out.text;
}

TEST(BenchCli, BadOptionsAreErrors) {
  for (const auto& [args, needle] :
       std::initializer_list<std::pair<std::string, std::string>>{{"--chip h100", "--chip"},
                                                                  {"--reps 0", "--reps"},
                                                                  {"-p 0 -n 0", "nothing to run"},
                                                                  {"--precision nope", "--precision"}}) {
    const Output out = run_bench("--model " + kTinyModel + " " + args);
    EXPECT_NE(out.status, 0) << args;
    EXPECT_NE(out.text.find(needle), std::string::npos) << args << ": " << out.text;
  }
}

}  // namespace
