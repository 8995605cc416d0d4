// "Where the time goes, per chip" (issue 24): the run's prefill step and a few decode steps of one chip as a
// timeline, one track per op type (the page-wide op colours of svg::op_color), ops laid end to end in
// execution order, and a last track giving each op's bound (compute, memory, interconnect, overhead). The
// prefill and the decode steps get a panel each, every panel to its own time scale (written under it):
// prefill is often 100x a decode step, and one shared scale would leave the decode steps invisible.
// The decode steps are the run's mean decode step (RunEstimate::decode holds all decode steps summed, op by
// op), so the picture stays an honest summary of the estimate without running the model again.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "report/format.h"
#include "report/html.h"
#include "report/svg.h"

namespace xpusim::report {

namespace {

constexpr double kLabelW = 96, kWidth = 900, kRow = 18, kGap = 24;

const char* bound_color(chips::Bound bound) {
  switch (bound) {
    case chips::Bound::COMPUTE:
      return "#333333";
    case chips::Bound::MEMORY:
      return "#A6CEE3";
    case chips::Bound::INTERCONNECT:
      return "#B15928";
    case chips::Bound::OVERHEAD:
      return "#FB9A99";
  }
  return "#999";
}

struct PendingSlice {
  double x0 = 0, x1 = 0;
  int ops = 0;
  std::string first_label, op_type;
  double seconds = 0;
  chips::Bound bound = chips::Bound::COMPUTE;
  std::array<double, 4> seconds_by_bound{};  // bound track: the slice shows the bound with the most time
};

struct Panel {
  std::string title;
  const chips::StepCost* step;
  double scale;  // divide op seconds by this (the number of decode steps summed in `step`)
  int repeats;   // steps drawn one after the other
};

}  // namespace

std::string chip_timeline_svg(const chips::RunEstimate& estimate, int decode_steps) {
  std::vector<std::string> types;
  for (const auto* step : {&estimate.prefill, &estimate.decode})
    for (const auto& op : step->ops)
      if (std::find(types.begin(), types.end(), op.op_type) == types.end()) types.push_back(op.op_type);
  const int64_t summed_decode_steps = estimate.shape.gen_len - 1;
  std::vector<Panel> panels = {
      {fmt::format("prefill of {} x {} tokens", estimate.shape.batch, estimate.shape.prompt_len),
       &estimate.prefill, 1.0, 1}};
  if (summed_decode_steps > 0 && !estimate.decode.ops.empty())
    panels.push_back(
        {fmt::format("{} mean decode steps", std::min<int64_t>(decode_steps, summed_decode_steps)),
         &estimate.decode, static_cast<double>(summed_decode_steps),
         static_cast<int>(std::min<int64_t>(decode_steps, summed_decode_steps))});

  const double tracks_h = kRow * static_cast<double>(types.size() + 1);
  const double panel_w = (kWidth - kLabelW - kGap * static_cast<double>(panels.size())) / panels.size();
  std::string body;
  const double top = 20;
  for (size_t t = 0; t < types.size(); ++t)
    body += svg::text(kLabelW - 6, top + kRow * t + 13, types[t], "text-anchor=\"end\" font-size=\"11\"");
  body += svg::text(kLabelW - 6, top + kRow * types.size() + 13, "bound",
                    "text-anchor=\"end\" font-size=\"11\" font-style=\"italic\"");
  for (size_t p = 0; p < panels.size(); ++p) {
    const Panel& panel = panels[p];
    const double x0 = kLabelW + p * (panel_w + kGap);
    const double step_s = panel.step->seconds / panel.scale;
    const double total_s = step_s * panel.repeats;
    body += svg::text(x0, top - 6, panel.title, "font-weight=\"bold\" font-size=\"11\"");
    body += svg::rect(x0, top, panel_w, tracks_h - 2, "#f4f4f4");
    if (total_s <= 0) continue;
    auto px = [&](double s) { return x0 + panel_w * s / total_s; };
    // Slices closer than 1.5 pixels on the same track (and of the same bound on the bound track) merge
    // into one, so a 30-layer prefill stays a few hundred elements; the tooltip says how many ops it holds.
    std::vector<PendingSlice> pending(types.size() + 1);
    auto flush = [&](size_t track) {
      PendingSlice& slice = pending[track];
      if (slice.ops == 0) return;
      const bool bound_track = track == types.size();
      const std::string tip = fmt::format(
          "<title>{}{} ({}): {}, {}-bound</title>", svg::escape(slice.first_label),
          slice.ops > 1 ? fmt::format(" and {} more", slice.ops - 1) : "", svg::escape(slice.op_type),
          format_seconds(slice.seconds), chips::bound_name(slice.bound));
      body += fmt::format(
          "<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{:.1f}\" fill=\"{}\" "
          "{}=\"{}\">{}</rect>",
          slice.x0, top + kRow * track + 1, std::max(slice.x1 - slice.x0, 0.4), kRow - 3,
          bound_track ? bound_color(slice.bound) : svg::op_color(slice.op_type),
          bound_track ? "data-bound" : "data-op",
          bound_track ? chips::bound_name(slice.bound) : svg::escape(slice.op_type), tip);
      slice = PendingSlice{};
    };
    auto add = [&](size_t track, double from, double to, const chips::OpCost& op, double seconds) {
      PendingSlice& slice = pending[track];
      const bool bound_track = track == types.size();
      // The bound track merges slivers of different bounds too (under 1.5 px nobody sees them apart) and
      // shows the bound with the most time in the merged slice.
      if (slice.ops > 0 &&
          (from > slice.x1 + 1.5 || (bound_track && slice.bound != op.bound && slice.x1 - slice.x0 >= 1.5)))
        flush(track);
      if (slice.ops == 0) slice = PendingSlice{from, to, 0, op.label, op.op_type, 0, op.bound, {}};
      slice.x1 = to;
      ++slice.ops;
      slice.seconds += seconds;
      slice.seconds_by_bound[static_cast<size_t>(op.bound)] += seconds;
      slice.bound = static_cast<chips::Bound>(
          std::max_element(slice.seconds_by_bound.begin(), slice.seconds_by_bound.end()) -
          slice.seconds_by_bound.begin());
      if (bound_track && slice.op_type != op.op_type) slice.op_type = "several op types";
    };
    for (int r = 0; r < panel.repeats; ++r) {
      double t = step_s * r;
      if (r > 0) body += svg::line(px(t), top - 2, px(t), top + tracks_h, "#000", "stroke-dasharray=\"2 2\"");
      for (const chips::OpCost& op : panel.step->ops) {
        const double seconds = op.seconds / panel.scale;
        if (seconds <= 0) continue;
        const size_t track =
            static_cast<size_t>(std::find(types.begin(), types.end(), op.op_type) - types.begin());
        add(track, px(t), px(t + seconds), op, seconds);
        add(types.size(), px(t), px(t + seconds), op, seconds);
        t += seconds;
      }
      for (size_t track = 0; track <= types.size(); ++track) flush(track);
    }
    const double axis_y = top + tracks_h + 14;
    body += svg::text(x0, axis_y, "0", "font-size=\"10\"");
    body += svg::text(x0 + panel_w, axis_y,
                      panel.repeats > 1
                          ? fmt::format("{} ({} per step)", format_seconds(total_s), format_seconds(step_s))
                          : format_seconds(total_s),
                      "text-anchor=\"end\" font-size=\"10\"");
  }
  // Bound legend.
  double lx = kLabelW, ly = top + tracks_h + 34;
  body += svg::text(lx, ly, "bound:", "font-size=\"11\"");
  lx += 44;
  for (const chips::Bound bound :
       {chips::Bound::COMPUTE, chips::Bound::MEMORY, chips::Bound::INTERCONNECT, chips::Bound::OVERHEAD}) {
    body += svg::rect(lx, ly - 9, 10, 10, bound_color(bound));
    body += svg::text(lx + 14, ly, chips::bound_name(bound), "font-size=\"11\"");
    lx += 100;
  }
  body +=
      svg::text(lx, ly, "time axis: seconds, each panel to its own scale", "font-size=\"11\" fill=\"#444\"");
  return svg::document(kWidth, ly + 8, "timeline of " + estimate.plan.chip, body, true);
}

std::string op_legend_html(const std::vector<std::string>& types) {
  std::string out = "<p class=\"note op-legend\">Op colours (the same on every chart): ";
  for (const std::string& type : types)
    out += fmt::format(
        "<span style=\"white-space:nowrap;margin-right:10px\"><span style=\"display:inline-block;width:11px;"
        "height:11px;background:{};vertical-align:middle;margin-right:3px;border:1px solid "
        "#888\"></span>{}</span>",
        svg::op_color(type), svg::escape(type));
  return out + "</p>";
}

}  // namespace xpusim::report
