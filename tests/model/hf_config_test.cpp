// HF config.json -> ModelConfig for every supported family (real Hub shapes), and bad configs.
#include "model/hf_config.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/loader_test_util.h"

namespace xpusim::model {
namespace {

using testing::expect_error;

constexpr const char* kSmolLM2 = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
  "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "vocab_size": 49152,
  "max_position_embeddings": 8192, "rms_norm_eps": 1e-05, "rope_theta": 100000, "rope_scaling": null,
  "tie_word_embeddings": true, "hidden_act": "silu", "bos_token_id": 0, "eos_token_id": 0,
  "attention_bias": false, "mlp_bias": false, "torch_dtype": "bfloat16"})";

constexpr const char* kLlama32_1B = R"({
  "model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
  "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64, "vocab_size": 128256,
  "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "tie_word_embeddings": true, "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009]})";

constexpr const char* kQwen3_1_7B = R"({
  "model_type": "qwen3", "hidden_size": 2048, "intermediate_size": 6144, "num_hidden_layers": 28,
  "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936,
  "max_position_embeddings": 40960, "rms_norm_eps": 1e-06, "rope_theta": 1000000, "rope_scaling": null,
  "tie_word_embeddings": true, "use_sliding_window": false, "sliding_window": null, "bos_token_id": 151643,
  "eos_token_id": 151645, "attention_bias": false})";

constexpr const char* kGemma3_1B = R"({
  "model_type": "gemma3_text", "hidden_size": 1152, "intermediate_size": 6912, "num_hidden_layers": 26,
  "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 256, "vocab_size": 262144,
  "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 1000000, "rope_local_base_freq": 10000,
  "rope_scaling": null, "sliding_window": 512, "sliding_window_pattern": 6, "query_pre_attn_scalar": 256,
  "hidden_activation": "gelu_pytorch_tanh", "attn_logit_softcapping": null, "final_logit_softcapping": null,
  "bos_token_id": 2, "eos_token_id": [1, 106], "pad_token_id": 0})";

constexpr const char* kQwen3_30B_A3B = R"({
  "model_type": "qwen3_moe", "hidden_size": 2048, "intermediate_size": 6144, "moe_intermediate_size": 768,
  "num_hidden_layers": 48, "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128,
  "num_experts": 128, "num_experts_per_tok": 8, "norm_topk_prob": true, "decoder_sparse_step": 1,
  "mlp_only_layers": [], "vocab_size": 151936, "max_position_embeddings": 40960, "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0, "tie_word_embeddings": false, "use_sliding_window": false})";

constexpr const char* kMixtral = R"({
  "model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
  "num_attention_heads": 32, "num_key_value_heads": 8, "num_local_experts": 8, "num_experts_per_tok": 2,
  "vocab_size": 32000, "max_position_embeddings": 32768, "rms_norm_eps": 1e-05, "rope_theta": 1000000.0,
  "sliding_window": null, "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2})";

constexpr const char* kGpt2 = R"({
  "model_type": "gpt2", "activation_function": "gelu_new", "n_embd": 768, "n_head": 12, "n_layer": 12,
  "n_positions": 1024, "n_ctx": 1024, "n_inner": null, "layer_norm_epsilon": 1e-05, "vocab_size": 50257,
  "bos_token_id": 50256, "eos_token_id": 50256})";

TEST(HfConfig, SmolLM2) {
  const ModelConfig c = parse_hf_config(kSmolLM2, "config.json");
  EXPECT_EQ(c.family, Family::LLAMA);
  EXPECT_EQ(c.hidden, 576);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rope.theta, 100000.0);
  EXPECT_EQ(c.rope.scaling, RopeScaling::NONE);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.param_count(), 134'515'008);
  EXPECT_EQ(c.active_param_count(), 134'515'008);
  EXPECT_EQ(c.kv_bytes_per_token(2), 23'040);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{0});
}

TEST(HfConfig, Llama32WithLlama3RopeScaling) {
  const ModelConfig c = parse_hf_config(kLlama32_1B, "config.json");
  EXPECT_EQ(c.rope.scaling, RopeScaling::LLAMA3);
  EXPECT_EQ(c.rope.factor, 32.0);
  EXPECT_EQ(c.rope.low_freq_factor, 1.0);
  EXPECT_EQ(c.rope.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope.original_max_positions, 8192);
  EXPECT_EQ(c.rope.theta, 500000.0);
  EXPECT_EQ(c.param_count(), 1'235'814'400);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(c.bos_token_id, 128000);
}

TEST(HfConfig, Transformers5RopeParameters) {
  const ModelConfig c = parse_hf_config(R"({"model_type": "llama", "hidden_size": 16, "intermediate_size": 32,
    "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 64,
    "max_position_embeddings": 2048, "rope_parameters": {"factor": 32.0, "high_freq_factor": 4.0,
    "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_theta": 500000.0, "rope_type": "llama3"},
    "tie_word_embeddings": true})",
                                        "config.json");
  EXPECT_EQ(c.rope.scaling, RopeScaling::LLAMA3);
  EXPECT_EQ(c.rope.theta, 500000.0);
  EXPECT_EQ(c.head_dim, 4);
  EXPECT_EQ(c.norm_eps, 1e-6);
}

