// MappedFile: a whole file mapped read-only (MAP_PRIVATE, PROT_READ), for zero-copy checkpoint loading.
// Owns the mapping; share it with std::shared_ptr so tensor views can keep it alive (Weights::keep_alive).
// Non-goals: writing, partial mappings, files that change while mapped (their contents are undefined then).
// HOWTO add a variant (e.g. a heap copy for pipes): give it the same data()/size() and return it the same
// way.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

namespace xpusim {

class MappedFile {
 public:
  // Throws xpusim::Error naming the path when the file cannot be opened, inspected or mapped.
  // An empty file gives size() == 0 and data() == nullptr (mmap of 0 bytes is not allowed).
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return m_data; }
  size_t size() const { return m_size; }
  std::span<const std::byte> bytes() const { return {m_data, m_size}; }
  const std::filesystem::path& path() const { return m_path; }

 private:
  MappedFile(std::filesystem::path path, const std::byte* data, size_t size)
      : m_path(std::move(path)), m_data(data), m_size(size) {}

  std::filesystem::path m_path;
  const std::byte* m_data = nullptr;
  size_t m_size = 0;
};

}  // namespace xpusim
