// The compare table in three encodings: aligned text for terminals (colors only when asked, i.e. on a TTY),
// JSON (one object: run parameters, a row per chip, the explanation) and CSV (a header and a row per chip).
// All three come from one column list in table.cpp, so they cannot drift apart.
// Non-goals: HTML (html.h), deciding whether stdout is a terminal (the CLI passes `color`).
// HOWTO add a column: one entry in table.cpp's kColumns (header, CSV/JSON key, cell function).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "report/compare_data.h"

namespace xpusim::report {

std::string format_table(const CompareReport& report, bool color);
nlohmann::json to_json(const CompareReport& report);
std::string to_csv(const CompareReport& report);

}  // namespace xpusim::report
