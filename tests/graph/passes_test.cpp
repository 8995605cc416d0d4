// Graph passes (src/graph/passes): the fusion pass forms the linear + epilogue groups every target lowers
// (and the same groups at prefill and decode shapes), dead-op elimination removes only unused work, and the
// quantize pass keeps routers exact and folds (1 + w) norm weights.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "graph/builder.h"
#include "graph/passes/dead_ops.h"
#include "graph/passes/fuse.h"
#include "graph/passes/quantize.h"
#include "model/presets.h"

namespace xpusim::graph {
namespace {

model::ModelConfig preset_of(model::Family family) {
  for (const model::Preset& preset : model::list_presets())
    if (preset.config.family == family) return preset.config;
  ADD_FAILURE() << "no preset of family " << model::family_name(family);
  return {};
}

std::vector<OpKind> kinds(const Graph& g, const std::vector<int32_t>& ops) {
  std::vector<OpKind> out;
  for (int32_t i : ops) out.push_back(g.ops[static_cast<size_t>(i)].kind);
  return out;
}

// The groups of layer 0 (and the embedding / head around it).
std::vector<const FusedGroup*> layer_groups(const FusionPlan& plan, int32_t layer) {
  std::vector<const FusedGroup*> out;
  for (const FusedGroup& group : plan.groups)
    if (group.layer == layer) out.push_back(&group);
  return out;
}

TEST(Fuse, EveryPresetGroupsAlikeAtPrefillAndDecode) {
  for (const model::Preset& preset : model::list_presets()) {
    const Graph decode = build_step(preset.config, StepShape{1, 5, 16, false});
    const Graph prefill = build_step(preset.config, StepShape{6, 0, 16, false});
    const FusionPlan d = fuse_linear_epilogues(decode), p = fuse_linear_epilogues(prefill);
    ASSERT_EQ(d.groups.size(), p.groups.size()) << preset.config.name;
    size_t ops = 0;
    for (size_t i = 0; i < d.groups.size(); ++i) {
      EXPECT_EQ(d.groups[i].kind, p.groups[i].kind) << preset.config.name << " group " << i;
      EXPECT_EQ(d.groups[i].linears.size(), p.groups[i].linears.size()) << preset.config.name;
      if (d.groups[i].kind == GroupKind::SINGLE) {  // only attention stands alone
        EXPECT_EQ(decode.ops[static_cast<size_t>(d.groups[i].anchor)].kind, OpKind::ATTENTION)
            << preset.config.name;
      }
      ops += d.groups[i].ops.size();
    }
    EXPECT_EQ(ops, decode.ops.size()) << preset.config.name;
    // Prefill slices the last row inside the LM head's group; decode has one row already.
    EXPECT_GE(p.groups.back().slice, 0);
    EXPECT_LT(d.groups.back().slice, 0);
  }
}

TEST(Fuse, LlamaAttentionAndGatedMlp) {
  const Graph g = build_step(preset_of(model::Family::LLAMA), StepShape{1, 0, 4, false});
  const FusionPlan plan = fuse_linear_epilogues(g);
  EXPECT_EQ(plan.groups.front().kind, GroupKind::EMBEDDING);
  const std::vector<const FusedGroup*> layer = layer_groups(plan, 0);
  ASSERT_EQ(layer.size(), 5u);  // QKV, attention, output + residual, gate/up, down + residual
  const FusedGroup& qkv = *layer[0];
  ASSERT_EQ(qkv.linears.size(), 3u);
  EXPECT_GE(qkv.pre_norm, 0);
  EXPECT_EQ(kinds(g, qkv.linears[0].epilogue), (std::vector<OpKind>{OpKind::ROPE}));
  EXPECT_EQ(kinds(g, qkv.linears[1].epilogue), (std::vector<OpKind>{OpKind::ROPE, OpKind::KV_STORE}));
  EXPECT_EQ(kinds(g, qkv.linears[2].epilogue), (std::vector<OpKind>{OpKind::KV_STORE}));
  EXPECT_EQ(g.tensors[static_cast<size_t>(qkv.linears[1].output)].role, TensorRole::KV_CACHE);
  EXPECT_EQ(layer[1]->kind, GroupKind::SINGLE);
  EXPECT_EQ(kinds(g, layer[2]->linears[0].epilogue), (std::vector<OpKind>{OpKind::ADD}));
  const FusedLinear& mlp = layer[3]->linears.at(0);
  EXPECT_EQ(layer[3]->linears.size(), 1u);
  EXPECT_GE(mlp.gate, 0);
  EXPECT_EQ(g.ops[static_cast<size_t>(mlp.activation)].kind, OpKind::SILU);
  EXPECT_EQ(g.ops[static_cast<size_t>(mlp.gate_mul)].kind, OpKind::MUL);
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.ops[static_cast<size_t>(mlp.linear)].inputs[1])].name,
            "blk.0.ffn_up.weight");
}

