// Page assembly of the HTML report: CSS, the section order, the compare table and the parameters section.
// The pictures come from html_arch.cpp, html_roofline.cpp, html_bars.cpp and html_series.cpp.
#include "report/html.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "chips/display.h"
#include "core/error.h"
#include "report/format.h"
#include "report/svg.h"

namespace xpusim::report {

namespace {

constexpr const char* kCss = R"(
body{font-family:sans-serif;margin:24px;color:#111;background:#fff;max-width:1500px}
h1{font-size:22px}h3{font-size:15px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
.grid{display:flex;flex-wrap:wrap;gap:16px}.card{border:1px solid #ddd;border-radius:6px;padding:8px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}
td:first-child,th:first-child{text-align:left}.err{color:#D55E00;text-align:left;white-space:normal}
.best{font-weight:bold;background:#e6f3ea}pre{white-space:pre-wrap;background:#f6f6f6;padding:8px}
.note{color:#444;font-size:13px}.family-card{flex:1 1 440px;max-width:560px}.family-card h3{margin:4px 0}
.tradeoff{font-size:13px;max-width:540px}.chip-timeline{margin-bottom:12px}.scroll{overflow-x:auto;border:1px solid #ddd}
@media print{.card{break-inside:avoid}h2{break-after:avoid}.scroll{overflow:visible}}
)";

std::string section(const std::string& id, const std::string& title, const std::string& content) {
  return fmt::format("<section id=\"sec-{}\"><h2>{}</h2>\n{}\n</section>\n", id, svg::escape(title), content);
}

std::string compare_table(const CompareReport& report) {
  const auto fastest = fastest_chip(report);
  const auto efficient = most_efficient_chip(report);
  std::string out =
      "<table><tr><th>chip</th><th>family</th><th>chips</th><th>weights</th><th>TTFT</th><th>TPOT</th>"
      "<th>tokens/s</th><th>tokens/J</th><th>J/token</th><th>utilization</th><th>bound</th>"
      "<th title=\"median |error| of the chip's validation family (docs/validation.md)\">validated "
      "error</th></tr>\n";
  for (size_t i = 0; i < report.results.size(); ++i) {
    const ChipResult& r = report.results[i];
    out += fmt::format("<tr><td>{}</td><td>{}</td>", svg::escape(r.chip.name),
                       chips::family_name(r.chip.family));
    if (!r.estimate) {
      out += fmt::format("<td colspan=\"10\" class=\"err\">cannot run: {}</td></tr>\n", svg::escape(r.error));
      continue;
    }
    const chips::RunEstimate& e = *r.estimate;
    out += fmt::format(
        "<td>{}</td><td>{} in {}</td><td>{}</td><td>{}</td><td{}>{}</td><td{}>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td></tr>\n",
        e.plan.chips_used, svg::escape(e.plan.weight_format), svg::escape(e.plan.weight_level),
        format_seconds(e.ttft_s), format_seconds(e.tpot_s), fastest == i ? " class=\"best\"" : "",
        format_rate(e.tokens_per_s), efficient == i ? " class=\"best\"" : "", format_rate(e.tokens_per_joule),
        format_joules(e.energy_per_token_j), percent(e.utilization), chips::bound_name(e.dominant_bound),
        r.error_band > 0
            ? fmt::format("&plusmn;{:.0f}% ({})", r.error_band * 100, svg::escape(r.error_band_family))
            : std::string("not validated"));
  }
  out += "</table>\n<ul>";
  for (const std::string& line : explain(report)) out += "<li>" + svg::escape(line) + "</li>";
  out += "</ul>\n<h3>How each chip was modelled</h3>\n<ul class=\"note\">";
  for (const auto& r : report.results) {
    if (!r.estimate || r.estimate->plan.notes.empty()) continue;
    std::string notes;
    for (const std::string& note : r.estimate->plan.notes) notes += (notes.empty() ? "" : "; ") + note;
    out += fmt::format("<li><b>{}</b>: {}</li>", svg::escape(r.chip.name), svg::escape(notes));
  }
  return out + "</ul>\n";
}

std::string compare_sections(const CompareReport& report) {
  std::string families;
  for (const auto& r : report.results) families += family_card(r);
  std::string out = section("families", "How each chip works",
                            "<p class=\"note\">One diagram per chip, drawn from its chip file and this run's "
                            "plan: orange = compute, "
                            "blue = matrix engines or caches, green = on-chip SRAM, vermillion = off-chip "
                            "DRAM, purple = chip-to-chip "
                            "links, black outline = the level holding the weights.</p><div class=\"grid\">" +
                                families + "</div>");
  out += section("summary", "Summary", compare_table(report));
  std::string timelines;
  for (const auto& r : report.results)
    if (r.estimate)
      timelines +=
          fmt::format("<div class=\"card chip-timeline\" data-chip=\"{}\"><h3>{}</h3>{}</div>\n",
                      svg::escape(r.chip.name), svg::escape(r.chip.name), chip_timeline_svg(*r.estimate));
  out += section(
      "chip-timeline", "Where the time goes, per chip",
      op_legend_html(report_op_types(report)) +
          "<p class=\"note\">Each chip's prefill step and its mean decode step (three times), ops in "
          "execution order on one track per op type; the last track gives what bounds each op. Hover a "
          "slice for the op, its time and bound.</p>" +
          timelines);
  std::string arch;
  for (const auto& r : report.results)
    arch += "<div class=\"card\">" + architecture_svg(r.chip, r.estimate ? &r.estimate->plan : nullptr) +
            "</div>\n";
  out +=
      section("arch", "Memory hierarchy",
              "<p class=\"note\">Drawn from each chip file: orange squares are compute units (blue: matrix "
              "engines inside), bars are memory levels (blue cache, green SRAM, vermillion off-chip), purple "
              "strokes are chip-to-chip links.</p><div class=\"grid\">" +
                  arch + "</div>");
  std::string roof;
  for (const auto& r : report.results)
    if (r.estimate) roof += "<div class=\"card\">" + roofline_svg(*r.estimate, &r.chip) + "</div>\n";
  out += section(
      "roofline", "Roofline",
      "<p class=\"note\">Ops grouped by type (circles: prefill, squares: decode) at their arithmetic "
      "intensity against the level holding the weights; dashed lines: the achievable bandwidth roof of each "
      "memory "
      "level, solid: the achievable compute roof; dotted: the spec peaks; red dotted: overhead floors. "
      "x: FLOPs per byte, y: FLOP/s, both log.</p><div class=\"grid\">" +
          roof + "</div>");
  out += section("energy", "Where time and energy go",
                 "<div class=\"grid\"><div class=\"card\">" + time_energy_svg(report) +
                     "</div><div class=\"card\">" + throughput_svg(report) + "</div></div>");
  return out;
}

std::string parameters_section(const HtmlReport& report) {
  std::vector<std::pair<std::string, std::string>> rows;
  if (report.compare) {
    const CompareReport& c = *report.compare;
    rows.emplace_back("model", c.model + (c.params > 0 ? fmt::format(" ({} parameters)", c.params) : ""));
    rows.emplace_back("weights", c.model_source);
    rows.emplace_back("precision", c.precision.empty() ? "each chip's default" : c.precision);
    rows.emplace_back("batch / prompt / generated",
                      fmt::format("{} / {} / {}", c.shape.batch, c.shape.prompt_len, c.shape.gen_len));
    std::string chip_names;
    for (const auto& r : c.results) chip_names += (chip_names.empty() ? "" : ", ") + r.chip.name;
    rows.emplace_back("chips", chip_names);
  }
  for (const auto& row : report.parameters) rows.push_back(row);
  rows.emplace_back("xpusim version", XPUSIM_VERSION);
  std::string out = "<table>";
  for (const auto& [key, value] : rows)
    out += fmt::format("<tr><th>{}</th><td style=\"text-align:left;white-space:normal\">{}</td></tr>",
                       svg::escape(key), svg::escape(value));
  out += "</table>";
  if (report.compare && !report.compare->generated_text.empty())
    out += fmt::format(
        "<p>Prompt: <code>{}</code></p><p>Generated text (greedy, host executor):</p><pre>{}</pre>",
        svg::escape(report.compare->prompt), svg::escape(report.compare->generated_text));
  return out;
}

}  // namespace

std::vector<std::string> report_op_types(const CompareReport& report) {
  std::vector<std::string> types;
  for (const auto& r : report.results) {
    if (!r.estimate) continue;
    for (const auto* step : {&r.estimate->prefill, &r.estimate->decode})
      for (const auto& op : step->ops)
        if (std::find(types.begin(), types.end(), op.op_type) == types.end()) types.push_back(op.op_type);
  }
  return types;
}

std::string render_html(const HtmlReport& report) {
  std::string body = fmt::format("<h1>{}</h1>\n", svg::escape(report.title));
  if (!report.summary_lines.empty()) {
    std::string lines;
    for (const std::string& line : report.summary_lines) lines += svg::escape(line) + "\n";
    body += section("run", "Run summary (as printed in the terminal)", "<pre>" + lines + "</pre>");
  }
  if (report.compare) body += compare_sections(*report.compare);
  if (report.timeline) {
    body += section(
        "timeline", "Engine timeline: " + report.timeline->title,
        "<p class=\"note\">Zoom: <input type=\"range\" min=\"100\" max=\"2000\" value=\"100\" "
        "aria-label=\"zoom\" oninput=\"document.getElementById('tl').style.width=this.value+'%'\"></p>"
        "<div class=\"scroll\"><div id=\"tl\" style=\"width:100%\">" +
            timeline_svg(*report.timeline) + "</div></div>");
  }
  if (report.serving) {
    const ServingSection& s = *report.serving;
    body += section("serving", "Serving",
                    fmt::format("<p class=\"note\">{} on {}: {}</p>", svg::escape(s.model),
                                svg::escape(s.chip), svg::escape(s.workload)) +
                        serving_summary_html(s) + "<div class=\"grid\">" + serving_svg(s) + "</div>");
  }
  body += section("params", "Run parameters", parameters_section(report));
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{}</style>"
      "</head><body>\n{}</body></html>\n",
      svg::escape(report.title), kCss, body);
}

void write_html(const HtmlReport& report, const std::string& path) {
  const std::string html = render_html(report);
  std::ofstream out(path, std::ios::binary);
  if (!out || !out.write(html.data(), static_cast<std::streamsize>(html.size())))
    fail("{}: cannot write the HTML report", path);
}

}  // namespace xpusim::report
