// Sampler semantics (HF): greedy first-max, repetition penalty direction, top-k / top-p / min-p support sets,
// determinism by seed, and flag validation.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/error.h"
#include "runtime/sampler.h"

namespace xpusim::runtime {
namespace {

std::set<int32_t> support(SamplingParams params, std::vector<float> logits, int draws = 400) {
  std::set<int32_t> seen;
  Sampler sampler(params);
  for (int i = 0; i < draws; ++i) {
    std::vector<float> copy = logits;
    seen.insert(sampler.sample(copy, {}));
  }
  return seen;
}

TEST(Sampler, GreedyTakesTheFirstMaximum) {
  SamplingParams greedy;
  greedy.temperature = 0;
  Sampler sampler(greedy);
  std::vector<float> logits = {0.5f, 2.0f, 2.0f, -1.0f};
  EXPECT_EQ(sampler.sample(logits, {}), 1);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  SamplingParams params;
  params.temperature = 0;
  params.repeat_penalty = 2.0;
  Sampler sampler(params);
  std::vector<float> logits = {3.0f, 2.0f, -1.0f};
  std::vector<int32_t> history = {0, 2, 2};
  EXPECT_EQ(sampler.sample(logits, history), 1);  // 3 / 2 = 1.5 < 2
  EXPECT_FLOAT_EQ(logits[0], 1.5f);
  EXPECT_FLOAT_EQ(logits[2], -2.0f);
}

TEST(Sampler, TruncationsKeepTheRightTokens) {
  const std::vector<float> logits = {4.0f, 3.0f, 3.0f, 1.0f, -5.0f};
  SamplingParams params;
  params.temperature = 1.0;
  params.top_p = 1.0;
  params.min_p = 0.0;
  params.top_k = 2;  // ties with the 2nd value stay (HF)
  EXPECT_EQ(support(params, logits), (std::set<int32_t>{0, 1, 2}));
  params.top_k = 0;
  params.top_p = 0.5;  // p(0) = 0.53 alone reaches 0.5
  EXPECT_EQ(support(params, logits), (std::set<int32_t>{0}));
  params.top_p = 1.0;
  params.min_p = 0.2;  // drops 1.0 (p ratio e^-3) and -5.0
  EXPECT_EQ(support(params, logits), (std::set<int32_t>{0, 1, 2}));
  params.min_p = 0.0;
  EXPECT_TRUE(support(params, logits, 2000).count(3));  // no truncation: the token min-p dropped comes back
}

TEST(Sampler, SameSeedSameTokens) {
  SamplingParams params;
  params.seed = 99;
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(i % 7) * 0.3f;
  Sampler a(params), b(params);
  std::vector<int32_t> sa, sb;
  for (int i = 0; i < 20; ++i) {
    std::vector<float> ca = logits, cb = logits;
    sa.push_back(a.sample(ca, {}));
    sb.push_back(b.sample(cb, {}));
  }
  EXPECT_EQ(sa, sb);
}

TEST(Sampler, InvalidParametersNameTheFlag) {
  SamplingParams params;
  params.top_p = 0;
  EXPECT_THROW(params.validate(), Error);
  params = {};
  params.temperature = -1;
  try {
    params.validate();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--temperature"), std::string::npos);
  }
}

}  // namespace
}  // namespace xpusim::runtime
