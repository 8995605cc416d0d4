// Architecture diagram of one chip, drawn from its ChipSpec to one grammar shared by all families: compute
// units as orange squares (matrix engines as blue dots inside), then one row per memory level (cache blue,
// SRAM green, off-chip vermillion) whose bar length is the capacity and whose pipe width is the bandwidth,
// both on log scales, then the chip-to-chip links. Side by side, the families' trade-offs show: many small
// units vs few big engines, deep caches vs large SRAM vs big off-chip memory.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "chips/display.h"
#include "report/format.h"
#include "report/html.h"
#include "report/svg.h"

namespace xpusim::report {

namespace {

const char* kind_color(chips::MemoryKind kind) {
  switch (kind) {
    case chips::MemoryKind::CACHE:
      return svg::kPalette[1];  // sky blue
    case chips::MemoryKind::SRAM:
      return svg::kPalette[2];  // bluish green
    case chips::MemoryKind::DRAM:
      return svg::kPalette[5];  // vermillion
  }
  return "#999";
}

struct LevelRow {
  std::string name, kind, technology;
  chips::MemoryKind memory_kind;
  double capacity, bandwidth_bytes;
  int instances;
};

std::vector<LevelRow> level_rows(const chips::ChipSpec& chip, const chips::SystemPlan* plan) {
  std::vector<LevelRow> rows;
  for (const auto& level : chip.memory)
    rows.push_back({level.name, std::string(chips::name_of(chips::memory_kind_names(), level.kind)),
                    level.technology, level.kind, level.capacity_bytes, level.bandwidth_gbps * 1e9,
                    level.instances});
  // Engine chips keep memory in their own schema: fall back to the plan's (system-wide) levels.
  if (rows.empty() && plan)
    for (const auto& level : plan->levels)
      rows.push_back({level.name, std::string(chips::name_of(chips::memory_kind_names(), level.kind)), "",
                      level.kind, level.capacity_bytes, level.bandwidth_bytes_per_s, 1});
  return rows;
}

// The compute side as the diagram draws it. Unified-engine chips keep it in their [engine] table.
struct ComputeView {
  int units = 1;
  std::string unit_name = "unit";
  int engines_per_unit = 0;
  std::vector<std::string> facts;
};

ComputeView compute_view(const chips::ChipSpec& chip) {
  ComputeView view;
  if (chip.family == chips::Family::UE) {
    // The [engine] table of the file, or the keys at top level (both layouts are read by src/engine).
    const toml::table* root =
        chip.engine["engine"].as_table() ? chip.engine["engine"].as_table() : &chip.engine;
    view.units = static_cast<int>((*root)["engines"].value_or(int64_t{1}));
    view.unit_name = "engine";
    view.engines_per_unit = 1;
    const auto* compute = (*root)["compute"].as_table();
    if (compute) {
      const std::string array = (*compute)["array"].value_or(std::string("?"));
      const int64_t lanes = (*compute)["dot_lanes"].value_or(int64_t{0});
      const int64_t rows = (*compute)["systolic_rows"].value_or(int64_t{0});
      const int64_t cols = (*compute)["systolic_cols"].value_or(int64_t{0});
      view.facts.push_back(rows > 0 ? fmt::format("{} array {}x{} per engine", array, rows, cols)
                                    : fmt::format("{} datapath, {} MAC lanes per engine", array, lanes));
      if (const int64_t v = (*compute)["vector_lanes"].value_or(int64_t{0}); v > 0)
        view.facts.push_back(fmt::format("{} vector lanes", v));
    }
    return view;
  }
  view.units = std::max(chip.compute.units, 1);
  if (!chip.compute.unit_name.empty()) view.unit_name = chip.compute.unit_name;
  view.engines_per_unit = chip.compute.matrix_engines_per_unit.value_or(0);
  if (view.engines_per_unit > 0) {
    std::string tile;
    if (chip.compute.tile_m && chip.compute.tile_n && chip.compute.tile_k)
      tile = fmt::format(", tile {}x{}x{}", *chip.compute.tile_m, *chip.compute.tile_n, *chip.compute.tile_k);
    view.facts.push_back(fmt::format("{} matrix engine{} per {}{}", view.engines_per_unit,
                                     view.engines_per_unit == 1 ? "" : "s", view.unit_name, tile));
  }
  if (chip.compute.simd_width_bits)
    view.facts.push_back(fmt::format("SIMD {} bit", *chip.compute.simd_width_bits));
  if (chip.compute.vector_lanes)
    view.facts.push_back(fmt::format("{} vector lanes", *chip.compute.vector_lanes));
  return view;
}

}  // namespace

std::string architecture_svg(const chips::ChipSpec& chip, const chips::SystemPlan* plan) {
  // Wide enough for the longest label (at most about 8 px per character of 12 px bold text): no label is cut.
  double width = 500;
  const std::vector<LevelRow> levels = level_rows(chip, plan);
  std::string body;
  const int chips_used = plan ? plan->chips_used : chip.system.chips_per_system;
  body += svg::text(8, 18,
                    fmt::format("{} ({}){}", chip.name, chips::family_name(chip.family),
                                chips_used > 1 ? fmt::format(" - system of {} chips", chips_used) : ""),
                    "font-weight=\"bold\" font-size=\"14\"");

  // Compute units: a grid, at most 6 rows; beyond that one square stands for several units.
  const ComputeView view = compute_view(chip);
  const int units = view.units;
  const int cols = std::min(units, 24);
  const int rows = std::min((units + cols - 1) / cols, 6);
  const double cell = std::min(26.0, 230.0 / cols);
  const int per_square = (units + cols * rows - 1) / (cols * rows);
  const int squares = (units + per_square - 1) / per_square;
  for (int i = 0; i < squares; ++i) {
    const double x = 8 + (i % cols) * cell, y = 30 + (i / cols) * cell;
    body += svg::rect(x, y, cell - 2, cell - 2, svg::kPalette[0], "rx=\"2\"");
    const int dots = std::min(view.engines_per_unit, 4);
    for (int d = 0; d < dots && cell >= 8; ++d)
      body += svg::rect(x + 1.5 + (d % 2) * (cell - 2) / 2, y + 1.5 + (d / 2) * (cell - 2) / 2,
                        (cell - 2) / 2 - 2, (cell - 2) / 2 - 2, svg::kPalette[4]);
  }
  const double grid_bottom = 30 + rows * cell;
  std::vector<std::string> facts;
  facts.push_back(fmt::format("{} x {}{}", units, view.unit_name,
                              per_square > 1 ? fmt::format(" (1 square = {})", per_square) : ""));
  facts.insert(facts.end(), view.facts.begin(), view.facts.end());
  if (plan && plan->peak_flops > 0)
    facts.push_back(fmt::format("peak {} {}", format_flops(plan->peak_flops),
                                chips::precision_name(plan->compute_precision)));
  if (chip.clock_mhz > 0) facts.push_back(fmt::format("clock {:g} MHz", chip.clock_mhz));
  if (chip.power.tdp_w) facts.push_back(fmt::format("TDP {:g} W", *chip.power.tdp_w));
  const double facts_x = 8 + cols * cell + 12;
  for (size_t i = 0; i < facts.size(); ++i) body += svg::text(facts_x, 42 + 15.0 * i, facts[i]);

  // Memory levels: pipe (bandwidth) then bar (capacity), innermost first.
  double y = std::max(grid_bottom, 42 + 15.0 * facts.size()) + 14;
  body += svg::text(8, y, "memory: bar = capacity, pipe = bandwidth (log scales)",
                    "fill=\"#444\" font-size=\"11\"");
  y += 8;
  for (const auto& level : levels) {
    const double pipe = svg::log_map(level.bandwidth_bytes, 1e9, 1e15, 1.5, 16);
    const double bar = svg::log_map(level.capacity * level.instances, 1e3, 1e12, 8, 170);
    body += svg::rect(8, y + 12 - pipe / 2, 40, pipe, "#555");
    body += svg::rect(52, y, bar, 24, kind_color(level.memory_kind), "rx=\"3\"");
    const std::string capacity =
        level.instances > 1 ? fmt::format("{} x {}", level.instances, chips::format_bytes(level.capacity))
                            : chips::format_bytes(level.capacity);
    const std::string title = fmt::format("{} ({}{}{})", level.name, level.kind,
                                          level.technology.empty() ? "" : ", ", level.technology);
    width = std::max(width, 52 + bar + 6 + 8.0 * static_cast<double>(title.size()) + 8);
    body += svg::text(52 + bar + 6, y + 11, title, "font-weight=\"bold\"");
    body += svg::text(52 + bar + 6, y + 23,
                      fmt::format("{} @ {}", capacity, chips::format_bandwidth(level.bandwidth_bytes / 1e9)),
                      "font-size=\"11\"");
    y += 32;
  }
  if (chip.interconnect && chip.interconnect->links > 0) {
    const auto& link = *chip.interconnect;
    const int drawn = std::min(link.links, 16);
    for (int i = 0; i < drawn; ++i)
      body += svg::line(12 + i * 6, y, 12 + i * 6, y + 16, svg::kPalette[6], "stroke-width=\"3\"");
    body += svg::text(12 + drawn * 6 + 10, y + 12,
                      fmt::format("links: {} x {}, {}/s each way, {}", link.links, link.name,
                                  chips::format_bytes(link.link_bandwidth_gbps * 1e9),
                                  chips::name_of(chips::topology_names(), link.topology)));
    y += 24;
  } else {
    body += svg::text(8, y + 12, "no chip-to-chip links", "fill=\"#444\" font-size=\"11\"");
    y += 24;
  }
  return svg::document(width, y + 4, "architecture of " + chip.name, body);
}

}  // namespace xpusim::report
