// The self-contained HTML report (issue 7): one file with inline CSS and SVG (no scripts beyond a tiny zoom
// handler for the timeline, no network, no external fonts), printable. Sections, each present when its data
// is given: architecture diagrams (one per chip, from its ChipSpec), rooflines, where time and energy go,
// engine timeline, serving, and the run's parameters / generated text / xpusim version.
// API for other commands: fill an HtmlReport with whatever you have and call write_html(); serve-sim sets
// `serving` (serving_section.h), the engine-trace and run --chip ue-* commands set `timeline`
// (timeline_section.h), compare sets `compare`. Every section has id="sec-<name>" (arch, roofline, energy,
// timeline, serving, params) so the browser test can find it.
// Non-goals: computing any figure; everything drawn comes from the structs.
// HOWTO add a section: a render_<name>() in its own html_<name>.cpp returning an HTML fragment, called from
// render_html() in html.cpp, and the id added to the browser test.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report/compare_data.h"
#include "report/serving_section.h"
#include "report/timeline_section.h"

namespace xpusim::report {

struct HtmlReport {
  std::string title = "xpusim report";
  std::optional<CompareReport> compare;
  std::optional<ServingSection> serving;
  std::optional<TimelineSection> timeline;
  // A command's terminal summary, shown first as printed (run --chip <family preset>: energy, DRAM bytes,
  // utilization).
  std::vector<std::string> summary_lines;
  // Extra run parameters shown in the parameters section (command line, seed, ...).
  std::vector<std::pair<std::string, std::string>> parameters;
};

std::string render_html(const HtmlReport& report);
// Writes render_html() to `path`; xpusim::Error naming the path when it cannot be written.
void write_html(const HtmlReport& report, const std::string& path);

// Pictures, one HTML fragment each (used by render_html; exposed for tests).
std::string architecture_svg(const chips::ChipSpec& chip, const chips::SystemPlan* plan);
// The family's teaching diagram (html_family.cpp) and its card with the trade-off sentence.
std::string family_diagram_svg(const chips::ChipSpec& chip, const chips::RunEstimate* estimate);
std::string family_card(const ChipResult& result);
// One prefill and a few (mean) decode steps of one chip, one track per op type, bound of each op marked.
std::string chip_timeline_svg(const chips::RunEstimate& estimate, int decode_steps = 3);
// Every op type the report's runs contain, in first-seen order (the legend's and the bars' order).
std::vector<std::string> report_op_types(const CompareReport& report);
// The op -> colour legend of the page (every op type in `types`, colours from svg::op_color).
std::string op_legend_html(const std::vector<std::string>& types);
// `chip` (optional) adds the spec-peak roofs next to the achievable ones.
std::string roofline_svg(const chips::RunEstimate& estimate, const chips::ChipSpec* chip = nullptr);
std::string time_energy_svg(const CompareReport& report);
std::string throughput_svg(const CompareReport& report);
std::string timeline_svg(const TimelineSection& timeline);
std::string serving_svg(const ServingSection& serving);
// The runs' summary figures as one table (a column per run); empty when no run has any.
std::string serving_summary_html(const ServingSection& serving);

}  // namespace xpusim::report
