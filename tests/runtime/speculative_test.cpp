// Speculative decoding: greedy output equals plain greedy token for token on a real (tiny) model with every
// drafter, including one that is mostly wrong (exercises the KV rewind); with sampling, the distribution of
// whole outputs equals the target's exact distribution (chi-square over many seeds on a synthetic model);
// the rejection rule and the acceptance formula match the reference's golden values.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "core/error.h"
#include "exec/golden_file.h"
#include "model/loader.h"
#include "runtime/generate.h"
#include "runtime/speculative.h"

namespace xpusim::runtime {
namespace {

// --- the rule and the formula (architectures.md §6.2 golden values) -------------------------------------

TEST(Speculative, RejectionRuleGolden) {
  const std::vector<double> p{0.5, 0.3, 0.2}, q{0.2, 0.6, 0.2};
  // Draft token 1: accept probability p/q = 0.5.
  EXPECT_TRUE(accept_draft(p, q, 1, 0.4999));
  EXPECT_FALSE(accept_draft(p, q, 1, 0.5001));
  EXPECT_TRUE(accept_draft(p, q, 0, 0.9999));  // p > q: always
  const std::vector<double> residual = residual_distribution(p, q, 1);
  EXPECT_NEAR(residual[0], 1.0, 1e-12);
  EXPECT_NEAR(residual[1], 0.0, 1e-12);
  EXPECT_NEAR(residual[2], 0.0, 1e-12);
  // A deterministic draft: accepted with probability p(x); the residual is p without x.
  EXPECT_TRUE(accept_draft(p, {}, 1, 0.29));
  EXPECT_FALSE(accept_draft(p, {}, 1, 0.31));
  const std::vector<double> without = residual_distribution(p, {}, 1);
  EXPECT_NEAR(without[0], 0.5 / 0.7, 1e-12);
  EXPECT_NEAR(without[1], 0.0, 1e-12);
}

TEST(Speculative, ExpectedTokensPerStepTable) {
  EXPECT_NEAR(expected_tokens_per_step(0.8, 4), 3.36, 0.005);
  EXPECT_NEAR(expected_tokens_per_step(0.6, 1), 1.60, 0.005);
  EXPECT_NEAR(expected_tokens_per_step(0.9, 16), 8.33, 0.005);
  EXPECT_NEAR(expected_tokens_per_step(1.0, 4), 5.0, 1e-12);
  EXPECT_NEAR(expected_tokens_per_step(0.0, 4), 1.0, 1e-12);
}

TEST(Speculative, NgramLooksUpTheLatestLongestMatch) {
  NgramDrafter drafter(3, 1);
  //                          0  1  2  3  4  5  6  7  8  9
  const std::vector<int32_t> context{5, 6, 7, 8, 5, 6, 7, 9, 5, 6};
  // The last 2 tokens (5 6) occur at 4 (latest) and 0; 3-gram (9 5 6) never occurred before.
  EXPECT_EQ(drafter.propose(context, 3).tokens, (std::vector<int32_t>{7, 9, 5}));
  EXPECT_EQ(drafter.propose(context, 1).tokens, (std::vector<int32_t>{7}));
  EXPECT_TRUE(drafter.propose(std::vector<int32_t>{1, 2, 3}, 4).tokens.empty());
}

// --- greedy equivalence on a real model ------------------------------------------------------------------

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

// Proposes seeded random tokens: nearly every draft is rejected, so every step rewinds the target.
class RandomDrafter final : public Drafter {
 public:
  explicit RandomDrafter(int64_t vocab) : m_vocab(vocab) {}
  std::string name() const override { return "random"; }
  DraftProposal propose(std::span<const int32_t> /*context*/, int64_t k) override {
    DraftProposal out;
    std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(m_vocab - 1));
    for (int64_t i = 0; i < k; ++i) out.tokens.push_back(pick(m_rng));
    return out;
  }

