#include "sweep/output.h"

#include <fmt/format.h>

#include <cmath>

#include "sweep/pareto.h"
#include "sweep/points.h"

namespace xpusim::sweep {

namespace {

Cell optional_cell(const std::optional<double>& value) {
  if (!value) return std::monostate{};
  return *value;
}

// The value of axis `axis` at a point, as a cell (strings for names, numbers for numeric axes).
Cell axis_cell(const SweepSpec& spec, const AxisLayout& layout, size_t axis, uint32_t index) {
  if (axis == AxisLayout::kModel) return spec.models[index];
  if (axis == AxisLayout::kChip) return spec.chips[index];
  if (axis >= AxisLayout::kFirstOverride && axis < layout.chip_count()) {
    const OverrideAxis& override = spec.overrides[axis - AxisLayout::kFirstOverride];
    return override.texts.empty() ? Cell(override.values[index]) : Cell(override.texts[index]);
  }
  if (axis == layout.chip_count())
    return spec.chip_counts.empty() ? Cell(std::monostate{}) : Cell(spec.chip_counts[index]);
  if (axis == layout.precision()) return spec.precisions[index].empty() ? "default" : spec.precisions[index];
  if (axis == layout.kv_dtype()) return spec.kv_dtypes[index].empty() ? "default" : spec.kv_dtypes[index];
  if (axis == layout.prompt_len()) return spec.prompt_lens[index];
  if (axis == layout.gen_len()) return spec.gen_lens[index];
  return spec.batches[index];
}

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {"chip_variant",
                                                 "chips_used",
                                                 "weight_format",
                                                 "weight_level",
                                                 "bound",
                                                 "ttft_ms",
                                                 "tpot_ms",
                                                 "tokens_per_s",
                                                 "decode_tokens_per_s",
                                                 "tokens_per_s_per_user",
                                                 "tokens_per_s_per_chip",
                                                 "tokens_per_joule",
                                                 "energy_per_token_j",
                                                 "energy_per_token_compute_j",
                                                 "energy_per_token_onchip_memory_j",
                                                 "energy_per_token_offchip_memory_j",
                                                 "energy_per_token_links_j",
                                                 "energy_per_token_static_j",
                                                 "utilization",
                                                 "weight_bytes",
                                                 "kv_bytes_per_token",
                                                 "kv_capacity_tokens",
                                                 "prefill_flops",
                                                 "decode_flops",
                                                 "prefill_bytes",
                                                 "decode_bytes",
                                                 "link_bytes",
                                                 "power_w",
                                                 "power_w_per_chip",
                                                 "electricity_usd_per_mtok",
                                                 "usd_per_mtok",
                                                 "fits",
                                                 "meets_constraints",
                                                 "on_front",
                                                 "error"};
  return names;
}

std::vector<Cell> metric_cells(const PointRow& r) {
  if (!r.ran()) {
    std::vector<Cell> cells(metric_names().size());
    cells[0] = r.chip_label;
    cells[cells.size() - 4] = false;
    cells[cells.size() - 3] = false;
    cells[cells.size() - 2] = false;
    cells.back() = r.error;
    return cells;
  }
  return {r.chip_label,
          static_cast<int64_t>(r.chips_used),
          r.weight_format,
          r.weight_level,
          r.bound,
          r.ttft_s * 1e3,
          r.tpot_s * 1e3,
          r.tokens_per_s,
          r.decode_tokens_per_s,
          optional_cell(r.objective(Objective::TOKENS_PER_S_PER_USER)),
          optional_cell(r.objective(Objective::TOKENS_PER_S_PER_CHIP)),
          r.tokens_per_joule,
          r.energy_per_token_j,
          r.compute_j,
          r.onchip_memory_j,
          r.offchip_memory_j,
          r.links_j,
          r.static_j,
          r.utilization,
          r.weight_bytes,
          r.kv_bytes_per_token,
          r.kv_capacity_tokens,
          r.prefill_flops,
          r.decode_flops,
          r.prefill_bytes,
          r.decode_bytes,
          r.link_bytes,
          r.power_w,
          r.power_w_per_chip,
          r.electricity_usd_per_mtok,
          optional_cell(r.usd_per_mtok),
          r.fits,
          r.meets_constraints,
          r.on_front,
          std::string()};
}

std::string csv_text(const Cell& cell) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(const std::string& s) const {
      if (s.find_first_of(",\"\n") == std::string::npos) return s;
      std::string quoted = "\"";
      for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      return quoted + "\"";
    }
    std::string operator()(double v) const { return fmt::format("{}", v); }
    std::string operator()(int64_t v) const { return fmt::format("{}", v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
  };
  return std::visit(Visitor{}, cell);
}

nlohmann::json json_value(const Cell& cell) {
  struct Visitor {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(const std::string& s) const { return s; }
    nlohmann::json operator()(double v) const {
      return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
    }
    nlohmann::json operator()(int64_t v) const { return v; }
    nlohmann::json operator()(bool v) const { return v; }
  };
  return std::visit(Visitor{}, cell);
}

}  // namespace

