// `xpusim engine isa|asm|disasm|exec|trace`: the unified-engine ISA table, assembler, disassembler and
// simulator (src/engine). exec loads DRAM images, runs one program per engine, dumps DRAM ranges and the
// counters (--json); trace writes a Chrome/Perfetto JSON, an SVG timeline and (--html) the HTML report.
#include <fmt/format.h>

#include <fstream>
#include <memory>

#include "cli/bench_engine.h"
#include "cli/command.h"
#include "cli/html_timeline.h"
#include "cli/limits.h"
#include "core/error.h"
#include "engine/assembler.h"
#include "engine/isa_docs.h"
#include "engine/kernels.h"
#include "engine/simulator.h"
#include "engine/trace_export.h"
#include "report/html.h"

namespace xpusim::cli {
namespace {

using namespace xpusim::engine;

struct EngineOptions {
  bool markdown = false;
  std::string input, output, chip = "ue-kintex7", trace_json, trace_svg, html;
  std::vector<std::string> programs, loads, dumps;
  bool json = false, timing_only = false;
  int64_t watchdog = 0;
  std::string kernel_filter;
  bool functional = false;
  std::string schedule = "reference";
  bool validate = false;
};

// Stated limits (docs/security.md): programs and DRAM images are read whole, so they are checked first.
constexpr uint64_t kMaxProgramBytes = 64u << 20;
// A user program that has run this many cycles is stopped (~3 s of host CPU for a one-instruction loop);
// --watchdog raises it. Compiled model programs use the chip's own (larger) watchdog.
constexpr int64_t kDefaultUserWatchdogCycles = 500'000'000;

std::vector<uint8_t> read_checked(const std::string& path, uint64_t max_bytes, const char* what) {
  check_input_file(path, max_bytes, what);
  return read_binary_file(path);
}

Program read_checked_program(const std::string& path) {
  check_input_file(path, kMaxProgramBytes, "engine program");
  return read_program_file(path);
}

// A DRAM range [address, address + bytes) of a chip with dram_bytes, checked without overflow.
bool fits_dram(uint64_t address, uint64_t bytes, uint64_t dram_bytes) {
  return address <= dram_bytes && bytes <= dram_bytes - address;
}

uint64_t parse_number(const std::string& text, const std::string& what) {
  // stoull accepts "-5" (wrapping it to 2^64-5): only digits (decimal, or 0x hex) are numbers here.
  if (text.empty() || text.find_first_of("-+ \t") != std::string::npos)
    fail("{}: '{}' is not a number", what, text);
  try {
    size_t used = 0;
    const uint64_t v = std::stoull(text, &used, 0);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  fail("{}: '{}' is not a number", what, text);
}

void write_text(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    fmt::print("{}", text);
    return;
  }
  std::ofstream out(path, std::ios::binary);
  if (!out) fail("{}: cannot write file", path);
  out << text;
}

void run_exec(const EngineOptions& o, bool tracing) {
  if (o.programs.empty()) fail("engine exec: give at least one program (.s assembly or .bin)");
  ChipConfig chip = load_chip(o.chip);
  if (static_cast<int64_t>(o.programs.size()) > chip.engines)
    fail("engine exec: {} programs but chip {} has {} engines", o.programs.size(), chip.name, chip.engines);
  RunOptions run_options;
  run_options.functional = !o.timing_only;
  run_options.record_trace = tracing || !o.trace_json.empty() || !o.trace_svg.empty() || !o.html.empty();
  if (o.watchdog < 0) fail("--watchdog must be >= 0 cycles (got {})", o.watchdog);
  run_options.watchdog_cycles = o.watchdog > 0 ? o.watchdog : kDefaultUserWatchdogCycles;
  Simulator sim(chip, run_options);
  std::vector<Program> programs;
  for (size_t i = 0; i < o.programs.size(); ++i) {
    programs.push_back(read_checked_program(o.programs[i]));
    sim.load_program(static_cast<int>(i), programs.back());
  }
  for (const std::string& load : o.loads) {  // ADDR=FILE
    const size_t eq = load.find('=');
    if (eq == std::string::npos) fail("--load '{}': expected ADDRESS=FILE", load);
    const uint64_t address = parse_number(load.substr(0, eq), "--load address");
    const std::vector<uint8_t> bytes = read_checked(load.substr(eq + 1), chip.dram_bytes(), "--load");
    if (!fits_dram(address, bytes.size(), chip.dram_bytes()))
      fail("--load '{}': file does not fit in the {} MiB DRAM", load, chip.dram_size_mib);
    sim.dram().write(address, bytes.data(), bytes.size());
  }
  const RunResult result = sim.run();
  for (const std::string& dump : o.dumps) {  // ADDR:BYTES=FILE
    const size_t colon = dump.find(':'), eq = dump.find('=');
    if (colon == std::string::npos || eq == std::string::npos || eq < colon)
      fail("--dump '{}': expected ADDRESS:BYTES=FILE", dump);
    const uint64_t address = parse_number(dump.substr(0, colon), "--dump address");
    const uint64_t bytes = parse_number(dump.substr(colon + 1, eq - colon - 1), "--dump size");
    if (!fits_dram(address, bytes, chip.dram_bytes())) fail("--dump '{}': range is outside the DRAM", dump);
    std::vector<uint8_t> data(bytes);
    sim.dram().read(address, data.data(), data.size());
    write_binary_file(dump.substr(eq + 1), data);
  }
  if (!o.trace_json.empty()) write_text(o.trace_json, chrome_trace_json(result, programs, chip));
  if (!o.trace_svg.empty()) write_text(o.trace_svg, svg_timeline(result, programs, chip));
  if (!o.html.empty()) {
    report::HtmlReport html;
    html.title = fmt::format("xpusim engine trace on {}", chip.name);
    html.timeline = engine_trace_timeline(result, programs, chip);
    html.parameters = {{"command", tracing ? "engine trace" : "engine exec"},
                       {"chip", chip.name},
                       {"clock (MHz)", fmt::format("{}", chip.clock_mhz)},
                       {"simulation", o.timing_only ? "timing-only" : "functional"},
                       {"cycles", fmt::format("{}", result.cycles)},
                       {"time", fmt::format("{:.3f} us", result.seconds * 1e6)},
                       {"energy", fmt::format("{:.3g} J", result.energy_joules)}};
    for (size_t i = 0; i < o.programs.size(); ++i)
      html.parameters.emplace_back(fmt::format("program (engine {})", i), o.programs[i]);
    report::write_html(html, o.html);
  }
  if (o.json) {
    fmt::print("{}\n", run_counters_json(result, chip).dump(2));
    return;
  }
  fmt::print("chip {}: {} cycles = {:.3f} us at {} MHz, energy {:.3g} J\n", chip.name, result.cycles,
             result.seconds * 1e6, chip.clock_mhz, result.energy_joules);
  for (size_t e = 0; e < result.engines.size(); ++e) {
    const EngineStats& s = result.engines[e];
    if (s.instructions == 0) continue;
    fmt::print("engine {}: {} instructions, {} MACs, DRAM read {} B, write {} B, i-cache refills {}\n", e,
               s.instructions, s.macs, s.dram_read_bytes, s.dram_write_bytes, s.icache_refills);
    for (int u = 1; u < kUnitCount; ++u) {
      const UnitCounters& c = s.units[static_cast<size_t>(u)];
      if (c.ops == 0) continue;
      fmt::print(
          "  {:<10} {:>8} ops  busy {:>12} cycles ({:5.1f} %)  waiting on data {:>10}\n",
          unit_name(static_cast<Unit>(u)), c.ops, c.busy_cycles,
          s.cycles > 0 ? 100.0 * static_cast<double>(c.busy_cycles) / static_cast<double>(s.cycles) : 0.0,
          c.data_wait_cycles);
    }
    for (int i = 0; i < static_cast<int>(Stall::COUNT); ++i)
      if (s.stalls[static_cast<size_t>(i)] > 0)
        fmt::print("  stall {:<20} {:>12} cycles\n", stall_name(static_cast<Stall>(i)),
                   s.stalls[static_cast<size_t>(i)]);
  }
}

void run_bench(const EngineOptions& o) {
  if (o.schedule == "reference") {
    if (o.functional) fail("engine bench: --functional needs --schedule xpusim");
    if (!run_reference_bench(
            {.chip = o.chip, .kernel_filter = o.kernel_filter, .json = o.json, .validate = o.validate}))
      fail("engine bench --validate: kernels outside the tolerance (table above)");
    return;
  }
  if (o.validate) fail("engine bench: --validate needs --schedule reference");
  const ChipConfig chip = load_chip(o.chip);
  const double peak = 2.0 * static_cast<double>(chip.macs_per_cycle()) * chip.clock_mhz * 1e6;  // one engine
  // Bandwidth-bound kernels are measured against the DRAM (read + write channels together).
  const double port_bw =
      std::min(2.0 * static_cast<double>(chip.dma_port_bytes_per_cycle) * chip.clock_mhz * 1e6,
               chip.dram_aggregate_gbps * 1e9);
  nlohmann::json rows = nlohmann::json::array();
  if (!o.json)
    fmt::print(
        "chip {} ({} MHz, peak {:.1f} GFLOP/s and {:.2f} GB/s DRAM per engine), schedule: xpusim "
        "(double-buffered tiles, flash attention in SRAM), {} simulation\n{:<28} {:>14} "
        "{:>14} "
        "{:>11} {:>12} {:>7} {:>7} {:>7}\n",
        chip.name, chip.clock_mhz, peak / 1e9, port_bw / 1e9, o.functional ? "functional" : "timing-only",
        "kernel", "shape", "cycles", "time us", "GFLOP/s", "util%", "mxu%", "dma%");
  for (const KernelSpec& spec : kernel_table()) {
    if (!o.kernel_filter.empty() && spec.name.find(o.kernel_filter) == std::string::npos) continue;
    for (const KernelShape shape : {KernelShape{1024, 1024, 1024}, KernelShape{1, 1024, 1024}}) {
      const Kernel kernel = spec.make(chip, shape);
      Simulator sim(chip, RunOptions{.functional = o.functional});
      sim.load_program(0, kernel.program);
      const RunResult r = sim.run();
      const EngineStats& s = r.engines[0];
      const double flops_per_s = r.seconds > 0 ? kernel.flops / r.seconds : 0;
      const double bytes = static_cast<double>(s.dram_read_bytes + s.dram_write_bytes);
      const double util =
          kernel.matrix_bound ? flops_per_s / peak : (r.seconds > 0 ? bytes / r.seconds / port_bw : 0);
      auto busy = [&](Unit u) {
        return r.cycles > 0 ? static_cast<double>(s.units[static_cast<size_t>(u)].busy_cycles) /
                                  static_cast<double>(r.cycles)
                            : 0;
      };
      const double dma = std::max(busy(Unit::dma_load), busy(Unit::dma_store));
      const std::string shape_text = fmt::format("{}x{}x{}", shape.m, shape.n, shape.k);
      rows.push_back({{"kernel", kernel.name},
                      {"m", shape.m},
                      {"n", shape.n},
                      {"k", shape.k},
                      {"cycles", r.cycles},
                      {"seconds", r.seconds},
                      {"flops", kernel.flops},
                      {"flops_per_second", flops_per_s},
                      {"utilization", util},
                      {"utilization_of", kernel.matrix_bound ? "peak_flops" : "dram_bandwidth"},
                      {"matrix_busy", busy(Unit::matrix)},
                      {"vector_busy", busy(Unit::vector)},
                      {"dma_busy", dma},
                      {"dram_bytes", bytes},
                      {"instructions", s.instructions},
                      {"energy_joules", r.energy_joules}});
      if (!o.json)
        fmt::print("{:<28} {:>14} {:>14} {:>11.1f} {:>12.2f} {:>7.1f} {:>7.1f} {:>7.1f}\n", kernel.name,
                   shape_text, r.cycles, r.seconds * 1e6, flops_per_s / 1e9, 100 * util,
                   100 * busy(Unit::matrix), 100 * dma);
    }
  }
  if (o.json)
    fmt::print("{}\n", nlohmann::json{{"chip", chip.name},
                                      {"clock_mhz", chip.clock_mhz},
                                      {"peak_flops_per_engine", peak},
                                      {"kernels", rows}}
                           .dump(2));
}

void setup(CLI::App& app) {
  auto options = std::make_shared<EngineOptions>();
  CLI::App* engine = app.add_subcommand("engine", "unified engine: ISA, assembler, disassembler, simulator");
  engine->require_subcommand(1);

  CLI::App* isa = engine->add_subcommand("isa", "list the instruction set (--markdown: docs/isa.md)");
  isa->add_flag("--markdown", options->markdown, "print docs/isa.md");
  isa->callback([options] { fmt::print("{}", options->markdown ? isa_markdown() : isa_summary_text()); });

  CLI::App* as = engine->add_subcommand(
      "asm", "assemble text to a program binary\n  xpusim engine asm prog.s -o prog.bin");
  as->add_option("input", options->input, "assembly file")->required();
  as->add_option("-o,--output", options->output, "binary output")->required();
  as->callback([options] {
    const std::vector<uint8_t> text = read_checked(options->input, kMaxProgramBytes, "engine asm");
    write_binary_file(options->output,
                      program_to_binary(assemble(std::string(text.begin(), text.end()), options->input)));
  });

  CLI::App* dis =
      engine->add_subcommand("disasm", "disassemble a program binary\n  xpusim engine disasm prog.bin");
  dis->add_option("input", options->input, "program binary")->required();
  dis->add_option("-o,--output", options->output, "text output (default stdout)");
  dis->callback([options] {
    write_text(options->output,
               disassemble(program_from_binary(
                   read_checked(options->input, kMaxProgramBytes, "engine disasm"), options->input)));
  });

  CLI::App* bench = engine->add_subcommand(
      "bench",
      "kernel benchmarks: the reference engine's measured kernels with the reference\n"
      "schedule (default; --validate: fail if any is outside 5 %), or xpusim's own\n"
      "double-buffered kernels at 1024^3 and decode (M=1) shapes (--schedule xpusim)\n"
      "  xpusim engine bench --chip ue-ku5p --validate\n"
      "  xpusim engine bench --chip ue-kintex7 --schedule xpusim [--kernel matmul] [--json]");
  bench->add_option("--chip", options->chip, "chip preset name or .toml path");
  bench->add_option("--kernel", options->kernel_filter, "only kernels whose name contains this");
  bench->add_flag("--json", options->json, "JSON output");
  bench->add_flag("--functional", options->functional,
                  "compute values too (slow; same cycles; --schedule xpusim)");
  bench
      ->add_option("--schedule", options->schedule,
                   "reference: the reference compiler's schedule, compared with its measurements; xpusim: "
                   "ours (double-buffered, flash attention)")
      ->check(CLI::IsMember({"reference", "xpusim"}));
  bench->add_flag("--validate", options->validate,
                  "exit non-zero when a kernel is more than 5 % from the reference measurement");
  bench->callback([options] { run_bench(*options); });

  for (const bool tracing : {false, true}) {
    CLI::App* cmd =
        tracing ? engine->add_subcommand("trace",
                                         "run and write a Chrome/Perfetto trace and an SVG timeline\n"
                                         "  xpusim engine trace --chip ue-ku5p prog.s -o t.json --svg t.svg")
                : engine->add_subcommand("exec",
                                         "run programs (one per engine) and print counters\n"
                                         "  xpusim engine exec --chip ue-kintex7 prog.s --load 0x0=a.bin "
                                         "--dump 0x100000:4096=c.bin --json");
    cmd->add_option("programs", options->programs, "program per engine (.s or .bin)")->required();
    cmd->add_option("--chip", options->chip, "chip preset name or .toml path");
    cmd->add_option("--load", options->loads, "ADDRESS=FILE: copy a raw DRAM image before the run");
    cmd->add_option("--dump", options->dumps, "ADDRESS:BYTES=FILE: write DRAM bytes after the run");
    cmd->add_flag("--json", options->json, "print counters as JSON");
    cmd->add_flag("--timing-only", options->timing_only, "skip values (same cycle counts, faster)");
    cmd->add_option("--watchdog", options->watchdog,
                    "fault after this many cycles (default 5e8, about 3 s of a runaway loop)");
    cmd->add_option(tracing ? "-o,--output" : "--trace", options->trace_json,
                    "Chrome/Perfetto trace JSON file");
    cmd->add_option("--svg", options->trace_svg, "SVG timeline file");
    cmd->add_option("--html", options->html,
                    "Self-contained HTML report: engine timeline (one track per unit) and run parameters");
    cmd->callback([options, tracing] { run_exec(*options, tracing); });
  }
}

}  // namespace
}  // namespace xpusim::cli

XPUSIM_REGISTER_COMMAND(xpusim::cli::setup);
