#include "model/gguf.h"
#include "core/enum_table.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/error.h"
#include "core/mapped_file.h"

namespace xpusim::model {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

constexpr EnumName<GgufType> kGgufTypeNames[] = {
    {GgufType::U8, "u8"},       {GgufType::I8, "i8"},     {GgufType::U16, "u16"},
    {GgufType::I16, "i16"},     {GgufType::U32, "u32"},   {GgufType::I32, "i32"},
    {GgufType::F32, "f32"},     {GgufType::BOOL, "bool"}, {GgufType::STRING, "string"},
    {GgufType::ARRAY, "array"}, {GgufType::U64, "u64"},   {GgufType::I64, "i64"},
    {GgufType::F64, "f64"}};

// A file's type field may hold any value: names unknown ones "unknown".
const char* gguf_type_name(GgufType type) { return enum_name(kGgufTypeNames, type, "unknown").data(); }

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" in file order
constexpr uint32_t kMaxDims = 4;         // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;
constexpr uint64_t kMaxNestedArrays = 1 << 20;  // caps the memory of arrays-of-arrays (~100 B each)

size_t scalar_size(GgufType type) {
  switch (type) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::BOOL:
      return 1;
    case GgufType::U16:
    case GgufType::I16:
      return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32:
      return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64:
      return 8;
    default:
      return 0;
  }
}

bool is_integer(GgufType type) {
  switch (type) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::U16:
    case GgufType::I16:
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::U64:
    case GgufType::I64:
      return true;
    default:
      return false;
  }
}

uint64_t load_bits(const std::byte* at, size_t size) {
  uint64_t bits = 0;
  std::memcpy(&bits, at, size);  // little-endian host: zero-extends
  return bits;
}

std::optional<int64_t> bits_as_int(GgufType type, uint64_t bits) {
  switch (type) {
    case GgufType::U8:
    case GgufType::U16:
    case GgufType::U32:
      return static_cast<int64_t>(bits);
    case GgufType::I8:
      return static_cast<int8_t>(bits);
    case GgufType::I16:
      return static_cast<int16_t>(bits);
    case GgufType::I32:
      return static_cast<int32_t>(bits);
    case GgufType::I64:
      return static_cast<int64_t>(bits);
    case GgufType::U64:
      if (bits > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<int64_t>(bits);
    default:
      return std::nullopt;
  }
}

std::optional<double> bits_as_double(GgufType type, uint64_t bits) {
  if (type == GgufType::F32) return std::bit_cast<float>(static_cast<uint32_t>(bits));
  if (type == GgufType::F64) return std::bit_cast<double>(bits);
  if (auto integer = bits_as_int(type, bits)) return static_cast<double>(*integer);
  return std::nullopt;
}

class Reader {
 public:
  Reader(std::span<const std::byte> bytes, const std::string& source) : m_bytes(bytes), m_source(source) {}

  size_t position() const { return m_position; }
  size_t left() const { return m_bytes.size() - m_position; }
  const std::byte* here() const { return m_bytes.data() + m_position; }

  void need(uint64_t count, std::string_view what) const {
    if (count > left()) {
      fail("{}: truncated file: {} needs {} bytes at offset {}, only {} left", m_source, what, count,
           m_position, left());
    }
  }
  const std::byte* take(uint64_t count, std::string_view what) {
    need(count, what);
    const std::byte* at = here();
    m_position += static_cast<size_t>(count);
    return at;
  }
  uint32_t u32(std::string_view what) { return static_cast<uint32_t>(load_bits(take(4, what), 4)); }
  uint64_t u64(std::string_view what) { return load_bits(take(8, what), 8); }
  std::string_view string(std::string_view what) {
    const uint64_t length = u64(what);
    const std::byte* at = take(length, what);
    return {reinterpret_cast<const char*>(at), static_cast<size_t>(length)};
  }

 private:
  std::span<const std::byte> m_bytes;
  const std::string& m_source;
  size_t m_position = 0;
};

class MetadataParser {
 public:
  MetadataParser(Reader& reader, const std::string& source) : m_reader(reader), m_source(source) {}

  GgufValue value(GgufType type, const std::string& key, int depth) {
    GgufValue result;
    result.type = type;
    if (const size_t size = scalar_size(type)) {
      result.scalar_bits = load_bits(m_reader.take(size, "value of " + key), size);
      return result;
    }
    if (type == GgufType::STRING) {
      result.text = m_reader.string("value of " + key);
      return result;
    }
    if (type != GgufType::ARRAY)
      fail("{}: metadata '{}' has unknown value type {}", m_source, key, static_cast<uint32_t>(type));
    if (depth >= kMaxArrayDepth)
      fail("{}: metadata '{}' nests arrays deeper than {}", m_source, key, kMaxArrayDepth);
    result.element_type = element_type(m_reader.u32("array type of " + key), key);
    result.count = m_reader.u64("array length of " + key);
    const uint64_t min_element_bytes = result.element_type == GgufType::STRING ? 8
                                       : result.element_type == GgufType::ARRAY
                                           ? 12
                                           : scalar_size(result.element_type);
    if (result.count > m_reader.left() / min_element_bytes) {
      fail("{}: metadata '{}' claims {} array elements, more than the {} bytes left can hold", m_source, key,
           result.count, m_reader.left());
    }
    const std::string what = "array " + key;
    if (const size_t size = scalar_size(result.element_type)) {
      result.scalar_elements = m_reader.take(result.count * size, what);
    } else if (result.element_type == GgufType::STRING) {
      result.strings.reserve(static_cast<size_t>(result.count));
      for (uint64_t i = 0; i < result.count; ++i) result.strings.push_back(m_reader.string(what));
    } else {
      m_nested_arrays += result.count;
      if (m_nested_arrays > kMaxNestedArrays)
        fail("{}: metadata '{}': too many nested arrays", m_source, key);
      result.arrays.reserve(static_cast<size_t>(result.count));
      for (uint64_t i = 0; i < result.count; ++i)
        result.arrays.push_back(value(GgufType::ARRAY, key, depth + 1));
    }
    return result;
  }

  GgufType element_type(uint32_t id, const std::string& key) const {
    if (id > static_cast<uint32_t>(GgufType::F64))
      fail("{}: metadata '{}' has unknown value type {}", m_source, key, id);
    return static_cast<GgufType>(id);
  }

 private:
  Reader& m_reader;
  const std::string& m_source;
  uint64_t m_nested_arrays = 0;
};

}  // namespace

