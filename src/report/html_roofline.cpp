// Roofline of one chip: the step's ops (grouped by op type, prefill as circles, decode as squares) at their
// arithmetic intensity (FLOPs per byte moved at the level holding the weights) and achieved FLOP/s, under
// the compute peak and one bandwidth roof per memory level. Log-log axes.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "report/format.h"
#include "report/html.h"
#include "report/svg.h"

namespace xpusim::report {

namespace {

struct Point {
  std::string op_type;
  bool prefill;
  double intensity, flops_per_s;
  bool overhead_bound;  // most of the group's time is fixed per-op overhead: the point sits on its floor
};

int weight_level_index(const chips::SystemPlan& plan) {
  for (size_t i = 0; i < plan.levels.size(); ++i)
    if (plan.levels[i].name == plan.weight_level) return static_cast<int>(i);
  return plan.levels.empty() ? -1 : static_cast<int>(plan.levels.size()) - 1;
}

void collect(const chips::StepCost& step, bool prefill, int level, std::vector<Point>& out) {
  struct Sum {
    double flops = 0, bytes = 0, seconds = 0, overhead_seconds = 0;
  };
  std::map<std::string, Sum> by_type;
  for (const auto& op : step.ops) {
    Sum& sum = by_type[op.op_type];
    sum.flops += op.flops;
    sum.seconds += op.seconds;
    if (op.bound == chips::Bound::OVERHEAD) sum.overhead_seconds += op.seconds;
    if (level >= 0 && static_cast<size_t>(level) < op.bytes_per_level.size())
      sum.bytes += op.bytes_per_level[level];
  }
  for (const auto& [type, sum] : by_type)
    if (sum.flops > 0 && sum.bytes > 0 && sum.seconds > 0)
      out.push_back({type, prefill, sum.flops / sum.bytes, sum.flops / sum.seconds,
                     sum.overhead_seconds > 0.5 * sum.seconds});
}

}  // namespace

std::string roofline_svg(const chips::RunEstimate& estimate, const chips::ChipSpec* chip) {
  const chips::SystemPlan& plan = estimate.plan;
  const int level = weight_level_index(plan);
  std::vector<Point> points;
  collect(estimate.prefill, true, level, points);
  collect(estimate.decode, false, level, points);

  constexpr double kW = 540, kH = 330, kLeft = 62, kRight = 330, kTop = 28, kBottom = 280;
  double x_lo = 0.1, x_hi = 1e4;
  double y_hi = std::max(plan.peak_flops, 1.0) * 3;
  double y_lo = y_hi / 1e6;
  for (const auto& p : points) {
    x_lo = std::min(x_lo, p.intensity / 3);
    x_hi = std::max(x_hi, p.intensity * 3);
    y_lo = std::min(y_lo, p.flops_per_s / 3);
  }
  x_lo = std::pow(10, std::floor(std::log10(x_lo)));
  x_hi = std::pow(10, std::ceil(std::log10(x_hi)));
  y_lo = std::pow(10, std::floor(std::log10(y_lo)));
  y_hi = std::pow(10, std::ceil(std::log10(y_hi)));
  auto px = [&](double v) { return svg::log_map(v, x_lo, x_hi, kLeft, kRight); };
  auto py = [&](double v) { return svg::log_map(v, y_lo, y_hi, kBottom, kTop); };

  std::string body = svg::text(
      8, 16, fmt::format("{}: roofline ({} weights in {})", plan.chip, plan.weight_format, plan.weight_level),
      "font-weight=\"bold\" font-size=\"13\"");
  for (double v = x_lo; v <= x_hi * 1.01; v *= 10) {
    body += svg::line(px(v), kTop, px(v), kBottom, "#e4e4e4");
    body += svg::text(px(v), kBottom + 14, svg::si_label(v), "text-anchor=\"middle\" font-size=\"10\"");
  }
  for (double v = y_lo; v <= y_hi * 1.01; v *= 10) {
    body += svg::line(kLeft, py(v), kRight, py(v), "#e4e4e4");
    body += svg::text(kLeft - 4, py(v) + 3, svg::si_label(v), "text-anchor=\"end\" font-size=\"10\"");
  }
  body += svg::text((kLeft + kRight) / 2, kBottom + 30,
                    fmt::format("FLOPs per byte of {} traffic", plan.weight_level), "text-anchor=\"middle\"");
  body += svg::text(
      14, (kTop + kBottom) / 2, "achieved FLOP/s",
      fmt::format("text-anchor=\"middle\" transform=\"rotate(-90 14 {:.0f})\"", (kTop + kBottom) / 2));
  body += svg::rect(kLeft, kTop, kRight - kLeft, kBottom - kTop, "none", "stroke=\"#888\"");

  // Roofs: the spec peak (thin, dotted) and the achievable one the model uses (solid / dashed): compute at
  // the chip's GEMM efficiency, each memory level at the bandwidth the plan charges.
  const double peak = plan.peak_flops;
  const double gemm = chip ? chip->efficiency.gemm_fraction : 1.0;
  body += svg::line(kLeft, py(peak), kRight, py(peak), "#000",
                    "stroke-width=\"1\" stroke-dasharray=\"1 2\" class=\"roof-peak\"");
  body += svg::text(kRight - 2, py(peak) - 4, "peak " + format_flops(peak),
                    "text-anchor=\"end\" font-size=\"10\"");
  const double achievable = peak * gemm;
  if (gemm < 1) {
    body += svg::line(kLeft, py(achievable), kRight, py(achievable), "#000",
                      "stroke-width=\"2\" class=\"roof-achievable\"");
    body += svg::text(kRight - 2, py(achievable) + 12, "achievable " + format_flops(achievable),
                      "text-anchor=\"end\" font-size=\"10\"");
  }
  auto draw_roof = [&](double bw, double top, const char* stroke, const char* attrs) {
    if (bw <= 0) return;
    const double x0 = std::max(x_lo, y_lo / bw);
    const double x1 = std::min(top / bw, x_hi);
    if (x1 > x0) body += svg::line(px(x0), py(bw * x0), px(x1), py(bw * x1), stroke, attrs);
  };
  for (size_t i = 0; i < plan.levels.size(); ++i) {
    const char* stroke = svg::color(static_cast<int>(i) + 4);
    draw_roof(plan.levels[i].bandwidth_bytes_per_s, achievable, stroke,
              "stroke-width=\"1.5\" stroke-dasharray=\"5 3\"");
    if (const chips::MemoryLevel* spec = chip ? chip->find_level(plan.levels[i].name) : nullptr)
      draw_roof(spec->bandwidth_gbps * 1e9 * std::max(plan.chips_used, 1), peak, stroke,
                "stroke-width=\"1\" stroke-dasharray=\"1 2\" class=\"roof-peak\"");
  }
  // Overhead-bound groups: their FLOP/s is capped by the fixed per-op cost, not by a roof. A floor line
  // (red, dotted) through the point says so.
  bool any_overhead = false;
  for (const auto& p : points) {
    if (!p.overhead_bound) continue;
    any_overhead = true;
    body += svg::line(std::max(kLeft, px(p.intensity) - 40), py(p.flops_per_s),
                      std::min(kRight, px(p.intensity) + 40), py(p.flops_per_s), "#D55E00",
                      "stroke-width=\"1.5\" stroke-dasharray=\"2 2\" class=\"overhead-floor\"");
  }

  std::vector<std::string> types;
  for (const auto& p : points)
    if (std::find(types.begin(), types.end(), p.op_type) == types.end()) types.push_back(p.op_type);
  for (const auto& p : points) {
    const int index = static_cast<int>(std::find(types.begin(), types.end(), p.op_type) - types.begin());
    const char* fill = svg::op_color(p.op_type);
    (void)index;
    const std::string tip =
        fmt::format("<title>{} {}: {:.3g} FLOP/B, {}</title>", p.prefill ? "prefill" : "decode", p.op_type,
                    p.intensity, format_flops(p.flops_per_s));
    if (p.prefill)
      body += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\" stroke=\"#000\" "
          "data-op=\"{}\">{}</circle>",
          px(p.intensity), py(p.flops_per_s), fill, svg::escape(p.op_type), tip);
    else
      body += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"9\" height=\"9\" fill=\"{}\" stroke=\"#000\" "
          "data-op=\"{}\">{}</rect>",
          px(p.intensity) - 4.5, py(p.flops_per_s) - 4.5, fill, svg::escape(p.op_type), tip);
  }
  // Legend.
  double ly = kTop + 6;
  body += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"#fff\" stroke=\"#000\"/>", kRight + 16, ly);
  body += svg::text(kRight + 26, ly + 4, "prefill");
  body += svg::rect(kRight + 11.5, ly + 11.5, 9, 9, "#fff", "stroke=\"#000\"");
  body += svg::text(kRight + 26, ly + 20, "decode");
  ly += 40;
  for (size_t i = 0; i < types.size(); ++i) {
    body += svg::rect(kRight + 11, ly + 16.0 * i - 8, 10, 10, svg::op_color(types[i]),
                      fmt::format("data-op=\"{}\"", svg::escape(types[i])));
    body += svg::text(kRight + 26, ly + 16.0 * i + 1, types[i]);
  }
  // Roof legend (labels on the plot would collide where levels have similar bandwidths).
  ly += 16.0 * static_cast<double>(types.size()) + 10;
  body += svg::text(kRight + 8, ly, "roofs (dotted: spec peak,", "font-size=\"10\"");
  ly += 12;
  body += svg::text(kRight + 8, ly, "dashed/solid: achievable):", "font-size=\"10\"");
  for (size_t i = 0; i < plan.levels.size(); ++i) {
    const double y = ly + 15.0 * static_cast<double>(i + 1);
    const char* stroke = svg::color(static_cast<int>(i) + 4);
    body += svg::line(kRight + 8, y - 4, kRight + 24, y - 4, stroke,
                      "stroke-width=\"2\" stroke-dasharray=\"4 2\"");
    body += svg::text(kRight + 28, y,
                      plan.levels[i].name + " " + format_rate(plan.levels[i].bandwidth_bytes_per_s) + "B/s",
                      "font-size=\"10\"");
  }
  ly += 15.0 * static_cast<double>(plan.levels.size() + 1);
  if (any_overhead) {
    body += svg::line(kRight + 8, ly - 4, kRight + 24, ly - 4, "#D55E00",
                      "stroke-width=\"1.5\" stroke-dasharray=\"2 2\"");
    body += svg::text(kRight + 28, ly, "overhead floor (per-op cost)", "font-size=\"10\"");
    ly += 15;
  }
  if (points.empty())
    body += svg::text((kLeft + kRight) / 2, (kTop + kBottom) / 2, "no ops with FLOPs and bytes to plot",
                      "text-anchor=\"middle\"");
  return svg::document(kW, std::max(kH, ly + 8), "roofline of " + plan.chip, body);
}

}  // namespace xpusim::report
