// MoE layers and the on-chip embedding gather: a tiny Qwen3-MoE model decoded functionally on the simulator
// (routing on chip, experts dispatched through `ld`) follows the host fp32 executor; a decode step reads the
// k routed experts' weights and no others; a step of several tokens reads each of min(E, T k) experts once
// (balanced routing) with T k rows of expert MACs; the embedding rows are gathered on chip (one `ld` per
// token row).
#include <gtest/gtest.h>

#include <cmath>

#include "compiler/engine_runner.h"
#include "compiler/lower_step.h"
#include "compiler_test_util.h"
#include "engine/chip_config.h"
#include "exec/executor.h"
#include "model/synthetic.h"
#include "runtime/sampler.h"

namespace xpusim::compiler {
namespace {

using testing::correlation;

model::ModelConfig tiny_moe(model::Family family) {
  model::ModelConfig c = testing::tiny_config(family);
  c.name = "tiny-moe";
  c.n_experts = 8;
  c.n_experts_used = 2;
  c.expert_ffn_hidden = 128;
  c.norm_topk_prob = family == model::Family::QWEN3_MOE;
  c.tied_embeddings = false;
  return c;
}

void check_decode(model::Family family) {
  SCOPED_TRACE(model::family_name(family));
  const model::ModelConfig config = tiny_moe(family);
  const model::Weights weights = model::make_synthetic_weights(config);
  EngineRunner runner(engine::load_chip("ue-ku5p"), config, &weights, {.kv_capacity = 64});
  exec::Executor host(config, weights, exec::ExecOptions{1, 64});
  const std::vector<int32_t> prompt = {3, 41, 7, 150, 299, 12};
  StepOutput out = runner.forward(prompt);  // one token per step: dispatch on the routed ids
  std::vector<float> expected = host.forward(prompt);
  for (int step = 0; step < 3; ++step) {
    ASSERT_EQ(out.logits.size(), expected.size());
    EXPECT_GT(correlation(out.logits, expected), 0.999) << "step " << step;
    EXPECT_EQ(out.argmax, runtime::argmax_first(out.logits)) << "step " << step;
    const int32_t next = runtime::argmax_first(expected);
    out = runner.forward(std::span<const int32_t>(&next, 1));
    expected = host.forward(std::span<const int32_t>(&next, 1));
  }
}

TEST(EngineMoe, Qwen3MoeDecodeFollowsHostExecutor) { check_decode(model::Family::QWEN3_MOE); }
TEST(EngineMoe, MixtralDecodeFollowsHostExecutor) { check_decode(model::Family::MIXTRAL); }

struct MoeTraffic {
  uint64_t expert_read_bytes = 0, expert_macs = 0;
  int64_t ld_count = 0;
};

MoeTraffic compile_traffic(const model::ModelConfig& config, engine::WeightFormat format, int64_t tokens) {
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const DramPlan plan = plan_dram(config, format, PlanShape{tokens, 1, 64}, chip);
  const CompiledProgram compiled = compile_step(plan, chip, StepRequest{{{tokens, 0}}});
  MoeTraffic t;
  for (const OpGroup& g : compiled.groups)
    if (g.label.find("moe_expert") != std::string::npos) {
      t.expert_read_bytes += g.dram_read_bytes;
      t.expert_macs += g.macs;
    }
  for (const engine::Descriptor& d : compiled.program.code)
    if (engine::decode(d).opcode == engine::Opcode::ld) ++t.ld_count;
  return t;
}

uint64_t expert_bytes(const DramPlan& plan) {
  const std::string p = "blk.0.";
  return plan.weight(p + "ffn_gate_exps.0.weight").bytes + plan.weight(p + "ffn_up_exps.0.weight").bytes +
         plan.weight(p + "ffn_down_exps.0.weight").bytes;
}

TEST(EngineMoe, DecodeReadsOnlyTheRoutedExperts) {
  const model::ModelConfig config = tiny_moe(model::Family::QWEN3_MOE);
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const DramPlan plan = plan_dram(config, engine::WeightFormat::ue_if4, PlanShape{1, 1, 64}, chip);
  const MoeTraffic t = compile_traffic(config, engine::WeightFormat::ue_if4, 1);
  const uint64_t k = static_cast<uint64_t>(config.n_experts_used),
                 layers = static_cast<uint64_t>(config.n_layers);
  // k experts per layer, plus per slot its input row (hidden bf16), its routing weight and the id.
  const uint64_t activations = layers * k * static_cast<uint64_t>(config.hidden * 2 + 2 + 4);
  EXPECT_EQ(t.expert_read_bytes, layers * k * expert_bytes(plan) + activations);
  EXPECT_EQ(t.expert_macs, layers * k * 3 * static_cast<uint64_t>(config.hidden * config.expert_ffn_hidden));
  EXPECT_EQ(t.ld_count, config.n_layers * config.n_experts_used + 1);  // + the embedding gather's one token
}

TEST(EngineMoe, SeveralTokensReadEachActiveExpertOnce) {
  const model::ModelConfig config = tiny_moe(model::Family::QWEN3_MOE);
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const DramPlan plan = plan_dram(config, engine::WeightFormat::ue_if4, PlanShape{3, 1, 64}, chip);
  const uint64_t layers = static_cast<uint64_t>(config.n_layers),
                 hidden = static_cast<uint64_t>(config.hidden);
  for (const int64_t tokens : {2, 3}) {
    SCOPED_TRACE(tokens);
    const MoeTraffic t = compile_traffic(config, engine::WeightFormat::ue_if4, tokens);
    const auto assignments = static_cast<uint64_t>(tokens * config.n_experts_used);
    const uint64_t active = std::min<uint64_t>(static_cast<uint64_t>(config.n_experts), assignments);
    EXPECT_EQ(t.expert_read_bytes, layers * (active * expert_bytes(plan) + assignments * (hidden * 2 + 2)));
    EXPECT_EQ(t.expert_macs,
              layers * assignments * 3 * hidden * static_cast<uint64_t>(config.expert_ffn_hidden));
    EXPECT_EQ(t.ld_count, tokens);  // the embedding gather only: no run-time dispatch
  }
}

// Timing-only runs read expert 0 from `ld`; the routed experts of the functional run cost the same cycles.
TEST(EngineMoe, TimingOnlyDecodeHasTheSameCycles) {
  const model::ModelConfig config = tiny_moe(model::Family::QWEN3_MOE);
  const model::Weights weights = model::make_synthetic_weights(config);
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  EngineRunner functional(chip, config, &weights, {.kv_capacity = 64});
  EngineRunner timing(chip, config, nullptr, {.kv_capacity = 64, .functional = false});
  for (const int32_t token : {7, 200, 31}) {
    const std::span<const int32_t> one(&token, 1);
    EXPECT_EQ(functional.forward(one).cycles, timing.forward(one).cycles) << "token " << token;
  }
}

TEST(EngineMoe, TopKBeyondTheEngineIsAnError) {
  model::ModelConfig config = tiny_moe(model::Family::QWEN3_MOE);
  config.n_experts = 16, config.n_experts_used = 9;
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const DramPlan plan = plan_dram(config, engine::WeightFormat::bf16, PlanShape{1, 1, 64}, chip);
  try {
    compile_step(plan, chip, StepRequest{{{1, 0}}});
    FAIL() << "expected a top-k error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("layer 0: top-9 routing over 16 experts"), std::string::npos)
        << error.what();
  }
}

TEST(EngineMoe, TimingOnlyPresetBeyondTheChipDramIsCosted) {
  // 8 experts of 2 x 4096 x 14336 weights per layer do not fit 2 GiB: the timing-only plan aliases them.
  model::ModelConfig config = tiny_moe(model::Family::MIXTRAL);
  config.hidden = 1024, config.expert_ffn_hidden = 16384, config.n_experts = 32, config.n_experts_used = 2;
  config.n_heads = 8, config.n_kv_heads = 2, config.head_dim = 128, config.n_layers = 4;
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  EXPECT_THROW(plan_dram(config, engine::WeightFormat::bf16, PlanShape{1, 1, 64}, chip), Error);
  EngineRunner runner(chip, config, nullptr, {.kv_capacity = 64, .functional = false});
  EXPECT_TRUE(runner.plan().weights_aliased);
  EXPECT_LE(runner.plan().end, chip.dram_bytes());
  const int32_t token = 5;
  const StepOutput out = runner.forward(std::span<const int32_t>(&token, 1));
  EXPECT_GT(out.cycles, 0);
}

}  // namespace
}  // namespace xpusim::compiler
