#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <utility>

namespace xpusim::report::svg {

const char* op_color(std::string_view op_type) {
  static constexpr std::pair<std::string_view, const char*> kTable[] = {
      {"linear", "#0072B2"},     {"attention", "#D55E00"},  {"rms_norm", "#009E73"},
      {"layer_norm", "#117733"}, {"rope", "#CC79A7"},       {"kv_store", "#E69F00"},
      {"embed_rows", "#56B4E9"}, {"add", "#F0E442"},        {"mul", "#999933"},
      {"silu", "#882255"},       {"gelu_tanh", "#AA4499"},  {"scale", "#DDCC77"},
      {"softcap", "#44AA99"},    {"slice_rows", "#888888"}, {"reshape", "#BBBBBB"},
      {"moe", "#332288"},        {"transfer", "#000000"},   {"sync", "#5E5E5E"},
      {"stack", "#C8C8C8"}};
  for (const auto& [name, colour] : kTable)
    if (name == op_type) return colour;
  // FNV-1a: the same name gets the same colour in every report and every run.
  uint32_t hash = 2166136261u;
  for (char c : op_type) hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
  static constexpr const char* kOthers[] = {"#6699CC", "#EE8866", "#BBCC33", "#77AADD", "#EEDD88", "#FFAABB"};
  return kOthers[hash % std::size(kOthers)];
}

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
