// One teaching diagram per chip family (issue 24), drawn from the chip file's numbers and the run's plan:
// CPU cores with SIMD/matrix units, private caches, shared L3 and memory channels; the GPU's real SM grid
// with L2, HBM stacks, NVLink and the decode-step flow HBM -> L2 -> SMs; the TPU's MXU as a systolic array
// (weights from the top, activations from the left, the diagonal wavefront of partial sums, animated by CSS
// and paused for print); the NPU's MAC arrays beside the CPU and GPU on shared low-power DRAM with the power
// budget; the LPU's chain of chips for this model (grouped when there are many) with the layers each holds,
// the links and a token moving through the pipeline; the unified engine's 64-lane datapath, SRAM banks,
// LALU, DMA and instruction stream. Under each, one sentence on the family's trade-off with this run's
// numbers. Distinctive elements carry classes / data attributes (sm, mxu-cell, wavefront, lpu-chip,
// data-chips, data-sm-count) so tests/report/browser_test.cpp can check them in the browser's DOM.
// Non-goals: computing any figure (everything comes from ChipSpec, SystemPlan and RunEstimate).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "chips/display.h"
#include "report/format.h"
#include "report/html.h"
#include "report/svg.h"

namespace xpusim::report {

namespace {

constexpr double kWidth = 480;
constexpr const char* kComputeFill = "#E69F00";
constexpr const char* kMatrixFill = "#0072B2";
constexpr const char* kCacheFill = "#56B4E9";
constexpr const char* kSramFill = "#009E73";
constexpr const char* kDramFill = "#D55E00";
constexpr const char* kLinkStroke = "#CC79A7";
constexpr const char* kWeightsStroke = "#000";

// Animation shared by the diagrams: a cell lights up in turn (TPU wavefront, LPU token). Paused for print
// and for readers who ask for reduced motion; at rest (print) the cells marked "rest" stay lit, so a printed
// page shows one frozen frame: the TPU's anti-diagonal, the token on the LPU's first chip.
constexpr const char* kAnimationCss =
    "<style>.pulse{animation:xp-pulse 2.4s linear infinite}"
    "@keyframes xp-pulse{0%{opacity:0}8%{opacity:.85}25%{opacity:0}100%{opacity:0}}"
    ".flow{stroke-dasharray:6 6;animation:xp-flow 1s linear infinite}"
    "@keyframes xp-flow{to{stroke-dashoffset:-12}}"
    "@media print{.pulse,.flow{animation:none}.pulse{opacity:0}.pulse.rest{opacity:.85}}"
    "@media "
    "(prefers-reduced-motion:reduce){.pulse,.flow{animation:none}.pulse{opacity:0}.pulse.rest{opacity:.85}}"
    "</style>";

std::string label(double x, double y, const std::string& content, const std::string& attrs = "") {
  return svg::text(x, y, content, "font-size=\"11\" " + attrs);
}

std::string box(double x, double y, double w, double h, const char* fill, const std::string& attrs = "") {
  return svg::rect(x, y, w, h, fill, "rx=\"3\" " + attrs);
}

// Leading count of a technology string ("8 x DDR5-4800" -> 8, "HBM3, 5 stacks" -> 5 via "N stacks").
int count_in(const std::string& technology, const std::string& word) {
  const size_t at = technology.find(word);
  if (at == std::string::npos || at == 0) return 0;
  size_t end = at;
  while (end > 0 && technology[end - 1] == ' ') --end;
  size_t begin = end;
  while (begin > 0 && std::isdigit(static_cast<unsigned char>(technology[begin - 1]))) --begin;
  begin = std::max(begin, end > 3 ? end - 3 : 0);  // at most 3 digits: no overflow on odd strings
  return begin < end ? std::stoi(technology.substr(begin, end - begin)) : 0;
}

const chips::MemoryLevel* outermost(const chips::ChipSpec& chip) { return chip.outermost_level(); }

bool holds_weights(const chips::SystemPlan* plan, const std::string& level) {
  return plan && plan->weight_level == level;
}

// "weights: 270 MB bf16" for the level that holds them.
std::string weights_note(const chips::SystemPlan& plan) {
  return fmt::format("weights here: {} {}", chips::format_bytes(plan.weight_bytes), plan.weight_format);
}

int model_layers(const chips::RunEstimate& estimate) {
  int32_t last = -1;
  for (const auto& op : estimate.prefill.ops) last = std::max(last, op.layer);
  return last + 1;
}

// ---------------------------------------------------------------------------------------------- CPU
std::string cpu_diagram(const chips::ChipSpec& chip, const chips::SystemPlan* plan) {
  std::string body;
  const int cores = std::max(chip.compute.units, 1);
  const int drawn = std::min(cores, 8);
  const int per_box = (cores + drawn - 1) / drawn;
  const int cols = std::min(drawn, 4);
  const double cw = 62, ch = 58, x0 = 10, y0 = 28;
  std::vector<const chips::MemoryLevel*> private_levels, shared_levels;
  for (const auto& level : chip.memory) {
    if (level.kind == chips::MemoryKind::DRAM) continue;
    (level.instances > 1 || (level.instances == cores && cores > 1) ? private_levels : shared_levels)
        .push_back(&level);
  }
  const bool matrix = chip.compute.matrix_engines_per_unit.value_or(0) > 0;
  for (int i = 0; i < (cores + per_box - 1) / per_box; ++i) {
    const double x = x0 + (i % cols) * (cw + 6), y = y0 + (i / cols) * (ch + 6);
    body += box(x, y, cw, ch, kComputeFill, "class=\"cpu-core\"");
    body += box(x + 3, y + 4, matrix ? 33 : 56, 14, "#fff", "fill-opacity=\"0.85\"");
    body += label(x + 5, y + 15, "SIMD", "font-size=\"9\"");
    if (matrix) {
      body += box(x + 38, y + 4, 21, 14, kMatrixFill);
      body += label(x + 41, y + 15, "MX", "font-size=\"9\" fill=\"#fff\"");
    }
    for (size_t p = 0; p < private_levels.size() && p < 3; ++p)
      body += box(x + 4, y + 22 + 11.0 * p, cw - 8, 9, kCacheFill,
                  holds_weights(plan, private_levels[p]->name) ? "stroke=\"#000\" stroke-width=\"2\"" : "");
  }
  const int rows = ((cores + per_box - 1) / per_box + cols - 1) / cols;
  double y = y0 + rows * (ch + 6) + 2;
  const double span = std::max(cols * (cw + 6) - 6, 300.0);  // wide enough for the shared levels' labels
  // Facts to the right of the cores.
  const double fx = x0 + cols * (cw + 6) + 6;
  std::vector<std::string> facts = {
      fmt::format("{} cores{}", cores, per_box > 1 ? fmt::format(" (1 box = {})", per_box) : "")};
  if (chip.compute.simd_width_bits)
    facts.push_back(fmt::format("SIMD {} bit", *chip.compute.simd_width_bits));
  if (matrix) facts.push_back(fmt::format("MX: {} matrix unit/core", *chip.compute.matrix_engines_per_unit));
  for (const auto* level : private_levels)
    facts.push_back(fmt::format("{} {} per core", level->name, chips::format_bytes(level->capacity_bytes)));
  if (!private_levels.empty()) facts.push_back("(blue strips in each core)");
  if (chip.clock_mhz > 0) facts.push_back(fmt::format("{:g} GHz", chip.clock_mhz / 1000));
  for (size_t i = 0; i < facts.size(); ++i) body += label(fx, y0 + 10 + 14.0 * i, facts[i]);
  for (const auto* level : shared_levels) {
    const bool weights = holds_weights(plan, level->name);
    body += box(x0, y, span, 18, kCacheFill, weights ? "stroke=\"#000\" stroke-width=\"2\"" : "");
    body += label(x0 + 6, y + 13,
                  fmt::format("shared {} {}  {}", level->name, chips::format_bytes(level->capacity_bytes),
                              weights ? "(weights here)" : ""));
    y += 24;
  }
  if (const auto* dram = outermost(chip); dram && dram->kind == chips::MemoryKind::DRAM) {
    const int channels =
        std::clamp(count_in(dram->technology, " x") > 0 ? count_in(dram->technology, " x") : 2, 1, 16);
    for (int c = 0; c < channels; ++c) {
      const double cx = x0 + 10 + c * (span - 20) / std::max(channels - 1, 1);
      body += svg::line(cx, y, cx, y + 20, "#555", "stroke-width=\"3\" class=\"mem-channel\"");
    }
    y += 20;
    const bool weights = holds_weights(plan, dram->name);
    body += box(x0, y, span, 20, kDramFill, weights ? "stroke=\"#000\" stroke-width=\"2\"" : "");
    body += label(
        x0 + 6, y + 14,
        fmt::format("{} {}, {} channels", dram->name, chips::format_bytes(dram->capacity_bytes), channels),
        "fill=\"#fff\"");
    body += label(x0, y + 34,
                  fmt::format("{} ({})", chips::format_bandwidth(dram->bandwidth_gbps), dram->technology));
    y += 40;
  }
  if (plan) body += label(x0, y + 4, weights_note(*plan) + " (black outline)", "font-weight=\"bold\"");
  return svg::document(kWidth, y + 12, "CPU diagram of " + chip.name, body, true);
}

// ---------------------------------------------------------------------------------------------- GPU
std::string gpu_diagram(const chips::ChipSpec& chip, const chips::SystemPlan* plan,
                        const chips::RunEstimate* estimate) {
  std::string body = kAnimationCss;
  const int sms = std::max(chip.compute.units, 1);
  const int cols = std::min(sms, 24);
  const double cell = std::clamp(300.0 / cols, 8.0, 24.0);
  const int tensor = chip.compute.matrix_engines_per_unit.value_or(0);
  const double x0 = 10, y0 = 28;
  body += fmt::format("<g class=\"sm-grid\" data-sm-count=\"{}\">", sms);
  for (int i = 0; i < sms; ++i) {
    const double x = x0 + (i % cols) * cell, y = y0 + (i / cols) * cell;
    body += box(x, y, cell - 2, cell - 2, kComputeFill, "class=\"sm\"");
    for (int t = 0; t < std::min(tensor, 4) && cell >= 10; ++t)
      body += svg::rect(x + 1.5 + (t % 2) * (cell - 2) / 2, y + 1.5 + (t / 2) * (cell - 2) / 2,
                        (cell - 2) / 2 - 2.5, (cell - 2) / 2 - 2.5, kMatrixFill);
  }
  body += "</g>";
  const int rows = (sms + cols - 1) / cols;
  const double grid_w = cols * cell, grid_bottom = y0 + rows * cell;
  const double fx = x0 + grid_w + 12;
  std::vector<std::string> facts = {fmt::format("{} {}s", sms, chip.compute.unit_name)};
  if (tensor > 0) facts.push_back(fmt::format("{} tensor cores each (blue)", tensor));
  for (const auto& level : chip.memory)
    if (level.instances > 1)
      facts.push_back(fmt::format("{} {} per SM", level.name, chips::format_bytes(level.capacity_bytes)));
  if (plan && plan->peak_flops > 0)
    facts.push_back(fmt::format("peak {}", format_flops(plan->peak_flops / std::max(plan->chips_used, 1))));
  for (size_t i = 0; i < facts.size(); ++i) body += label(fx, y0 + 10 + 14.0 * i, facts[i]);
  double y = std::max(grid_bottom, y0 + 14.0 * facts.size()) + 16;
  // Shared cache, then the DRAM stacks.
  double l2_top = -1, l2_bottom = -1;
  for (const auto& level : chip.memory) {
    if (level.instances > 1 || level.kind == chips::MemoryKind::DRAM) continue;
    body += box(x0, y, grid_w, 18, kCacheFill, "class=\"gpu-l2\"");
    l2_top = y, l2_bottom = y + 18;
    body += label(x0 + 6, y + 13,
                  fmt::format("{} {} shared, {}", level.name, chips::format_bytes(level.capacity_bytes),
                              chips::format_bandwidth(level.bandwidth_gbps)));
    y += 36;
  }
  if (const auto* dram = outermost(chip); dram && dram->kind == chips::MemoryKind::DRAM) {
    const int stacks = std::clamp(count_in(dram->technology, "stacks"), 1, 12);
    const double sw = (grid_w - 6.0 * (stacks - 1)) / stacks;
    for (int s = 0; s < stacks; ++s) {
      const double sx = x0 + s * (sw + 6);
      body += box(sx, y, sw, 26, kDramFill, "class=\"hbm-stack\"");
      for (int layer = 1; layer < 4; ++layer)
        body +=
            svg::line(sx + 2, y + 6.5 * layer, sx + sw - 2, y + 6.5 * layer, "#fff", "stroke-width=\"0.8\"");
    }
    // The decode step's flow: weights stream out of every HBM stack, through L2, into the SMs (animated).
    const double into = l2_bottom > 0 ? l2_bottom : grid_bottom;
    for (int s = 0; s < stacks; ++s)
      body += svg::line(x0 + s * (sw + 6) + sw / 2, y, x0 + s * (sw + 6) + sw / 2, into, "#000",
                        "stroke-width=\"2\" class=\"flow\"");
    if (l2_top > 0)
      for (int s = 0; s < stacks; ++s)
        body += svg::line(x0 + s * (sw + 6) + sw / 2, l2_top, x0 + s * (sw + 6) + sw / 2, grid_bottom, "#000",
                          "stroke-width=\"2\" class=\"flow\"");
    body +=
        label(fx + 2, y + 4, fmt::format("{}: {}", dram->name, chips::format_bytes(dram->capacity_bytes)));
    body += label(fx + 2, y + 18,
                  fmt::format("{} stacks, {}", stacks, chips::format_bandwidth(dram->bandwidth_gbps)));
    y += 40;
  }
  if (chip.interconnect && chip.interconnect->links > 0) {
    const auto& link = *chip.interconnect;
    for (int i = 0; i < std::min(link.links, 24); ++i)
      body += svg::line(x0 + 4 + i * 6, y, x0 + 4 + i * 6, y + 12, kLinkStroke, "stroke-width=\"3\"");
    body += label(x0 + 4 + std::min(link.links, 24) * 6 + 6, y + 11,
                  fmt::format("{} x {} links, {} each way", link.links, link.name,
                              chips::format_bandwidth(link.link_bandwidth_gbps)));
    y += 22;
  }
  if (plan && estimate) {
    const double bw = level_bandwidth(*plan, plan->weight_level);
    body += label(x0, y + 6,
                  fmt::format("decode step: {} of weights flow {} -> L2 -> SMs in {}",
                              chips::format_bytes(plan->weight_bytes), plan->weight_level,
                              format_seconds(estimate->tpot_s)),
                  "font-weight=\"bold\"");
    if (bw > 0)
      body += label(x0, y + 20,
                    fmt::format("(black dashes: the flow; {} achievable from there)",
                                chips::format_bandwidth(bw / 1e9)));
    y += 26;
  }
  return svg::document(kWidth, y + 4, "GPU diagram of " + chip.name, body, true);
}

// ---------------------------------------------------------------------------------------------- TPU
std::string tpu_diagram(const chips::ChipSpec& chip, const chips::SystemPlan* plan) {
  std::string body = kAnimationCss;
  const int rows = chip.compute.tile_k.value_or(128), cols = chip.compute.tile_n.value_or(128);
  constexpr int kShown = 8;  // cells drawn per side; each stands for rows/kShown PEs
  const double cell = 22, x0 = 70, y0 = 56;
  body += label(x0, 40, "weights (stationary, loaded from the top)");
  for (int c = 0; c < kShown; ++c)
    body += svg::line(x0 + c * cell + cell / 2, 44, x0 + c * cell + cell / 2, y0 - 2, "#000",
                      "stroke-width=\"1.2\" marker-end=\"url(#xp-arrow)\"");
  body +=
      "<defs><marker id=\"xp-arrow\" viewBox=\"0 0 6 6\" refX=\"5\" refY=\"3\" markerWidth=\"5\" "
      "markerHeight=\"5\" orient=\"auto\"><path d=\"M0,0 L6,3 L0,6 z\" fill=\"#000\"/></marker></defs>";
  for (int r = 0; r < kShown; ++r) {
    body += svg::line(x0 - 26, y0 + r * cell + cell / 2, x0 - 2, y0 + r * cell + cell / 2, "#000",
                      "stroke-width=\"1.2\" marker-end=\"url(#xp-arrow)\"");
    for (int c = 0; c < kShown; ++c) {
      const double x = x0 + c * cell, y = y0 + r * cell;
      body += box(x, y, cell - 3, cell - 3, kComputeFill, "class=\"mxu-cell\"");
      // The wavefront: cell (r, c) computes at step r + c, so the lit cells form the anti-diagonal band.
      body += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" rx=\"3\" fill=\"{}\" "
          "class=\"wavefront pulse{}\" style=\"animation-delay:{:.2f}s\"/>",
          x, y, cell - 3, cell - 3, kMatrixFill, r + c == kShown - 1 ? " rest" : "", 0.15 * (r + c));
    }
  }
  body += label(6, y0 + kShown * cell / 2 - 6, "activations");
  body += label(6, y0 + kShown * cell / 2 + 8, "from left");
  const double bottom = y0 + kShown * cell;
  body += label(x0, bottom + 14, "partial sums flow down, out at the bottom (never back to memory)");
  body += label(x0, bottom + 28,
                fmt::format("{}x{} MXU, {}x{} shown (1 cell = {}x{} PEs)", rows, cols, kShown, kShown,
                            rows / kShown, cols / kShown));
  body += label(x0, bottom + 42, "blue: the diagonal wavefront of partial sums");
  // Right column: MXU count, VMEM, HBM, ICI.
  const double rx = x0 + kShown * cell + 16;
  double y = y0;
  const int mxus = chip.compute.matrix_engines_per_unit.value_or(1) * std::max(chip.compute.units, 1);
  body += label(rx, y + 4, fmt::format("x {} MXUs per chip", mxus), "font-weight=\"bold\"");
  y += 14;
  if (chip.compute.vector_lanes)
    body += label(rx, y + 4, fmt::format("VPU {} lanes", *chip.compute.vector_lanes)), y += 14;
  y += 6;
  for (const auto& level : chip.memory) {
    const char* fill = level.kind == chips::MemoryKind::DRAM ? kDramFill : kSramFill;
    const bool weights = holds_weights(plan, level.name);
    body += box(rx, y, 130, 30, fill, weights ? "stroke=\"#000\" stroke-width=\"2\"" : "");
    body += label(rx + 4, y + 13,
                  fmt::format("{} {}", level.name, chips::format_bytes(level.total_capacity_bytes())),
                  "fill=\"#fff\" font-weight=\"bold\"");
    body += label(rx + 4, y + 26, chips::format_bandwidth(level.bandwidth_gbps), "fill=\"#fff\"");
    y += 38;
  }
  if (plan) body += label(rx, y + 4, "outlined: weights"), y += 14;
  if (chip.interconnect && chip.interconnect->links > 0)
    body += label(rx, y + 8, fmt::format("{} x {} links", chip.interconnect->links, chip.interconnect->name));
  return svg::document(kWidth, std::max(bottom + 50, y + 16), "TPU diagram of " + chip.name, body, true);
}

// ---------------------------------------------------------------------------------------------- NPU
std::string npu_diagram(const chips::ChipSpec& chip, const chips::SystemPlan* plan,
                        const chips::RunEstimate* estimate) {
  std::string body;
  const double x0 = 10, y0 = 28;
  // The SoC: CPU and GPU blocks beside the NPU, all on one memory bus.
  body += svg::rect(x0, y0, 460, 150, "none", "stroke=\"#888\" stroke-dasharray=\"4 3\" rx=\"6\"");
  body += label(x0 + 6, y0 + 14, "SoC (one package)", "fill=\"#444\"");
  body += box(x0 + 12, y0 + 30, 80, 60, "#bbb");
  body += label(x0 + 20, y0 + 64, "CPU cores");
  body += box(x0 + 104, y0 + 30, 80, 60, "#bbb");
  body += label(x0 + 118, y0 + 64, "GPU");
  const int units = std::max(chip.compute.units, 1);
  const int drawn = std::min(units, 32), cols = std::min(drawn, 8);
  const double nx = x0 + 200, cell = 28;
  body += box(nx - 6, y0 + 20, cols * cell + 12, 120, "#fff", "stroke=\"#E69F00\" stroke-width=\"2\"");
  body += label(nx, y0 + 34, fmt::format("NPU: {} {}s (MAC arrays)", units, chip.compute.unit_name),
                "font-weight=\"bold\"");
  for (int i = 0; i < drawn; ++i) {
    const double x = nx + (i % cols) * cell, y = y0 + 40 + (i / cols) * cell;
    body += box(x, y, cell - 4, cell - 4, kComputeFill, "class=\"npu-mac\"");
    for (int g = 1; g < 3; ++g) {
      body += svg::line(x + g * (cell - 4) / 3, y + 2, x + g * (cell - 4) / 3, y + cell - 6, "#fff",
                        "stroke-width=\"0.8\"");
      body += svg::line(x + 2, y + g * (cell - 4) / 3, x + cell - 6, y + g * (cell - 4) / 3, "#fff",
                        "stroke-width=\"0.8\"");
    }
  }
  const int mac_rows = (drawn + cols - 1) / cols;
  double sram_y = y0 + 44 + mac_rows * cell;
  const chips::MemoryLevel* sram = nullptr;
  for (const auto& level : chip.memory)
    if (level.kind != chips::MemoryKind::DRAM) sram = &level;
  body += box(nx, sram_y, cols * cell - 4, 16, kSramFill);
  body += label(nx + 4, sram_y + 12,
                sram ? fmt::format("{} {}", sram->name, chips::format_bytes(sram->total_capacity_bytes()))
                     : "local buffers (not in chip file)",
                "fill=\"#fff\"");
  // The shared bus and the LPDDR.
  const double bus_y = y0 + 170;
  for (const double bx : {x0 + 52, x0 + 144, nx + cols * cell / 2})
    body += svg::line(bx, bx < nx ? y0 + 90 : sram_y + 16, bx, bus_y, "#555", "stroke-width=\"3\"");
  body += svg::line(x0 + 30, bus_y, x0 + 440, bus_y, "#555", "stroke-width=\"4\"");
  double y = bus_y + 8;
  if (const auto* dram = outermost(chip); dram && dram->kind == chips::MemoryKind::DRAM) {
    const bool weights = holds_weights(plan, dram->name);
    body += box(
        x0 + 30, y, 410, 22, kDramFill,
        std::string("class=\"npu-shared-dram\" ") + (weights ? "stroke=\"#000\" stroke-width=\"2\"" : ""));
    body += label(x0 + 36, y + 15,
                  fmt::format("shared {} {} at {}", dram->name, chips::format_bytes(dram->capacity_bytes),
                              chips::format_bandwidth(dram->bandwidth_gbps)),
                  "fill=\"#fff\"");
    body += label(x0 + 30, y + 36, dram->technology);
    y += 42;
  }
  std::string power = "power budget: ";
  if (chip.power.tdp_w)
    power += fmt::format("{:g} W TDP", *chip.power.tdp_w);
  else
    power += "no TDP in the chip file";
  if (estimate && estimate->tokens_per_s > 0)
    power +=
        fmt::format("; this run averages {:.2g} W", estimate->energy_per_token_j * estimate->tokens_per_s);
  body += label(x0, y + 8, power, "font-weight=\"bold\" class=\"npu-power\"");
  return svg::document(kWidth, y + 16, "NPU diagram of " + chip.name, body, true);
}

// ---------------------------------------------------------------------------------------------- LPU
std::string lpu_diagram(const chips::ChipSpec& chip, const chips::SystemPlan* plan,
                        const chips::RunEstimate* estimate) {
  std::string body = kAnimationCss;
  const int chips_used = plan ? std::max(plan->chips_used, 1) : std::max(chip.system.chips_per_system, 1);
  const int layers = estimate ? model_layers(*estimate) : 0;
  constexpr int kMaxBoxes = 10, kCols = 5;
  const int boxes = std::min(chips_used, kMaxBoxes);
  const double x0 = 10, y0 = 40, bw = 84, bh = 54, gap = 8;
  body += fmt::format("<g class=\"lpu-chain\" data-chips=\"{}\">", chips_used);
  body += label(x0, 28,
                fmt::format("{} chips in the system for this model{}", chips_used,
                            chips_used > kMaxBoxes ? fmt::format(" (grouped, {} boxes)", boxes) : ""),
                "font-weight=\"bold\"");
  for (int b = 0; b < boxes; ++b) {
    // Box b stands for chips [first, last] and (even split, as the pipeline lays them out) their layers.
    const int first = b * chips_used / boxes, last = (b + 1) * chips_used / boxes - 1;
    const int row = b / kCols, col = row % 2 == 0 ? b % kCols : kCols - 1 - b % kCols;  // snake
    const double x = x0 + col * (bw + gap), y = y0 + row * (bh + 26);
    body += box(x, y, bw, bh, kSramFill,
                fmt::format("class=\"lpu-chip\" data-first=\"{}\" data-last=\"{}\"", first, last));
    body += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" rx=\"3\" fill=\"{}\" "
        "class=\"pulse{}\" style=\"animation-delay:{:.2f}s\"/>",
        x, y, bw, bh, kComputeFill, b == 0 ? " rest" : "", 2.4 * b / boxes);
    body += label(
        x + 4, y + 14,
        first == last ? fmt::format("chip {}", first + 1) : fmt::format("chips {}-{}", first + 1, last + 1),
        "fill=\"#fff\" font-size=\"10\"");
    if (layers > 0) {
      const int l0 = first * layers / chips_used, l1 = std::max(l0, (last + 1) * layers / chips_used - 1);
      body +=
          label(x + 4, y + 30, l0 == l1 ? fmt::format("layer {}", l0) : fmt::format("layers {}-{}", l0, l1),
                "fill=\"#fff\" font-size=\"10\"");
    }
    body += label(x + 4, y + 46, "SRAM only", "fill=\"#fff\" font-size=\"10\"");
    if (b + 1 < boxes) {
      const int next_row = (b + 1) / kCols;
      if (next_row == row) {
        const double lx = row % 2 == 0 ? x + bw : x - gap;
        body += svg::line(lx, y + bh / 2, lx + gap, y + bh / 2, kLinkStroke, "stroke-width=\"3\"");
      } else {
        body += svg::line(x + bw / 2, y + bh, x + bw / 2, y + bh + 26, kLinkStroke, "stroke-width=\"3\"");
      }
    }
  }
  body += "</g>";
  const int rows = (boxes + kCols - 1) / kCols;
  double y = y0 + rows * (bh + 26) - 8;
  body += label(x0, y, "orange pulse: one token's step moving down the pipeline; purple: chip-to-chip links");
  y += 16;
  if (const auto* level = outermost(chip)) {
    body +=
        label(x0, y,
              fmt::format("each chip: {} {} at {}", level->name, chips::format_bytes(level->capacity_bytes),
                          chips::format_bandwidth(level->bandwidth_gbps)));
    y += 14;
  }
  if (plan) {
    body += label(
        x0, y,
        fmt::format("{} {} weights over {} chips = {} per chip", chips::format_bytes(plan->weight_bytes),
                    plan->weight_format, chips_used, chips::format_bytes(plan->weight_bytes / chips_used)));
    y += 14;
  }
  if (chip.interconnect && chip.interconnect->links > 0) {
    const auto& link = *chip.interconnect;
    body += label(x0, y,
                  fmt::format("links: {} x {} per chip, {} each way, {:g} us, {}", link.links, link.name,
                              chips::format_bandwidth(link.link_bandwidth_gbps), link.latency_us,
                              chips::name_of(chips::topology_names(), link.topology)));
    y += 14;
  }
  return svg::document(kWidth, y + 6, "LPU diagram of " + chip.name, body, true);
}

