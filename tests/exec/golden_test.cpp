// Host execution against Hugging Face transformers (fp32, eager attention) on tiny random-weight models of
// every family (tests/data/models/<family>/, made by tools/make_model_goldens.py): the logits of a 16-token
// prompt within max |diff| <= 1e-4 * max |logit|, and a 32-token greedy continuation identical token for
// token.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "exec/executor.h"
#include "exec/golden_file.h"
#include "model/checkpoint.h"

namespace xpusim::exec {
namespace {

int32_t argmax(const float* logits, int64_t n) {
  return static_cast<int32_t>(std::max_element(logits, logits + n) -
                              logits);  // first maximum, like torch.argmax
}

class FamilyGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(FamilyGolden, LogitsAndGreedyMatchTransformers) {
  const std::string dir = std::string(XPUSIM_TEST_DATA) + "/models/" + GetParam();
  testing::ModelGolden golden = testing::read_model_golden(dir + "/golden.bin");
  model::HfCheckpoint checkpoint = model::load_hf_checkpoint(dir);
  ASSERT_EQ(checkpoint.config.vocab_size, golden.vocab);
  Executor executor(checkpoint.config, checkpoint.weights, ExecOptions{2, 64});

  std::vector<float> logits = executor.forward(golden.prompt_ids, /*all_logits=*/true);
  ASSERT_EQ(logits.size(), golden.logits.size());
  float max_diff = 0, max_logit = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(logits[i] - golden.logits[i]));
    max_logit = std::max(max_logit, std::abs(golden.logits[i]));
  }
  std::printf("[ %s ] max |logit diff| = %.3g (max |logit| %.3g, ratio %.3g)\n", GetParam().c_str(), max_diff,
              max_logit, max_diff / max_logit);
  EXPECT_LE(max_diff, 1e-4f * max_logit);
  if (max_diff > 1e-4f * max_logit) {
    for (int64_t r = 0; r < golden.rows; ++r) {
      float row_diff = 0;
      for (int64_t v = 0; v < golden.vocab; ++v) {
        size_t i = static_cast<size_t>(r * golden.vocab + v);
        row_diff = std::max(row_diff, std::abs(logits[i] - golden.logits[i]));
      }
      std::printf("  position %lld: max |diff| %.3g\n", static_cast<long long>(r), row_diff);
    }
  }

  // Greedy: continue from the prompt with single-token decode steps through the KV cache.
  std::vector<int32_t> generated;
  int32_t next = argmax(logits.data() + (golden.rows - 1) * golden.vocab, golden.vocab);
  for (size_t step = 0; step < golden.greedy_ids.size(); ++step) {
    generated.push_back(next);
    if (generated.size() == golden.greedy_ids.size()) break;
    std::vector<float> row = executor.forward(std::vector<int32_t>{next});
    next = argmax(row.data(), golden.vocab);
  }
  EXPECT_EQ(generated, golden.greedy_ids);
}

INSTANTIATE_TEST_SUITE_P(Families, FamilyGolden,
                         ::testing::Values("gpt2", "llama", "qwen3", "gemma3", "qwen3_moe", "mixtral"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace xpusim::exec
