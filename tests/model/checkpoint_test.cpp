// HF checkpoints -> canonical Weights: name mapping per family, GPT-2 transposes/splits, tied lm_head,
// cross-checks against tensor_specs, sharded checkpoints.
#include "model/checkpoint.h"

#include <gtest/gtest.h>

#include <charconv>

#include "model/hf_config.h"
#include "model/loader_test_util.h"
#include "model/tensor_specs.h"

namespace xpusim::model {
namespace {

using testing::expect_error;
using testing::SafetensorsBuilder;
using testing::TempDir;
using testing::write_file;

constexpr const char* kTinyLlama = R"({"model_type": "llama", "hidden_size": 16, "intermediate_size": 24,
  "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 32,
  "max_position_embeddings": 64, "tie_word_embeddings": true})";
constexpr const char* kTinyQwen3 = R"({"model_type": "qwen3", "hidden_size": 16, "intermediate_size": 24,
  "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "vocab_size": 32,
  "max_position_embeddings": 64, "tie_word_embeddings": false})";
constexpr const char* kTinyGemma3 =
    R"({"model_type": "gemma3_text", "hidden_size": 16, "intermediate_size": 24,
  "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 8, "vocab_size": 32,
  "max_position_embeddings": 64, "layer_types": ["sliding_attention", "full_attention"], "sliding_window": 8})";
constexpr const char* kTinyQwen3Moe =
    R"({"model_type": "qwen3_moe", "hidden_size": 16, "intermediate_size": 24,
  "moe_intermediate_size": 8, "num_experts": 4, "num_experts_per_tok": 2, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "vocab_size": 32,
  "max_position_embeddings": 64, "norm_topk_prob": true})";
constexpr const char* kTinyMixtral = R"({"model_type": "mixtral", "hidden_size": 16, "intermediate_size": 8,
  "num_local_experts": 4, "num_experts_per_tok": 2, "num_hidden_layers": 2, "num_attention_heads": 4,
  "num_key_value_heads": 2, "vocab_size": 32, "max_position_embeddings": 64})";
constexpr const char* kTinyGpt2 = R"({"model_type": "gpt2", "n_embd": 8, "n_head": 2, "n_layer": 1,
  "n_positions": 16, "vocab_size": 32})";

// Canonical -> HF name for the Llama-style families (the inverse of the loader's table, written out).
std::string hf_name(Family family, const std::string& canonical) {
  if (canonical == "token_embd.weight") return "model.embed_tokens.weight";
  if (canonical == "output_norm.weight") return "model.norm.weight";
  if (canonical == "output.weight") return "lm_head.weight";
  std::string_view rest(canonical);
  rest.remove_prefix(4);  // "blk."
  const size_t dot = rest.find('.');
  const std::string layer(rest.substr(0, dot));
  std::string tail(rest.substr(dot + 1));
  const std::string prefix = "model.layers." + layer + ".";
  const bool gemma = family == Family::GEMMA3;
  const bool mixtral = family == Family::MIXTRAL;
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"attn_q.", "self_attn.q_proj."},
      {"attn_k.", "self_attn.k_proj."},
      {"attn_v.", "self_attn.v_proj."},
      {"attn_output.", "self_attn.o_proj."},
      {"attn_q_norm.", "self_attn.q_norm."},
      {"attn_k_norm.", "self_attn.k_norm."},
      {"attn_norm.", "input_layernorm."},
      {"post_attention_norm.", "post_attention_layernorm."},
      {"ffn_norm.", gemma ? "pre_feedforward_layernorm." : "post_attention_layernorm."},
      {"post_ffw_norm.", "post_feedforward_layernorm."},
      {"ffn_gate_inp.", mixtral ? "block_sparse_moe.gate." : "mlp.gate."},
      {"ffn_gate_exps.", mixtral ? "block_sparse_moe.experts.E.w1." : "mlp.experts.E.gate_proj."},
      {"ffn_up_exps.", mixtral ? "block_sparse_moe.experts.E.w3." : "mlp.experts.E.up_proj."},
      {"ffn_down_exps.", mixtral ? "block_sparse_moe.experts.E.w2." : "mlp.experts.E.down_proj."},
      {"ffn_gate.", "mlp.gate_proj."},
      {"ffn_up.", "mlp.up_proj."},
      {"ffn_down.", "mlp.down_proj."}};
  for (const auto& [stem, hf] : rows) {
    if (!tail.starts_with(stem)) continue;
    tail.erase(0, stem.size());
    std::string module = hf;
    if (const size_t at = module.find(".E."); at != std::string::npos) {  // expert index
      const size_t dot_after = tail.find('.');
      module.replace(at + 1, 1, tail.substr(0, dot_after));
      tail.erase(0, dot_after + 1);
    }
    return prefix + module + tail;
  }
  ADD_FAILURE() << "no HF name for " << canonical;
  return canonical;
}

