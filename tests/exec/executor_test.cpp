// Executor behaviour independent of HF goldens: a prefill in one step equals the same tokens fed one at a
// time through the KV cache (every family), bad token ids are errors, and missing weights are reported up
// front.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "exec/executor.h"
#include "model/checkpoint.h"

namespace xpusim::exec {
namespace {

class ExecutorFamily : public ::testing::TestWithParam<std::string> {};

TEST_P(ExecutorFamily, PrefillEqualsTokenByTokenDecode) {
  model::HfCheckpoint checkpoint =
      model::load_hf_checkpoint(std::string(XPUSIM_TEST_DATA) + "/models/" + GetParam());
  const std::vector<int32_t> tokens = {5,   17,  300, 42, 9, 9,
                                       111, 250, 3,   77, 12};  // longer than gemma's window 8
  Executor batch(checkpoint.config, checkpoint.weights, ExecOptions{2, 0});
  std::vector<float> all = batch.forward(tokens, true);
  Executor single(checkpoint.config, checkpoint.weights, ExecOptions{1, 2});  // also exercises cache growth
  const int64_t vocab = checkpoint.config.vocab_size;
  for (size_t t = 0; t < tokens.size(); ++t) {
    std::vector<float> row = single.forward(std::vector<int32_t>{tokens[t]});
    float max_diff = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      max_diff =
          std::max(max_diff, std::abs(row[static_cast<size_t>(v)] - all[t * vocab + static_cast<size_t>(v)]));
    }
    EXPECT_LE(max_diff, 1e-5f) << "position " << t;
  }
  EXPECT_EQ(single.position(), static_cast<int64_t>(tokens.size()));
  EXPECT_GT(single.last_step().flops, 0);
}

INSTANTIATE_TEST_SUITE_P(Families, ExecutorFamily,
                         ::testing::Values("gpt2", "llama", "qwen3", "gemma3", "qwen3_moe", "mixtral"),
                         [](const auto& param_info) { return param_info.param; });

TEST(Executor, BadInputIsAnError) {
  model::HfCheckpoint checkpoint = model::load_hf_checkpoint(std::string(XPUSIM_TEST_DATA) + "/models/llama");
  Executor executor(checkpoint.config, checkpoint.weights);
  EXPECT_THROW(executor.forward(std::vector<int32_t>{5, 512}), Error);
  EXPECT_THROW(executor.forward(std::vector<int32_t>{-1}), Error);
  EXPECT_THROW(executor.forward(std::vector<int32_t>{}), Error);

  model::Weights partial;
  partial.source = "partial";
  for (const auto& [name, view] : checkpoint.weights.all()) {
    if (name != "blk.1.ffn_up.weight") partial.add(view);
  }
  try {
    Executor broken(checkpoint.config, partial);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing tensor 'blk.1.ffn_up.weight'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace xpusim::exec