TEST(Fuse, Gemma3HeadNormsPostNormsAndSoftcap) {
  const model::ModelConfig config = preset_of(model::Family::GEMMA3);
  const Graph g = build_step(config, StepShape{1, 0, 4, false});
  const FusionPlan plan = fuse_linear_epilogues(g);
  const std::vector<const FusedGroup*> layer = layer_groups(plan, 0);
  ASSERT_EQ(layer.size(), 5u);
  EXPECT_EQ(kinds(g, layer[0]->linears[0].epilogue),
            (std::vector<OpKind>{OpKind::RESHAPE, OpKind::RMS_NORM, OpKind::RESHAPE, OpKind::ROPE}));
  EXPECT_EQ(kinds(g, layer[2]->linears[0].epilogue), (std::vector<OpKind>{OpKind::RMS_NORM, OpKind::ADD}));
  EXPECT_EQ(kinds(g, layer[4]->linears[0].epilogue), (std::vector<OpKind>{OpKind::RMS_NORM, OpKind::ADD}));
  EXPECT_GE(plan.groups.front().scale, 0);  // embedding * sqrt(hidden)
  if (config.final_softcap > 0) {
    EXPECT_EQ(kinds(g, plan.groups.back().linears[0].epilogue), (std::vector<OpKind>{OpKind::SOFTCAP}));
  }
}

TEST(Fuse, Gpt2LearnedPositionsAndActivationInTheMatmul) {
  const Graph g = build_step(preset_of(model::Family::GPT2), StepShape{1, 0, 4, false});
  const FusionPlan plan = fuse_linear_epilogues(g);
  EXPECT_GE(plan.groups.front().positions, 0);
  const FusedLinear& up = layer_groups(plan, 0)[3]->linears.at(0);
  EXPECT_LT(up.gate, 0);
  EXPECT_EQ(g.ops[static_cast<size_t>(up.activation)].kind, OpKind::GELU_TANH);
}

TEST(Fuse, MoeLayerIsOneGroupWithItsResidual) {
  const Graph g = build_step(preset_of(model::Family::QWEN3_MOE), StepShape{1, 0, 4, false});
  const FusionPlan plan = fuse_linear_epilogues(g);
  const std::vector<const FusedGroup*> layer = layer_groups(plan, 0);
  ASSERT_EQ(layer.size(), 4u);  // QKV, attention, output + residual, MoE
  EXPECT_EQ(layer[3]->kind, GroupKind::MOE);
  EXPECT_GE(layer[3]->residual, 0);
  EXPECT_GE(layer[3]->pre_norm, 0);
  EXPECT_EQ(g.ops[static_cast<size_t>(layer[3]->anchor)].kind, OpKind::MOE);
}

TEST(DeadOps, RemovesUnreadResultsOnly) {
  Graph g = build_step(preset_of(model::Family::LLAMA), StepShape{2, 0, 4, false});
  EXPECT_EQ(eliminate_dead_ops(g), 0u);
  const size_t before = g.ops.size();
  // A chain of two results nobody reads: both go, the rest of the graph stays valid.
  const TensorId x = g.ops.front().output;
  const TensorId scaled =
      g.add_op(OpKind::SCALE, {x}, g.tensors[static_cast<size_t>(x)].shape, "unused_scale");
  g.add_op(OpKind::SILU, {scaled}, g.tensors[static_cast<size_t>(x)].shape, "unused_silu");
  EXPECT_EQ(eliminate_dead_ops(g), 2u);
  EXPECT_EQ(g.ops.size(), before);
  EXPECT_EQ(g.find("unused_silu"), -1);
}

TEST(Quantize, RoutersExactVectorsPlainPlusOneFolded) {
  const Graph moe = build_step(preset_of(model::Family::QWEN3_MOE), StepShape{1, 0, 4, false});
  size_t exact = 0;
  for (const StoredWeight& w : quantize_weights(moe)) {
    const Tensor& t = moe.tensors[static_cast<size_t>(w.tensor)];
    const bool router = t.name.find("ffn_gate_inp") != std::string::npos;
    EXPECT_EQ(w.storage == WeightStorage::EXACT_MATRIX, router) << t.name;
    EXPECT_EQ(w.storage == WeightStorage::VECTOR, t.shape.size() == 1) << t.name;
    exact += router ? 1 : 0;
  }
  EXPECT_EQ(exact, static_cast<size_t>(moe.config.n_layers));

  const Graph gemma = build_step(preset_of(model::Family::GEMMA3), StepShape{1, 0, 4, false});
  const std::vector<StoredWeight> stored = quantize_weights(gemma);
  size_t weights = 0;
  for (const Tensor& t : gemma.tensors) weights += t.role == TensorRole::WEIGHT ? 1 : 0;
  EXPECT_EQ(stored.size(), weights);  // each weight once, even when read twice (tied embeddings)
  for (const StoredWeight& w : stored) {
    const std::string& name = gemma.tensors[static_cast<size_t>(w.tensor)].name;
    EXPECT_EQ(w.plus_one, name.find("norm.weight") != std::string::npos) << name;
  }
}

}  // namespace
}  // namespace xpusim::graph
