#include "report/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "chips/display.h"
#include "report/format.h"

namespace xpusim::report {

namespace {

using chips::RunEstimate;

struct Column {
  const char* header;                                      // terminal header
  const char* key;                                         // JSON/CSV key
  std::function<std::string(const ChipResult&)> text;      // terminal cell
  std::function<nlohmann::json(const ChipResult&)> value;  // JSON/CSV value (numbers unrounded)
  bool right_align = true;
};

const RunEstimate& est(const ChipResult& r) { return *r.estimate; }

std::vector<Column> columns() {
  auto num = [](double RunEstimate::*field) {
    return [field](const ChipResult& r) -> nlohmann::json { return est(r).*field; };
  };
  auto energy = [](double chips::EnergySplit::*field) {
    return std::pair{
        std::function<std::string(const ChipResult&)>(
            [field](const ChipResult& r) { return format_joules(est(r).energy_per_token.*field); }),
        std::function<nlohmann::json(const ChipResult&)>(
            [field](const ChipResult& r) -> nlohmann::json { return est(r).energy_per_token.*field; })};
  };
  std::vector<Column> out = {
      {"family", "family", [](const ChipResult& r) { return std::string(chips::family_name(r.chip.family)); },
       [](const ChipResult& r) -> nlohmann::json { return chips::family_name(r.chip.family); }, false},
      {"chips", "chips_used", [](const ChipResult& r) { return fmt::format("{}", est(r).plan.chips_used); },
       [](const ChipResult& r) -> nlohmann::json { return est(r).plan.chips_used; }},
      {"weights", "weights",
       [](const ChipResult& r) { return est(r).plan.weight_format + " in " + est(r).plan.weight_level; },
       [](const ChipResult& r) -> nlohmann::json {
         return {{"level", est(r).plan.weight_level},
                 {"format", est(r).plan.weight_format},
                 {"bytes", est(r).plan.weight_bytes}};
       },
       false},
      {"TTFT", "ttft_s", [](const ChipResult& r) { return format_seconds(est(r).ttft_s); },
       num(&RunEstimate::ttft_s)},
      {"TPOT", "tpot_s", [](const ChipResult& r) { return format_seconds(est(r).tpot_s); },
       num(&RunEstimate::tpot_s)},
      {"tok/s", "tokens_per_s", [](const ChipResult& r) { return format_rate(est(r).tokens_per_s); },
       num(&RunEstimate::tokens_per_s)},
      {"tok/J", "tokens_per_joule", [](const ChipResult& r) { return format_rate(est(r).tokens_per_joule); },
       num(&RunEstimate::tokens_per_joule)},
  };
  const std::array<std::tuple<const char*, const char*, double chips::EnergySplit::*>, 5> parts = {{
      {"E/tok comp", "energy_per_token_compute_j", &chips::EnergySplit::compute_j},
      {"on-chip", "energy_per_token_onchip_memory_j", &chips::EnergySplit::onchip_memory_j},
      {"off-chip", "energy_per_token_offchip_memory_j", &chips::EnergySplit::offchip_memory_j},
      {"links", "energy_per_token_links_j", &chips::EnergySplit::links_j},
      {"static", "energy_per_token_static_j", &chips::EnergySplit::static_j},
  }};
  for (const auto& [header, key, field] : parts) {
    auto [text, value] = energy(field);
    out.push_back({header, key, text, value});
  }
  out.push_back({"util", "utilization", [](const ChipResult& r) { return percent(est(r).utilization); },
                 num(&RunEstimate::utilization)});
  out.push_back(
      {"bound", "dominant_bound",
       [](const ChipResult& r) { return std::string(chips::bound_name(est(r).dominant_bound)); },
       [](const ChipResult& r) -> nlohmann::json { return chips::bound_name(est(r).dominant_bound); },
       false});
  return out;
}

std::string pad(const std::string& text, size_t width, bool right) {
  const size_t fill = width > text.size() ? width - text.size() : 0;
  return right ? std::string(fill, ' ') + text : text + std::string(fill, ' ');
}

std::string csv_cell(const nlohmann::json& value) {
  return value.is_string() ? csv_field(value.get<std::string>()) : value.dump();
}

}  // namespace

std::string format_table(const CompareReport& report, bool color) {
  const std::vector<Column> cols = columns();
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths(cols.size() + 1, 0);
  widths[0] = 4;
  for (const auto& result : report.results) widths[0] = std::max(widths[0], result.chip.name.size());
  for (size_t c = 0; c < cols.size(); ++c) widths[c + 1] = std::string(cols[c].header).size();
  for (const auto& result : report.results) {
    std::vector<std::string> row;
    if (result.estimate)
      for (size_t c = 0; c < cols.size(); ++c) {
        row.push_back(cols[c].text(result));
        widths[c + 1] = std::max(widths[c + 1], row.back().size());
      }
    cells.push_back(std::move(row));
  }
  const auto bold = [&](const std::string& s) { return color ? "\033[1m" + s + "\033[0m" : s; };
  const auto green = [&](const std::string& s) { return color ? "\033[32m" + s + "\033[0m" : s; };
  const auto red = [&](const std::string& s) { return color ? "\033[31m" + s + "\033[0m" : s; };
  const auto fastest = fastest_chip(report);
  const auto efficient = most_efficient_chip(report);

  std::string out = bold(pad("chip", widths[0], false));
  for (size_t c = 0; c < cols.size(); ++c)
    out += "  " + bold(pad(cols[c].header, widths[c + 1], cols[c].right_align && c + 1 < cols.size()));
  out += "\n";
  for (size_t i = 0; i < report.results.size(); ++i) {
    const ChipResult& result = report.results[i];
    out += pad(result.chip.name, widths[0], false);
    if (!result.estimate) {
      std::string reason = result.error;  // one line per chip, whatever the message's layout
      std::replace(reason.begin(), reason.end(), '\n', ' ');
      out += "  " + red("cannot run: " + reason) + "\n";
      continue;
    }
    for (size_t c = 0; c < cols.size(); ++c) {
      std::string cell = pad(cells[i][c], widths[c + 1], cols[c].right_align);
      const bool best = (std::string(cols[c].key) == "tokens_per_s" && fastest == i) ||
                        (std::string(cols[c].key) == "tokens_per_joule" && efficient == i);
      out += "  " + (best ? green(cell) : cell);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  out += "(energy columns: joules per generated token; TTFT = prefill of the whole batch)\n";
  return out;
}

nlohmann::json to_json(const CompareReport& report) {
  const std::vector<Column> cols = columns();
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& result : report.results) {
    nlohmann::json row = {{"chip", result.chip.name}};
    if (!result.estimate) {
      row["family"] = chips::family_name(result.chip.family);
      row["error"] = result.error;
    } else {
      for (const auto& col : cols) row[col.key] = col.value(result);
      row["energy_per_token_j"] = result.estimate->energy_per_token_j;
      row["decode_tokens_per_s"] = result.estimate->decode_tokens_per_s;
      row["notes"] = result.estimate->plan.notes;
    }
    rows.push_back(std::move(row));
  }
  return {{"model", report.model},
          {"model_source", report.model_source},
          {"params", report.params},
          {"precision", report.precision.empty() ? "default" : report.precision},
          {"batch", report.shape.batch},
          {"prompt_len", report.shape.prompt_len},
          {"gen_len", report.shape.gen_len},
          {"prompt", report.prompt},
          {"generated_text", report.generated_text},
          {"xpusim_version", report.version},
          {"chips", rows},
          {"explanation", explain(report)}};
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string csv_row(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += csv_field(fields[i]);
  }
  out.push_back('\n');
  return out;
}

std::string to_csv(const CompareReport& report) {
  const std::vector<Column> cols = columns();
  std::string out = "chip";
  for (const auto& col : cols) out.append(",").append(col.key);
  out += ",error\n";
  for (const auto& result : report.results) {
    out += csv_cell(result.chip.name);
    for (const auto& col : cols) {
      out.push_back(',');
      if (!result.estimate) {
        if (std::string_view(col.key) == "family") out.append(chips::family_name(result.chip.family));
        continue;
      }
      const nlohmann::json value = col.value(result);
      // The nested weights object becomes "format in level" in CSV.
      out.append(value.is_object() ? csv_cell(col.text(result)) : csv_cell(value));
    }
    out.push_back(',');
    out.append(csv_cell(nlohmann::json(result.error)));
    out.push_back('\n');
  }
  return out;
}

}  // namespace xpusim::report
