#include <fmt/ranges.h>

#include <sys/mman.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "model/checkpoint.h"
#include "model/gguf_model.h"
#include "numerics/decode.h"

namespace xpusim::model {
namespace {

// "blk.12.ffn_gate_exps.weight" -> {12, "ffn_gate_exps.weight"}.
struct BlockName {
  int64_t layer = -1;
  std::string_view rest;
};

BlockName split_block_name(std::string_view name) {
  if (!name.starts_with("blk.")) return {};
  name.remove_prefix(4);
  int64_t layer = 0;
  auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), layer);
  if (error != std::errc() || end == name.data() + name.size() || *end != '.') return {};
  return {layer, name.substr(static_cast<size_t>(end - name.data()) + 1)};
}

// The whole pages of `bytes` in a read-only private file mapping leave this process's resident set (the page
// cache keeps them; a later read faults them back in from the file). For tensors the loader copied (rows
// re-ordered, values adjusted): the copy replaces the mapped pages instead of doubling them.
void release_mapped_pages(const std::byte* data, size_t bytes) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(page - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

class GgufMapper {
 public:
  GgufMapper(const ModelConfig& config, const GgufFile& file, Weights& weights)
      : m_config(config), m_file(file), m_weights(weights) {}

  void add(const GgufTensorInfo& info) {
    const TensorView view = info.view();
    const BlockName block = split_block_name(info.name);
    const bool llama_arch = m_config.family == Family::LLAMA || m_config.family == Family::MIXTRAL;
    if (info.name == "rope_freqs.weight") return;  // became config.rope (config_from_gguf)
    if (m_config.family == Family::GEMMA3 && info.name.ends_with("_norm.weight")) return gemma_norm(view);
    if (block.layer < 0) return plain(view, info.name);
    const std::string blk = fmt::format("blk.{}.", block.layer);
    if (llama_arch && (block.rest.starts_with("attn_q.") || block.rest.starts_with("attn_k."))) {
      return unpermute(view, block.rest.starts_with("attn_q.") ? m_config.n_heads : m_config.n_kv_heads);
    }
    if (block.rest == "attn_qkv.weight" || block.rest == "attn_qkv.bias") {
      const std::string kind = block.rest == "attn_qkv.weight" ? "weight" : "bias";
      return split_rows(view, {blk + "attn_q." + kind, blk + "attn_k." + kind, blk + "attn_v." + kind});
    }
    for (const char* stem : {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"}) {
      if (block.rest == std::string(stem) + ".weight") return split_experts(view, blk + stem);
    }
    // Older Mixtral files: one 2-D tensor per expert, blk.N.ffn_gate.E.weight.
    if (m_config.is_moe()) {
      for (const char* stem : {"ffn_gate", "ffn_up", "ffn_down"}) {
        std::string_view rest = block.rest;
        if (!rest.starts_with(std::string(stem) + ".") || !rest.ends_with(".weight")) continue;
        rest.remove_prefix(std::strlen(stem) + 1);
        rest.remove_suffix(7);
        int64_t expert = 0;
        auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), expert);
        if (error == std::errc() && end == rest.data() + rest.size()) {
          return plain(view, fmt::format("{}{}_exps.{}.weight", blk, stem, expert));
        }
      }
    }
    plain(view, info.name);
  }

  std::map<std::string, std::string> take_origin() { return std::move(m_origin); }

 private:
  void plain(TensorView view, std::string name) {
    m_origin[name] = view.name;
    view.name = std::move(name);
    m_weights.add(std::move(view));
  }

  // Gemma 3 files store norm weights as w + 1; the canonical value is w (the kernel applies 1 + w).
  void gemma_norm(const TensorView& view) {
    if (!dtype_info(view.dtype).is_float || dtype_info(view.dtype).block_elements != 1 ||
        view.dtype == DType::C64) {
      fail("{}: tensor '{}' has dtype {}, expected a float norm weight", m_file.source(), view.name,
           dtype_name(view.dtype));
    }
    std::vector<float> values(static_cast<size_t>(view.elements()));
    numerics::decode_to_f32(view.dtype, view.data, values.data(), values.size());
    std::vector<std::byte> bytes(values.size() * sizeof(float));
    for (size_t i = 0; i < values.size(); ++i) {
      const float w = values[i] - 1.0f;
      std::memcpy(bytes.data() + i * sizeof(float), &w, sizeof(float));
    }
    m_origin[view.name] = view.name;
    m_weights.add_owned(view.name, DType::F32, view.shape, std::move(bytes));
    release_copied(view);
  }

  // Only for files opened by mmap (owner() set); parsed in-memory bytes are left alone.
  void release_copied(const TensorView& view) {
    if (m_file.owner()) release_mapped_pages(view.data, view.bytes);
  }

  // llama.cpp's converter interleaves the two halves of every q/k head (HF row i and i + d/2 become rows 2i
  // and 2i + 1) for its adjacent-pair RoPE. Undo it: HF row h*d + j*(d/2) + i = file row h*d + 2i + j. Whole
  // rows move, so quantized blocks stay intact.
  void unpermute(const TensorView& view, int64_t heads) {
    const int64_t d = m_config.head_dim;
    if (view.shape.empty() || view.shape[0] != heads * d) {
      fail("{}: tensor '{}' has shape [{}], config says {} rows ({} heads x {})", m_file.source(), view.name,
           fmt::join(view.shape, ", "), heads * d, heads, d);
    }
    const auto rows = static_cast<size_t>(view.shape[0]);
    const size_t row_bytes = view.bytes / rows;
    std::vector<std::byte> bytes(view.bytes);
    const int64_t half = d / 2;
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t j = 0; j < 2; ++j) {
        for (int64_t i = 0; i < half; ++i) {
          const auto hf_row = static_cast<size_t>(h * d + j * half + i);
          const auto file_row = static_cast<size_t>(h * d + 2 * i + j);
          std::memcpy(bytes.data() + hf_row * row_bytes, view.data + file_row * row_bytes, row_bytes);
        }
      }
    }
    m_origin[view.name] = view.name;
    m_weights.add_owned(view.name, view.dtype, view.shape, std::move(bytes));
    release_copied(view);
  }

  // GPT-2 attn_qkv: rows [q | k | v] -> three zero-copy row ranges.
  void split_rows(const TensorView& view, const std::vector<std::string>& names) {
    const auto parts = static_cast<int64_t>(names.size());
    if (view.shape.empty() || view.shape[0] % parts != 0) {
      fail("{}: tensor '{}' has shape [{}], expected rows divisible by {}", m_file.source(), view.name,
           fmt::join(view.shape, ", "), parts);
    }
    const size_t part_bytes = view.bytes / static_cast<size_t>(parts);
    for (int64_t p = 0; p < parts; ++p) {
      TensorView part = view;
      part.shape[0] = view.shape[0] / parts;
      part.data = view.data + static_cast<size_t>(p) * part_bytes;
      part.bytes = part_bytes;
      plain(part, names[static_cast<size_t>(p)]);
      m_origin[names[static_cast<size_t>(p)]] = view.name;
    }
  }

  // [E, rows, cols] stacks -> one zero-copy [rows, cols] view per expert.
  void split_experts(const TensorView& view, const std::string& stem) {
    if (view.shape.size() != 3 || view.shape[0] != m_config.n_experts || m_config.n_experts == 0) {
      fail("{}: tensor '{}' has shape [{}], config says {} experts stacked outermost", m_file.source(),
           view.name, fmt::join(view.shape, ", "), m_config.n_experts);
    }
    const size_t expert_bytes = view.bytes / static_cast<size_t>(view.shape[0]);
    for (int64_t e = 0; e < view.shape[0]; ++e) {
      TensorView part{"",
                      view.dtype,
                      {view.shape[1], view.shape[2]},
                      view.data + static_cast<size_t>(e) * expert_bytes,
                      expert_bytes};
      part.name = view.name;
      plain(part, fmt::format("{}.{}.weight", stem, e));
    }
  }

  const ModelConfig& m_config;
  const GgufFile& m_file;
  Weights& m_weights;
  std::map<std::string, std::string> m_origin;
};

}  // namespace

Weights weights_from_gguf(const ModelConfig& config, const GgufFile& file) {
  Weights weights;
  weights.source = file.source();
  if (file.owner()) weights.keep_alive(file.owner());
  GgufMapper mapper(config, file, weights);
  for (const GgufTensorInfo& info : file.tensors()) mapper.add(info);
  check_weights_against_config(config, weights, mapper.take_origin());
  return weights;
}

GgufCheckpoint load_gguf_checkpoint(const std::filesystem::path& path) {
  const GgufFile file = GgufFile::open(path);
  GgufCheckpoint result;
  result.config = config_from_gguf(file);
  result.weights = weights_from_gguf(result.config, file);
  result.tokenizer = tokenizer_from_gguf(file);
  return result;
}

}  // namespace xpusim::model
