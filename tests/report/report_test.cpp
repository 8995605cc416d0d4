// The compare data, explanation, terminal table, JSON/CSV and HTML renderers, fed by a fake CostModel.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "report/compare_data.h"
#include "report/format.h"
#include "report/html.h"
#include "report/svg.h"
#include "report/table.h"
#include "report_fixtures.h"

namespace xpusim::report {
namespace {

using testing::fake_chip;
using testing::full_report;
using testing::make_report;

TEST(ReportCompare, ThrowingChipGetsARowWithTheReason) {
  const CompareReport report = make_report();
  ASSERT_EQ(report.results.size(), 3u);
  EXPECT_TRUE(report.results[0].estimate.has_value());
  EXPECT_TRUE(report.results[1].estimate.has_value());
  EXPECT_FALSE(report.results[2].estimate.has_value());
  EXPECT_NE(report.results[2].error.find("compiler has not landed"), std::string::npos);
}

TEST(ReportCompare, PicksFastestAndMostEfficientFromTheNumbers) {
  const CompareReport report = make_report();
  EXPECT_EQ(fastest_chip(report), 0u);
  EXPECT_EQ(most_efficient_chip(report), 1u);
  const auto& fast = *report.results[0].estimate;
  const auto& frugal = *report.results[1].estimate;
  EXPECT_GT(fast.tokens_per_s, frugal.tokens_per_s);
  EXPECT_GT(frugal.tokens_per_joule, fast.tokens_per_joule);
  EXPECT_FALSE(fastest_chip(CompareReport{}).has_value());
}

TEST(ReportExplain, SaysWhyFromTheEstimates) {
  const CompareReport report = make_report();
  const std::vector<std::string> lines = explain(report);
  ASSERT_EQ(lines.size(), 3u);
  // Decode of the fake model is memory-bound: the explanation names the level, the weights and the floor
  // time 200 MB / 1 TB/s = 200 us.
  EXPECT_NE(lines[0].find("Fastest: fast"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("from dram"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("200 us"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("Most efficient: frugal"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("static power"), std::string::npos) << lines[1];  // where "fast" burns its joules
  EXPECT_NE(lines[2].find("1 chip could not run"), std::string::npos) << lines[2];
  EXPECT_EQ(explain(CompareReport{}).size(), 1u);
}

TEST(ReportTable, TextHasEveryChipAndColorsOnlyWhenAsked) {
  const CompareReport report = make_report();
  const std::string plain = format_table(report, false);
  const std::string colored = format_table(report, true);
  for (const char* name : {"fast", "frugal", "broken", "TTFT", "TPOT", "tok/J", "bound"})
    EXPECT_NE(plain.find(name), std::string::npos) << name;
  EXPECT_NE(plain.find("cannot run: broken: the engine compiler has not landed"), std::string::npos);
  EXPECT_EQ(plain.find('\033'), std::string::npos);
  EXPECT_NE(colored.find('\033'), std::string::npos);
}

TEST(ReportTable, JsonHasRunParametersRowsAndErrors) {
  const nlohmann::json j = to_json(make_report());
  EXPECT_EQ(j["model"], "tiny<model>");
  EXPECT_EQ(j["gen_len"], 8);
  ASSERT_EQ(j["chips"].size(), 3u);
  EXPECT_EQ(j["chips"][0]["chip"], "fast");
  EXPECT_GT(j["chips"][0]["tokens_per_s"].get<double>(), 0);
  EXPECT_EQ(j["chips"][0]["weights"]["level"], "dram");
  EXPECT_EQ(j["chips"][1]["dominant_bound"], "memory");
  EXPECT_TRUE(j["chips"][2].contains("error"));
  EXPECT_EQ(j["explanation"].size(), 3u);
}

TEST(ReportTable, CsvRowsHaveTheHeadersColumnCount) {
  std::istringstream csv(to_csv(make_report()));
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(csv, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  const auto commas = [](const std::string& s) { return std::count(s.begin(), s.end(), ','); };
  for (const auto& row : lines) EXPECT_EQ(commas(row), commas(lines[0])) << row;
  EXPECT_EQ(lines[0].rfind("chip,family,", 0), 0u);
}

TEST(ReportFormat, UnitsAndShares) {
  EXPECT_EQ(format_seconds(0.0123), "12.3 ms");
  EXPECT_EQ(format_seconds(850e-6), "850 us");
  EXPECT_EQ(format_joules(0), "0");
  EXPECT_EQ(format_joules(4.56e-3), "4.56 mJ");
  EXPECT_EQ(format_rate(1234), "1.23 k");
  EXPECT_EQ(percent(0.42), "42%");
  const EnergyShare share = largest_energy_share({1, 2, 7, 0, 0});
  EXPECT_STREQ(share.component, "off-chip memory");
  EXPECT_DOUBLE_EQ(share.fraction, 0.7);
}

TEST(ReportSvg, EscapeAndLogScale) {
  EXPECT_EQ(svg::escape("a<b>&\"c"), "a&lt;b&gt;&amp;&quot;c");
  EXPECT_DOUBLE_EQ(svg::log_map(10, 1, 100, 0, 200), 100);
  EXPECT_DOUBLE_EQ(svg::log_map(1e9, 1, 100, 0, 200), 200);  // clamped
  EXPECT_DOUBLE_EQ(svg::log_map(0, 1, 100, 0, 200), 0);      // non-positive -> low end
  EXPECT_EQ(svg::si_label(1e12), "1T");
}

TEST(ReportHtml, SelfContainedWithEverySectionAndEscapedText) {
  const std::string html = render_html(full_report());
  for (const char* id : {"sec-families", "sec-summary", "sec-chip-timeline", "sec-arch", "sec-roofline",
                         "sec-energy", "sec-timeline", "sec-serving", "sec-params"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  // One family diagram and one memory-hierarchy diagram per chip (the broken one too), one timeline and one
  // roofline per chip with an estimate.
  size_t svgs = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 3u + 3u + 2u + 2u + 2u + 1u + 3u);
  EXPECT_EQ(html.find("https://"), std::string::npos);  // nothing fetched from the network
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>world"), std::string::npos);
  EXPECT_NE(html.find("Hello &lt;b&gt;world&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("tiny&lt;model&gt;"), std::string::npos);
  EXPECT_NE(html.find(XPUSIM_VERSION), std::string::npos);
}

TEST(ReportHtml, ArchitectureIsDrawnFromTheChipSpec) {
  chips::ChipSpec chip = fake_chip("arch", chips::Family::TPU, 4);
  chip.interconnect = chips::Interconnect{"ICI", 4, 45, 1, chips::Topology::TORUS2D, {}};
  const std::string svg = architecture_svg(chip, nullptr);
  EXPECT_NE(svg.find("4 x core"), std::string::npos);
  EXPECT_NE(svg.find("sram (sram)"), std::string::npos);
  EXPECT_NE(svg.find("dram (dram, LPDDR5)"), std::string::npos);
  EXPECT_NE(svg.find("links: 4 x ICI"), std::string::npos);
  // A bigger memory draws a longer bar (log scale).
  chips::ChipSpec bigger = chip;
  bigger.memory[1].capacity_bytes = 80e9;
  EXPECT_NE(svg, architecture_svg(bigger, nullptr));
}

TEST(ReportHtml, WriteToAnUnwritablePathIsAnError) {
  EXPECT_THROW(write_html(HtmlReport{}, "/nonexistent-dir/x/report.html"), Error);
}

}  // namespace
}  // namespace xpusim::report

namespace xpusim::report {
namespace {

TEST(ReportExplain, FlagsChipsWithoutStaticPower) {
  CompareReport report;
  report.shape = {1, 8, 4};
  run_compare(report, {testing::fake_chip("unpowered", chips::Family::TPU, 4)}, model::ModelConfig{},
              [](const chips::ChipSpec& chip, const model::ModelConfig&, const std::string&) {
                return std::make_unique<testing::FakeCostModel>(chip.name, 1e14, 1e11, 0);
              });
  const std::vector<std::string> lines = explain(report);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[2].find("No static power counted for unpowered"), std::string::npos) << lines[2];
}

}  // namespace
}  // namespace xpusim::report
