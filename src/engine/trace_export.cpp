#include "engine/trace_export.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "engine/assembler.h"

namespace xpusim::engine {
namespace {

std::string instruction_name(const std::vector<Program>& programs, int engine, uint32_t pc) {
  if (engine < 0 || static_cast<size_t>(engine) >= programs.size() ||
      pc >= programs[static_cast<size_t>(engine)].code.size())
    return "?";
  const std::string text = describe_word(programs[static_cast<size_t>(engine)].code[pc]);
  return text.substr(0, text.find(' '));
}

double to_us(int64_t cycles, const ChipConfig& chip) { return static_cast<double>(cycles) / chip.clock_mhz; }

}  // namespace

std::string chrome_trace_json(const RunResult& result, const std::vector<Program>& programs,
                              const ChipConfig& chip) {
  nlohmann::json events = nlohmann::json::array();
  for (size_t e = 0; e < result.engines.size(); ++e) {
    events.push_back({{"ph", "M"},
                      {"name", "process_name"},
                      {"pid", e},
                      {"args", {{"name", fmt::format("engine {}", e)}}}});
    for (int u = 0; u < kUnitCount; ++u)
      events.push_back({{"ph", "M"},
                        {"name", "thread_name"},
                        {"pid", e},
                        {"tid", u},
                        {"args", {{"name", std::string(unit_name(static_cast<Unit>(u)))}}}});
    for (const TraceEntry& entry : result.engines[e].trace_buffer)
      if (entry.marker >= 0)
        events.push_back({{"ph", "i"},
                          {"s", "p"},
                          {"name", fmt::format("mark {}", entry.marker)},
                          {"pid", e},
                          {"tid", 0},
                          {"ts", to_us(entry.cycle, chip)}});
  }
  for (const InstrRecord& r : result.records) {
    const std::string text = r.pc < programs[static_cast<size_t>(r.engine)].code.size()
                                 ? describe_word(programs[static_cast<size_t>(r.engine)].code[r.pc])
                                 : "?";
    events.push_back({{"ph", "X"},
                      {"name", instruction_name(programs, r.engine, r.pc)},
                      {"pid", r.engine},
                      {"tid", static_cast<int>(r.unit)},
                      {"ts", to_us(r.start, chip)},
                      {"dur", to_us(r.ready - r.start, chip)},
                      {"args",
                       {{"pc", r.pc},
                        {"instruction", text},
                        {"issue_cycle", r.issue},
                        {"start_cycle", r.start},
                        {"busy_end_cycle", r.busy_end},
                        {"ready_cycle", r.ready}}}});
  }
  nlohmann::json doc = {
      {"traceEvents", events},
      {"displayTimeUnit", "ns"},
      {"otherData", {{"chip", chip.name}, {"clock_mhz", chip.clock_mhz}, {"cycles", result.cycles}}}};
  return doc.dump(1);
}

std::string svg_timeline(const RunResult& result, const std::vector<Program>& programs,
                         const ChipConfig& chip) {
  const double width = 1200, lane_height = 22, left = 150;
  const size_t lanes = result.engines.size() * static_cast<size_t>(kUnitCount);
  const double height = 40 + static_cast<double>(lanes) * lane_height + 30;
  const double scale = result.cycles > 0 ? (width - left - 10) / static_cast<double>(result.cycles) : 1.0;
  static const char* colors[] = {"#999999", "#4e79a7", "#f28e2b", "#e15759", "#59a14f"};
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"11\">\n"
      "<text x=\"10\" y=\"18\" font-size=\"13\">{}: {} cycles ({:.3f} us)</text>\n",
      width, height, chip.name, result.cycles, to_us(result.cycles, chip));
  for (size_t e = 0; e < result.engines.size(); ++e)
    for (int u = 0; u < kUnitCount; ++u) {
      const double y = 30 + static_cast<double>(e * kUnitCount + static_cast<size_t>(u)) * lane_height;
      svg += fmt::format(
          "<text x=\"10\" y=\"{}\">e{} {}</text><line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" "
          "stroke=\"#ddd\"/>\n",
          y + 15, e, unit_name(static_cast<Unit>(u)), left, width - 10, y + lane_height, y + lane_height);
    }
  for (const InstrRecord& r : result.records) {
    const double y =
        30 + static_cast<double>(static_cast<size_t>(r.engine) * kUnitCount + static_cast<size_t>(r.unit)) *
                 lane_height;
    const double x = left + static_cast<double>(r.start) * scale;
    const double w = std::max(0.5, static_cast<double>(r.ready - r.start) * scale);
    svg += fmt::format(
        "<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{}\" fill=\"{}\" "
        "opacity=\"0.8\"><title>pc {} {} [{}, {})</title></rect>\n",
        x, y + 3, w, lane_height - 6, colors[static_cast<int>(r.unit)], r.pc,
        instruction_name(programs, r.engine, r.pc), r.start, r.ready);
  }
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\">0</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{} "
      "cycles</text>\n</svg>\n",
      left, height - 8, width - 10, height - 8, result.cycles);
  return svg;
}

nlohmann::json run_counters_json(const RunResult& result, const ChipConfig& chip) {
  nlohmann::json engines = nlohmann::json::array();
  for (const EngineStats& s : result.engines) {
    nlohmann::json units = nlohmann::json::object();
    for (int u = 0; u < kUnitCount; ++u) {
      const UnitCounters& c = s.units[static_cast<size_t>(u)];
      units[std::string(unit_name(static_cast<Unit>(u)))] = {
          {"ops", c.ops},
          {"busy_cycles", c.busy_cycles},
          {"data_wait_cycles", c.data_wait_cycles},
          {"utilization",
           s.cycles > 0 ? static_cast<double>(c.busy_cycles) / static_cast<double>(s.cycles) : 0.0}};
    }
    nlohmann::json stalls = nlohmann::json::object();
    for (int i = 0; i < static_cast<int>(Stall::COUNT); ++i)
      stalls[std::string(stall_name(static_cast<Stall>(i)))] = s.stalls[static_cast<size_t>(i)];
    engines.push_back({{"cycles", s.cycles},
                       {"instructions", s.instructions},
                       {"macs", s.macs},
                       {"vector_elements", s.vector_elements},
                       {"dram_read_bytes", s.dram_read_bytes},
                       {"dram_write_bytes", s.dram_write_bytes},
                       {"sram_bytes", s.sram_bytes},
                       {"icache_refills", s.icache_refills},
                       {"units", units},
                       {"frontend_stalls", stalls}});
  }
  const double flops = 2.0 * static_cast<double>(result.total_macs());
  return {{"chip", chip.name},
          {"clock_mhz", chip.clock_mhz},
          {"cycles", result.cycles},
          {"seconds", result.seconds},
          {"energy_joules", result.energy_joules},
          {"matmul_flops", flops},
          {"matmul_flops_per_second", result.seconds > 0 ? flops / result.seconds : 0.0},
          {"engines", engines}};
}

}  // namespace xpusim::engine
