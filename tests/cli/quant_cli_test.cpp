// `xpusim quant` end to end through the built binary, on the tiny test checkpoint (fast) and, when present,
// the real SmolLM2-135M (one format, a short text).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli_runner.h"

namespace {

using Output = xpusim::testing::CliOutput;

Output run_cli(const std::string& args) { return xpusim::testing::run_xpusim(args); }

Output run_quant(const std::string& args) { return run_cli("quant " + args); }

TEST(CliQuant, ListsEveryFormat) {
  const Output out = run_quant("--list");
  ASSERT_EQ(out.status, 0) << out.text;
  for (const char* name : {"bf16", "nvfp4", "if4", "mxfp8-ceil", "ue-if4", "q4_0"}) {
    EXPECT_NE(out.text.find(name), std::string::npos) << name;
  }
}

TEST(CliQuant, RejectsUnknownFormatsAndPolicies) {
  const Output bad = run_quant("--formats nvfp5");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.text.find("unknown format 'nvfp5'"), std::string::npos) << bad.text;
  EXPECT_NE(run_quant("--formats q8_0 --embeddings drop").status, 0);
  EXPECT_NE(run_quant("--formats ,").status, 0);
}

TEST(CliQuant, TinyCheckpointReportIsConsistent) {
  const Output out = run_quant("--model " + std::string(XPUSIM_TEST_DATA) +
                               "/models/llama --formats q8_0,nvfp4,if4 --text-tokens 64 --threads 1 --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const nlohmann::json j = nlohmann::json::parse(out.text);
  const auto& formats = j["formats"];
  ASSERT_EQ(formats.size(), 4u);  // bf16 baseline + 3
  EXPECT_EQ(formats[0]["format"], "bf16");
  EXPECT_EQ(formats[0]["top1_agreement"], 1.0);
  EXPECT_DOUBLE_EQ(formats[1]["bits_per_weight"].get<double>(), 8.5);
  for (size_t i = 1; i < formats.size(); ++i) {
    EXPECT_GT(formats[i]["weight_sqnr_db"].get<double>(), 10.0) << formats[i]["format"];
    EXPECT_GE(formats[i]["logit_kl"].get<double>(), 0.0);
    EXPECT_LT(formats[i]["model_bytes"].get<double>(), formats[0]["model_bytes"].get<double>());
    EXPECT_GT(formats[i]["perplexity"].get<double>(), 1.0);
  }
  // 8-bit weights stay closer to bf16 than 4-bit ones.
  EXPECT_GT(formats[1]["weight_sqnr_db"].get<double>(), formats[2]["weight_sqnr_db"].get<double>());
}

TEST(CliQuant, RunAcceptsPrecision) {
  const std::string model = "--model " + std::string(XPUSIM_TEST_DATA) + "/models/llama";
  const Output ok = run_cli("run " + model +
                            " --prompt hi --max-tokens 3 --temperature 0 --threads 1 --json --precision if4");
  ASSERT_EQ(ok.status, 0) << ok.text;
  EXPECT_EQ(nlohmann::json::parse(ok.text)["generated_tokens"], 3);
  const Output bad = run_cli("run " + model + " --prompt hi --precision fp5");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.text.find("unknown format 'fp5'"), std::string::npos) << bad.text;
}

TEST(CliQuant, RealModelQ8IsCloseToBf16) {
  const char* dir = std::getenv("XPUSIM_MODEL_DIR");
  const std::filesystem::path home = std::getenv("HOME") ? std::getenv("HOME") : "";
  const std::filesystem::path gguf = (dir ? std::filesystem::path(dir) : home / ".cache/xpusim/models") /
                                     "smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(gguf)) GTEST_SKIP() << "no SmolLM2-135M at " << gguf;
  const Output out = run_quant("--formats q8_0 --text-tokens 32 --json");
  ASSERT_EQ(out.status, 0) << out.text;
  const nlohmann::json j = nlohmann::json::parse(out.text);
  EXPECT_GT(j["formats"][1]["top1_agreement"].get<double>(), 0.9);
  EXPECT_LT(j["formats"][1]["logit_kl"].get<double>(), 0.05);
}

}  // namespace
