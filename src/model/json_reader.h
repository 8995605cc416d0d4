// Strict JSON reading shared by the loaders: duplicate keys are errors (nlohmann silently keeps the last
// one), and typed field getters whose errors name the file and the field. Non-goals: JSON writing; schema
// languages. HOWTO add a getter: follow get_int/get_double below.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace xpusim::model {

// Parses `text`; throws xpusim::Error("<source>: ...") on invalid JSON or a key repeated inside one object.
nlohmann::json parse_json_strict(std::string_view text, const std::string& source);
// Reads and parses a file (size-capped, to reject absurd inputs before allocating).
nlohmann::json read_json_file(const std::filesystem::path& path, size_t max_bytes = 256u << 20);

// Typed access to object fields. "Optional" getters return nullopt for a missing key or a JSON null;
// a present value of the wrong type is always an error naming `source` and `key`.
std::optional<int64_t> find_int(const nlohmann::json& object, std::string_view key,
                                const std::string& source);
std::optional<double> find_double(const nlohmann::json& object, std::string_view key,
                                  const std::string& source);
std::optional<bool> find_bool(const nlohmann::json& object, std::string_view key, const std::string& source);
std::optional<std::string> find_string(const nlohmann::json& object, std::string_view key,
                                       const std::string& source);
int64_t get_int(const nlohmann::json& object, std::string_view key, const std::string& source);
double get_double(const nlohmann::json& object, std::string_view key, const std::string& source);
std::string get_string(const nlohmann::json& object, std::string_view key, const std::string& source);

}  // namespace xpusim::model