 private:
  int64_t m_vocab;
  std::mt19937 m_rng{7};
};

TEST(Speculative, GreedyEqualsPlainGreedyWithEveryDrafter) {
  Fixture f;
  const GenerateOptions options = greedy(32);
  exec::Executor plain_executor(f.loaded.config, f.loaded.weights);
  const GenerateResult plain = generate(plain_executor, f.codec, f.golden.prompt_ids, options);
  ASSERT_EQ(plain.output_ids, f.golden.greedy_ids);

  exec::Executor draft_executor(f.loaded.config, f.loaded.weights);
  HostStepRunner draft_runner(draft_executor);
  ModelDrafter self("self", draft_runner, options.sampling);
  NgramDrafter ngram;
  RandomDrafter random(f.loaded.config.vocab_size);
  for (Drafter* drafter : std::vector<Drafter*>{&self, &ngram, &random}) {
    for (int64_t k : {1, 3, 8}) {
      exec::Executor executor(f.loaded.config, f.loaded.weights);
      HostStepRunner target(executor);
      SpeculativeStats stats;
      std::string streamed;
      const GenerateResult result =
          generate_speculative(target, *drafter, f.codec, f.golden.prompt_ids, options, {k}, &stats,
                               [&](std::string_view piece) { streamed += piece; });
      SCOPED_TRACE(drafter->name() + " k=" + std::to_string(k));
      EXPECT_EQ(result.output_ids, plain.output_ids);
      EXPECT_EQ(result.text, plain.text);
      EXPECT_EQ(streamed, plain.text);
      EXPECT_EQ(result.stop_reason, "max_tokens");
      EXPECT_EQ(stats.emitted, 31);  // the prefill chose the first of 32
      EXPECT_LE(stats.accepted, stats.drafted);
      if (drafter == &self) {
        EXPECT_EQ(stats.accepted, stats.drafted);           // the same model agrees with itself
        EXPECT_EQ(stats.verify_steps, (31 + k) / (k + 1));  // k + 1 tokens a step, the last one cut short
      }
      if (drafter == &random) {
        EXPECT_LT(stats.acceptance_rate(), 0.5);
      }
    }
  }
}

TEST(Speculative, StopsLikePlainDecoding) {
  Fixture f;
  GenerateOptions options = greedy(32);
  options.stop_ids = {f.golden.greedy_ids[5]};
  exec::Executor plain_executor(f.loaded.config, f.loaded.weights);
  const GenerateResult plain = generate(plain_executor, f.codec, f.golden.prompt_ids, options);
  ASSERT_EQ(plain.stop_reason, "eos");
  exec::Executor draft_executor(f.loaded.config, f.loaded.weights);
  HostStepRunner draft_runner(draft_executor);
  ModelDrafter self("self", draft_runner, options.sampling);
  exec::Executor executor(f.loaded.config, f.loaded.weights);
  HostStepRunner target(executor);
  const GenerateResult result =
      generate_speculative(target, self, f.codec, f.golden.prompt_ids, options, {4});
  EXPECT_EQ(result.stop_reason, "eos");
  EXPECT_EQ(result.output_ids, plain.output_ids);
}

TEST(Speculative, RejectsBadArguments) {
  Fixture f;
  exec::Executor executor(f.loaded.config, f.loaded.weights);
  HostStepRunner target(executor);
  NgramDrafter ngram;
  EXPECT_THROW(generate_speculative(target, ngram, f.codec, f.golden.prompt_ids, greedy(4), {0}),
               xpusim::Error);
  EXPECT_THROW(generate_speculative(target, ngram, f.codec, f.golden.prompt_ids, greedy(4), {65}),
               xpusim::Error);
  EXPECT_THROW(NgramDrafter(1, 2), xpusim::Error);
}

// --- the output distribution equals the target's -------------------------------------------------------

constexpr int64_t kVocab = 4;

// A model whose next-token logits depend only on the last token (a Markov chain): exact sequence
// probabilities are products of its rows. Supports speculation (every row's logits, rewind).
class MarkovRunner final : public StepRunner {
 public:
  explicit MarkovRunner(std::vector<std::vector<float>> logits) : m_logits(std::move(logits)) {
    m_config.name = "markov";
    m_config.vocab_size = kVocab;
    m_config.max_positions = 64;
  }
  const model::ModelConfig& config() const override { return m_config; }
  int64_t position() const override { return m_position; }
  StepOutput forward(std::span<const int32_t> tokens, bool /*greedy_only*/) override {
    std::vector<float> all = forward_all(tokens);
    return {std::vector<float>(all.end() - kVocab, all.end()), -1};
  }
  bool supports_speculation() const override { return true; }
  std::vector<float> forward_all(std::span<const int32_t> tokens) override {
    std::vector<float> rows;
    for (int32_t id : tokens) {
      const auto& row = m_logits[static_cast<size_t>(id)];
      rows.insert(rows.end(), row.begin(), row.end());
    }
    m_position += static_cast<int64_t>(tokens.size());
    return rows;
  }
  void rewind(int64_t position) override {
    ASSERT_LE(position, m_position);
    m_position = position;
  }
  std::vector<double> probabilities(int32_t last) const {
    const auto& row = m_logits[static_cast<size_t>(last)];
    std::vector<double> p(row.size());
    double sum = 0;
    for (size_t i = 0; i < row.size(); ++i) sum += p[i] = std::exp(static_cast<double>(row[i]));
    for (double& x : p) x /= sum;
    return p;
  }

