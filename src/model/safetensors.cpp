#include "model/safetensors.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <set>

#include "core/error.h"
#include "core/mapped_file.h"
#include "model/json_reader.h"

namespace xpusim::model {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the safetensors crate's MAX_HEADER_SIZE

// Every dtype the safetensors format defines (crate 0.8: 22 of them). Block types of GGUF are not among them.
constexpr std::array kSafetensorsDTypes{
    DType::BOOL,    DType::F4,      DType::F6_E2M3, DType::F6_E3M2,     DType::U8,          DType::I8,
    DType::F8_E5M2, DType::F8_E4M3, DType::F8_E8M0, DType::F8_E4M3FNUZ, DType::F8_E5M2FNUZ, DType::I16,
    DType::U16,     DType::F16,     DType::BF16,    DType::I32,         DType::U32,         DType::F32,
    DType::C64,     DType::F64,     DType::I64,     DType::U64,
};
static_assert(kSafetensorsDTypes.size() == 22);

std::optional<DType> safetensors_dtype(std::string_view name) {
  for (DType dtype : kSafetensorsDTypes) {
    if (dtype_name(dtype) == name) return dtype;
  }
  return std::nullopt;
}

uint64_t read_u64_le(const std::byte* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<uint64_t>(bytes[i]);
  return value;
}

struct Entry {
  TensorView view;
  uint64_t begin = 0;
  uint64_t end = 0;
};

Entry parse_entry(const std::string& name, const json& info, uint64_t buffer_size,
                  const std::string& source) {
  if (!info.is_object()) fail("{}: tensor '{}': entry is not a JSON object", source, name);
  for (const auto& [key, value] : info.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      fail("{}: tensor '{}': unknown field '{}'", source, name, key);
    }
  }
  auto dtype_it = info.find("dtype");
  if (dtype_it == info.end() || !dtype_it->is_string())
    fail("{}: tensor '{}': missing string 'dtype'", source, name);
  const std::string dtype_text = dtype_it->get<std::string>();
  auto dtype = safetensors_dtype(dtype_text);
  if (!dtype) fail("{}: tensor '{}': unknown dtype '{}'", source, name, dtype_text);

  auto shape_it = info.find("shape");
  if (shape_it == info.end() || !shape_it->is_array())
    fail("{}: tensor '{}': missing array 'shape'", source, name);
  Entry entry;
  entry.view.name = name;
  entry.view.dtype = *dtype;
  uint64_t elements = 1;
  uint64_t nonzero_product = 1;  // kept within int64 so TensorView::elements() can never overflow
  for (const json& dim : *shape_it) {
    if (!dim.is_number_unsigned())
      fail("{}: tensor '{}': shape entry {} is not a non-negative integer", source, name, dim.dump());
    const uint64_t extent = dim.get<uint64_t>();
    if (extent != 0 && (__builtin_mul_overflow(nonzero_product, extent, &nonzero_product) ||
                        nonzero_product > static_cast<uint64_t>(INT64_MAX))) {
      fail("{}: tensor '{}': shape {} has too many elements", source, name, shape_it->dump());
    }
    elements *= extent;  // <= nonzero_product, cannot overflow
    entry.view.shape.push_back(static_cast<int64_t>(extent));
  }

  auto offsets_it = info.find("data_offsets");
  if (offsets_it == info.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
      !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned()) {
    fail("{}: tensor '{}': 'data_offsets' must be [begin, end] with non-negative integers", source, name);
  }
  entry.begin = (*offsets_it)[0].get<uint64_t>();
  entry.end = (*offsets_it)[1].get<uint64_t>();
  if (entry.begin > entry.end || entry.end > buffer_size) {
    fail("{}: tensor '{}': data_offsets [{}, {}) out of range, the data buffer is {} bytes", source, name,
         entry.begin, entry.end, buffer_size);
  }
  const DTypeInfo& type = dtype_info(*dtype);
  uint64_t want_bytes = 0;
  if (elements % type.block_elements != 0 ||
      __builtin_mul_overflow(elements / type.block_elements, uint64_t{type.block_bytes}, &want_bytes)) {
    fail("{}: tensor '{}': shape [{}] does not fill whole bytes of dtype {}", source, name,
         fmt::join(entry.view.shape, ", "), dtype_text);
  }
  if (entry.end - entry.begin != want_bytes) {
    fail("{}: tensor '{}': shape [{}] x {} needs {} bytes, data_offsets [{}, {}) hold {}", source, name,
         fmt::join(entry.view.shape, ", "), dtype_text, want_bytes, entry.begin, entry.end,
         entry.end - entry.begin);
  }
  entry.view.bytes = static_cast<size_t>(want_bytes);
  return entry;
}

}  // namespace

