// `xpusim run` and `xpusim models` end to end through the built binary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <string>

#include "cli_runner.h"

namespace {

using Output = xpusim::testing::CliOutput;

Output run_cli(const std::string& args) { return xpusim::testing::run_xpusim(args, "2>/dev/null"); }

TEST(CliRun, JsonOnTinyCheckpointIsOneObject) {
  Output out = run_cli("run --model " + std::string(XPUSIM_TEST_DATA) +
                       "/models/llama --prompt 'hello' --max-tokens 5 --temperature 0 --json --threads 1");
  ASSERT_EQ(out.status, 0) << out.text;
  nlohmann::json j = nlohmann::json::parse(out.text);
  EXPECT_EQ(j["generated_tokens"], 5);
  EXPECT_EQ(j["prompt_ids"].size(), 5u);  // byte fallback: one id per byte
  EXPECT_FALSE(j["synthetic"].get<bool>());
  EXPECT_GT(j["peak_memory_bytes"].get<double>(), 0);
}

TEST(CliRun, BadFlagsAndModelsFail) {
  EXPECT_NE(run_cli("run --model no-such-model --prompt hi").status, 0);
  EXPECT_NE(run_cli("run --model gpt2").status, 0);  // neither --prompt nor --chat
  EXPECT_NE(run_cli("run --model gpt2 --prompt hi --top-p 0").status, 0);
}

TEST(CliModels, ListsPresetsWithExactCounts) {
  Output out = run_cli("models --json");
  ASSERT_EQ(out.status, 0);
  nlohmann::json j = nlohmann::json::parse(out.text);
  ASSERT_EQ(j.size(), 8u);
  bool found = false;
  for (const auto& m : j) {
    if (m["name"] == "smollm2-135m") {
      found = true;
      EXPECT_EQ(m["params"], 134515008);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
