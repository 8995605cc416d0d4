// Test helpers for the loader tests: write safetensors and GGUF files byte by byte (so corrupt variants are
// easy), temp folders, and an "expect xpusim::Error whose message contains ..." assertion.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "core/error.h"

namespace xpusim::testing {

// Runs `body`, expects xpusim::Error, and checks that the message contains every string in `parts`.
inline void expect_error(const std::function<void()>& body, const std::vector<std::string>& parts) {
  try {
    body();
    ADD_FAILURE() << "expected xpusim::Error containing '" << (parts.empty() ? "" : parts[0]) << "'";
  } catch (const xpusim::Error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos)
          << "message '" << message << "' lacks '" << part << "'";
    }
  }
}

// A fresh folder under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::random_device seed;
    m_path = std::filesystem::temp_directory_path() / ("xpusim_loaders_" + std::to_string(seed()) + "_" +
                                                       std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::span<const std::byte> as_bytes(const std::string& text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

// safetensors image: u64 header length + header + data.
inline std::string safetensors_image(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t length = header.size();
  std::memcpy(out.data(), &length, 8);
  return out + header + data;
}

// Builds a valid safetensors file from tensors given in order (offsets assigned sequentially).
class SafetensorsBuilder {
 public:
  SafetensorsBuilder& add(const std::string& name, const std::string& dtype,
                          const std::vector<int64_t>& shape, const std::string& bytes) {
    // fmt instead of operator+ chains: GCC 12 reports false -Wrestrict positives on those.
    m_entries.push_back(fmt::format(R"("{}":{{"dtype":"{}","shape":[{}],"data_offsets":[{},{}]}})", name,
                                    dtype, fmt::join(shape, ","), m_data.size(),
                                    m_data.size() + bytes.size()));
    m_data += bytes;
    return *this;
  }
  // F32 tensor with the given values.
  SafetensorsBuilder& add_f32(const std::string& name, const std::vector<int64_t>& shape,
                              const std::vector<float>& values) {
    std::string bytes(values.size() * 4, '\0');
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return add(name, "F32", shape, bytes);
  }
  SafetensorsBuilder& metadata(const std::string& json_object) {
    m_metadata = json_object;
    return *this;
  }
  std::string header() const {
    std::vector<std::string> parts;
    if (!m_metadata.empty()) parts.push_back(fmt::format(R"("__metadata__":{})", m_metadata));
    parts.insert(parts.end(), m_entries.begin(), m_entries.end());
    return fmt::format("{{{}}}", fmt::join(parts, ","));
  }
  std::string build() const { return safetensors_image(header(), m_data); }

 private:
  std::vector<std::string> m_entries;
  std::string m_data;
  std::string m_metadata;
};

// GGUF writer: raw primitives plus helpers for key/values and tensors. Call finish() for the file image.
class GgufBuilder {
 public:
  explicit GgufBuilder(uint32_t version = 3, uint64_t alignment = 32)
      : m_version(version), m_alignment(alignment) {}

  // Metadata (value type ids as in the GGUF spec).
  GgufBuilder& kv_u32(const std::string& key, uint32_t value) { return kv(key, 4, raw(value)); }
  GgufBuilder& kv_i32(const std::string& key, int32_t value) { return kv(key, 5, raw(value)); }
  GgufBuilder& kv_u64(const std::string& key, uint64_t value) { return kv(key, 10, raw(value)); }
  GgufBuilder& kv_f32(const std::string& key, float value) { return kv(key, 6, raw(value)); }
  GgufBuilder& kv_bool(const std::string& key, bool value) {
    return kv(key, 7, std::string(1, value ? '\1' : '\0'));
  }
  GgufBuilder& kv_string(const std::string& key, const std::string& value) { return kv(key, 8, str(value)); }
  GgufBuilder& kv_strings(const std::string& key, const std::vector<std::string>& values) {
    std::string body = raw(uint32_t{8}) + raw(uint64_t{values.size()});
    for (const auto& v : values) body += str(v);
    return kv(key, 9, body);
  }
  GgufBuilder& kv_i32s(const std::string& key, const std::vector<int32_t>& values) {
    std::string body = raw(uint32_t{5}) + raw(uint64_t{values.size()});
    for (int32_t v : values) body += raw(v);
    return kv(key, 9, body);
  }
  GgufBuilder& kv_f32s(const std::string& key, const std::vector<float>& values) {
    std::string body = raw(uint32_t{6}) + raw(uint64_t{values.size()});
    for (float v : values) body += raw(v);
    return kv(key, 9, body);
  }
  GgufBuilder& kv(const std::string& key, uint32_t type, const std::string& value_bytes) {
    m_kv += str(key) + raw(type) + value_bytes;
    ++m_kv_count;
    return *this;
  }

  // Tensor with ggml dims (ne[0] innermost) and its data; the offset is assigned aligned.
  GgufBuilder& tensor(const std::string& name, uint32_t ggml_type, const std::vector<uint64_t>& ne,
                      const std::string& bytes) {
    while (m_data.size() % m_alignment != 0) m_data += '\0';
    return tensor_at(name, ggml_type, ne, m_data.size(), bytes);
  }
  GgufBuilder& tensor_f32(const std::string& name, const std::vector<uint64_t>& ne,
                          const std::vector<float>& values) {
    std::string bytes(values.size() * 4, '\0');
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return tensor(name, 0, ne, bytes);
  }
  // Raw tensor info with an explicit offset; `bytes` are appended to the data section as they are.
  GgufBuilder& tensor_at(const std::string& name, uint32_t ggml_type, const std::vector<uint64_t>& ne,
                         uint64_t offset, const std::string& bytes) {
    m_infos += str(name) + raw(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) m_infos += raw(d);
    m_infos += raw(ggml_type) + raw(offset);
    m_data += bytes;
    ++m_tensor_count;
    return *this;
  }

  std::string finish() const {
    std::string out =
        raw(uint32_t{0x46554747}) + raw(m_version) + raw(m_tensor_count) + raw(m_kv_count) + m_kv + m_infos;
    while (out.size() % m_alignment != 0) out += '\0';
    return out + m_data;
  }

  template <typename T>
  static std::string raw(T value) {
    std::string bytes(sizeof(T), '\0');
    std::memcpy(bytes.data(), &value, sizeof(T));
    return bytes;
  }
  static std::string str(const std::string& text) { return raw(uint64_t{text.size()}) + text; }

 private:
  uint32_t m_version;
  uint64_t m_alignment;
  uint64_t m_tensor_count = 0;
  uint64_t m_kv_count = 0;
  std::string m_kv;
  std::string m_infos;
  std::string m_data;
};

}  // namespace xpusim::testing
