// Ledger runs, summaries and renderings (see summary.h).
#include "validation/summary.h"

#include <fmt/format.h>
#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "report/svg.h"
#include "report/table.h"

namespace xpusim::validation {
namespace fs = std::filesystem;

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

std::vector<FamilySummary> summarise(const std::vector<RowResult>& rows) {
  std::map<std::string, FamilySummary> by_family;
  std::map<std::string, std::vector<double>> errors;
  for (const RowResult& row : rows) {
    FamilySummary& f = by_family[row.point.family];
    f.family = row.point.family;
    ++f.rows;
    if (!row.prediction.ran) {
      f.unrunnable.push_back(fmt::format("{}: {}", row.point.id, row.prediction.why));
      continue;
    }
    ++f.runnable;
    const double e = row.prediction.error;
    errors[f.family].push_back(std::abs(e));
    if (f.worst_id.empty() || std::abs(e) > std::abs(f.worst_error)) {
      f.worst_error = e;
      f.worst_id = row.point.id;
    }
  }
  std::vector<FamilySummary> out;
  for (auto& [name, f] : by_family) {
    f.median_abs_error = median(errors[name]);
    out.push_back(std::move(f));
  }
  return out;
}

ValidationRun run_validation(const std::vector<Point>& points, const std::string& ledger,
                             const std::string& family) {
  ValidationRun run;
  run.ledger = ledger;
  const auto start = std::chrono::steady_clock::now();
  for (const Point& point : points) {
    if (!family.empty() && point.family != family) continue;
    run.rows.push_back({point, predict_point(point)});
    if (run.rows.back().prediction.ran) ++run.runnable;
  }
  if (!family.empty() && run.rows.empty()) {
    std::vector<std::string> names;
    for (const Point& p : points)
      if (std::find(names.begin(), names.end(), p.family) == names.end()) names.push_back(p.family);
    fail("--family '{}': no rows of that family in {}; families: {}", family, ledger, fmt::join(names, ", "));
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.families = summarise(run.rows);
  return run;
}

namespace {

std::string signed_percent(double error) { return fmt::format("{:+.0f} %", error * 100); }
std::string value_text(double value) {
  if (value >= 100) return fmt::format("{:.0f}", value);
  if (value >= 10) return fmt::format("{:.1f}", value);
  return fmt::format("{:.3g}", value);
}

std::string truncated(const std::string& text, size_t width) {
  return text.size() <= width ? text : text.substr(0, width - 3) + "...";
}

}  // namespace

std::string render_text(const ValidationRun& run) {
  std::string out = fmt::format("{:<6} {:<14} {:<20} {:<16} {:>10} {:>10} {:>7}  {}\n", "id", "family",
                                "chip", "metric", "measured", "predicted", "error", "bound / why not run");
  for (const RowResult& row : run.rows) {
    const Point& p = row.point;
    const Prediction& r = row.prediction;
    out += fmt::format("{:<6} {:<14} {:<20} {:<16} {:>10} {:>10} {:>7}  {}\n", p.id, p.family,
                       truncated(p.chip.empty() ? "-" : p.chip, 20), truncated(p.metric, 16),
                       value_text(p.measured), r.ran ? value_text(r.predicted) : "-",
                       r.ran ? signed_percent(r.error) : "-",
                       r.ran ? r.bound : "not run: " + truncated(r.why, 90));
  }
  out += fmt::format("\n{:<14} {:>5} {:>9} {:>14} {:>16}\n", "family", "rows", "runnable", "median |error|",
                     "worst");
  for (const FamilySummary& f : run.families) {
    out += fmt::format("{:<14} {:>5} {:>9} {:>14} {:>16}\n", f.family, f.rows, f.runnable,
                       f.runnable ? fmt::format("{:.1f} %", f.median_abs_error * 100) : "-",
                       f.runnable ? fmt::format("{} {}", signed_percent(f.worst_error), f.worst_id) : "-");
  }
  out += fmt::format("{} of {} rows runnable; predicted in {:.2f} s\n", run.runnable, run.rows.size(),
                     run.seconds);
  return out;
}

namespace {

nlohmann::json row_json(const RowResult& row) {
  const Point& p = row.point;
  const Prediction& r = row.prediction;
  nlohmann::json j = {{"id", p.id},         {"family", p.family},   {"chip", p.chip},
                      {"model", p.model},   {"weights", p.weights}, {"stack", p.stack},
                      {"metric", p.metric}, {"unit", p.unit},       {"measured", p.measured},
                      {"ran", r.ran}};
  if (r.ran) {
    j["predicted"] = r.predicted;
    j["error"] = r.error;
    j["bound"] = r.bound;
    j["explanation"] = r.explanation;
    if (r.predicted_power_w) j["predicted_power_w"] = *r.predicted_power_w;
  } else {
    j["why"] = r.why;
  }
  if (p.measured_power_w) j["measured_power_w"] = *p.measured_power_w;
  return j;
}

}  // namespace

std::string render_json(const ValidationRun& run) {
  nlohmann::json out;
  out["ledger"] = run.ledger;
  out["rows"] = nlohmann::json::array();
  for (const RowResult& row : run.rows) out["rows"].push_back(row_json(row));
  out["families"] = nlohmann::json::array();
  for (const FamilySummary& f : run.families)
    out["families"].push_back({{"family", f.family},
                               {"rows", f.rows},
                               {"runnable", f.runnable},
                               {"median_abs_error", f.median_abs_error},
                               {"worst_error", f.worst_error},
                               {"worst_id", f.worst_id},
                               {"unrunnable", f.unrunnable}});
  out["runnable"] = run.runnable;
  return out.dump(2) + "\n";
}

std::string render_csv(const ValidationRun& run) {
  std::string out = report::csv_row({"id", "family", "chip", "model", "metric", "unit", "measured",
                                     "predicted", "error", "bound", "why_not_run"});
  for (const RowResult& row : run.rows) {
    const Point& p = row.point;
    const Prediction& r = row.prediction;
    out += report::csv_row({p.id, p.family, p.chip, p.model, p.metric, p.unit, fmt::format("{}", p.measured),
                            r.ran ? fmt::format("{:.6g}", r.predicted) : "",
                            r.ran ? fmt::format("{:.4f}", r.error) : "", r.ran ? r.bound : "",
                            r.ran ? "" : r.why});
  }
  return out;
}

namespace {

std::string md_cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string render_markdown(const ValidationRun& run) {
  std::string out;
  out += "| family | rows | runnable | median \\|error\\| | worst |\n|---|---|---|---|---|\n";
  for (const FamilySummary& f : run.families)
    out += fmt::format("| {} | {} | {} | {} | {} |\n", f.family, f.rows, f.runnable,
                       f.runnable ? fmt::format("{:.1f} %", f.median_abs_error * 100) : "-",
                       f.runnable ? fmt::format("{} ({})", signed_percent(f.worst_error), f.worst_id) : "-");
  out += fmt::format("\n{} of {} rows runnable.\n\n", run.runnable, run.rows.size());
  out += "| id | family | chip | model | weights | stack | metric | measured | predicted | error | bound |\n";
  out += "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const RowResult& row : run.rows) {
    const Point& p = row.point;
    const Prediction& r = row.prediction;
    if (!r.ran) continue;
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", p.id, p.family, p.chip,
                       md_cell(p.model), p.weights.empty() ? "bf16" : p.weights,
                       p.stack.empty() ? "-" : p.stack, p.metric, value_text(p.measured),
                       value_text(r.predicted), signed_percent(r.error), r.bound);
  }
  std::string power_rows;
  for (const RowResult& row : run.rows) {
    const Point& p = row.point;
    const Prediction& r = row.prediction;
    if (!r.ran || !p.measured_power_w || !r.predicted_power_w) continue;
    const double error = (*r.predicted_power_w - *p.measured_power_w) / *p.measured_power_w;
    power_rows += fmt::format("| {} | {} | {} | {:.3g} | {:.3g} | {} |\n", p.id, p.chip, p.metric,
                              *p.measured_power_w, *r.predicted_power_w, signed_percent(error));
  }
  if (!power_rows.empty()) {
    out +=
        "\nPower of the rows that measured it (predicted = the run's energy / its time, all chips; what the "
        "source measured, rail or wall, is in the row's notes):\n\n";
    out += "| id | chip | metric | measured W | predicted W | error |\n|---|---|---|---|---|---|\n";
    out += power_rows;
  }
  out += "\nRows not run:\n\n";
  for (const RowResult& row : run.rows)
    if (!row.prediction.ran)
      out += fmt::format("- {} ({}): {}\n", row.point.id, row.point.family, md_cell(row.prediction.why));
  return out;
}

namespace {

std::string html_escape(const std::string& text) { return report::svg::escape(text); }

}  // namespace

std::string render_html(const ValidationRun& run) {
  std::string out =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>xpusim validate</title><style>"
      "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
      "padding:2px 6px;text-align:right}td.l,th.l{text-align:left}.bad{background:#fdd}.ok{background:#dfd}"
      "</style></head><body><h1>xpusim validate</h1>";
  out += fmt::format("<p>Ledger: {}. {} of {} rows runnable.</p>", html_escape(run.ledger), run.runnable,
                     run.rows.size());
  out +=
      "<table><tr><th class=l>family</th><th>rows</th><th>runnable</th><th>median "
      "|error|</th><th>worst</th></tr>";
  for (const FamilySummary& f : run.families)
    out += fmt::format("<tr><td class=l>{}</td><td>{}</td><td>{}</td><td class={}>{}</td><td>{}</td></tr>",
                       html_escape(f.family), f.rows, f.runnable, f.median_abs_error <= 0.10 ? "ok" : "bad",
                       f.runnable ? fmt::format("{:.1f} %", f.median_abs_error * 100) : "-",
                       f.runnable ? fmt::format("{} {}", signed_percent(f.worst_error), f.worst_id) : "-");
  out +=
      "</table><h2>Rows</h2><table><tr><th class=l>id</th><th class=l>chip</th><th class=l>model</th>"
      "<th class=l>metric</th><th>measured</th><th>predicted</th><th>error</th><th class=l>bound / why not "
      "run</th></tr>";
  for (const RowResult& row : run.rows) {
    const Point& p = row.point;
    const Prediction& r = row.prediction;
    out += fmt::format(
        "<tr><td class=l>{}</td><td class=l>{}</td><td class=l>{}</td><td "
        "class=l>{}</td><td>{}</td><td>{}</td>"
        "<td class={}>{}</td><td class=l>{}</td></tr>",
        html_escape(p.id), html_escape(p.chip), html_escape(p.model), html_escape(p.metric),
        value_text(p.measured), r.ran ? value_text(r.predicted) : "-",
        r.ran && std::abs(r.error) <= 0.25 ? "ok" : "bad", r.ran ? signed_percent(r.error) : "-",
        html_escape(r.ran ? r.bound + "; " + r.explanation : r.why));
  }
  out += "</table></body></html>\n";
  return out;
}

std::map<std::string, double> load_guard(const fs::path& path) {
  toml::table table;
  try {
    table = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    fail("{}:{}: {}", path.string(), e.source().begin.line, e.description());
  }
  const toml::table* limits = table["median_abs_error_max"].as_table();
  if (limits == nullptr) fail("{}: missing table [median_abs_error_max]", path.string());
  std::map<std::string, double> out;
  for (const auto& [family, node] : *limits) {
    const auto value = node.value<double>();
    if (!value || *value < 0 || *value > 100)
      fail("{}:{}: median_abs_error_max.{}: expected a fraction in [0, 100]", path.string(),
           node.source().begin.line, family.str());
    out[std::string(family.str())] = *value;
  }
  return out;
}

std::vector<std::string> guard_violations(const ValidationRun& run,
                                          const std::map<std::string, double>& guard) {
  std::vector<std::string> out;
  for (const FamilySummary& f : run.families) {
    const auto it = guard.find(f.family);
    if (it == guard.end()) {
      if (f.runnable > 0)
        out.push_back(fmt::format("family '{}' has runnable rows but no guard figure", f.family));
      continue;
    }
    if (f.median_abs_error > it->second + 1e-9)
      out.push_back(fmt::format("family '{}': median |error| {:.2f} % is above the recorded {:.2f} %",
                                f.family, f.median_abs_error * 100, it->second * 100));
  }
  return out;
}

namespace {

fs::path data_file(const std::string& name) {
  std::error_code error;
  if (const char* dir = std::getenv("XPUSIM_DATA_DIR"); dir != nullptr && *dir != '\0') {
    const fs::path candidate = fs::path(dir) / "validation" / name;
    if (fs::is_regular_file(candidate, error)) return candidate;
  }
  return fs::path(XPUSIM_SOURCE_DIR) / "validation" / name;
}

}  // namespace

fs::path default_points_path() { return data_file("points.csv"); }
fs::path default_guard_path() { return data_file("guard.toml"); }

}  // namespace xpusim::validation