// Fills every tensor of the config with F32 values tagged by tensor index (tag * 1000 + element index).
std::string make_checkpoint(const ModelConfig& config, std::vector<std::string>* order = nullptr,
                            const std::string& skip = "", const std::string& extra = "") {
  SafetensorsBuilder builder;
  int tag = 0;
  for (const TensorSpec& spec : tensor_specs(config)) {
    ++tag;
    if (spec.name == skip) continue;
    std::vector<float> values(static_cast<size_t>(spec.elements()));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = static_cast<float>(tag * 1000 + static_cast<int>(i % 1000));
    builder.add_f32(hf_name(config.family, spec.name), spec.shape, values);
    if (order) order->push_back(spec.name);
  }
  if (!extra.empty()) builder.add_f32(extra, {2}, {1, 2});
  return builder.build();
}

float first_float(const TensorView& view) {
  float value = 0;
  std::memcpy(&value, view.data, 4);
  return value;
}

class FamilyCheckpoint : public ::testing::TestWithParam<const char*> {};

TEST_P(FamilyCheckpoint, LoadsEveryTensorZeroCopyWithCanonicalNames) {
  TempDir dir;
  write_file(dir / "config.json", GetParam());
  const ModelConfig config = load_hf_config(dir.path());
  std::vector<std::string> order;
  write_file(dir / "model.safetensors", make_checkpoint(config, &order));
  const HfCheckpoint checkpoint = load_hf_checkpoint(dir.path());
  EXPECT_EQ(checkpoint.config.family, config.family);
  ASSERT_EQ(checkpoint.weights.all().size(), order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    const TensorView& view = checkpoint.weights.get(order[i]);
    EXPECT_EQ(first_float(view), static_cast<float>((i + 1) * 1000)) << order[i];
  }
  EXPECT_EQ(checkpoint.weights.source, (dir / "model.safetensors").string());
}

INSTANTIATE_TEST_SUITE_P(Families, FamilyCheckpoint,
                         ::testing::Values(kTinyLlama, kTinyQwen3, kTinyGemma3, kTinyQwen3Moe, kTinyMixtral));

TEST(Checkpoint, GemmaNormNamesFollowTheirPosition) {
  TempDir dir;
  write_file(dir / "config.json", kTinyGemma3);
  const ModelConfig config = load_hf_config(dir.path());
  write_file(dir / "model.safetensors", make_checkpoint(config));
  const HfCheckpoint checkpoint = load_hf_checkpoint(dir.path());
  // post_attention_layernorm is the norm after attention in Gemma, the pre-MLP norm elsewhere.
  EXPECT_NE(checkpoint.weights.find("blk.0.post_attention_norm.weight"), nullptr);
  EXPECT_NE(checkpoint.weights.find("blk.0.post_ffw_norm.weight"), nullptr);
  EXPECT_NE(checkpoint.weights.find("blk.1.ffn_norm.weight"), nullptr);
}