// ---------------------------------------------------------------------------------------------- UE
std::string ue_diagram(const chips::ChipSpec& chip) {
  std::string body;
  const toml::table* root =
      chip.engine["engine"].as_table() ? chip.engine["engine"].as_table() : &chip.engine;
  auto value = [&](const char* table, const char* key, double fallback) {
    const auto* t = (*root)[table].as_table();
    if (!t) return fallback;
    if (auto v = (*t)[key].value<double>()) return *v;
    return fallback;
  };
  const int engines = static_cast<int>((*root)["engines"].value_or(int64_t{1}));
  const int lanes = static_cast<int>(value("compute", "dot_lanes", 64));
  const int systolic_rows = static_cast<int>(value("compute", "systolic_rows", 0));
  const int banks = std::max(static_cast<int>(value("memory", "sram_banks", 2)), 1);
  const double sram_kib = value("memory", "sram_kib", 0);
  const double dram_gbps = value("dram", "aggregate_gbps", 0);
  const double dram_mib = value("dram", "size_mib", 0);
  const int window = static_cast<int>(value("icache", "window_instructions", 0));
  const double x0 = 10, y0 = 30;
  // Instruction stream: DRAM -> icache -> decode/issue, drawn as a column on the left.
  body += box(x0, y0, 124, 40, "#bbb", "class=\"ue-istream\"");
  body += label(x0 + 6, y0 + 16, "instruction stream", "font-weight=\"bold\"");
  body += label(x0 + 6, y0 + 32, window > 0 ? fmt::format("icache {} instr", window) : "fetch + decode");
  body += svg::line(x0 + 124, y0 + 20, x0 + 134, y0 + 20, "#000", "stroke-width=\"2\"");
  // The datapath: lanes as thin bars.
  const int shown = std::min(std::max(lanes, systolic_rows), 64);
  const double dx = x0 + 140, lane_w = 3.4;
  body += box(dx - 4, y0 - 6, shown * lane_w + 8, 58, "#fff", "stroke=\"#E69F00\" stroke-width=\"2\"");
  for (int l = 0; l < shown; ++l)
    body += svg::rect(dx + l * lane_w, y0, lane_w - 1, 30, kComputeFill, "class=\"ue-lane\"");
  body += label(dx, y0 + 45,
                systolic_rows > 0 ? fmt::format("systolic {}x{} datapath", systolic_rows,
                                                static_cast<int>(value("compute", "systolic_cols", 0)))
                                  : fmt::format("{}-lane dot/vector datapath", lanes));
  // LALU to the right of the datapath.
  const double lx = dx + shown * lane_w + 14;
  body += box(lx, y0, 84, 40, kMatrixFill, "class=\"ue-lalu\"");
  body += label(lx + 6, y0 + 16, "LALU", "fill=\"#fff\" font-weight=\"bold\"");
  body += label(lx + 6, y0 + 32, "exp, GELU, ...", "fill=\"#fff\" font-size=\"10\"");
  // SRAM banks under the datapath.
  const double sy = y0 + 70, bank_w = (shown * lane_w + 90) / banks - 6;
  for (int b = 0; b < banks; ++b) {
    const double bx = dx + b * (bank_w + 6);
    body += box(bx, sy, bank_w, 30, kSramFill, "class=\"ue-sram-bank\"");
    body += label(bx + 6, sy + 19,
                  sram_kib > 0 ? fmt::format("SRAM {} {}", static_cast<char>('A' + b % 26),
                                             chips::format_bytes(sram_kib * 1024 / banks))
                               : fmt::format("SRAM bank {}", b),
                  "fill=\"#fff\"");
    body += svg::line(bx + bank_w / 2, sy, bx + bank_w / 2, y0 + 52, "#555", "stroke-width=\"2\"");
  }
  // DMA between SRAM and DRAM.
  const double my = sy + 44;
  body += box(dx, my, 110, 22, "#555", "class=\"ue-dma\"");
  body += label(dx + 6, my + 15, "DMA engine", "fill=\"#fff\"");
  body += svg::line(dx + 55, sy + 30, dx + 55, my, "#555", "stroke-width=\"2\"");
  body += svg::line(dx + 55, my + 22, dx + 55, my + 40, "#555", "stroke-width=\"2\"");
  body += box(x0, my + 40, 440, 22, kDramFill);
  body += label(x0 + 6, my + 55,
                fmt::format("DRAM {} at {} (instructions and weights)",
                            chips::format_bytes(dram_mib * 1048576.0), chips::format_bandwidth(dram_gbps)),
                "fill=\"#fff\"");
  body += svg::line(x0 + 50, y0 + 40, x0 + 50, my + 40, "#555", "stroke-width=\"2\"");
  double y = my + 80;
  if (engines > 1)
    body += label(x0, y, fmt::format("x {} engines in the system", engines), "font-weight=\"bold\""), y += 14;
  if (chip.clock_mhz > 0) body += label(x0, y, fmt::format("clock {:g} MHz", chip.clock_mhz)), y += 14;
  return svg::document(kWidth, y + 4, "unified engine diagram of " + chip.name, body, true);
}

