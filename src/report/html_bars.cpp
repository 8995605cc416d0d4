// "Where time and energy go": per chip, a 100% stacked bar of the run's time by op type and one of its
// energy by component (compute, on-chip memory, off-chip memory, links, static), with the absolute totals
// written next to them; and tokens/s next to tokens/J on log scales.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "report/format.h"
#include "report/html.h"
#include "report/svg.h"

namespace xpusim::report {

namespace {

constexpr double kLabelW = 150, kBarW = 300;

const char* component_color(const std::string& component) {
  static const std::pair<const char*, const char*> kColours[] = {{"compute", "#E69F00"},
                                                                 {"on-chip memory", "#009E73"},
                                                                 {"off-chip memory", "#D55E00"},
                                                                 {"links", "#CC79A7"},
                                                                 {"static", "#999999"}};
  for (const auto& [name, colour] : kColours)
    if (component == name) return colour;
  return "#555";
}

// One 100% bar; `ops`: the parts are op types (page-wide op colours, data-op) rather than energy components.
// `unit` formats a part's absolute value for its tooltip.
std::string stacked_bar(double x, double y, const std::vector<std::pair<std::string, double>>& parts,
                        bool ops, std::string (*unit)(double)) {
  double total = 0;
  for (const auto& part : parts) total += part.second;
  std::string out;
  double offset = 0;
  for (const auto& [name, value] : parts) {
    if (total <= 0 || value <= 0) continue;
    const double w = kBarW * value / total;
    out += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"16\" fill=\"{}\" {}=\"{}\"><title>{}: {} "
        "({})</title></rect>",
        x + offset, y, w, ops ? svg::op_color(name) : component_color(name),
        ops ? "data-op" : "data-component", svg::escape(name), svg::escape(name), unit(value),
        percent(value / total));
    offset += w;
  }
  return out;
}

// Legend rows wrapped to the chart width; `y` is advanced past the last row.
std::string legend(double& y, const std::vector<std::string>& names, bool ops) {
  std::string out;
  double x = 8;
  for (size_t i = 0; i < names.size(); ++i) {
    const double w = 24 + 7.0 * static_cast<double>(names[i].size());
    if (x + w > kLabelW + kBarW + 160) x = 8, y += 18;
    out += svg::rect(x, y - 10, 11, 11, ops ? svg::op_color(names[i]) : component_color(names[i]),
                     ops ? fmt::format("data-op=\"{}\"", svg::escape(names[i])) : "");
    out += svg::text(x + 15, y, names[i]);
    x += w;
  }
  y += 18;
  return out;
}

// The chip's name left of its bar; for a chip that cannot run, a note in the bar's place and the next row.
bool chip_row_label(std::string& body, double& y, const ChipResult& r) {
  body += svg::text(kLabelW - 8, y + 12, r.chip.name, "text-anchor=\"end\"");
  if (r.estimate) return true;
  body += svg::text(kLabelW, y + 12, "cannot run (see table)", "fill=\"#444\"");
  y += 22;
  return false;
}

}  // namespace

std::string time_energy_svg(const CompareReport& report) {
  const std::vector<std::string> types = report_op_types(report);
  const std::vector<std::string> components = {"compute", "on-chip memory", "off-chip memory", "links",
                                               "static"};
  std::string body = svg::text(kLabelW, 16, "time by op type (prefill + all decode steps; total in seconds)",
                               "font-weight=\"bold\"");
  double y = 28;
  for (const auto& r : report.results) {
    if (!chip_row_label(body, y, r)) continue;
    std::map<std::string, double> seconds;
    for (const auto* step : {&r.estimate->prefill, &r.estimate->decode})
      for (const auto& op : step->ops) seconds[op.op_type] += op.seconds;
    std::vector<std::pair<std::string, double>> parts(seconds.begin(), seconds.end());
    body += stacked_bar(kLabelW, y, parts, true, format_seconds);
    body += svg::text(kLabelW + kBarW + 6, y + 12,
                      format_seconds(r.estimate->prefill.seconds + r.estimate->decode.seconds) + " total");
    y += 22;
  }
  y += 12;
  body += legend(y, types, true);
  y += 16;
  body += svg::text(kLabelW, y, "energy per generated token by component (J/token)", "font-weight=\"bold\"");
  y += 12;
  for (const auto& r : report.results) {
    if (!chip_row_label(body, y, r)) continue;
    const chips::EnergySplit& e = r.estimate->energy_per_token;
    body += stacked_bar(kLabelW, y,
                        {{"compute", e.compute_j},
                         {"on-chip memory", e.onchip_memory_j},
                         {"off-chip memory", e.offchip_memory_j},
                         {"links", e.links_j},
                         {"static", e.static_j}},
                        false, format_joules);
    body += svg::text(kLabelW + kBarW + 6, y + 12, format_joules(e.total()) + "/token");
    y += 22;
  }
  y += 12;
  body += legend(y, components, false);
  return svg::document(kLabelW + kBarW + 160, y, "where time and energy go", body);
}

std::string throughput_svg(const CompareReport& report) {
  double max_tps = 1, min_tps = 1e30, max_tpj = 1, min_tpj = 1e30;
  for (const auto& r : report.results) {
    if (!r.estimate) continue;
    max_tps = std::max(max_tps, r.estimate->tokens_per_s);
    min_tps = std::min(min_tps, r.estimate->tokens_per_s);
    max_tpj = std::max(max_tpj, r.estimate->tokens_per_joule);
    min_tpj = std::min(min_tpj, r.estimate->tokens_per_joule);
  }
  constexpr double kHalf = 170;
  std::string body = svg::text(kLabelW, 16, "tokens/s (log)", "font-weight=\"bold\"");
  body += svg::text(kLabelW + kHalf + 90, 16, "tokens/J (log)", "font-weight=\"bold\"");
  double y = 26;
  for (const auto& r : report.results) {
    body += svg::text(kLabelW - 8, y + 12, r.chip.name, "text-anchor=\"end\"");
    if (r.estimate) {
      const double w1 = svg::log_map(r.estimate->tokens_per_s, min_tps / 10, max_tps, 4, kHalf);
      const double w2 = svg::log_map(r.estimate->tokens_per_joule, min_tpj / 10, max_tpj, 4, kHalf);
      body += svg::rect(kLabelW, y, w1, 16, svg::kPalette[4]);
      body += svg::text(kLabelW + w1 + 4, y + 12, format_rate(r.estimate->tokens_per_s), "font-size=\"11\"");
      body += svg::rect(kLabelW + kHalf + 90, y, w2, 16, svg::kPalette[2]);
      body += svg::text(kLabelW + kHalf + 90 + w2 + 4, y + 12, format_rate(r.estimate->tokens_per_joule),
                        "font-size=\"11\"");
    }
    y += 22;
  }
  return svg::document(kLabelW + 2 * kHalf + 150, y + 6, "tokens per second and per joule", body);
}

}  // namespace xpusim::report
