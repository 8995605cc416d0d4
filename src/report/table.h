// The compare table in three encodings: aligned text for terminals (colors only when asked, i.e. on a TTY),
// JSON (one object: run parameters, a row per chip, the explanation) and CSV (a header and a row per chip).
// All three come from one column list in table.cpp, so they cannot drift apart. It also owns the one CSV
// writer every command's --csv uses (csv_field / csv_row: RFC 4180 quoting).
// Non-goals: HTML (html.h), deciding whether stdout is a terminal (the CLI passes `color`).
// HOWTO add a column: one entry in table.cpp's kColumns (header, CSV/JSON key, cell function).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "report/compare_data.h"

namespace xpusim::report {

std::string format_table(const CompareReport& report, bool color);
nlohmann::json to_json(const CompareReport& report);
std::string to_csv(const CompareReport& report);

// RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes doubled; others are written as is.
std::string csv_field(std::string_view text);
// One CSV record: the fields joined by commas, ending in "\n".
std::string csv_row(const std::vector<std::string>& fields);

}  // namespace xpusim::report
