#include "model/json_reader.h"

#include <fstream>
#include <set>
#include <vector>

#include "core/error.h"

namespace xpusim::model {

using nlohmann::json;

json parse_json_strict(std::string_view text, const std::string& source) {
  // One key set per open object; the callback only records the first duplicate (throwing from inside the
  // parser is avoided on purpose).
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  auto callback = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get<std::string>()).second && !duplicate) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  json result;
  try {
    result = json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& error) {
    fail("{}: invalid JSON: {}", source, error.what());
  }
  if (duplicate) fail("{}: duplicate key '{}' in a JSON object", source, *duplicate);
  return result;
}

json read_json_file(const std::filesystem::path& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path.string());
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) fail("{}: cannot stat: {}", path.string(), error.message());
  if (size > max_bytes)
    fail("{}: file is {} bytes, more than the {} allowed for JSON", path.string(), size, max_bytes);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (static_cast<size_t>(in.gcount()) != text.size()) fail("{}: read failed", path.string());
  return parse_json_strict(text, path.string());
}

namespace {

const json* find_value(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

std::optional<int64_t> find_int(const json& object, std::string_view key, const std::string& source) {
  const json* value = find_value(object, key);
  if (!value) return std::nullopt;
  if (value->is_number_integer()) {
    if (value->is_number_unsigned() && value->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      fail("{}: field '{}' is too large ({})", source, key, value->dump());
    }
    return value->get<int64_t>();
  }
  // Some configs write integral values as floats (e.g. 4096.0); accept them only when exact.
  if (value->is_number_float()) {
    const double number = value->get<double>();
    if (number == static_cast<double>(static_cast<int64_t>(number)) && number > -9.0e15 && number < 9.0e15) {
      return static_cast<int64_t>(number);
    }
  }
  fail("{}: field '{}' must be an integer, got {}", source, key, value->dump());
}

std::optional<double> find_double(const json& object, std::string_view key, const std::string& source) {
  const json* value = find_value(object, key);
  if (!value) return std::nullopt;
  if (!value->is_number()) fail("{}: field '{}' must be a number, got {}", source, key, value->dump());
  return value->get<double>();
}

std::optional<bool> find_bool(const json& object, std::string_view key, const std::string& source) {
  const json* value = find_value(object, key);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) fail("{}: field '{}' must be true or false, got {}", source, key, value->dump());
  return value->get<bool>();
}

std::optional<std::string> find_string(const json& object, std::string_view key, const std::string& source) {
  const json* value = find_value(object, key);
  if (!value) return std::nullopt;
  if (!value->is_string()) fail("{}: field '{}' must be a string, got {}", source, key, value->dump());
  return value->get<std::string>();
}

int64_t get_int(const json& object, std::string_view key, const std::string& source) {
  auto value = find_int(object, key, source);
  if (!value) fail("{}: missing field '{}'", source, key);
  return *value;
}

double get_double(const json& object, std::string_view key, const std::string& source) {
  auto value = find_double(object, key, source);
  if (!value) fail("{}: missing field '{}'", source, key);
  return *value;
}

std::string get_string(const json& object, std::string_view key, const std::string& source) {
  auto value = find_string(object, key, source);
  if (!value) fail("{}: missing field '{}'", source, key);
  return *value;
}

}  // namespace xpusim::model