TEST(Checkpoint, Gpt2TransposesConv1DAndSplitsCAttn) {
  TempDir dir;
  write_file(dir / "config.json", kTinyGpt2);
  const int64_t h = 8;
  auto conv = [](int64_t in, int64_t out) {  // value = 1000 * in_index + out_index
    std::vector<float> v(static_cast<size_t>(in * out));
    for (int64_t i = 0; i < in; ++i) {
      for (int64_t o = 0; o < out; ++o)
        v[static_cast<size_t>(i * out + o)] = static_cast<float>(1000 * i + o);
    }
    return v;
  };
  auto iota = [](int64_t n, float start) {
    std::vector<float> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<float>(i);
    return v;
  };
  SafetensorsBuilder builder;
  builder.add_f32("transformer.wte.weight", {32, h}, iota(32 * h, 0))
      .add_f32("transformer.wpe.weight", {16, h}, iota(16 * h, 0))
      .add_f32("transformer.ln_f.weight", {h}, iota(h, 0))
      .add_f32("transformer.ln_f.bias", {h}, iota(h, 0))
      .add_f32("transformer.h.0.ln_1.weight", {h}, iota(h, 0))
      .add_f32("transformer.h.0.ln_1.bias", {h}, iota(h, 0))
      .add_f32("transformer.h.0.ln_2.weight", {h}, iota(h, 0))
      .add_f32("transformer.h.0.ln_2.bias", {h}, iota(h, 0))
      .add_f32("transformer.h.0.attn.c_attn.weight", {h, 3 * h}, conv(h, 3 * h))
      .add_f32("transformer.h.0.attn.c_attn.bias", {3 * h}, iota(3 * h, 0))
      .add_f32("transformer.h.0.attn.c_proj.weight", {h, h}, conv(h, h))
      .add_f32("transformer.h.0.attn.c_proj.bias", {h}, iota(h, 0))
      .add_f32("transformer.h.0.attn.bias", {1, 1, 16, 16}, iota(256, 0))  // causal-mask buffer, skipped
      .add_f32("transformer.h.0.mlp.c_fc.weight", {h, 4 * h}, conv(h, 4 * h))
      .add_f32("transformer.h.0.mlp.c_fc.bias", {4 * h}, iota(4 * h, 0))
      .add_f32("transformer.h.0.mlp.c_proj.weight", {4 * h, h}, conv(4 * h, h))
      .add_f32("transformer.h.0.mlp.c_proj.bias", {h}, iota(h, 0));
  write_file(dir / "model.safetensors", builder.build());
  const HfCheckpoint checkpoint = load_hf_checkpoint(dir.path());
  const Weights& w = checkpoint.weights;
  auto at = [&](const std::string& name, int64_t row, int64_t col) {
    const TensorView& view = w.get(name);
    float value = 0;
    std::memcpy(&value, view.data + static_cast<size_t>(row * view.shape[1] + col) * 4, 4);
    return value;
  };
  // Linear [out, in]: element (o, i) = Conv1D (i, o) = 1000 * i + o (+ h / 2h for k / v).
  EXPECT_EQ(w.get("blk.0.attn_q.weight").shape, (std::vector<int64_t>{h, h}));
  EXPECT_EQ(at("blk.0.attn_q.weight", 3, 5), 5003.0f);
  EXPECT_EQ(at("blk.0.attn_k.weight", 3, 5), 5000.0f + h + 3);
  EXPECT_EQ(at("blk.0.attn_v.weight", 7, 1), 1000.0f + 2 * h + 7);
  EXPECT_EQ(at("blk.0.ffn_up.weight", 20, 2), 2020.0f);
  EXPECT_EQ(w.get("blk.0.ffn_down.weight").shape, (std::vector<int64_t>{h, 4 * h}));
  EXPECT_EQ(at("blk.0.ffn_down.weight", 6, 30), 30006.0f);
  EXPECT_EQ(first_float(w.get("blk.0.attn_v.bias")), static_cast<float>(2 * h));
  EXPECT_EQ(w.find("output.weight"), nullptr);
}

TEST(Checkpoint, TiedLmHeadAcceptedOnlyWhenEqualToEmbedding) {
  TempDir dir;
  write_file(dir / "config.json", kTinyLlama);
  const ModelConfig config = load_hf_config(dir.path());
  std::vector<float> embedding(32 * 16, 0.5f);
  auto with_head = [&](float head_value) {
    SafetensorsBuilder builder;
    for (const TensorSpec& spec : tensor_specs(config)) {
      builder.add_f32(hf_name(config.family, spec.name), spec.shape,
                      spec.name == "token_embd.weight"
                          ? embedding
                          : std::vector<float>(static_cast<size_t>(spec.elements()), 1.0f));
    }
    builder.add_f32("lm_head.weight", {32, 16}, std::vector<float>(32 * 16, head_value));
    return builder.build();
  };
  write_file(dir / "model.safetensors", with_head(0.5f));
  const HfCheckpoint ok = load_hf_checkpoint(dir.path());
  EXPECT_EQ(ok.weights.find("output.weight"), nullptr);
  write_file(dir / "model.safetensors", with_head(0.25f));
  expect_error([&] { load_hf_checkpoint(dir.path()); }, {"model.safetensors", "lm_head.weight", "differs"});
}