TensorView GgufTensorInfo::view() const {
  TensorView result;
  result.name = name;
  result.dtype = dtype;
  result.shape.assign(ne.rbegin(), ne.rend());
  result.data = data;
  result.bytes = bytes;
  return result;
}

namespace {
// Two tensors sharing bytes would silently alias each other's weights (a crafted file answers with garbage):
// every tensor's data range must be its own. Empty tensors occupy nothing.
void reject_overlapping_tensors(const std::vector<GgufTensorInfo>& tensors, const std::string& source) {
  std::vector<const GgufTensorInfo*> by_offset;
  for (const GgufTensorInfo& info : tensors) {
    if (info.bytes > 0) by_offset.push_back(&info);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo& before = *by_offset[i - 1];
    const GgufTensorInfo& after = *by_offset[i];
    if (after.offset < before.offset + before.bytes) {
      fail("{}: tensors '{}' (data offset {}, {} bytes) and '{}' (data offset {}) overlap", source,
           before.name, before.offset, before.bytes, after.name, after.offset);
    }
  }
}
}  // namespace

GgufFile GgufFile::parse(std::span<const std::byte> file_bytes, const std::string& source) {
  GgufFile file;
  file.m_source = source;
  Reader reader(file_bytes, source);
  if (reader.left() < 8) fail("{}: {} bytes is too short for a GGUF file", source, reader.left());
  if (reader.u32("magic") != kMagic) fail("{}: not a GGUF file (bad magic)", source);
  file.m_version = reader.u32("version");
  if (file.m_version < 2 || file.m_version > 3) {
    fail("{}: file is GGUF version {}, this build reads versions 2..3", source, file.m_version);
  }
  const uint64_t tensor_count = reader.u64("tensor count");
  const uint64_t kv_count = reader.u64("metadata count");
  // Each key/value takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8 + 4 + 4
  // + 8.
  if (kv_count > reader.left() / 13) fail("{}: metadata count {} cannot fit in the file", source, kv_count);
  if (tensor_count > reader.left() / 24)
    fail("{}: tensor count {} cannot fit in the file", source, tensor_count);

  MetadataParser metadata(reader, source);
  for (uint64_t i = 0; i < kv_count; ++i) {
    std::string key(reader.string("metadata key"));
    const GgufType type = metadata.element_type(reader.u32("value type of " + key), key);
    GgufValue value = metadata.value(type, key, 0);
    if (!file.m_metadata.emplace(key, std::move(value)).second)
      fail("{}: duplicate metadata key '{}'", source, key);
  }
  if (auto alignment = file.find_int("general.alignment")) {
    if (*alignment <= 0 || *alignment > (1 << 30) ||
        !std::has_single_bit(static_cast<uint64_t>(*alignment))) {
      fail("{}: general.alignment is {}, expected a power of two", source, *alignment);
    }
    file.m_alignment = static_cast<uint64_t>(*alignment);
  }

  file.m_tensors.reserve(static_cast<size_t>(tensor_count));
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo info;
    info.name = std::string(reader.string("tensor name"));
    const uint32_t n_dims = reader.u32("dimension count of " + info.name);
    if (n_dims > kMaxDims)
      fail("{}: tensor '{}' has {} dimensions, at most {} allowed", source, info.name, n_dims, kMaxDims);
    uint64_t elements = 1;
    uint64_t nonzero_product = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t extent = reader.u64("dimensions of " + info.name);
      if (extent != 0 && (__builtin_mul_overflow(nonzero_product, extent, &nonzero_product) ||
                          nonzero_product > static_cast<uint64_t>(INT64_MAX))) {
        fail("{}: tensor '{}' has too many elements (dimension {} is {})", source, info.name, d, extent);
      }
      elements *= extent;
      info.ne.push_back(static_cast<int64_t>(extent));
    }
    const uint32_t type_id = reader.u32("type of " + info.name);
    const auto dtype = dtype_from_ggml_id(type_id);
    if (!dtype)
      fail("{}: tensor '{}' has ggml type id {}, which this build does not know", source, info.name, type_id);
    info.dtype = *dtype;
    info.offset = reader.u64("offset of " + info.name);
    const DTypeInfo& type = dtype_info(*dtype);
    const uint64_t row = info.ne.empty() ? 1 : static_cast<uint64_t>(info.ne[0]);
    uint64_t bytes = 0;
    if (row % type.block_elements != 0 ||
        __builtin_mul_overflow(elements / type.block_elements, uint64_t{type.block_bytes}, &bytes)) {
      fail("{}: tensor '{}': row of {} elements is not a whole number of {} blocks ({} elements)", source,
           info.name, row, type.name, type.block_elements);
    }
    info.bytes = static_cast<size_t>(bytes);
    if (!file.m_tensor_index.emplace(info.name, file.m_tensors.size()).second) {
      fail("{}: duplicate tensor name '{}'", source, info.name);
    }
    file.m_tensors.push_back(std::move(info));
  }

  const uint64_t alignment = file.m_alignment;
  const uint64_t data_start = (reader.position() + alignment - 1) / alignment * alignment;
  const uint64_t size = file_bytes.size();
  for (GgufTensorInfo& info : file.m_tensors) {
    if (info.offset % alignment != 0) {
      fail("{}: tensor '{}' offset {} is not a multiple of the alignment {}", source, info.name, info.offset,
           alignment);
    }
    if (data_start > size || info.offset > size - data_start ||
        info.bytes > size - data_start - info.offset) {
      fail(
          "{}: tensor '{}' ({} bytes at data offset {}) runs past the end of the file ({} bytes, data at {})",
          source, info.name, info.bytes, info.offset, size, data_start);
    }
    info.data = file_bytes.data() + data_start + info.offset;
  }
  reject_overlapping_tensors(file.m_tensors, source);
  return file;
}

