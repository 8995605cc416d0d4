// compare --speculative's costing: on a memory-bound chip at batch 1 a (k+1)-token verify step costs about
// one decode step, so the speedup approaches E = (1 - a^(k+1)) / (1 - a); at large batch the step turns
// compute-bound and the gain vanishes; with acceptance 0 speculation only costs; a draft model's steps are
// charged; TiDAR passes carry k + (k+1)k tokens.
#include <gtest/gtest.h>

#include "chips/loader.h"
#include "core/error.h"
#include "model/presets.h"
#include "report/speculative_compare.h"

namespace xpusim::report {
namespace {

CostModelFactory family_factory() {
  return [](const chips::ChipSpec& chip, const model::ModelConfig& config, const std::string& precision) {
    return chips::make_cost_model(chip, config, precision);
  };
}

model::ModelConfig llama_1b() { return model::find_preset("llama-3.2-1b")->config; }

TEST(SpeculativeCompare, MemoryBoundBatchOneApproachesE) {
  SpeculativeSpec spec;
  spec.draft_tokens = 4;
  spec.acceptance = 0.8;
  EXPECT_NEAR(spec.expected_tokens_per_step(), 3.36, 0.005);
  const auto results = run_speculative_compare({chips::load_chip("gpu-h100-sxm")}, llama_1b(), "",
                                               chips::RunShape{1, 128, 128}, spec, family_factory());
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].error.empty()) << results[0].error;
  EXPECT_GT(results[0].speedup(), 0.9 * 3.36);
  EXPECT_LE(results[0].speedup(), spec.expected_tokens_per_step() * 1.001);
  EXPECT_NE(results[0].why.find("memory"), std::string::npos);
}

TEST(SpeculativeCompare, GainVanishesAtLargeBatch) {
  SpeculativeSpec spec;
  spec.draft_tokens = 4;
  spec.acceptance = 0.6;
  const auto results = run_speculative_compare({chips::load_chip("gpu-h100-sxm")}, llama_1b(), "",
                                               chips::RunShape{1, 128, 128}, spec, family_factory());
  ASSERT_TRUE(results[0].error.empty()) << results[0].error;
  EXPECT_GT(results[0].speedup(), 1.0);
  EXPECT_GT(results[0].break_even_batch, 1);
  EXPECT_LE(results[0].break_even_batch, 1024);
}

TEST(SpeculativeCompare, NoAcceptanceOnlyCostsAndDraftIsCharged) {
  SpeculativeSpec spec;
  spec.acceptance = 0.0;
  const auto none = run_speculative_compare({chips::load_chip("gpu-h100-sxm")}, llama_1b(), "",
                                            chips::RunShape{1, 128, 128}, spec, family_factory());
  EXPECT_LE(none[0].speedup(), 1.0);
  spec.acceptance = 0.8;
  const auto ngram = run_speculative_compare({chips::load_chip("gpu-h100-sxm")}, llama_1b(), "",
                                             chips::RunShape{1, 128, 128}, spec, family_factory());
  spec.draft_config = llama_1b();  // a draft as large as the target: its k steps dominate
  const auto heavy = run_speculative_compare({chips::load_chip("gpu-h100-sxm")}, llama_1b(), "",
                                             chips::RunShape{1, 128, 128}, spec, family_factory());
  EXPECT_GT(heavy[0].draft_step_s, 0);
  EXPECT_LT(heavy[0].speedup(), ngram[0].speedup());
  EXPECT_LT(heavy[0].speedup(), 1.0);
}

TEST(SpeculativeCompare, TidarPassCarriesDraftSlots) {
  SpeculativeSpec spec;
  spec.drafter = "tidar";
  spec.draft_tokens = 2;
  EXPECT_EQ(spec.verify_tokens(), 2 + 3 * 2);  // architectures.md §6.1 golden: k = 2 -> 8 new positions
  spec.drafter = "ngram";
  EXPECT_EQ(spec.verify_tokens(), 3);
}

TEST(SpeculativeCompare, BadParametersFail) {
  SpeculativeSpec spec;
  spec.acceptance = 1.5;
  EXPECT_THROW(run_speculative_compare({}, llama_1b(), "", chips::RunShape{}, spec, family_factory()),
               xpusim::Error);
  spec.acceptance = 0.5;
  spec.draft_tokens = 0;
  EXPECT_THROW(run_speculative_compare({}, llama_1b(), "", chips::RunShape{}, spec, family_factory()),
               xpusim::Error);
}

}  // namespace
}  // namespace xpusim::report
