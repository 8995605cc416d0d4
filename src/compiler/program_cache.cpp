#include "compiler/program_cache.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "engine/isa.h"

namespace xpusim::compiler {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'X', 'P', 'U', 'P', 'R', 'O', 'G', '\0'};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8 + 8;
// Sanity limits while decoding (a corrupt length must not allocate gigabytes).
constexpr uint64_t kMaxPrograms = 64, kMaxInstructions = 1ull << 26, kMaxGroups = 1ull << 24,
                   kMaxString = 1 << 16;

// Appends a textual description of everything a program depends on; hashed into the key.
class KeyText {
 public:
  template <typename T>
  KeyText& operator()(const char* name, const T& value) {
    m_text += fmt::format("{}={};", name, value);
    return *this;
  }
  const std::string& text() const { return m_text; }

 private:
  std::string m_text;
};

// Digest of the running executable: programs written by another build are never loaded.
uint64_t executable_digest() {
  static const uint64_t digest = [] {
    std::ifstream in("/proc/self/exe", std::ios::binary);
    if (!in) return uint64_t{0};
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return static_cast<uint64_t>(XXH3_64bits(bytes.data(), bytes.size()));
  }();
  return digest;
}

std::string chip_identity(const engine::ChipConfig& chip) {
  std::ifstream in(chip.source, std::ios::binary);
  if (!in) return {};
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class Writer {
 public:
  template <typename T>
  void put(T value) {
    const size_t at = m_bytes.size();
    m_bytes.resize(at + sizeof(T));
    std::memcpy(m_bytes.data() + at, &value, sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<uint32_t>(s.size()));
    m_bytes.insert(m_bytes.end(), s.begin(), s.end());
  }
  std::vector<uint8_t>& bytes() { return m_bytes; }

 private:
  std::vector<uint8_t> m_bytes;
};

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : m_data(data), m_size(size) {}
  template <typename T>
  bool get(T& value) {
    if (m_size - m_at < sizeof(T)) return false;
    std::memcpy(&value, m_data + m_at, sizeof(T));
    m_at += sizeof(T);
    return true;
  }
  bool get_string(std::string& s) {
    uint32_t n = 0;
    if (!get(n) || n > kMaxString || m_size - m_at < n) return false;
    s.assign(reinterpret_cast<const char*>(m_data + m_at), n);
    m_at += n;
    return true;
  }
  bool at_end() const { return m_at == m_size; }

 private:
  const uint8_t* m_data;
  size_t m_size, m_at = 0;
};

// Every rebuild of the compiler writes new keys: keep the directory under kMaxCacheBytes, oldest files first.
constexpr uint64_t kMaxCacheBytes = 512ull << 20;

void evict_oldest(const std::string& dir) {
  std::error_code ec;
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  uint64_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".xpuprog") continue;
    const uint64_t size = entry.file_size(ec);
    if (ec) continue;
    total += size;
    files.emplace_back(entry.last_write_time(ec), entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& [time, path] : files) {
    if (total <= kMaxCacheBytes) break;
    const uint64_t size = fs::file_size(path, ec);
    if (fs::remove(path, ec)) total -= size;
  }
}

void warn(const std::string& path, const std::string& why) {
  fmt::print(stderr, "warning: program cache {}: {}; recompiling\n", path, why);
}

}  // namespace

std::string default_program_cache_dir() {
  const char* flag = std::getenv("XPUSIM_PROGRAM_CACHE");
  if (flag != nullptr && std::string(flag) == "0") return {};
  if (const char* dir = std::getenv("XPUSIM_CACHE_DIR"); dir != nullptr && *dir != '\0')
    return (fs::path(dir) / "programs").string();
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return (fs::path(home) / ".cache" / "xpusim" / "programs").string();
  return {};
}

