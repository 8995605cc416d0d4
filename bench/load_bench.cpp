// Checkpoint loading speed (issue 2 target: a 1 GB safetensors checkpoint loads in under 1 s, thanks to
// mmap). Writes a ~1.1 GB bf16 Llama-shaped checkpoint (8 layers, hidden 2048, ffn 8192, vocab 32000) to
// /tmp/xpusim_load_bench once (reused while its size matches), then measures:
//   BM_LoadHfCheckpoint: config.json + mmap + header parse + name mapping + shape cross-check, touching every
//                        view's metadata (what `xpusim run --model <dir>` pays before the first token);
//   BM_OpenSafetensors:  the safetensors parse alone.
// Pages of tensor data are not read (zero-copy): that cost lands on the first forward pass instead.
#include <benchmark/benchmark.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "model/checkpoint.h"
#include "model/hf_config.h"
#include "model/safetensors.h"
#include "model/tensor_specs.h"

namespace {

namespace fs = std::filesystem;
using namespace xpusim::model;

constexpr const char* kConfig = R"({"model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192,
  "num_hidden_layers": 8, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000,
  "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": true})";

std::string hf_name(const std::string& canonical) {
  if (canonical == "token_embd.weight") return "model.embed_tokens.weight";
  if (canonical == "output_norm.weight") return "model.norm.weight";
  const size_t dot = canonical.find('.', 4);
  const std::string layer = canonical.substr(4, dot - 4);
  const std::string rest = canonical.substr(dot + 1);
  static const std::map<std::string, std::string> table = {
      {"attn_norm.weight", "input_layernorm.weight"}, {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},   {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},   {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},    {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"}};
  return fmt::format("model.layers.{}.{}", layer, table.at(rest));
}

// Writes the checkpoint once; returns its folder.
const fs::path& checkpoint_dir() {
  static const fs::path dir = [] {
    const fs::path path = fs::temp_directory_path() / "xpusim_load_bench";
    fs::create_directories(path);
    std::ofstream(path / "config.json") << kConfig;
    const ModelConfig config = parse_hf_config(kConfig, "bench config");
    std::string header = "{";
    uint64_t offset = 0;
    for (const TensorSpec& spec : tensor_specs(config)) {
      const uint64_t bytes = static_cast<uint64_t>(spec.elements()) * 2;
      header += fmt::format(R"({}"{}":{{"dtype":"BF16","shape":[{}],"data_offsets":[{},{}]}})",
                            header.size() > 1 ? "," : "", hf_name(spec.name), fmt::join(spec.shape, ","),
                            offset, offset + bytes);
      offset += bytes;
    }
    header += "}";
    const uint64_t total = 8 + header.size() + offset;
    const fs::path file = path / "model.safetensors";
    std::error_code error;
    if (fs::file_size(file, error) != total || error) {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      const uint64_t length = header.size();
      out.write(reinterpret_cast<const char*>(&length), 8);
      out << header;
      std::vector<char> chunk(1 << 20);
      for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i * 131 + 7);  // not sparse
      for (uint64_t written = 0; written < offset; written += chunk.size()) {
        out.write(chunk.data(),
                  static_cast<std::streamsize>(std::min<uint64_t>(chunk.size(), offset - written)));
      }
    }
    return path;
  }();
  return dir;
}

void BM_LoadHfCheckpoint(benchmark::State& state) {
  const fs::path& dir = checkpoint_dir();
  size_t bytes = 0;
  for (auto _ : state) {
    const HfCheckpoint checkpoint = load_hf_checkpoint(dir);
    size_t sum = 0;
    for (const auto& [name, view] : checkpoint.weights.all())
      sum += view.bytes + view.shape.size() + name.size();
    benchmark::DoNotOptimize(sum);
    bytes = checkpoint.weights.total_bytes();
  }
  state.counters["checkpoint_GB"] = static_cast<double>(bytes) / 1e9;
}
BENCHMARK(BM_LoadHfCheckpoint)->Unit(benchmark::kMillisecond);

void BM_OpenSafetensors(benchmark::State& state) {
  const fs::path file = checkpoint_dir() / "model.safetensors";
  for (auto _ : state) {
    const SafetensorsFile parsed = open_safetensors(file);
    benchmark::DoNotOptimize(parsed.tensors.data());
  }
}
BENCHMARK(BM_OpenSafetensors)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
