// `xpusim run` and `xpusim models` end to end through the built binary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
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

// A family chip: the text is the host's with the chip's weight format (bf16 on the H100), the figures come
// from the chip's cost model.
TEST(CliRun, FamilyChipGivesHostTextAndChipFigures) {
  const std::string model = std::string(XPUSIM_TEST_DATA) + "/models/llama";
  Output host =
      run_cli("run --model " + model +
              " --prompt 'hello' --max-tokens 6 --temperature 0 --json --threads 1 --precision bf16");
  Output chip =
      run_cli("run --model " + model +
              " --prompt 'hello' --max-tokens 6 --temperature 0 --json --threads 1 --chip gpu-h100-sxm");
  ASSERT_EQ(host.status, 0) << host.text;
  ASSERT_EQ(chip.status, 0) << chip.text;
  const nlohmann::json h = nlohmann::json::parse(host.text), c = nlohmann::json::parse(chip.text);
  EXPECT_EQ(c["text"], h["text"]);
  EXPECT_EQ(c["weight_format"], "bf16");
  EXPECT_EQ(c["generated_tokens"], h["generated_tokens"]);
  EXPECT_GT(c["ttft_s"].get<double>(), 0);
  EXPECT_GT(c["decode_s_per_token"].get<double>(), 0);
  EXPECT_GT(c["energy_per_token_j"].get<double>(), 0);
  EXPECT_GT(c["weight_level_bytes_per_decode_token"].get<double>(), 0);
}

TEST(CliRun, FamilyChipTimingOnlyNeedsNoWeights) {
  Output out =
      run_cli("run --model llama-3.2-1b --prompt 'hello' --max-tokens 8 --chip tpu-v5e --timing-only --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const nlohmann::json j = nlohmann::json::parse(out.text);
  EXPECT_EQ(j["generated_tokens"], 8);
  // Decode of a 1B model is bound by reading its ~2.5 GB of bf16 weights from HBM each token.
  EXPECT_GT(j["weight_level_bytes_per_decode_token"].get<double>(), 2.0e9);
  EXPECT_NE(run_cli("run --model gpt2 --prompt hi --chip no-such-chip").status, 0);
}

TEST(CliRun, FamilyChipTraceHasOneTrackPerBoundingResource) {
  const std::string trace =
      (std::filesystem::temp_directory_path() / ("xpusim-trace-" + std::to_string(getpid()) + ".json"))
          .string();
  Output out = run_cli(
      "run --model llama-3.2-1b --prompt 'hello' -n 4 --chip tpu-v5e --timing-only --json --trace " + trace);
  ASSERT_EQ(out.status, 0) << out.text;
  std::ifstream file(trace);
  const nlohmann::json events = nlohmann::json::parse(file)["traceEvents"];
  std::filesystem::remove(trace);
  std::set<std::string> tracks;
  std::set<int64_t> steps;
  for (const nlohmann::json& event : events) {
    if (event["ph"] == "M") tracks.insert(event["args"]["name"].get<std::string>());
    if (event["ph"] == "X") steps.insert(event["args"]["step"].get<int64_t>());
  }
  EXPECT_EQ(steps, (std::set<int64_t>{0, 1, 2, 3}));  // the prefill and three decode steps
  EXPECT_TRUE(tracks.count("memory: hbm")) << events.dump().substr(0, 400);  // decode reads the weights
}

TEST(CliModels, ListsPresetsWithExactCounts) {
  Output out = run_cli("models --json");
  ASSERT_EQ(out.status, 0);
  nlohmann::json j = nlohmann::json::parse(out.text);
  size_t preset_files = 0;  // one preset per models/*.toml
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(XPUSIM_SOURCE_DIR) / "models"))
    preset_files += entry.path().extension() == ".toml";
  ASSERT_GE(preset_files, 17u);
  ASSERT_EQ(j.size(), preset_files);
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