SafetensorsFile parse_safetensors(std::span<const std::byte> file_bytes, const std::string& source) {
  if (file_bytes.size() < 8) {
    fail("{}: file is {} bytes, too short for the 8-byte header length", source, file_bytes.size());
  }
  const uint64_t header_bytes = read_u64_le(file_bytes.data());
  if (header_bytes > kMaxHeaderBytes) {
    fail("{}: header length {} is over the {}-byte limit (corrupt or not a safetensors file)", source,
         header_bytes, kMaxHeaderBytes);
  }
  if (header_bytes > file_bytes.size() - 8) {
    fail("{}: header length {} runs past the end of the file ({} bytes)", source, header_bytes,
         file_bytes.size());
  }
  const auto* header_begin = reinterpret_cast<const char*>(file_bytes.data() + 8);
  const std::string_view header_text(header_begin, static_cast<size_t>(header_bytes));
  if (header_text.empty() || header_text.front() != '{') fail("{}: header does not start with '{{'", source);
  const json header = parse_json_strict(header_text, source + " (header)");
  if (!header.is_object()) fail("{}: header is not a JSON object", source);

  const std::byte* buffer = file_bytes.data() + 8 + header_bytes;
  const uint64_t buffer_size = file_bytes.size() - 8 - header_bytes;
  SafetensorsFile result;
  result.source = source;
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) fail("{}: '__metadata__' is not a JSON object", source);
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string()) fail("{}: '__metadata__' value for '{}' is not a string", source, key);
        result.metadata.emplace(key, value.get<std::string>());
      }
      continue;
    }
    entries.push_back(parse_entry(name, info, buffer_size, source));
  }

  // Like the safetensors crate: the tensors tile the data buffer exactly, in offset order.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected_begin = 0;
  for (Entry& entry : entries) {
    if (entry.begin != expected_begin) {
      fail(
          "{}: tensor '{}' starts at byte {} of the data buffer, expected {} (tensors must tile the buffer "
          "with "
          "no gap or overlap)",
          source, entry.view.name, entry.begin, expected_begin);
    }
    expected_begin = entry.end;
    entry.view.data = entry.view.bytes == 0 ? buffer : buffer + entry.begin;
    result.tensors.push_back(std::move(entry.view));
  }
  if (expected_begin != buffer_size) {
    fail("{}: data buffer is {} bytes but the tensors cover {} (file truncated, padded or corrupt)", source,
         buffer_size, expected_begin);
  }
  return result;
}

SafetensorsFile open_safetensors(const std::filesystem::path& path) {
  auto file = MappedFile::open(path);
  SafetensorsFile result = parse_safetensors(file->bytes(), path.string());
  result.owner = file;
  return result;
}

namespace {

SafetensorsCheckpoint open_index(const std::filesystem::path& index_path) {
  const std::string source = index_path.string();
  const json index = read_json_file(index_path);
  if (!index.is_object()) fail("{}: not a JSON object", source);
  auto map_it = index.find("weight_map");
  if (map_it == index.end() || !map_it->is_object()) fail("{}: missing object 'weight_map'", source);

  SafetensorsCheckpoint result;
  result.source = source;
  std::map<std::string, std::map<std::string, TensorView, std::less<>>> shards;  // by file name, mapped once
  for (const auto& [name, shard_value] : map_it->items()) {
    if (!shard_value.is_string()) fail("{}: weight_map entry for '{}' is not a string", source, name);
    const std::string shard_name = shard_value.get<std::string>();
    if (shard_name.empty() || shard_name.find('/') != std::string::npos || shard_name == "." ||
        shard_name == "..") {
      fail("{}: weight_map entry for '{}' names '{}', not a file name in the same folder", source, name,
           shard_name);
    }
    auto shard_it = shards.find(shard_name);
    if (shard_it == shards.end()) {
      SafetensorsFile shard = open_safetensors(index_path.parent_path() / shard_name);
      result.owners.push_back(shard.owner);
      shard_it = shards.emplace(shard_name, std::map<std::string, TensorView, std::less<>>{}).first;
      for (TensorView& view : shard.tensors) shard_it->second.emplace(view.name, std::move(view));
    }
    auto found = shard_it->second.find(name);
    if (found == shard_it->second.end()) {
      fail("{}: tensor '{}' is mapped to shard '{}', which does not contain it", source, name, shard_name);
    }
    result.tensors.emplace(name, found->second);
  }
  if (result.tensors.empty()) fail("{}: weight_map is empty", source);
  return result;
}

}  // namespace

SafetensorsCheckpoint open_safetensors_checkpoint(const std::filesystem::path& path) {
  std::filesystem::path target = path;
  if (std::filesystem::is_directory(path)) {
    if (std::filesystem::exists(path / "model.safetensors")) {
      target = path / "model.safetensors";
    } else if (std::filesystem::exists(path / "model.safetensors.index.json")) {
      target = path / "model.safetensors.index.json";
    } else {
      fail("{}: no model.safetensors or model.safetensors.index.json in this folder", path.string());
    }
  }
  if (target.extension() == ".json") return open_index(target);
  SafetensorsFile file = open_safetensors(target);
  SafetensorsCheckpoint result;
  result.source = file.source;
  result.owners.push_back(file.owner);
  for (TensorView& view : file.tensors) result.tensors.emplace(view.name, std::move(view));
  return result;
}

}  // namespace xpusim::model
