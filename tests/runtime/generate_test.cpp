// The generation loop on the tiny llama test model (byte-fallback text): greedy output equals the HF golden
// continuation, EOS ids stop without being emitted, stop strings cut the text and are never streamed, and the
// streamed pieces concatenate to the final text.
#include <gtest/gtest.h>

#include "exec/golden_file.h"
#include "model/loader.h"
#include "runtime/generate.h"

namespace xpusim::runtime {
namespace {

struct Fixture {
  model::LoadedModel loaded = model::load_model(std::string(XPUSIM_TEST_DATA) + "/models/mixtral");
  testing::ModelGolden golden =
      testing::read_model_golden(std::string(XPUSIM_TEST_DATA) + "/models/mixtral/golden.bin");
  TextCodec codec = TextCodec::for_model(loaded);
};

GenerateOptions greedy(int64_t max_tokens) {
  GenerateOptions options;
  options.max_tokens = max_tokens;
  options.sampling.temperature = 0;
  return options;
}

TEST(Generate, GreedyMatchesGoldenAndStreamsEverything) {
  Fixture f;
  EXPECT_FALSE(f.codec.has_tokenizer());
  exec::Executor executor(f.loaded.config, f.loaded.weights);
  std::string streamed;
  GenerateResult result = generate(executor, f.codec, f.golden.prompt_ids, greedy(32),
                                   [&](std::string_view piece) { streamed += piece; });
  EXPECT_EQ(result.output_ids, f.golden.greedy_ids);
  EXPECT_EQ(result.stop_reason, "max_tokens");
  EXPECT_EQ(streamed, result.text);
  EXPECT_EQ(result.decode_steps, 31);
}

TEST(Generate, EosStopsWithoutEmitting) {
  Fixture f;
  exec::Executor executor(f.loaded.config, f.loaded.weights);
  GenerateOptions options = greedy(32);
  options.stop_ids = {f.golden.greedy_ids[3]};
  GenerateResult result = generate(executor, f.codec, f.golden.prompt_ids, options);
  EXPECT_EQ(result.stop_reason, "eos");
  const auto first =
      std::find(f.golden.greedy_ids.begin(), f.golden.greedy_ids.end(), f.golden.greedy_ids[3]);
  EXPECT_EQ(result.output_ids, std::vector<int32_t>(f.golden.greedy_ids.begin(), first));
}

TEST(Generate, StopStringCutsTextAndIsNeverStreamed) {
  Fixture f;
  std::string full;
  {
    exec::Executor executor(f.loaded.config, f.loaded.weights);
    full = generate(executor, f.codec, f.golden.prompt_ids, greedy(32)).text;
  }
  ASSERT_GE(full.size(), 8u);
  const std::string stop = full.substr(4, 3);
  exec::Executor executor(f.loaded.config, f.loaded.weights);
  GenerateOptions options = greedy(32);
  options.stop_strings = {stop};
  std::string streamed;
  GenerateResult result = generate(executor, f.codec, f.golden.prompt_ids, options,
                                   [&](std::string_view piece) { streamed += piece; });
  EXPECT_EQ(result.stop_reason, "stop_string");
  EXPECT_EQ(result.text, full.substr(0, full.find(stop)));
  EXPECT_EQ(streamed, result.text);
}

}  // namespace
}  // namespace xpusim::runtime
