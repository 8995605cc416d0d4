// Presets (models/*.toml): every file parses and validates, shapes give the exact parameter counts of
// shared/reference/models.md §1, and bad files fail with the file, key and line.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <unistd.h>

#include "core/error.h"
#include "model/loader.h"
#include "model/presets.h"
#include "model/synthetic.h"

namespace xpusim::model {
namespace {

TEST(Presets, ParameterCountsMatchModelsMd) {
  const std::map<std::string, std::pair<int64_t, int64_t>> expected = {
      {"gpt2", {124'439'808, 124'439'808}},
      {"smollm2-135m", {134'515'008, 134'515'008}},
      {"llama-3.2-1b", {1'235'814'400, 1'235'814'400}},
      {"llama-3.2-3b", {3'212'749'824, 3'212'749'824}},
      {"qwen3-1.7b", {1'720'574'976, 1'720'574'976}},
      {"gemma-3-1b", {999'885'952, 999'885'952}},
      {"qwen3-30b-a3b", {30'532'122'624, 3'353'032'704}},
      {"mixtral-8x7b", {46'702'792'704, 12'879'925'248}},
      // Timing presets (HF config.json shapes; the Llama and SmolLM2 counts equal the HF model cards').
      {"llama-2-7b", {6'738'415'616, 6'738'415'616}},
      {"llama-2-70b", {68'976'648'192, 68'976'648'192}},
      {"llama-3.1-8b", {8'030'261'248, 8'030'261'248}},
      {"llama-3.1-70b", {70'553'706'496, 70'553'706'496}},
      {"smollm2-1.7b", {1'711'376'384, 1'711'376'384}},
      {"gpt2-large", {774'030'080, 774'030'080}},
      // HF 2,614,341,888 + the gemma3 graph's q/k norm gains (26 x 2 x 256).
      {"gemma-2-2b", {2'614'355'200, 2'614'355'200}},
      // HF 2,506,172,416 + gemma3's q/k norms and post-attention/post-FFN norms (18 x (512 + 2 x 2048)).
      {"gemma-2b", {2'506'255'360, 2'506'255'360}},
      // HF 6,050,882,784 + the gpt2 graph's position table (2048 x 4096), qkv and out biases and second
      // LayerNorm (28 x (3 x 4096 + 4096 + 2 x 4096)) - GPT-J's lm_head bias (50,400).
      {"gpt-j-6b", {6'059'909'120, 6'059'909'120}},
  };
  std::vector<Preset> presets = list_presets();
  ASSERT_EQ(presets.size(), expected.size());
  for (const Preset& preset : presets) {
    auto it = expected.find(preset.config.name);
    ASSERT_NE(it, expected.end()) << preset.config.name << " has no expected count here";
    EXPECT_EQ(preset.config.param_count(), it->second.first) << preset.config.name;
    EXPECT_EQ(preset.config.active_param_count(), it->second.second) << preset.config.name;
  }
}

TEST(Presets, GemmaLayerPatternAndScales) {
  std::optional<Preset> gemma = find_preset("gemma-3-1b");
  ASSERT_TRUE(gemma);
  const ModelConfig& c = gemma->config;
  ASSERT_EQ(c.layer_is_local.size(), 26u);
  int global = 0;
  for (size_t i = 0; i < 26; ++i) global += c.layer_is_local[i] ? 0 : 1;
  EXPECT_EQ(global, 4);
  EXPECT_FALSE(c.layer_is_local[5]);
  EXPECT_TRUE(c.layer_is_local[0]);
  EXPECT_DOUBLE_EQ(c.effective_attn_scale(), 1.0 / 16.0);
  EXPECT_EQ(c.norm, NormKind::RMS_NORM_PLUS_ONE);
  EXPECT_DOUBLE_EQ(c.rope.theta_local, 10000.0);
}

TEST(Presets, UnknownNamesAreNotFound) {
  EXPECT_FALSE(find_preset("no-such-model"));
  EXPECT_FALSE(find_preset("../models/gpt2"));
}

class PresetFile : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& text) {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("xpusim_preset_test_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    path /= name + ".toml";
    std::ofstream(path) << text;
    return path;
  }
  std::string error_of(const std::filesystem::path& path) {
    try {
      load_preset_file(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  const std::string m_valid =
      "name = \"tiny\"\nfamily = \"llama\"\nvocab_size = 64\nhidden = 16\nn_layers = 2\nn_heads = 2\n"
      "n_kv_heads = 1\nhead_dim = 8\nffn_hidden = 32\nmax_positions = 64\neos_token_ids = [2]\n";
};

TEST_F(PresetFile, ValidFileLoads) {
  Preset preset = load_preset_file(write("tiny", m_valid));
  EXPECT_EQ(preset.config.hidden, 16);
  EXPECT_EQ(preset.config.family, Family::LLAMA);
}

TEST_F(PresetFile, UnknownKeyNamesFileKeyAndLine) {
  std::string error = error_of(write("tiny", m_valid + "hiden = 3\n"));
  EXPECT_NE(error.find("tiny.toml:12"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown key 'hiden'"), std::string::npos) << error;
}

TEST_F(PresetFile, BadValuesAndFamiliesAreErrors) {
  EXPECT_NE(error_of(write("tiny", m_valid + "[rope]\ntheta = -1.0\n")).find("rope.theta"),
            std::string::npos);
  std::string bad_family = m_valid;
  bad_family.replace(bad_family.find("llama"), 5, "llamb");
  EXPECT_NE(error_of(write("tiny", bad_family)).find("unknown family 'llamb'"), std::string::npos);
  EXPECT_NE(error_of(write("tiny", m_valid + "[extra]\nx = 1\n")).find("unknown table [extra]"),
            std::string::npos);
  EXPECT_NE(error_of(write("tiny", "name = \"tiny\"\nfamily = \"llama\"\nhidden = \n")).find("tiny.toml:3"),
            std::string::npos);
  EXPECT_NE(error_of(write("other", m_valid)).find("must equal the file name"), std::string::npos);
}

TEST(Synthetic, DeterministicAndShaped) {
  ModelConfig config = family_defaults(Family::GEMMA3);
  config.name = "tiny-gemma";
  config.vocab_size = 64;
  config.hidden = 16;
  config.n_layers = 2;
  config.n_heads = 2;
  config.n_kv_heads = 1;
  config.head_dim = 8;
  config.ffn_hidden = 32;
  config.max_positions = 64;
  config.eos_token_ids = {1};
  Weights a = make_synthetic_weights(config, 7), b = make_synthetic_weights(config, 7);
  Weights c = make_synthetic_weights(config, 8);
  EXPECT_TRUE(a.synthetic);
  EXPECT_NE(a.source.find("synthetic"), std::string::npos);
  EXPECT_EQ(a.total_bytes(), synthetic_weight_bytes(config));
  const TensorView& qa = a.get("blk.1.attn_q.weight", {16, 16});
  const TensorView& qb = b.get("blk.1.attn_q.weight");
  const TensorView& qc = c.get("blk.1.attn_q.weight");
  EXPECT_EQ(std::memcmp(qa.data, qb.data, qa.bytes), 0);
  EXPECT_NE(std::memcmp(qa.data, qc.data, qa.bytes), 0);
  // Gemma norms are stored as w with (1 + w) applied by the kernel: synthetic w = 0.
  const TensorView& norm = a.get("blk.0.attn_norm.weight");
  for (size_t i = 0; i < norm.bytes; ++i) EXPECT_EQ(norm.data[i], std::byte{0});
}

TEST(Synthetic, HugePresetFailsCleanlyInsteadOfAllocating) {
  std::optional<Preset> mixtral = find_preset("mixtral-8x7b");
  ASSERT_TRUE(mixtral);
  if (available_memory_bytes() > synthetic_weight_bytes(mixtral->config))
    GTEST_SKIP() << "this machine is huge";
  try {
    make_synthetic_weights(mixtral->config);
    FAIL() << "expected an out-of-memory error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mixtral-8x7b: synthetic weights need"), std::string::npos)
        << e.what();
  }
}

TEST(Loader, UnknownModelListsPresets) {
  try {
    load_model("no-such-model");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("smollm2-135m"), std::string::npos) << e.what();
  }
}

TEST(Loader, CheckpointFolderByPath) {
  LoadedModel loaded = load_model(std::string(XPUSIM_TEST_DATA) + "/models/llama");
  EXPECT_FALSE(loaded.synthetic);
  EXPECT_EQ(loaded.config.hidden, 64);
  EXPECT_NE(loaded.source.find("models/llama"), std::string::npos);
}

}  // namespace
}  // namespace xpusim::model
