// Graph IR: every preset builds and verifies at prefill and decode shapes, the traits table is complete and
// consistent, FLOP accounting matches the closed form of models.md §8, and the verifier rejects broken
// graphs.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/error.h"
#include "graph/builder.h"
#include "model/presets.h"
#include "model/tensor_specs.h"

namespace xpusim::graph {
namespace {

TEST(OpTraits, OneRowPerOpWithUniqueNames) {
  std::set<std::string_view> names;
  for (int i = 0; i < static_cast<int>(OpKind::COUNT); ++i) {
    const OpTraits& traits = op_traits(static_cast<OpKind>(i));
    EXPECT_EQ(static_cast<int>(traits.kind), i);
    EXPECT_TRUE(names.insert(traits.name).second) << traits.name;
    EXPECT_GE(traits.min_inputs, 1);
    EXPECT_TRUE(traits.max_inputs < 0 || traits.max_inputs >= traits.min_inputs);
  }
  EXPECT_TRUE(op_has(OpKind::LINEAR, OP_MATMUL));
  EXPECT_TRUE(op_has(OpKind::KV_STORE, OP_WRITES_STATE));
  EXPECT_FALSE(op_has(OpKind::ADD, OP_MATMUL));
}

TEST(Builders, EveryPresetBuildsPrefillAndDecode) {
  for (const model::Preset& preset : model::list_presets()) {
    Graph prefill = build_step(preset.config, StepShape{7, 0, 16, true});
    EXPECT_EQ(prefill.tensors[prefill.logits].shape, (std::vector<int64_t>{7, preset.config.vocab_size}));
    Graph decode = build_step(preset.config, StepShape{1, 7, 16, false});
    EXPECT_EQ(decode.tensors[decode.logits].shape, (std::vector<int64_t>{1, preset.config.vocab_size}));
    EXPECT_EQ(decode.ops.size(), prefill.ops.size()) << preset.config.name;  // same structure, other n
    // The graph reads exactly the tensors the config declares (model/tensor_specs.h), with the same shapes.
    std::map<std::string, std::vector<int64_t>> graph_weights, spec_weights;
    for (const Tensor& t : decode.tensors) {
      if (t.role == TensorRole::WEIGHT) graph_weights[t.name] = t.shape;
    }
    for (const model::TensorSpec& spec : model::tensor_specs(preset.config))
      spec_weights[spec.name] = spec.shape;
    EXPECT_EQ(graph_weights, spec_weights) << preset.config.name;
  }
}

TEST(Builders, DecodeFlopsMatchClosedForm) {
  std::optional<model::Preset> smol = model::find_preset("smollm2-135m");
  ASSERT_TRUE(smol);
  const model::ModelConfig& c = smol->config;
  const int64_t ctx = 100;
  Graph g = build_step(c, StepShape{1, ctx - 1, ctx, false});
  double linear = 0, attention = 0;
  for (const Op& op : g.ops) {
    if (op.kind == OpKind::LINEAR) linear += op_traits(op.kind).flops(g, op);
    if (op.kind == OpKind::ATTENTION) attention += op_traits(op.kind).flops(g, op);
  }
  // models.md §8: 2 x (non-embedding matmul params + V*H for the LM head); attention 4 L nq d ctx (+
  // softmax).
  const double non_embedding =
      static_cast<double>(c.param_count() - c.vocab_size * c.hidden) -
      static_cast<double>(c.n_layers * 2 * c.hidden + c.hidden);  // norms are not matmuls
  EXPECT_DOUBLE_EQ(linear, 2.0 * (non_embedding + static_cast<double>(c.vocab_size * c.hidden)));
  EXPECT_DOUBLE_EQ(attention, static_cast<double>(c.n_layers * c.n_heads * ctx) * (4.0 * c.head_dim + 4.0));
}

TEST(Builders, SlidingWindowLimitsAttentionBytes) {
  std::optional<model::Preset> gemma = model::find_preset("gemma-3-1b");
  ASSERT_TRUE(gemma);
  Graph g = build_step(gemma->config, StepShape{1, 2000, 2001, false});
  for (const Op& op : g.ops) {
    if (op.kind != OpKind::ATTENTION) continue;
    const bool local = gemma->config.layer_is_local[static_cast<size_t>(op.layer)];
    EXPECT_EQ(op.attrs.window, local ? 512 : 0);
  }
}

TEST(Verify, RejectsBrokenGraphs) {
  std::optional<model::Preset> smol = model::find_preset("smollm2-135m");
  ASSERT_TRUE(smol);
  Graph g = build_step(smol->config, StepShape{2, 0, 4, false});
  Graph reordered = g;
  std::swap(reordered.ops[2], reordered.ops[5]);
  EXPECT_THROW(verify(reordered), Error);
  Graph misshapen = g;
  for (Op& op : misshapen.ops) {
    if (op.kind == OpKind::LINEAR) {
      misshapen.tensors[op.output].shape[1] += 1;
      break;
    }
  }
  try {
    verify(misshapen);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("linear"), std::string::npos) << e.what();
  }
  EXPECT_THROW(build_step(smol->config, StepShape{4, 2, 5, false}), Error);  // past the KV capacity
  EXPECT_THROW(build_step(smol->config, StepShape{0, 0, 4, false}), Error);
}

}  // namespace
}  // namespace xpusim::graph
