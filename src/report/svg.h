// Small SVG helpers shared by every picture of the HTML report: escaping, the Okabe-Ito color-blind-safe
// palette, log-scale mapping and a string builder for elements. Pictures are plain strings of inline SVG.
// Non-goals: a general SVG library; only what the report's charts use.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace xpusim::report::svg {

// Okabe & Ito (2008) palette, safe for the common color-vision deficiencies, then four grays so up to 12
// categories (op types) stay distinct; beyond that colors repeat.
inline constexpr const char* kPalette[] = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
                                           "#CC79A7", "#000000", "#999999", "#5E5E5E", "#C8C8C8", "#E8E8E8"};
inline constexpr int kPaletteSize = 12;
inline const char* color(int index) {
  return kPalette[((index % kPaletteSize) + kPaletteSize) % kPaletteSize];
}

// The one op -> colour table of every report (issue 24): each graph op type (graph::op_name, plus the cost
// models' "transfer", "sync" and "stack") has a fixed colour, so "linear" is the same blue on the time bars,
// the rooflines and every timeline of every report. Other names get a stable colour from a hash of the name.
const char* op_color(std::string_view op_type);

std::string escape(std::string_view text);  // &, <, >, " -> entities

// Maps value in [lo, hi] (log10) to [out_lo, out_hi]; clamps outside.
double log_map(double value, double lo, double hi, double out_lo, double out_hi);

std::string text(double x, double y, std::string_view content, std::string_view attrs = "");
std::string rect(double x, double y, double w, double h, std::string_view fill, std::string_view attrs = "");
std::string line(double x1, double y1, double x2, double y2, std::string_view stroke,
                 std::string_view attrs = "");
// <svg> wrapper with viewBox, role and an accessible title. `fluid`: width 100% of the container instead of
// `width` pixels (the drawing scales with it).
std::string document(double width, double height, std::string_view title, const std::string& body,
                     bool fluid = false);

// Decade ticks "1e9" -> "1G" style label.
std::string si_label(double value);

}  // namespace xpusim::report::svg