// One sentence: the family's trade-off, then this run's numbers.
std::string tradeoff_sentence(const ChipResult& r) {
  const chips::ChipSpec& chip = r.chip;
  std::string lead;
  switch (chip.family) {
    case chips::Family::CPU:
      lead =
          fmt::format("Flexibility: {} general cores with deep caches run any code, but few parallel lanes",
                      chip.compute.units);
      break;
    case chips::Family::GPU:
      lead = fmt::format("Parallelism: {} SMs run thousands of threads and hide memory latency",
                         chip.compute.units);
      break;
    case chips::Family::TPU:
      lead =
          "Dataflow: the compiler schedules a systolic array where each weight is reused across the batch "
          "and partial sums never return to memory";
      break;
    case chips::Family::NPU:
      lead =
          "Efficiency: fixed MAC arrays under a small power budget, sharing low-power DRAM with the CPU and "
          "GPU";
      break;
    case chips::Family::LPU:
      lead =
          "Determinism: weights live only in on-chip SRAM, spread over many chips on a static schedule, "
          "so there are no DRAM stalls but many chips";
      break;
    case chips::Family::UE:
      lead =
          "Simplicity: one datapath fed by two SRAM banks and DMA, driven by an explicit instruction stream";
      break;
  }
  if (!r.estimate) return lead + "; this run could not be modelled: " + r.error;
  const chips::RunEstimate& e = *r.estimate;
  const double bw = level_bandwidth(e.plan, e.plan.weight_level);
  const std::string band = r.error_band > 0 ? fmt::format(" (validated median error of {} rows: {:.0f}%)",
                                                          r.error_band_family, r.error_band * 100)
                                            : "";
  return fmt::format("{}. Here: {} of {} weights in {}{} give {} tokens/s, {} tokens/J, {}-bound{}.", lead,
                     chips::format_bytes(e.plan.weight_bytes), e.plan.weight_format, e.plan.weight_level,
                     bw > 0 ? fmt::format(" ({} achievable)", chips::format_bandwidth(bw / 1e9)) : "",
                     format_rate(e.tokens_per_s), format_rate(e.tokens_per_joule),
                     chips::bound_name(e.dominant_bound), band);
}

}  // namespace