std::vector<std::string> column_names(const SweepResult& result) {
  std::vector<std::string> names = {"point"};
  names.insert(names.end(), result.axis_names.begin(), result.axis_names.end());
  names.insert(names.end(), metric_names().begin(), metric_names().end());
  return names;
}

std::vector<Cell> row_cells(const SweepResult& result, size_t index) {
  const PointRow& row = result.rows[index];
  const AxisLayout layout = axis_layout(result.spec);
  std::vector<Cell> cells = {static_cast<int64_t>(index)};
  for (size_t axis = 0; axis < row.point.size(); ++axis)
    cells.push_back(axis_cell(result.spec, layout, axis, row.point[axis]));
  std::vector<Cell> metrics = metric_cells(row);
  cells.insert(cells.end(), metrics.begin(), metrics.end());
  return cells;
}

std::string describe_point(const SweepResult& result, size_t index) {
  const PointRow& row = result.rows[index];
  const SweepSpec& spec = result.spec;
  const AxisLayout layout = axis_layout(spec);
  const Point& p = row.point;
  const std::string& precision = spec.precisions[p[layout.precision()]];
  const std::string& kv = spec.kv_dtypes[p[layout.kv_dtype()]];
  return fmt::format("#{} {} on {}, weights {}, KV {}, {}+{} tokens, batch {}", index,
                     spec.models[p[AxisLayout::kModel]], row.chip_label,
                     precision.empty() ? "default" : precision, kv.empty() ? "default" : kv,
                     spec.prompt_lens[p[layout.prompt_len()]], spec.gen_lens[p[layout.gen_len()]],
                     spec.batches[p[layout.batch()]]);
}

std::string to_csv(const SweepResult& result) {
  std::string out = fmt::format("{}\n", fmt::join(column_names(result), ","));
  std::vector<std::string> texts;
  for (size_t i = 0; i < result.rows.size(); ++i) {
    texts.clear();
    for (const Cell& cell : row_cells(result, i)) texts.push_back(csv_text(cell));
    out += fmt::format("{}\n", fmt::join(texts, ","));
  }
  return out;
}

nlohmann::json to_json(const SweepResult& result) {
  nlohmann::json out;
  out["sweep"] = result.spec.name;
  out["version"] = XPUSIM_VERSION;
  out["electricity_usd_per_kwh"] = result.spec.electricity_usd_per_kwh;
  out["amortization_years"] = result.spec.amortization_years;
  nlohmann::json objectives = nlohmann::json::array();
  for (Objective o : result.spec.pareto) objectives.push_back(objective_info(o).name);
  out["pareto_objectives"] = objectives;
  const std::vector<std::string> names = column_names(result);
  nlohmann::json rows = nlohmann::json::array();
  nlohmann::json front = nlohmann::json::array();
  for (size_t i = 0; i < result.rows.size(); ++i) {
    const std::vector<Cell> cells = row_cells(result, i);
    nlohmann::json row = nlohmann::json::object();
    for (size_t c = 0; c < cells.size(); ++c) row[names[c]] = json_value(cells[c]);
    rows.push_back(std::move(row));
    if (result.rows[i].on_front) front.push_back(i);
  }
  out["rows"] = std::move(rows);
  out["front"] = std::move(front);
  nlohmann::json best = nlohmann::json::array();
  for (const BestPoint& point : best_points(result.spec, result.rows))
    best.push_back({{"constraint", point.constraint},
                    {"objective", objective_info(point.objective).name},
                    {"point", point.row ? nlohmann::json(*point.row) : nlohmann::json()}});
  out["best"] = std::move(best);
  return out;
}

std::string summary_text(const SweepResult& result) {
  size_t ran = 0, meets = 0, front = 0;
  for (const PointRow& row : result.rows) {
    ran += row.ran();
    meets += row.meets_constraints;
    front += row.on_front;
  }
  std::vector<std::string> objectives;
  for (Objective o : result.spec.pareto) objectives.push_back(std::string(objective_info(o).name));
  std::string out = fmt::format("{}: {} points, {} ran, {} meet the constraints, {} on the front ({})\n",
                                result.spec.name.empty() ? "sweep" : result.spec.name, result.rows.size(),
                                ran, meets, front, fmt::join(objectives, " vs "));
  for (const BestPoint& point : best_points(result.spec, result.rows)) {
    if (point.constraint != "all constraints" || !point.row) continue;
    const ObjectiveInfo& info = objective_info(point.objective);
    out +=
        fmt::format("  best {:<22} {:>12.4g}  {}\n", info.name,
                    *result.rows[*point.row].objective(point.objective), describe_point(result, *point.row));
  }
  return out;
}

}  // namespace xpusim::sweep