GgufFile GgufFile::open(const std::filesystem::path& path) {
  auto mapping = MappedFile::open(path);
  GgufFile file = parse(mapping->bytes(), path.string());
  file.m_owner = mapping;
  return file;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = m_tensor_index.find(name);
  return it == m_tensor_index.end() ? nullptr : &m_tensors[it->second];
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = m_metadata.find(key);
  return it == m_metadata.end() ? nullptr : &it->second;
}

std::optional<int64_t> GgufFile::find_int(std::string_view key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  auto result = bits_as_int(value->type, value->scalar_bits);
  if (!result)
    fail("{}: metadata '{}' is {}, expected an integer that fits int64", m_source, key,
         gguf_type_name(value->type));
  return result;
}

std::optional<double> GgufFile::find_float(std::string_view key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  auto result = bits_as_double(value->type, value->scalar_bits);
  if (!result) fail("{}: metadata '{}' is {}, expected a number", m_source, key, gguf_type_name(value->type));
  return result;
}

std::optional<bool> GgufFile::find_bool(std::string_view key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (value->type != GgufType::BOOL)
    fail("{}: metadata '{}' is {}, expected bool", m_source, key, gguf_type_name(value->type));
  return value->scalar_bits != 0;
}

std::optional<std::string> GgufFile::find_string(std::string_view key) const {
  const GgufValue* value = find(key);
  if (!value) return std::nullopt;
  if (value->type != GgufType::STRING) {
    fail("{}: metadata '{}' is {}, expected string", m_source, key, gguf_type_name(value->type));
  }
  return std::string(value->text);
}

