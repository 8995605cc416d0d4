// GGUF container reader (llama.cpp files, versions 2 and 3): metadata key/values (all 13 value types, nested
// arrays), tensor infos, alignment and the data section, read zero-copy from a mapped file.
// Every count and length is checked against the bytes that remain before anything is allocated, so a hostile
// file cannot trigger huge allocations; scalar arrays stay views into the file and are decoded on access.
// Non-goals: writing GGUF; model semantics (gguf_model.h maps metadata to ModelConfig and tensors to
// Weights); dequantization (numerics::decode_to_f32). HOWTO add a ggml type: add its row (with its ggml id)
// to core/dtype; the reader picks it up from there.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/weights.h"

namespace xpusim::model {

enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12
};
const char* gguf_type_name(GgufType type);

struct GgufValue {
  GgufType type = GgufType::U8;
  uint64_t scalar_bits = 0;  // scalar types: the raw little-endian bits, zero-extended
  std::string_view text;     // STRING (points into the file)
  // ARRAY
  GgufType element_type = GgufType::U8;
  uint64_t count = 0;
  const std::byte* scalar_elements = nullptr;  // arrays of scalars: count elements, packed, in the file
  std::vector<std::string_view> strings;       // arrays of strings
  std::vector<GgufValue> arrays;               // arrays of arrays
};

struct GgufTensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> ne;  // ggml order: ne[0] innermost (the row)
  uint64_t offset = 0;      // relative to the data section
  const std::byte* data = nullptr;
  size_t bytes = 0;

  // Canonical view: shape outermost first (ne reversed).
  TensorView view() const;
};

class GgufFile {
 public:
  // Parses a whole file image; views point into `file_bytes`. Throws xpusim::Error("<source>: ...").
  static GgufFile parse(std::span<const std::byte> file_bytes, const std::string& source);
  // mmaps `path` and parses it; owner() keeps the mapping alive.
  static GgufFile open(const std::filesystem::path& path);

  const std::string& source() const { return m_source; }
  uint32_t version() const { return m_version; }
  uint64_t alignment() const { return m_alignment; }
  const std::shared_ptr<const void>& owner() const { return m_owner; }
  const std::vector<GgufTensorInfo>& tensors() const { return m_tensors; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  const std::map<std::string, GgufValue, std::less<>>& metadata() const { return m_metadata; }

  // Typed metadata access. get_* throw naming the key when it is missing or has another type; find_* return
  // nullopt when missing (a wrong type is still an error). Integers of any width/sign convert when they fit.
  const GgufValue* find(std::string_view key) const;
  std::optional<int64_t> find_int(std::string_view key) const;
  std::optional<double> find_float(std::string_view key) const;  // F32/F64 (integers accepted too)
  std::optional<bool> find_bool(std::string_view key) const;
  std::optional<std::string> find_string(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  std::vector<int64_t> get_int_array(std::string_view key) const;
  std::vector<float> get_float_array(std::string_view key) const;

 private:
  std::string m_source;
  uint32_t m_version = 0;
  uint64_t m_alignment = 32;
  std::shared_ptr<const void> m_owner;
  std::map<std::string, GgufValue, std::less<>> m_metadata;
  std::vector<GgufTensorInfo> m_tensors;
  std::map<std::string, size_t, std::less<>> m_tensor_index;
};

}  // namespace xpusim::model
