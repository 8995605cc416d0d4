#include "sweep/html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/svg.h"
#include "sweep/output.h"
#include "sweep/pareto.h"
#include "sweep/points.h"

namespace xpusim::sweep {

namespace {

namespace svg = report::svg;

constexpr double kWidth = 720, kHeight = 480, kLeft = 80, kRight = 20, kTop = 20, kBottom = 60;
constexpr size_t kMaxGreyPoints = 4000;  // the page stays small: the rest of the cloud is thinned evenly

struct Range {
  double lo = INFINITY, hi = -INFINITY;
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // Whole decades around the data, so ticks land on 1, 10, 100...
  void widen() {
    lo = std::pow(10, std::floor(std::log10(lo)));
    hi = std::pow(10, std::ceil(std::log10(hi)));
    if (hi <= lo) hi = lo * 10;
  }
};

std::string point_title(const SweepResult& result, size_t index, Objective x, Objective y) {
  const PointRow& row = result.rows[index];
  return fmt::format("{}\n{} = {:.4g}, {} = {:.4g}{}", describe_point(result, index), objective_info(x).name,
                     *row.objective(x), objective_info(y).name, *row.objective(y),
                     row.on_front ? " (on the front)" : "");
}

std::string axis_ticks(const Range& range, bool horizontal) {
  std::string out;
  for (double v = range.lo; v <= range.hi * 1.0001; v *= 10) {
    if (horizontal) {
      const double x = svg::log_map(v, range.lo, range.hi, kLeft, kWidth - kRight);
      out += svg::line(x, kTop, x, kHeight - kBottom, "#ddd");
      out +=
          svg::text(x, kHeight - kBottom + 16, svg::si_label(v), "text-anchor=\"middle\" font-size=\"11\"");
    } else {
      const double y = svg::log_map(v, range.lo, range.hi, kHeight - kBottom, kTop);
      out += svg::line(kLeft, y, kWidth - kRight, y, "#ddd");
      out += svg::text(kLeft - 6, y + 4, svg::si_label(v), "text-anchor=\"end\" font-size=\"11\"");
    }
  }
  return out;
}

// One scatter plot: objective x against objective y, the front highlighted.
std::string front_plot(const SweepResult& result, Objective x, Objective y) {
  std::vector<size_t> usable;
  Range xr, yr;
  for (size_t i = 0; i < result.rows.size(); ++i) {
    const PointRow& row = result.rows[i];
    if (!row.meets_constraints) continue;
    const auto xv = row.objective(x), yv = row.objective(y);
    if (!xv || !yv || !(*xv > 0) || !(*yv > 0) || !std::isfinite(*xv) || !std::isfinite(*yv)) continue;
    usable.push_back(i);
    xr.add(*xv);
    yr.add(*yv);
  }
  const ObjectiveInfo &xi = objective_info(x), &yi = objective_info(y);
  if (usable.empty())
    return fmt::format("<p>No point meets the constraints with a positive {} and {}.</p>\n", xi.name,
                       yi.name);
  xr.widen();
  yr.widen();
  std::string body = axis_ticks(xr, true) + axis_ticks(yr, false);
  body += svg::text((kLeft + kWidth - kRight) / 2, kHeight - 18,
                    fmt::format("{} ({} is better)", xi.label, xi.maximize ? "right" : "left"),
                    "text-anchor=\"middle\" font-size=\"13\"");
  body += fmt::format(
      "<text x=\"16\" y=\"{}\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">{} "
      "({} is better)</text>",
      (kTop + kHeight - kBottom) / 2, (kTop + kHeight - kBottom) / 2, svg::escape(yi.label),
      yi.maximize ? "up" : "down");
  auto position = [&](size_t i) {
    const PointRow& row = result.rows[i];
    return std::pair{svg::log_map(*row.objective(x), xr.lo, xr.hi, kLeft, kWidth - kRight),
                     svg::log_map(*row.objective(y), yr.lo, yr.hi, kHeight - kBottom, kTop)};
  };
  size_t grey = 0;
  for (size_t i : usable) grey += !result.rows[i].on_front;
  const size_t stride = std::max<size_t>(1, (grey + kMaxGreyPoints - 1) / kMaxGreyPoints);
  size_t seen = 0;
  for (size_t i : usable) {
    if (result.rows[i].on_front || seen++ % stride != 0) continue;
    const auto [px, py] = position(i);
    body +=
        fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"#bbb\"><title>{}</title></circle>",
                    px, py, svg::escape(point_title(result, i, x, y)));
  }
  for (size_t i : usable) {
    if (!result.rows[i].on_front) continue;
    const auto [px, py] = position(i);
    const int model = static_cast<int>(result.rows[i].point[AxisLayout::kModel]);
    body += fmt::format(
        "<circle class=\"front\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\" stroke=\"#000\" "
        "stroke-width=\"0.6\"><title>{}</title></circle>",
        px, py, svg::color(model), svg::escape(point_title(result, i, x, y)));
  }
  std::string legend;
  for (size_t m = 0; m < result.spec.models.size(); ++m)
    legend += fmt::format("<span class=\"key\"><span style=\"background:{}\"></span>{}</span> ",
                          svg::color(static_cast<int>(m)), svg::escape(result.spec.models[m]));
  const std::string title = fmt::format("{} vs {}", xi.name, yi.name);
  return fmt::format(
      "<h2>{}</h2>\n<p>{}<span class=\"key\"><span style=\"background:#bbb\"></span>meets the "
      "constraints, not on the front{}</span></p>\n{}\n",
      svg::escape(title), legend, stride > 1 ? fmt::format(" (every {}th drawn)", stride) : "",
      svg::document(kWidth, kHeight, title, body, true));
}

std::string best_table(const SweepResult& result) {
  std::string out =
      "<h2>Best points per constraint</h2>\n<table>\n<tr><th>constraint</th><th>objective</th>"
      "<th>value</th><th>point</th></tr>\n";
  for (const BestPoint& best : best_points(result.spec, result.rows)) {
    const ObjectiveInfo& info = objective_info(best.objective);
    out += fmt::format("<tr><td>{}</td><td>{} ({})</td>", svg::escape(best.constraint), info.name,
                       info.maximize ? "max" : "min");
    if (best.row)
      out += fmt::format("<td class=\"num\">{:.4g}</td><td>{}</td></tr>\n",
                         *result.rows[*best.row].objective(best.objective),
                         svg::escape(describe_point(result, *best.row)));
    else
      out += "<td></td><td>no point qualifies</td></tr>\n";
  }
  return out + "</table>\n";
}

constexpr const char* kStyle =
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:960px;color:#222}pre{overflow-x:auto}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px "
    "6px;text-align:left}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}.key{margin-right:1em;white-space:nowrap}"
    ".key span{display:inline-block;width:10px;height:10px;margin-right:4px;border:1px solid #666}"
    "circle.front:hover{stroke-width:2}";

}  // namespace

std::string to_html(const SweepResult& result) {
  const std::string name = result.spec.name.empty() ? "sweep" : result.spec.name;
  std::string body = fmt::format("<h1>xpusim sweep: {}</h1>\n<pre>{}</pre>\n", svg::escape(name),
                                 svg::escape(summary_text(result)));
  body +=
      "<p>Hover a point to see its configuration. Prices (usd_per_mtok) are assumptions: the chip files' "
      "cost.price_usd amortized over the spec's years, plus electricity at the spec's price.</p>\n";
  const std::vector<Objective>& objectives = result.spec.pareto;
  for (size_t a = 0; a < objectives.size(); ++a)
    for (size_t b = a + 1; b < objectives.size(); ++b)
      body += front_plot(result, objectives[a], objectives[b]);
  body += best_table(result);
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>xpusim sweep: "
      "{}</title>\n"
      "<style>{}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
      svg::escape(name), kStyle, body);
}

}  // namespace xpusim::sweep