 private:
  model::ModelConfig m_config;
  std::vector<std::vector<float>> m_logits;
  int64_t m_position = 0;
};

const std::vector<std::vector<float>> kTargetLogits{{1.0f, 0.2f, -0.5f, 0.0f},
                                                    {-1.0f, 1.5f, 0.3f, 0.1f},
                                                    {0.4f, 0.4f, 0.9f, -2.0f},
                                                    {0.0f, -0.7f, 0.5f, 1.2f}};
// The draft disagrees noticeably: acceptance well below 1, so the residual path is exercised.
const std::vector<std::vector<float>> kDraftLogits{
    {0.0f, 1.0f, 0.0f, 0.0f}, {0.5f, 0.5f, 0.5f, -1.0f}, {2.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};

constexpr int64_t kOutputTokens = 3;  // 4^3 = 64 possible outputs

SamplingParams pure_sampling(uint64_t seed) {
  SamplingParams params;
  params.temperature = 1.0;
  params.top_k = 0;
  params.top_p = 1.0;
  params.min_p = 0.0;
  params.seed = seed;
  return params;
}

int64_t outcome_index(const std::vector<int32_t>& ids) {
  int64_t index = 0;
  for (int32_t id : ids) index = index * kVocab + id;
  return index;
}

// Pearson chi-square of observed outcome counts against the target's exact probabilities.
double chi_square(const std::vector<int64_t>& counts, const std::vector<double>& expected_probs,
                  int64_t runs) {
  double chi2 = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = expected_probs[i] * static_cast<double>(runs);
    chi2 +=
        (static_cast<double>(counts[i]) - expected) * (static_cast<double>(counts[i]) - expected) / expected;
  }
  return chi2;
}

std::vector<double> exact_output_probabilities(const MarkovRunner& model, int32_t last_prompt_token) {
  std::vector<double> probs(static_cast<size_t>(std::pow(kVocab, kOutputTokens)));
  for (size_t outcome = 0; outcome < probs.size(); ++outcome) {
    std::vector<int32_t> ids(kOutputTokens);
    size_t rest = outcome;
    for (int64_t i = kOutputTokens - 1; i >= 0; --i) {
      ids[static_cast<size_t>(i)] = static_cast<int32_t>(rest % kVocab);
      rest /= kVocab;
    }
    double p = 1;
    int32_t last = last_prompt_token;
    for (int32_t id : ids) {
      p *= model.probabilities(last)[static_cast<size_t>(id)];
      last = id;
    }
    probs[outcome] = p;
  }
  return probs;
}

// 63 degrees of freedom: P(chi2 > 110) ~ 2e-4 under the null. The seeds are fixed, so the test is
// deterministic; the control below shows the statistic's power (the draft's own distribution scores
// in the thousands).
constexpr double kChiSquareLimit = 110.0;
constexpr int64_t kRuns = 20000;

TEST(Speculative, SampledOutputDistributionEqualsTargets) {
  const TextCodec codec(nullptr, kVocab);
  const std::vector<int32_t> prompt{0, 1, 2, 3, 0, 1};  // gives the n-gram drafter something to look up
  MarkovRunner reference(kTargetLogits);
  const std::vector<double> exact = exact_output_probabilities(reference, prompt.back());
  GenerateOptions options;
  options.max_tokens = kOutputTokens;

  for (const std::string drafter_kind : {"model", "ngram"}) {
    for (int64_t k : {1, 3}) {
      std::vector<int64_t> counts(exact.size(), 0);
      SpeculativeStats total;
      for (int64_t run = 0; run < kRuns; ++run) {
        options.sampling = pure_sampling(static_cast<uint64_t>(run));
        MarkovRunner target(kTargetLogits);
        MarkovRunner draft_model(kDraftLogits);
        ModelDrafter model_drafter("markov-draft", draft_model, options.sampling);
        NgramDrafter ngram;
        Drafter& drafter = drafter_kind == "model" ? static_cast<Drafter&>(model_drafter) : ngram;
        SpeculativeStats stats;
        const GenerateResult result =
            generate_speculative(target, drafter, codec, prompt, options, {k}, &stats);
        ASSERT_EQ(static_cast<int64_t>(result.output_ids.size()), kOutputTokens);
        ++counts[static_cast<size_t>(outcome_index(result.output_ids))];
        total.accepted += stats.accepted;
        total.drafted += stats.drafted;
      }
      SCOPED_TRACE(drafter_kind + " k=" + std::to_string(k));
      EXPECT_LT(chi_square(counts, exact, kRuns), kChiSquareLimit);
      // Both paths ran: drafts were accepted and rejected.
      EXPECT_GT(total.accepted, kRuns / 10);
      EXPECT_LT(total.accepted, total.drafted);
    }
  }
}

TEST(Speculative, DistributionTestHasPower) {
  // Control: the draft model's own output distribution fails the same test by a wide margin.
  MarkovRunner target(kTargetLogits);
  MarkovRunner draft(kDraftLogits);
  const std::vector<double> exact = exact_output_probabilities(target, 1);
  const std::vector<double> drafts = exact_output_probabilities(draft, 1);
  std::vector<int64_t> counts(exact.size());
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = std::llround(drafts[i] * kRuns);
  EXPECT_GT(chi_square(counts, exact, kRuns), 10 * kChiSquareLimit);
}

}  // namespace
}  // namespace xpusim::runtime