std::string family_diagram_svg(const chips::ChipSpec& chip, const chips::RunEstimate* estimate) {
  const chips::SystemPlan* plan = estimate ? &estimate->plan : nullptr;
  switch (chip.family) {
    case chips::Family::CPU:
      return cpu_diagram(chip, plan);
    case chips::Family::GPU:
      return gpu_diagram(chip, plan, estimate);
    case chips::Family::TPU:
      return tpu_diagram(chip, plan);
    case chips::Family::NPU:
      return npu_diagram(chip, plan, estimate);
    case chips::Family::LPU:
      return lpu_diagram(chip, plan, estimate);
    case chips::Family::UE:
      return ue_diagram(chip);
  }
  return "";
}

std::string family_card(const ChipResult& result) {
  return fmt::format(
      "<div class=\"card family-card\" data-family=\"{}\" data-chip=\"{}\"><h3>{} ({})</h3>{}<p "
      "class=\"tradeoff\">{}</p></div>\n",
      chips::family_name(result.chip.family), svg::escape(result.chip.name), svg::escape(result.chip.name),
      chips::family_name(result.chip.family),
      family_diagram_svg(result.chip, result.estimate ? &*result.estimate : nullptr),
      svg::escape(tradeoff_sentence(result)));
}

}  // namespace xpusim::report