std::optional<uint64_t> program_key(const DramPlan& plan, const engine::ChipConfig& chip, int64_t engines,
                                    const std::string& kind) {
  const std::string chip_file = chip_identity(chip);
  if (chip_file.empty()) return std::nullopt;  // a chip not from a file: nothing identifies it
  const model::ModelConfig& c = plan.config;
  KeyText k;
  k("compiler", kCompilerVersion)("isa", engine::kIsaVersion)("exe", executable_digest())("kind", kind);
  k("engines", engines)("chip", chip.name)("chip_file", XXH3_64bits(chip_file.data(), chip_file.size()));
  k("model", c.name)("family", static_cast<int>(c.family))("vocab", c.vocab_size)("hidden", c.hidden);
  k("layers", c.n_layers)("heads", c.n_heads)("kv_heads", c.n_kv_heads)("head_dim", c.head_dim);
  k("ffn", c.ffn_hidden)("max_pos", c.max_positions)("eps", c.norm_eps)("norm", static_cast<int>(c.norm));
  k("act", static_cast<int>(c.activation))("gated", c.gated_mlp)("attn_bias", c.attn_bias);
  k("mlp_bias", c.mlp_bias)("qk_norm", c.qk_norm)("tied", c.tied_embeddings)("wpe", c.learned_positions);
  k("attn_scale", c.attn_scale)("embed_scale", c.embed_scale)("attn_cap", c.attn_softcap);
  k("final_cap", c.final_softcap)("rope", c.rope.enabled)("theta", c.rope.theta);
  k("theta_local", c.rope.theta_local)("scaling", static_cast<int>(c.rope.scaling))("factor", c.rope.factor);
  k("low", c.rope.low_freq_factor)("high", c.rope.high_freq_factor)("orig", c.rope.original_max_positions);
  k("window", c.sliding_window)("experts", c.n_experts)("used", c.n_experts_used);
  k("expert_ffn", c.expert_ffn_hidden)("norm_topk", c.norm_topk_prob);
  std::string local;
  for (bool b : c.layer_is_local) local.push_back(b ? '1' : '0');
  k("local", local);
  k("format", static_cast<int>(plan.format))("max_tokens", plan.shape.max_tokens);
  k("sequences", plan.shape.sequences)("kv_capacity", plan.shape.kv_capacity)("end", plan.end);
  for (const auto& [name, w] : plan.weights)
    k(name.c_str(), fmt::format("{}/{}/{}/{}/{}/{}", w.codes, w.scales, w.rows, w.cols,
                                static_cast<int>(w.format), w.plus_one));
  const std::string& text = k.text();
  return static_cast<uint64_t>(XXH3_64bits(text.data(), text.size()));
}

std::vector<uint8_t> encode_programs(uint64_t key, const std::vector<CompiledProgram>& programs) {
  Writer payload;
  payload.put(static_cast<uint32_t>(programs.size()));
  for (const CompiledProgram& p : programs) {
    payload.put(static_cast<uint64_t>(p.program.code.size()));
    for (const engine::Descriptor& d : p.program.code)
      for (uint64_t word : d) payload.put(word);
    payload.put(static_cast<uint64_t>(p.groups.size()));
    for (const OpGroup& g : p.groups) {
      payload.put_string(g.op_type);
      payload.put_string(g.label);
      payload.put(g.layer);
      payload.put(g.macs), payload.put(g.vector_elements), payload.put(g.dram_read_bytes);
      payload.put(g.dram_write_bytes), payload.put(g.sram_bytes), payload.put(g.instructions);
    }
    payload.put(static_cast<uint64_t>(p.group_of_pc.size()));
    for (int32_t g : p.group_of_pc) payload.put(g);
  }
  const std::vector<uint8_t>& body = payload.bytes();
  Writer out;
  for (char ch : kMagic) out.put(ch);
  out.put(kProgramCacheFormat);
  out.put(uint32_t{0});
  out.put(key);
  out.put(static_cast<uint64_t>(body.size()));
  out.put(static_cast<uint64_t>(XXH3_64bits(body.data(), body.size())));
  out.bytes().insert(out.bytes().end(), body.begin(), body.end());
  return std::move(out.bytes());
}