TEST(HfConfig, Qwen3) {
  const ModelConfig c = parse_hf_config(kQwen3_1_7B, "config.json");
  EXPECT_EQ(c.family, Family::QWEN3);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.param_count(), 1'720'574'976);
  EXPECT_EQ(c.kv_bytes_per_token(2), 114'688);
}

TEST(HfConfig, Gemma3TextAndLayerPattern) {
  const ModelConfig c = parse_hf_config(kGemma3_1B, "config.json");
  EXPECT_EQ(c.family, Family::GEMMA3);
  EXPECT_EQ(c.norm, NormKind::RMS_NORM_PLUS_ONE);
  EXPECT_EQ(c.activation, Activation::GELU_TANH);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_DOUBLE_EQ(c.effective_attn_scale(), 1.0 / 16.0);
  EXPECT_DOUBLE_EQ(c.embed_scale, std::sqrt(1152.0));
  EXPECT_EQ(c.rope.theta, 1e6);
  EXPECT_EQ(c.rope.theta_local, 1e4);
  EXPECT_EQ(c.sliding_window, 512);
  ASSERT_EQ(c.layer_is_local.size(), 26u);
  int global = 0;
  for (size_t i = 0; i < 26; ++i) {
    EXPECT_EQ(c.layer_is_local[i], (i + 1) % 6 != 0) << i;
    global += c.layer_is_local[i] ? 0 : 1;
  }
  EXPECT_EQ(global, 4);
  EXPECT_EQ(c.param_count(), 999'885'952);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{1, 106}));
}

TEST(HfConfig, Gemma3Transformers5AndMultimodalWrapper) {
  const ModelConfig v5 = parse_hf_config(R"({"model_type": "gemma3_text", "hidden_size": 16,
    "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1,
    "head_dim": 8, "vocab_size": 64, "max_position_embeddings": 131072, "query_pre_attn_scalar": 256,
    "layer_types": ["sliding_attention", "full_attention"], "sliding_window": 4096,
    "rope_parameters": {"full_attention": {"rope_theta": 1000000.0, "rope_type": "linear", "factor": 8.0},
                        "sliding_attention": {"rope_theta": 10000.0, "rope_type": "default"}}})",
                                         "config.json");
  EXPECT_EQ(v5.layer_is_local, (std::vector<bool>{true, false}));
  EXPECT_EQ(v5.rope.scaling, RopeScaling::LINEAR);
  EXPECT_EQ(v5.rope.factor, 8.0);
  EXPECT_EQ(v5.rope.theta_local, 10000.0);
  EXPECT_DOUBLE_EQ(v5.effective_attn_scale(), 1.0 / 16.0);
  const ModelConfig wrapped = parse_hf_config(R"({"model_type": "gemma3", "eos_token_id": [1, 106],
    "text_config": {"model_type": "gemma3_text", "hidden_size": 2560, "intermediate_size": 10240,
    "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024}})",
                                              "config.json");
  EXPECT_EQ(wrapped.family, Family::GEMMA3);
  EXPECT_EQ(wrapped.n_heads, 8);  // Gemma3TextConfig default
  EXPECT_EQ(wrapped.vocab_size, 262208);
  EXPECT_EQ(wrapped.rope.scaling, RopeScaling::LINEAR);
  EXPECT_EQ(wrapped.eos_token_ids, (std::vector<int64_t>{1, 106}));
}