TEST(CheckpointBadInput, MissingExtraMisshapenAndIntegerTensors) {
  TempDir dir;
  write_file(dir / "config.json", kTinyQwen3);
  const ModelConfig config = load_hf_config(dir.path());
  write_file(dir / "model.safetensors", make_checkpoint(config, nullptr, "blk.1.attn_k_norm.weight"));
  expect_error([&] { load_hf_checkpoint(dir.path()); },
               {"model.safetensors", "missing tensor 'blk.1.attn_k_norm.weight'"});
  write_file(dir / "model.safetensors",
             make_checkpoint(config, nullptr, "", "model.layers.0.mlp.weird.weight"));
  expect_error([&] { load_hf_checkpoint(dir.path()); },
               {"model.safetensors", "'model.layers.0.mlp.weird.weight' is not part of a qwen3 model"});
  write_file(dir / "model.safetensors",
             make_checkpoint(config, nullptr, "", "model.layers.0.self_attn.q_proj.bias"));
  expect_error([&] { load_hf_checkpoint(dir.path()); },
               {"'model.layers.0.self_attn.q_proj.bias' (blk.0.attn_q.bias) is not part of a qwen3 model"});
  // Config says 4 heads x 8; the file's q_proj is [24, 16].
  SafetensorsBuilder builder;
  for (const TensorSpec& spec : tensor_specs(config)) {
    std::vector<int64_t> shape = spec.shape;
    if (spec.name == "blk.0.attn_q.weight") shape[0] = 24;
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    builder.add_f32(hf_name(config.family, spec.name), shape,
                    std::vector<float>(static_cast<size_t>(n), 0.0f));
  }
  write_file(dir / "model.safetensors", builder.build());
  expect_error([&] { load_hf_checkpoint(dir.path()); },
               {"model.safetensors",
                "'model.layers.0.self_attn.q_proj.weight' (blk.0.attn_q.weight) has shape [24, 16], "
                "config says [32, 16]"});
  SafetensorsBuilder ints;
  for (const TensorSpec& spec : tensor_specs(config)) {
    const std::string bytes(static_cast<size_t>(spec.elements()) * 4, '\0');
    ints.add(hf_name(config.family, spec.name), spec.name == "output_norm.weight" ? "I32" : "F32", spec.shape,
             bytes);
  }
  write_file(dir / "model.safetensors", ints.build());
  expect_error([&] { load_hf_checkpoint(dir.path()); },
               {"'model.norm.weight' (output_norm.weight) has dtype I32"});
}

TEST(CheckpointBadInput, ConfigAndWeightsFolderProblems) {
  TempDir dir;
  expect_error([&] { load_hf_checkpoint(dir.path()); }, {"config.json", "cannot open"});
  write_file(dir / "config.json", kTinyLlama);
  expect_error([&] { load_hf_checkpoint(dir.path()); }, {"no model.safetensors"});
  write_file(dir / "config.json", R"({"model_type": "t5", "d_model": 512})");
  expect_error([&] { load_hf_checkpoint(dir.path()); }, {"config.json", "'model_type' is 't5'"});
}

TEST(Checkpoint, ShardedCheckpointLoads) {
  TempDir dir;
  write_file(dir / "config.json", kTinyMixtral);
  const ModelConfig config = load_hf_config(dir.path());
  const auto specs = tensor_specs(config);
  SafetensorsBuilder first;
  SafetensorsBuilder second;
  std::string index = R"({"metadata": {}, "weight_map": {)";
  for (size_t i = 0; i < specs.size(); ++i) {
    const std::string name = hf_name(config.family, specs[i].name);
    const std::string shard = i % 2 ? "b.safetensors" : "a.safetensors";
    (i % 2 ? second : first)
        .add_f32(name, specs[i].shape, std::vector<float>(static_cast<size_t>(specs[i].elements()), 1.0f));
    index += (i ? ",\"" : "\"") + name + "\": \"" + shard + "\"";
  }
  index += "}}";
  write_file(dir / "a.safetensors", first.build());
  write_file(dir / "b.safetensors", second.build());
  write_file(dir / "model.safetensors.index.json", index);
  const HfCheckpoint checkpoint = load_hf_checkpoint(dir.path());
  EXPECT_EQ(checkpoint.weights.all().size(), specs.size());
  EXPECT_NE(checkpoint.weights.find("blk.1.ffn_down_exps.3.weight"), nullptr);
}

}  // namespace
}  // namespace xpusim::model
