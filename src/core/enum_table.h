// Enums described by tables: one row per value (name, traits, kernel...), the way ggml keeps GGML_OP_NAME. A
// table indexed by the enum is checked at compile time to list the values in order; a name table serves both
// directions, enum -> name and name -> enum, so the two cannot drift.
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>
#include <string_view>

namespace xpusim {

// True when row i's key (`key_of(row)`) is the enum value i for every row: the table can be indexed by the
// enum.
template <class Table, class KeyOf>
constexpr bool rows_in_enum_order(const Table& table, KeyOf key_of) {
  size_t i = 0;
  for (const auto& row : table) {
    if (static_cast<size_t>(key_of(row)) != i++) return false;
  }
  return true;
}

template <class Enum>
struct EnumName {
  Enum value;
  std::string_view name;  // a string literal, so .data() is NUL-terminated
};

// The name of `value` in `table` (any range of EnumName rows: an array or a span); `unknown` for a value the
// table lacks (a corrupt or out-of-range value).
template <class Table, class Enum>
constexpr std::string_view enum_name(const Table& table, Enum value, std::string_view unknown = "?") {
  for (const auto& row : table) {
    if (row.value == value) return row.name;
  }
  return unknown;
}

// The value named `name` in `table`, if any.
template <class Table>
constexpr auto enum_from_name(const Table& table, std::string_view name)
    -> std::optional<decltype(std::begin(table)->value)> {
  for (const auto& row : table) {
    if (row.name == name) return row.value;
  }
  return std::nullopt;
}

}  // namespace xpusim
