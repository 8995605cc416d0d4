// Time-based pictures: the engine timeline (one row per unit, busy slices; zoomed by the page's slider,
// which widens the SVG inside a scrolling box) and the serving pictures (TTFT and TPOT distributions as
// empirical CDFs, KV-memory utilization over time), one line per KV layout.
#include <fmt/format.h>

#include <algorithm>

#include "report/format.h"
#include "report/html.h"
#include "report/svg.h"

namespace xpusim::report {

std::string timeline_svg(const TimelineSection& timeline) {
  constexpr double kLeft = 90, kW = 900, kRow = 22;
  uint64_t end = 1;
  for (const auto& track : timeline.tracks)
    for (const auto& slice : track.slices) end = std::max(end, slice.end_cycle);
  std::string body;
  double y = 8;
  for (size_t t = 0; t < timeline.tracks.size(); ++t) {
    const auto& track = timeline.tracks[t];
    body += svg::text(kLeft - 6, y + 14, track.unit, "text-anchor=\"end\"");
    body += svg::rect(kLeft, y, kW - kLeft - 10, kRow - 4, "#f2f2f2");
    for (const auto& slice : track.slices) {
      const double x0 =
          kLeft + (kW - kLeft - 10) * static_cast<double>(slice.start_cycle) / static_cast<double>(end);
      const double x1 =
          kLeft + (kW - kLeft - 10) * static_cast<double>(slice.end_cycle) / static_cast<double>(end);
      body += fmt::format(
          "<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{:.1f}\" fill=\"{}\"><title>{} "
          "{}-{}</title></rect>",
          x0, y, std::max(x1 - x0, 0.3), kRow - 4, svg::op_color(track.unit), svg::escape(slice.label),
          slice.start_cycle, slice.end_cycle);
    }
    y += kRow;
  }
  const std::string axis =
      timeline.clock_mhz > 0
          ? fmt::format("{} cycles = {}", end,
                        format_seconds(static_cast<double>(end) / (timeline.clock_mhz * 1e6)))
          : fmt::format("{} cycles", end);
  body += svg::text(kLeft, y + 14, "0");
  body += svg::text(kW - 10, y + 14, axis, "text-anchor=\"end\"");
  // Full width of its box, so the page's zoom slider (which widens the box) stretches it.
  return svg::document(kW, y + 22, "engine timeline " + timeline.title, body, true);
}

namespace {

// One line chart: several (x, y) series, linear axes from 0.
std::string line_chart(
    const std::string& title, const std::string& x_label,
    const std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>>& series,
    bool y_is_fraction) {
  constexpr double kW = 440, kH = 266, kLeft = 56, kRight = 420, kTop = 26, kBottom = 200;
  double x_max = 0, y_max = y_is_fraction ? 1 : 0;
  for (const auto& [name, pts] : series)
    for (const auto& [x, y] : pts) x_max = std::max(x_max, x), y_max = std::max(y_max, y);
  if (x_max <= 0) x_max = 1;
  if (y_max <= 0) y_max = 1;
  auto px = [&](double x) { return kLeft + (kRight - kLeft) * x / x_max; };
  auto py = [&](double y) { return kBottom - (kBottom - kTop) * y / y_max; };
  std::string body = svg::text(8, 16, title, "font-weight=\"bold\"");
  body += svg::rect(kLeft, kTop, kRight - kLeft, kBottom - kTop, "none", "stroke=\"#888\"");
  for (int i = 0; i <= 4; ++i) {
    const double yv = y_max * i / 4, xv = x_max * i / 4;
    body += svg::text(kLeft - 4, py(yv) + 3, y_is_fraction ? percent(yv) : format_seconds(yv),
                      "text-anchor=\"end\" font-size=\"10\"");
    body +=
        svg::text(px(xv), kBottom + 14, x_label == "fraction of requests" ? percent(xv) : format_seconds(xv),
                  "text-anchor=\"middle\" font-size=\"10\"");
  }
  body += svg::text((kLeft + kRight) / 2, kBottom + 30, x_label, "text-anchor=\"middle\"");
  body += svg::text(12, (kTop + kBottom) / 2, y_is_fraction ? "KV in use" : "latency",
                    fmt::format("text-anchor=\"middle\" font-size=\"10\" transform=\"rotate(-90 12 {:.0f})\"",
                                (kTop + kBottom) / 2));
  for (size_t s = 0; s < series.size(); ++s) {
    std::string points;
    for (const auto& [x, y] : series[s].second) points += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    body += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>", points,
                        svg::color(static_cast<int>(s) + 4));
    body += svg::rect(kLeft + 10 + 110.0 * s, kH - 14, 12, 4, svg::color(static_cast<int>(s) + 4));
    body += svg::text(kLeft + 26 + 110.0 * s, kH - 8, series[s].first);
  }
  return svg::document(kW, kH, title, body);
}

// Empirical CDF as (fraction, value) pairs: x = share of requests, y = latency.
std::vector<std::pair<double, double>> quantile_curve(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::vector<std::pair<double, double>> out;
  for (size_t i = 0; i < values.size(); ++i)
    out.emplace_back(static_cast<double>(i + 1) / static_cast<double>(values.size()), values[i]);
  return out;
}

}  // namespace

std::string serving_summary_html(const ServingSection& serving) {
  std::vector<std::string> names;
  for (const auto& run : serving.runs)
    for (const auto& [name, value] : run.summary)
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  if (names.empty()) return "";
  std::string out = "<table class=\"serving-summary\"><tr><th>KV allocator</th>";
  for (const auto& run : serving.runs) out += "<th>" + svg::escape(run.label) + "</th>";
  out += "</tr>";
  for (const std::string& name : names) {
    out += "<tr><td>" + svg::escape(name) + "</td>";
    for (const auto& run : serving.runs) {
      const auto found = std::find_if(run.summary.begin(), run.summary.end(),
                                      [&](const auto& row) { return row.first == name; });
      out += "<td>" + (found == run.summary.end() ? std::string("-") : svg::escape(found->second)) + "</td>";
    }
    out += "</tr>";
  }
  return out + "</table>";
}

std::string serving_svg(const ServingSection& serving) {
  std::vector<std::pair<std::string, std::vector<std::pair<double, double>>>> ttft, tpot, kv;
  for (const auto& run : serving.runs) {
    ttft.emplace_back(run.label, quantile_curve(run.ttft_s));
    tpot.emplace_back(run.label, quantile_curve(run.tpot_s));
    std::vector<std::pair<double, double>> pts;
    for (size_t i = 0; i < std::min(run.time_s.size(), run.kv_utilization.size()); ++i)
      pts.emplace_back(run.time_s[i], run.kv_utilization[i]);
    kv.emplace_back(run.label, std::move(pts));
  }
  // KV usage first: it explains the latencies that follow (a full cache queues or preempts requests).
  return line_chart("KV memory in use over time (% of capacity)", "time", kv, true) +
         line_chart("TTFT by request quantile (latency)", "fraction of requests", ttft, false) +
         line_chart("TPOT by request quantile (latency)", "fraction of requests", tpot, false);
}

}  // namespace xpusim::report
