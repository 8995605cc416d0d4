#include "report/svg.h"

#include <algorithm>
#include <cmath>

namespace xpusim::report::svg {

std::string escape(std::string_view input) {
  std::string out;
  out.reserve(input.size());
  for (char c : input) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

double log_map(double value, double lo, double hi, double out_lo, double out_hi) {
  if (!(lo > 0) || !(hi > lo)) return out_lo;
  const double v = std::clamp(value > 0 ? value : lo, lo, hi);
  const double t = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  return out_lo + t * (out_hi - out_lo);
}

std::string text(double x, double y, std::string_view content, std::string_view attrs) {
  return fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" {}>{}</text>", x, y, attrs, escape(content));
}

std::string rect(double x, double y, double w, double h, std::string_view fill, std::string_view attrs) {
  return fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" {}/>", x,
                     y, std::max(w, 0.0), std::max(h, 0.0), fill, attrs);
}

std::string line(double x1, double y1, double x2, double y2, std::string_view stroke,
                 std::string_view attrs) {
  return fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" {}/>", x1,
                     y1, x2, y2, stroke, attrs);
}

std::string document(double width, double height, std::string_view title, const std::string& body,
                     bool fluid) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {:.0f} {:.0f}\" width=\"{}\" "
      "role=\"img\" font-family=\"sans-serif\" font-size=\"12\"><title>{}</title>{}</svg>",
      width, height, fluid ? std::string("100%") : fmt::format("{:.0f}", width), escape(title), body);
}

std::string si_label(double value) {
  static constexpr std::pair<double, const char*> kSteps[] = {
      {1e18, "E"}, {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}};
  for (const auto& [scale, suffix] : kSteps)
    if (std::fabs(value) >= scale) return fmt::format("{:g}{}", value / scale, suffix);
  return fmt::format("{:g}", value);
}

}  // namespace xpusim::report::svg