std::optional<std::vector<CompiledProgram>> decode_programs(const std::vector<uint8_t>& bytes, uint64_t key,
                                                            std::string& why) {
  if (bytes.size() < kHeaderBytes) {
    why = fmt::format("truncated ({} bytes, header needs {})", bytes.size(), kHeaderBytes);
    return std::nullopt;
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    why = "not a program cache file (bad magic)";
    return std::nullopt;
  }
  Reader header(bytes.data() + 8, kHeaderBytes - 8);
  uint32_t version = 0, reserved = 0;
  uint64_t file_key = 0, size = 0, checksum = 0;
  header.get(version), header.get(reserved), header.get(file_key), header.get(size), header.get(checksum);
  if (version != kProgramCacheFormat) {
    why = fmt::format("format version {} (this build reads {})", version, kProgramCacheFormat);
    return std::nullopt;
  }
  if (file_key != key) {
    why = fmt::format("key {:016x} does not match {:016x}", file_key, key);
    return std::nullopt;
  }
  if (size != bytes.size() - kHeaderBytes) {
    why = fmt::format("payload of {} bytes, header says {} (truncated?)", bytes.size() - kHeaderBytes, size);
    return std::nullopt;
  }
  const uint8_t* body = bytes.data() + kHeaderBytes;
  if (XXH3_64bits(body, size) != checksum) {
    why = "checksum mismatch (corrupt)";
    return std::nullopt;
  }
  Reader in(body, size);
  uint32_t count = 0;
  std::vector<CompiledProgram> programs;
  bool ok = in.get(count) && count >= 1 && count <= kMaxPrograms;
  for (uint32_t i = 0; ok && i < count; ++i) {
    CompiledProgram p;
    uint64_t n = 0;
    ok = in.get(n) && n <= kMaxInstructions;
    for (uint64_t j = 0; ok && j < n; ++j) {
      engine::Descriptor d{};
      for (uint64_t& word : d) ok = ok && in.get(word);
      p.program.code.push_back(d);
    }
    uint64_t groups = 0;
    ok = ok && in.get(groups) && groups <= kMaxGroups;
    for (uint64_t j = 0; ok && j < groups; ++j) {
      OpGroup g;
      ok = in.get_string(g.op_type) && in.get_string(g.label) && in.get(g.layer) && in.get(g.macs) &&
           in.get(g.vector_elements) && in.get(g.dram_read_bytes) && in.get(g.dram_write_bytes) &&
           in.get(g.sram_bytes) && in.get(g.instructions);
      p.groups.push_back(std::move(g));
    }
    uint64_t pcs = 0;
    ok = ok && in.get(pcs) && pcs == n;
    for (uint64_t j = 0; ok && j < pcs; ++j) {
      int32_t g = 0;
      ok = in.get(g) && g >= 0 && static_cast<uint64_t>(g) < groups;
      p.group_of_pc.push_back(g);
    }
    programs.push_back(std::move(p));
  }
  if (!ok || !in.at_end()) {
    why = "malformed payload";
    return std::nullopt;
  }
  return programs;
}

std::string ProgramCache::path_for(uint64_t key) const {
  return (fs::path(m_dir) / fmt::format("{:016x}.xpuprog", key)).string();
}

std::optional<std::vector<CompiledProgram>> ProgramCache::load(uint64_t key) const {
  if (!enabled()) return std::nullopt;
  const std::string path = path_for(key);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    warn(path, "cannot be read");
    return std::nullopt;
  }
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string why;
  auto programs = decode_programs(bytes, key, why);
  if (!programs) warn(path, why);
  return programs;
}

void ProgramCache::store(uint64_t key, const std::vector<CompiledProgram>& programs) const {
  if (!enabled()) return;
  const std::string path = path_for(key);
  std::error_code ec;
  fs::create_directories(m_dir, ec);
  const std::string temp = fmt::format("{}.tmp.{}", path, static_cast<long>(getpid()));
  const std::vector<uint8_t> bytes = encode_programs(key, programs);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      fmt::print(stderr, "warning: program cache {}: cannot be written; not cached\n", temp);
      fs::remove(temp, ec);
      return;
    }
  }
  fs::rename(temp, path, ec);  // atomic: readers see the old file or the whole new one
  if (ec) {
    fmt::print(stderr, "warning: program cache {}: {}; not cached\n", path, ec.message());
    fs::remove(temp, ec);
    return;
  }
  evict_oldest(m_dir);
}

}  // namespace xpusim::compiler
