// Physical sanity of the family cost models (src/chips/impl): lower bounds no op may beat, bounds that must
// hold for well-understood regimes, sizing and collective formulas, energy bookkeeping, and published anchor
// figures from shared/reference/chips.md (each with its tolerance and why).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "chips/cost_model.h"
#include "chips/loader.h"
#include "chips/stack.h"
#include "core/error.h"
#include "model/presets.h"

namespace xpusim::chips {
namespace {

model::ModelConfig preset(const std::string& name) {
  auto found = model::find_preset(name);
  EXPECT_TRUE(found.has_value()) << name;
  return found->config;
}

// Llama-3.1-8B shapes (meta-llama/Llama-3.1-8B config.json) for the published H100/A100 decode anchors.
model::ModelConfig llama_8b() {
  model::ModelConfig c = preset("llama-3.2-1b");
  c.name = "llama-3.1-8b";
  c.hidden = 4096;
  c.n_layers = 32;
  c.n_heads = 32;
  c.n_kv_heads = 8;
  c.head_dim = 128;
  c.ffn_hidden = 14336;
  c.vocab_size = 128256;
  c.tied_embeddings = false;
  return c;
}

StepShape decode(int64_t batch, int64_t context) {
  StepShape s;
  s.sequences.assign(static_cast<size_t>(batch), SequenceChunk{1, context});
  return s;
}

StepShape prefill(int64_t tokens) {
  StepShape s;
  s.sequences = {SequenceChunk{tokens, 0}};
  return s;
}

const char* kFamilyPresets[] = {"cpu-xeon-8480", "gpu-h100-sxm", "gpu-jetson-orin-nano", "tpu-v5e",
                                "tpu-v6e",       "npu-apple-m4", "npu-intel-lunar-lake", "lpu-groq"};

// No op may be faster than its FLOPs at the system peak or its bytes at any level's system bandwidth.
TEST(CostModel, NoOpBeatsPeakOrBandwidth) {
  const auto config = preset("llama-3.2-1b");
  StepShape mixed;
  mixed.sequences = {{64, 0}, {1, 300}, {1, 20}, {16, 100}};
  for (const char* name : kFamilyPresets) {
    auto model = make_cost_model(load_chip(name), config, "");
    const SystemPlan& plan = model->plan();
    for (const StepShape& shape : {prefill(512), decode(1, 128), decode(8, 1000), mixed}) {
      const StepCost step = model->step(shape);
      ASSERT_FALSE(step.ops.empty());
      for (const OpCost& op : step.ops) {
        EXPECT_GE(op.seconds * (1 + 1e-9), op.flops / plan.peak_flops) << name << " " << op.label;
        ASSERT_EQ(op.bytes_per_level.size(), plan.levels.size());
        for (size_t i = 0; i < plan.levels.size(); ++i)
          EXPECT_GE(op.seconds * (1 + 1e-9), op.bytes_per_level[i] / plan.levels[i].bandwidth_bytes_per_s)
              << name << " " << op.label << " level " << plan.levels[i].name;
      }
    }
  }
}

// Batch-1 decode of Llama-3.2-1B bf16 on H100 streams the weights from HBM: memory-bound, and the implied
// weight bandwidth is 60-100 % of the HBM peak (the rest: launch gaps, small kernels, attention).
TEST(CostModel, H100DecodeIsMemoryBoundNearHbmBandwidth) {
  auto model = make_cost_model(load_chip("gpu-h100-sxm"), preset("llama-3.2-1b"), "bf16");
  const StepCost step = model->step(decode(1, 128));
  EXPECT_EQ(step.bound, Bound::MEMORY);
  const double floor_s = model->plan().weight_bytes / 3.35e12;
  EXPECT_GE(floor_s / step.seconds, 0.60) << step.seconds;
  EXPECT_LE(floor_s / step.seconds, 1.00) << step.seconds;
}

// 512 tokens x 2 FLOP per weight byte (bf16) is above the ridge of H100 (~300), A100 (~150) and v5e (~240).
// Not v6e: its ridge (918 TF x 0.8 over 1.64 TB/s x 0.83, ~540 FLOP/B) is above 512, so there it is
// memory-bound, as it should be.
TEST(CostModel, Prefill512IsComputeBoundOnGpuAndTpu) {
  for (const char* name : {"gpu-h100-sxm", "gpu-a100", "tpu-v5e"}) {
    auto model = make_cost_model(load_chip(name), preset("llama-3.2-1b"), "bf16");
    EXPECT_EQ(model->step(prefill(512)).bound, Bound::COMPUTE) << name;
    EXPECT_EQ(model->step(prefill(32)).bound, Bound::MEMORY) << name;
  }
}

// LPU systems are sized to hold weights + a 4096-token KV reserve (or max_positions) in 220 MiB per chip; a
// pipeline stage holds whole layers, and a stage that does not fit one chip is split tensor-parallel over as
// many chips as it needs. Every chip's share fits its SRAM, and no fewer chips than bytes / SRAM are used.
TEST(CostModel, LpuChipCountHoldsEveryStageInSram) {
  const ChipSpec chip = load_chip("lpu-groq");
  const double sram = 220.0 * 1024 * 1024;
  for (const char* name : {"llama-3.2-1b", "gpt2", "qwen3-1.7b", "llama-2-70b"}) {
    const auto config = preset(name);
    auto model = make_cost_model(chip, config, "int8");
    const double weights = static_cast<double>(config.param_count()) * 8 / 8;
    const double kv_token =
        2.0 * static_cast<double>(config.n_layers * config.n_kv_heads * config.head_dim) * 2;
    const double kv = static_cast<double>(std::min<int64_t>(4096, config.max_positions)) * kv_token;
    const int chips = model->plan().chips_used;
    EXPECT_GE(chips, static_cast<int>(std::ceil((weights + kv) / sram))) << name;
    EXPECT_LE((weights + kv) / chips, sram) << name;
    EXPECT_EQ(model->plan().partition, Partition::PIPELINE);
    EXPECT_EQ(model->plan().weight_level, "sram");
  }
  // Llama-3.2-1B int8 (~86 MB per layer with its KV share): two layers fit a chip, three do not, so 8 stages
  // of 2 layers (8 chips), not 6 stages of 3 layers that would each need 2 chips.
  EXPECT_EQ(make_cost_model(chip, preset("llama-3.2-1b"), "int8")->plan().chips_used, 8);
  // Llama-2-70B int8: one ~880 MB layer per stage cannot sit on a 230 MB chip: 80 stages of 4 chips.
  EXPECT_EQ(make_cost_model(chip, preset("llama-2-70b"), "int8")->plan().chips_used, 320);
}

// A self-sizing system makes room for the KV of the run asked about (CostOptions::kv_reserve_tokens).
TEST(CostModel, LpuSizesForTheRequestedKv) {
  const ChipSpec chip = load_chip("lpu-groq");
  const auto config = preset("llama-3.2-1b");
  CostOptions small, large;
  small.kv_reserve_tokens = 1024;
  large.kv_reserve_tokens = 64 * 8192;
  const int few = make_cost_model(chip, config, "int8", small)->plan().chips_used;
  const int many = make_cost_model(chip, config, "int8", large)->plan().chips_used;
  EXPECT_GT(many, few);
}

// Groq's per-layer synchronisation: a batch-1 decode step of a model takes at least layers x layer_sync_us,
// the shortfall of the work shows as one "sync" op; at a large batch the work fills the floor and the op is
// 0.
TEST(CostModel, LpuDecodeLayerTakesAtLeastTheSyncTime) {
  const ChipSpec chip = load_chip("lpu-groq");
  ASSERT_TRUE(chip.system.layer_sync_us.has_value());
  const auto config = preset("llama-3.2-1b");
  auto model = make_cost_model(chip, config, "int8");
  const StepCost step = model->step(decode(1, 128));
  const double floor_s = static_cast<double>(config.n_layers) * *chip.system.layer_sync_us * 1e-6;
  EXPECT_GE(step.seconds, floor_s * (1 - 1e-9));
  double sync_s = -1;
  for (const OpCost& op : step.ops)
    if (op.op_type == "sync") sync_s = op.seconds;
  EXPECT_GT(sync_s, 0);
  const StepCost big = model->step(prefill(4096));
  for (const OpCost& op : big.ops) {
    if (op.op_type == "sync") {
      EXPECT_EQ(op.seconds, 0);
    }
  }
}

std::string h100_text_with_chips(int chips) {
  std::ifstream file(find_chip_file("gpu-h100-sxm"));
  std::stringstream text;
  text << file.rdbuf();
  std::string s = text.str();
  const std::string from = "chips_per_system = 1";
  s.replace(s.find(from), from.size(), "chips_per_system = " + std::to_string(chips));
  return s;
}

// Tensor parallel: each all-reduce sends 2(p-1)/p of the tensor per chip (ring), after attn_output and
// ffn_down.
TEST(CostModel, TensorParallelAllReduceBytes) {
  const int p = 4;
  const ChipSpec chip = load_chip_from_string(h100_text_with_chips(p), "gpu-h100-sxm.toml");
  const auto config = preset("llama-3.2-1b");
  auto model = make_cost_model(chip, config, "bf16");
  EXPECT_EQ(model->plan().chips_used, p);
  const int64_t tokens = 64;
  const StepCost step = model->step(prefill(tokens));
  int reduced = 0;
  const double tensor = static_cast<double>(tokens * config.hidden) * 2;
  const double per_chip = 2.0 * (p - 1) / p * tensor;
  const double link_bw = chip.interconnect->links * chip.interconnect->link_bandwidth_gbps * 1e9;
  for (const OpCost& op : step.ops) {
    const bool row_parallel =
        op.label.find("attn_output") != std::string::npos || op.label.find("ffn_down") != std::string::npos;
    if (!row_parallel) {
      EXPECT_EQ(op.link_bytes, 0) << op.label;
      continue;
    }
    ++reduced;
    EXPECT_NEAR(op.link_bytes, per_chip * p, 1e-6 * per_chip) << op.label;
    EXPECT_GE(op.seconds, per_chip / link_bw + 2 * (p - 1) * chip.interconnect->latency_us * 1e-6);
  }
  EXPECT_EQ(reduced, 2 * config.n_layers);
  EXPECT_GT(step.energy.links_j, 0);
}

TEST(CostModel, EnergySplitSumsToTotal) {
  for (const char* name : kFamilyPresets) {
    auto model = make_cost_model(load_chip(name), preset("smollm2-135m"), "");
    const RunEstimate run = estimate_run(*model, {2, 64, 40});
    double ops = 0;
    for (const StepCost* step : {&run.prefill, &run.decode})
      for (const OpCost& op : step->ops) ops += op.energy.total();
    const double total = run.prefill.energy.total() + run.decode.energy.total();
    EXPECT_NEAR(ops, total, 1e-9 * total) << name;
    EXPECT_NEAR(run.energy_per_token_j * 2 * 40, total, 1e-9 * total) << name;
    EXPECT_NEAR(run.energy_per_token.total(), run.energy_per_token_j, 1e-12) << name;
    EXPECT_GT(run.energy_per_token.compute_j, 0) << name;
    EXPECT_NEAR(run.tokens_per_joule * run.energy_per_token_j, 1.0, 1e-12) << name;
  }
}

// Weights are read once per step, so 8 sequences decode faster per token than 1.
TEST(CostModel, BatchedDecodeIsFasterPerToken) {
  for (const char* name : kFamilyPresets) {
    auto model = make_cost_model(load_chip(name), preset("llama-3.2-1b"), "");
    const double one = model->step(decode(1, 256)).seconds;
    const double eight = model->step(decode(8, 256)).seconds;
    EXPECT_LT(eight / 8, one) << name;
    EXPECT_GE(eight, one) << name;  // never faster in absolute terms
  }
}

// Published decode anchors, chips.md §1.3 [S19]: Llama-3.1-8B bf16, batch 1, torch.compile (CUDA graphs).
// H100: 126.9 tok/s; A100: Llama-3-8B 95.6 tok/s (same shapes). The model charges achievable HBM streaming
// (0.83, measured on A100 [S20]) plus per-kernel gaps; the software in [S19] reaches only 0.57 (H100) / 0.70
// (A100) of HBM in total, so the model is optimistic: H100 within +50 %, A100 within +25 %
// (docs/validation.md).
TEST(CostModel, PublishedGpuDecodeAnchors) {
  const auto config = llama_8b();
  const RunShape shape{1, 128, 128};
  const double h100 =
      estimate_run(*make_cost_model(load_chip("gpu-h100-sxm"), config, "bf16"), shape).decode_tokens_per_s;
  EXPECT_GT(h100, 126.9 * 1.0);
  EXPECT_LT(h100, 126.9 * 1.5);
  const double a100 =
      estimate_run(*make_cost_model(load_chip("gpu-a100"), config, "bf16"), shape).decode_tokens_per_s;
  EXPECT_GT(a100, 95.6 * 0.9);
  EXPECT_LT(a100, 95.6 * 1.25);
}

TEST(CostModel, PrecisionFollowsTheChip) {
  const auto config = preset("smollm2-135m");
  auto h100_fp4 = make_cost_model(load_chip("gpu-h100-sxm"), config, "nvfp4");
  EXPECT_EQ(h100_fp4->plan().compute_precision, Precision::FP8);  // no fp4 MACs on Hopper: dequantize to fp8
  auto v6e_int4 = make_cost_model(load_chip("tpu-v6e"), config, "int4");
  EXPECT_EQ(v6e_int4->plan().compute_precision, Precision::INT4);
  auto xeon = make_cost_model(load_chip("cpu-xeon-8480"), config, "bf16");
  EXPECT_EQ(xeon->plan().compute_precision, Precision::BF16);  // AMX
  auto lpu = make_cost_model(load_chip("lpu-groq"), config, "bf16");
  EXPECT_EQ(lpu->plan().compute_precision, Precision::FP16);
  auto gguf = make_cost_model(load_chip("gpu-h100-sxm"), config, "q4_1");
  EXPECT_NEAR(gguf->plan().weight_bytes, static_cast<double>(config.param_count()) * 5 / 8, 1);
  // Fewer bytes per weight: faster decode on a bandwidth-bound chip.
  auto bf16 = make_cost_model(load_chip("gpu-jetson-orin-nano"), config, "bf16");
  auto int4 = make_cost_model(load_chip("gpu-jetson-orin-nano"), config, "int4");
  EXPECT_LT(int4->step(decode(1, 64)).seconds, bf16->step(decode(1, 64)).seconds);
}

TEST(CostModel, ClearErrors) {
  const auto config = preset("smollm2-135m");
  try {
    make_cost_model(load_chip("ue-ku5p"), config, "");
    ADD_FAILURE() << "ue chips must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("make_engine_cost_model"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_cost_model(load_chip("gpu-h100-sxm"), config, "no-such-format"), Error);
  auto model = make_cost_model(load_chip("gpu-jetson-orin-nano"), config, "");
  EXPECT_THROW(model->step(decode(1, 1'000'000'000)), Error);  // KV does not fit in 8 GB
  EXPECT_THROW(model->step(StepShape{}), Error);
  EXPECT_THROW(estimate_run(*model, {0, 1, 1}), Error);
  EXPECT_THROW(make_cost_model(load_chip("gpu-jetson-orin-nano"), preset("mixtral-8x7b"), "bf16"), Error);
}

double matmul_seconds(const StepCost& step) {
  double seconds = 0;
  for (const OpCost& op : step.ops)
    if (op.op_type == "linear") seconds += op.seconds;
  return seconds;
}

// llama.cpp's dot-product kernels: integer block formats run as int8 dots whose cost is the kernels' SIMD
// instructions over the core's issue width; a compute-bound prefill halves with twice the pipes, and a GEMM
// row costs fewer instructions than a GEMV row. bf16 stays on the fp32 FMA path.
TEST(CostModel, CpuDotKernelsFollowIssueWidth) {
  const auto config = preset("llama-3.2-1b");
  CostOptions options;
  options.stack = load_stack("llama-cpp");
  ChipSpec chip = load_chip("cpu-ryzen-7950x");
  auto q4 = make_cost_model(chip, config, "q4_0", options);
  EXPECT_EQ(q4->plan().compute_precision, Precision::INT8);
  bool noted = false;
  for (const std::string& note : q4->plan().notes)
    noted |= note.find("SIMD instructions per 32-weight") != std::string::npos;
  EXPECT_TRUE(noted);
  ChipSpec narrow = chip;
  narrow.compute.simd_pipes = *chip.compute.simd_pipes / 2;
  auto q4_narrow = make_cost_model(narrow, config, "q4_0", options);
  const double wide_s = matmul_seconds(q4->step(prefill(256)));
  EXPECT_NEAR(matmul_seconds(q4_narrow->step(prefill(256))) / wide_s, 2.0, 0.05);
  // Per token, the tiled GEMM kernels beat one GEMV per row.
  ChipSpec one_core = chip;
  one_core.compute.units = 1;
  auto single = make_cost_model(one_core, config, "q4_0", options);
  EXPECT_LT(matmul_seconds(single->step(prefill(64))) / 64, matmul_seconds(single->step(decode(1, 64))));
  EXPECT_EQ(make_cost_model(chip, config, "bf16", options)->plan().compute_precision, Precision::FP32);
  // Without the stack the host executor's path: weights widened to fp32.
  EXPECT_EQ(make_cost_model(chip, config, "q4_0")->plan().compute_precision, Precision::FP32);
}

// A stack file that gives only part of the dot-product path is refused with a message naming the keys.
TEST(CostModel, PartialDotKernelStackIsRefused) {
  const std::string path = ::testing::TempDir() + "partial.toml";
  std::ofstream(path) << "name = \"partial\"\nq8_gemv_ops_x86 = 13\n";
  try {
    load_stack(path);
    ADD_FAILURE() << "a stack with one of the four q8 keys must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q8_gemm_ops_neon"), std::string::npos) << e.what();
  }
}

// A stack that dispatches prefill op by op pays prefill_kernel_gap_us per op in prompt steps only.
TEST(CostModel, PrefillKernelGapAppliesToPromptSteps) {
  const auto config = preset("llama-3.2-1b");
  const ChipSpec chip = load_chip("npu-tt-wormhole-n150");
  CostOptions traced;
  traced.stack = load_stack("tt-metal-vllm");
  CostOptions eager = traced;
  eager.stack.prefill_kernel_gap_us = traced.stack.prefill_kernel_gap_us + 1000;
  auto a = make_cost_model(chip, config, "bf16", traced);
  auto b = make_cost_model(chip, config, "bf16", eager);
  const double ops = static_cast<double>(config.n_layers) * traced.stack.kernels_per_layer;
  EXPECT_NEAR(b->step(prefill(128)).seconds - a->step(prefill(128)).seconds, ops * 1e-3, 1e-9);
  EXPECT_DOUBLE_EQ(b->step(decode(1, 128)).seconds, a->step(decode(1, 128)).seconds);
}

// Beyond 256 decode steps the run is sampled; the integral stays within 0.5 % of stepping every token.
TEST(CostModel, SampledDecodeMatchesExactSum) {
  auto model = make_cost_model(load_chip("tpu-v5e"), preset("smollm2-135m"), "");
  const RunShape shape{1, 32, 600};
  const RunEstimate run = estimate_run(*model, shape);
  double exact = 0;
  for (int64_t k = 1; k < shape.gen_len; ++k)
    exact += model->step(decode(1, shape.prompt_len + k - 1)).seconds;
  EXPECT_NEAR(run.decode.seconds, exact, 0.005 * exact);
  EXPECT_NEAR(run.tpot_s * (shape.gen_len - 1), run.decode.seconds, 1e-12);
  EXPECT_GT(run.ttft_s, 0);
  EXPECT_GT(run.utilization, 0);
  EXPECT_LE(run.utilization, 1);
}

}  // namespace
}  // namespace xpusim::chips