int64_t GgufFile::get_int(std::string_view key) const {
  auto value = find_int(key);
  if (!value) fail("{}: missing metadata '{}'", m_source, key);
  return *value;
}

double GgufFile::get_float(std::string_view key) const {
  auto value = find_float(key);
  if (!value) fail("{}: missing metadata '{}'", m_source, key);
  return *value;
}

bool GgufFile::get_bool(std::string_view key) const {
  auto value = find_bool(key);
  if (!value) fail("{}: missing metadata '{}'", m_source, key);
  return *value;
}

std::string GgufFile::get_string(std::string_view key) const {
  auto value = find_string(key);
  if (!value) fail("{}: missing metadata '{}'", m_source, key);
  return *value;
}

namespace {

const GgufValue& array_of(const GgufFile& file, std::string_view key) {
  const GgufValue* value = file.find(key);
  if (!value) fail("{}: missing metadata '{}'", file.source(), key);
  if (value->type != GgufType::ARRAY) {
    fail("{}: metadata '{}' is {}, expected an array", file.source(), key, gguf_type_name(value->type));
  }
  return *value;
}

}  // namespace

std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue& value = array_of(*this, key);
  if (value.element_type != GgufType::STRING) {
    fail("{}: metadata '{}' is an array of {}, expected strings", m_source, key,
         gguf_type_name(value.element_type));
  }
  return {value.strings.begin(), value.strings.end()};
}

std::vector<int64_t> GgufFile::get_int_array(std::string_view key) const {
  const GgufValue& value = array_of(*this, key);
  if (!is_integer(value.element_type)) {
    fail("{}: metadata '{}' is an array of {}, expected integers", m_source, key,
         gguf_type_name(value.element_type));
  }
  const size_t size = scalar_size(value.element_type);
  std::vector<int64_t> result;
  result.reserve(static_cast<size_t>(value.count));
  for (uint64_t i = 0; i < value.count; ++i) {
    auto integer = bits_as_int(value.element_type, load_bits(value.scalar_elements + i * size, size));
    if (!integer) fail("{}: metadata '{}' element {} does not fit int64", m_source, key, i);
    result.push_back(*integer);
  }
  return result;
}

std::vector<float> GgufFile::get_float_array(std::string_view key) const {
  const GgufValue& value = array_of(*this, key);
  const size_t size = scalar_size(value.element_type);
  if (size == 0 || value.element_type == GgufType::BOOL) {
    fail("{}: metadata '{}' is an array of {}, expected numbers", m_source, key,
         gguf_type_name(value.element_type));
  }
  std::vector<float> result;
  result.reserve(static_cast<size_t>(value.count));
  for (uint64_t i = 0; i < value.count; ++i) {
    auto number = bits_as_double(value.element_type, load_bits(value.scalar_elements + i * size, size));
    if (!number) fail("{}: metadata '{}' element {} is not a number", m_source, key, i);
    result.push_back(static_cast<float>(*number));
  }
  return result;
}

}  // namespace xpusim::model