TEST(HfConfig, Qwen3Moe) {
  const ModelConfig c = parse_hf_config(kQwen3_30B_A3B, "config.json");
  EXPECT_EQ(c.family, Family::QWEN3_MOE);
  EXPECT_EQ(c.n_experts, 128);
  EXPECT_EQ(c.n_experts_used, 8);
  EXPECT_EQ(c.expert_ffn_hidden, 768);
  EXPECT_TRUE(c.norm_topk_prob);
  EXPECT_FALSE(c.tied_embeddings);
  EXPECT_EQ(c.param_count(), 30'532'122'624);
  EXPECT_EQ(c.active_param_count(), 3'353'032'704);
  EXPECT_EQ(c.kv_bytes_per_token(2), 98'304);
}

TEST(HfConfig, Mixtral) {
  const ModelConfig c = parse_hf_config(kMixtral, "config.json");
  EXPECT_EQ(c.family, Family::MIXTRAL);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.expert_ffn_hidden, 14336);
  EXPECT_EQ(c.param_count(), 46'702'792'704);
  EXPECT_EQ(c.active_param_count(), 12'879'925'248);
  EXPECT_TRUE(c.layer_is_local.empty());
}

TEST(HfConfig, Gpt2) {
  const ModelConfig c = parse_hf_config(kGpt2, "config.json");
  EXPECT_EQ(c.family, Family::GPT2);
  EXPECT_EQ(c.norm, NormKind::LAYER_NORM);
  EXPECT_FALSE(c.gated_mlp);
  EXPECT_TRUE(c.attn_bias);
  EXPECT_TRUE(c.learned_positions);
  EXPECT_FALSE(c.rope.enabled);
  EXPECT_EQ(c.ffn_hidden, 3072);
  EXPECT_EQ(c.max_positions, 1024);
  EXPECT_EQ(c.param_count(), 124'439'808);
  EXPECT_EQ(c.kv_bytes_per_token(2), 36'864);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{50256});
}

TEST(HfConfig, GenerationConfigEosWinsAndOutOfVocabIdsAreDropped) {
  const ModelConfig c = parse_hf_config(kSmolLM2, "config.json", R"({"eos_token_id": [2, 49151, 99999]})");
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{2, 49151}));
}

TEST(HfConfig, LoadsFromFolder) {
  testing::TempDir dir;
  testing::write_file(dir / "config.json", kSmolLM2);
  testing::write_file(dir / "generation_config.json", R"({"eos_token_id": 2})");
  const ModelConfig c = load_hf_config(dir.path());
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{2});
  EXPECT_EQ(c.name, dir.path().filename().string());
  expect_error([&] { load_hf_config(dir / "nope"); }, {"nope", "cannot open"});
}

// Replaces `"key": value` in kSmolLM2 (or removes it when `value` is empty).
std::string smollm2_with(const std::string& key, const std::string& value) {
  std::string text = kSmolLM2;
  const std::string needle = "\"" + key + "\": ";
  const size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << key;
  const size_t end = text.find_first_of(",}", at + needle.size());
  if (value.empty()) return text.erase(at, end + 1 - at);
  return text.replace(at + needle.size(), end - at - needle.size(), value);
}

TEST(HfConfigBadInput, MissingAndAbsurdFields) {
  auto bad = [](const std::string& text, const std::vector<std::string>& parts) {
    std::vector<std::string> all = parts;
    all.push_back("my/config.json");
    expect_error([&] { parse_hf_config(text, "my/config.json"); }, all);
  };
  bad(smollm2_with("hidden_size", ""), {"missing field 'hidden_size'"});
  bad(smollm2_with("hidden_size", "-576"), {"'hidden_size' is -576"});
  bad(smollm2_with("hidden_size", "0"), {"'hidden_size' is 0"});
  bad(smollm2_with("hidden_size", "\"576\""), {"'hidden_size' must be an integer"});
  bad(smollm2_with("hidden_size", "577"),
      {"'hidden_size' (577) is not divisible by 'num_attention_heads' (9)"});
  bad(smollm2_with("num_key_value_heads", "4"),
      {"'num_attention_heads' (9) is not a multiple of 'num_key_value_heads' (4)"});
  bad(smollm2_with("vocab_size", "20000000"), {"'vocab_size' is 20000000"});
  bad(smollm2_with("num_hidden_layers", "1e9"), {"'num_hidden_layers' is 1000000000"});
  bad(smollm2_with("num_attention_heads", "null"), {"missing field 'num_attention_heads'"});
  bad(smollm2_with("rms_norm_eps", "-1"), {"norm_eps"});
  bad(smollm2_with("hidden_act", "\"swiglu9\""), {"'hidden_act' is 'swiglu9'"});
  bad(smollm2_with("tie_word_embeddings", "\"yes\""), {"'tie_word_embeddings' must be true or false"});
  bad(smollm2_with("rope_scaling", R"({"rope_type": "yarn", "factor": 4})"),
      {"rope type 'yarn' is not supported"});
  bad(smollm2_with("rope_scaling", R"({"rope_type": "llama3", "factor": 8})"),
      {"missing field 'low_freq_factor'"});
  bad(smollm2_with("model_type", "\"bert\""), {"'model_type' is 'bert', not a supported architecture"});
  bad(smollm2_with("model_type", ""), {"missing field 'model_type'"});
  bad("{\"model_type\": \"llama\",", {"invalid JSON"});
  bad("[1]", {"not a JSON object"});
  bad(R"({"model_type": "llama", "model_type": "gpt2"})", {"duplicate key 'model_type'"});
  bad(std::string(kQwen3_30B_A3B)
          .replace(std::string(kQwen3_30B_A3B).find("\"num_experts_per_tok\": 8"), 24,
                   "\"num_experts_per_tok\": 200"),
      {"'num_experts_per_tok' is 200"});
  bad(std::string(kGemma3_1B)
          .replace(std::string(kGemma3_1B).find("\"sliding_window_pattern\": 6"), 27,
                   "\"layer_types\": [\"full_attention\"]"),
      {"'layer_types' must list 26"});
}

}  // namespace
}  // namespace xpusim::model
