// Test-only reader for the numerics golden files made by tools/make_*_goldens.py: a magic, a provenance
// JSON string, then records. Bad files fail the test with a message (ADD_FAILURE), never a crash.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace xpusim::numerics::testing {

class ByteReader {
 public:
  explicit ByteReader(std::vector<uint8_t> data) : m_data(std::move(data)) {}
  bool ok() const { return m_ok; }
  bool at_end() const { return m_pos == m_data.size(); }
  template <typename T>
  T read() {
    T value{};
    if (!take(sizeof(T))) return value;
    std::memcpy(&value, m_data.data() + m_pos - sizeof(T), sizeof(T));
    return value;
  }
  std::string read_string(size_t length) {  // NUL-padded fixed field or exact-length text
    if (!take(length)) return {};
    std::string s(reinterpret_cast<const char*>(m_data.data() + m_pos - length), length);
    return s.substr(0, s.find('\0'));
  }
  template <typename T>
  std::vector<T> read_array(size_t count) {
    std::vector<T> values(count);
    if (!take(count * sizeof(T)) || count == 0) return {};
    std::memcpy(values.data(), m_data.data() + m_pos - count * sizeof(T), count * sizeof(T));
    return values;
  }

 private:
  bool take(size_t n) {
    if (!m_ok || m_data.size() - m_pos < n) {
      m_ok = false;
      return false;
    }
    m_pos += n;
    return true;
  }
  std::vector<uint8_t> m_data;
  size_t m_pos = 0;
  bool m_ok = true;
};

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::string data_path(const std::string& name) {
  return std::string(XPUSIM_TEST_DATA) + "/numerics/" + name;
}

// Equal bit patterns, or both NaN (NaN payloads and signs are compared by class only).
inline bool same_float(float a, float b) {
  if (a != a && b != b) return true;
  uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return ua == ub;
}

}  // namespace xpusim::numerics::testing
