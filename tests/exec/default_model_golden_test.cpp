// The real default model: SmolLM2-135M-Instruct Q4_1 GGUF. Greedy 32 tokens of a fixed chat prompt must equal
// transformers loading the same GGUF (dequantized to fp32); the last prompt position's logits must agree
// within 1e-4 * max |logit|; our tokenizer + chat template must produce the same prompt ids. Skips if the
// file is absent.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "exec/executor.h"
#include "exec/golden_file.h"
#include "model/checkpoint.h"
#include "runtime/sampler.h"
#include "runtime/text_codec.h"

namespace xpusim::exec {
namespace {

std::filesystem::path find_default_gguf() {
  const char* name = "SmolLM2-135M-Instruct.Q4_1.gguf";
  std::vector<std::filesystem::path> candidates;
  if (const char* dir = std::getenv("XPUSIM_MODEL_DIR"); dir && *dir) {
    candidates.push_back(std::filesystem::path(dir) / "smollm2-135m" / name);
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    candidates.push_back(std::filesystem::path(home) / ".cache/xpusim/models/smollm2-135m" / name);
  }
  for (const auto& path : candidates) {
    if (std::filesystem::is_regular_file(path)) return path;
  }
  return {};
}

TEST(DefaultModelGolden, GreedyMatchesTransformersOnTheGguf) {
  const std::filesystem::path gguf = find_default_gguf();
  if (gguf.empty())
    GTEST_SKIP() << "SmolLM2-135M-Instruct.Q4_1.gguf not found in $XPUSIM_MODEL_DIR/smollm2-135m or "
                    "~/.cache/xpusim/models/smollm2-135m (run the setup script to fetch it)";
  testing::ModelGolden golden =
      testing::read_model_golden(std::string(XPUSIM_TEST_DATA) + "/models/smollm2-135m-gguf/golden.bin");
  model::LoadedModel loaded;
  {
    model::GgufCheckpoint checkpoint = model::load_gguf_checkpoint(gguf);
    loaded.config = checkpoint.config;
    loaded.weights = std::move(checkpoint.weights);
    loaded.gguf_tokenizer = std::move(checkpoint.tokenizer);
  }
  runtime::TextCodec codec = runtime::TextCodec::for_model(loaded);
  EXPECT_EQ(codec.encode_chat(golden.header["chat_prompt"].get<std::string>()), golden.prompt_ids);

  Executor executor(loaded.config, loaded.weights, ExecOptions{0, 80});
  std::vector<float> logits = executor.forward(golden.prompt_ids);
  float max_diff = 0, max_logit = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(logits[i] - golden.logits[i]));
    max_logit = std::max(max_logit, std::abs(golden.logits[i]));
  }
  std::printf("[ smollm2-135m Q4_1 ] max |logit diff| = %.3g (max |logit| %.3g, ratio %.3g)\n", max_diff,
              max_logit, max_diff / max_logit);
  EXPECT_LE(max_diff, 1e-4f * max_logit);
  std::vector<int32_t> generated;
  while (true) {
    generated.push_back(runtime::argmax_first(logits));
    if (generated.size() == golden.greedy_ids.size()) break;
    logits = executor.forward(std::vector<int32_t>{generated.back()});
  }
  EXPECT_EQ(generated, golden.greedy_ids);
}

}  // namespace
}  // namespace xpusim::exec
