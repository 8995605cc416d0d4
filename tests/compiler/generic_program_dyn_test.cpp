// Generic programs (compile_generic_step, runtime_registers.h): one decode program and one prefill-chunk
// program serve every position and prompt length — the runner compiles exactly two programs, their size does
// not grow with the context, and their logits equal the shape-specialised programs' bit for bit (including a
// prompt whose last chunk is a single token and a sliding-window family); the emitter validates register-
// relative operands at both extremes of the run-time registers.
#include <gtest/gtest.h>

#include <cstring>

#include "compiler/engine_runner.h"
#include "compiler/lower_step.h"
#include "compiler/runtime_registers.h"
#include "compiler_test_util.h"
#include "core/error.h"
#include "engine/chip_config.h"
#include "model/synthetic.h"

namespace xpusim::compiler {
namespace {

using testing::tiny_config;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class GenericPrograms : public ::testing::TestWithParam<model::Family> {};

// Generic and specialised runners side by side over a prompt of 41 tokens in chunks of 8 (five full chunks
// and a one-token chunk) and decode steps crossing a 64-key block boundary.
TEST_P(GenericPrograms, MatchSpecialisedProgramsBitForBit) {
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const model::ModelConfig config = tiny_config(GetParam());
  const model::Weights weights = model::make_synthetic_weights(config);
  RunnerOptions options{.format = engine::WeightFormat::bf16, .kv_capacity = 80, .max_step_tokens = 8};
  EngineRunner generic(chip, config, &weights, options);
  options.generic_programs = false;
  EngineRunner specialised(chip, config, &weights, options);
  std::vector<int32_t> prompt(41);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>((i * 53 + 7) % 320);
  StepOutput a = generic.forward(prompt), b = specialised.forward(prompt);
  for (int step = 0; step < 28; ++step) {
    ASSERT_TRUE(same_bits(a.logits, b.logits)) << "step " << step;
    ASSERT_EQ(a.argmax, b.argmax);
    const int32_t next = a.argmax;
    a = generic.forward(std::span<const int32_t>(&next, 1));
    b = specialised.forward(std::span<const int32_t>(&next, 1));
  }
  EXPECT_EQ(generic.program_stats().compiled, 2);  // decode + prefill chunk, for 34 steps
  EXPECT_EQ(generic.position(), 41 + 28);
}

INSTANTIATE_TEST_SUITE_P(Families, GenericPrograms,
                         ::testing::Values(model::Family::LLAMA, model::Family::GEMMA3),
                         [](const auto& param_info) {
                           return std::string(model::family_name(param_info.param));
                         });

// The attention key loop runs over a register count: the program does not grow with the KV capacity.
TEST(GenericProgramsSize, DecodeProgramIndependentOfContext) {
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const model::ModelConfig config = tiny_config(model::Family::QWEN3);
  const DramPlan small = plan_dram(config, engine::WeightFormat::bf16, {1, 1, 128}, chip);
  const DramPlan large = plan_dram(config, engine::WeightFormat::bf16, {1, 1, 4096}, chip);
  const size_t at_small = compile_generic_step(small, chip, 1).program.size();
  EXPECT_EQ(at_small, compile_generic_step(large, chip, 1).program.size());
  // The specialised program unrolls the key blocks: at context 4000 it is larger.
  EXPECT_GT(compile_step(large, chip, StepRequest{{{1, 4000}}}).program.size(), at_small);
}

TEST(GenericProgramsSize, RowsMustFitThePlan) {
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  const DramPlan plan =
      plan_dram(tiny_config(model::Family::LLAMA), engine::WeightFormat::bf16, {8, 1, 64}, chip);
  EXPECT_THROW(compile_generic_step(plan, chip, 9), Error);
  EXPECT_THROW(compile_generic_step(plan, chip, 0), Error);
}

// Register-relative operands are checked at the highest run-time value too: a DMA whose row lies in range at
// position 0 but past DRAM at the highest position is a compile error.
TEST(GenericProgramsEmitter, ValidatesRuntimeRegistersAtBothExtremes) {
  const engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  Emitter fine(chip);
  fine.begin_group("test", "test", -1);
  fine.set_runtime_register(kPositionRegister, 0, 100);
  fine.dma_load(Loc(kPositionRegister, 4096), 0, 1, 64);  // in range at both ends
  Emitter beyond(chip);
  beyond.begin_group("test", "test", -1);
  beyond.set_runtime_register(kPositionRegister, 0, static_cast<uint32_t>(chip.dram_bytes() - 1024));
  beyond.scalar_imm(engine::Opcode::addi, kRopeOffsetRegister, kPositionRegister, 0);  // derived: tracked too
  EXPECT_THROW(beyond.dma_load(Loc(kRopeOffsetRegister, 4096), 0, 1, 64), Error);
}

}  // namespace
}  // namespace xpusim::compiler
