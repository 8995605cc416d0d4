// `xpusim chips`: list the chip presets (name, family, chips per system, peak bf16, memory levels, power),
// show one chip in full, print what was detected on this machine, or regenerate the schema table of
// docs/chips.md.
#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "chips/display.h"
#include "chips/host_detect.h"
#include "chips/loader.h"
#include "chips/schema.h"
#include "cli/command.h"
#include "core/error.h"
#include "engine/chip_config.h"
#include "report/table.h"

namespace xpusim::cli {

namespace {

struct ChipsOptions {
  bool json = false;
  bool csv = false;
  bool detect = false;
  std::string show;
  std::string schema_doc;
};

std::string power_text(const chips::ChipSpec& chip) {
  if (!chip.power.tdp_w) return "-";
  return fmt::format("{:g} W", *chip.power.tdp_w);
}

struct ListRow {
  std::string peak, power, memory;
};

// Unified-engine chips keep their parameters in the engine's own schema: ask src/engine for them.
ListRow engine_row(const chips::ChipSpec& chip) {
  const engine::ChipConfig config = engine::load_chip(chip.source_path);
  ListRow row;
  row.peak = fmt::format("{:.3g}", config.peak_flops() / 1e12);
  row.power = config.static_power_mw > 0 ? fmt::format("{:g} W", config.static_power_mw / 1000) : "-";
  row.memory =
      fmt::format("sram {}{} | dram {} @ {}", chips::format_bytes(static_cast<double>(config.sram_bytes())),
                  config.engines > 1 ? fmt::format(" x{}", config.engines) : "",
                  chips::format_bytes(static_cast<double>(config.dram_bytes())),
                  chips::format_bandwidth(config.dram_aggregate_gbps));
  return row;
}

// One list row as text cells, shared by the aligned table and --csv.
std::vector<std::string> list_cells(const chips::ChipSpec& chip) {
  const std::string count = chip.system.auto_size ? "auto" : fmt::format("{}", chip.system.chips_per_system);
  const ListRow row =
      chip.family == chips::Family::UE
          ? engine_row(chip)
          : ListRow{chips::format_peak_bf16(chip), power_text(chip), chips::format_memory_levels(chip)};
  return {chip.name, std::string(chips::family_name(chip.family)), count, row.peak, row.power, row.memory};
}

void print_list(const std::vector<chips::ChipSpec>& all, bool csv) {
  if (csv) {
    fmt::print("{}", report::csv_row({"name", "family", "chips", "bf16_tflops", "power", "memory_levels"}));
    for (const auto& chip : all) fmt::print("{}", report::csv_row(list_cells(chip)));
    return;
  }
  fmt::print("{:<22} {:<7} {:>6} {:>12} {:>7}  {}\n", "name", "family", "chips", "bf16 TF/s", "power",
             "memory levels (capacity per instance x instances @ bandwidth)");
  for (const auto& chip : all) {
    const std::vector<std::string> c = list_cells(chip);
    fmt::print("{:<22} {:<7} {:>6} {:>12} {:>7}  {}\n", c[0], c[1], c[2], c[3], c[4], c[5]);
  }
}

void rewrite_schema_doc(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open for reading", path);
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  const std::string updated = chips::replace_doc_table(text.str());
  std::ofstream out(path);
  if (!out || !(out << updated)) fail("{}: cannot write", path);
  fmt::print("{}: schema table regenerated ({} keys)\n", path, chips::chip_schema().size());
}

void run_chips(const ChipsOptions& options) {
  if (options.json && options.csv) fail("give either --json or --csv, not both");
  if (options.csv && (options.detect || !options.show.empty() || !options.schema_doc.empty()))
    fail("--csv prints the chip list: it does not combine with --detect, --show or --schema-doc");
  if (!options.schema_doc.empty()) return rewrite_schema_doc(options.schema_doc);
  if (options.detect) {
    chips::refresh_host_bandwidth();  // --detect measures again and refreshes the per-machine cache
    const chips::HostInfo& host = chips::detect_host();
    if (options.json) {
      fmt::print("{}\n", chips::chip_to_json(chips::load_chip("cpu-host")).dump(2));
      return;
    }
    fmt::print("{}", chips::host_report(host));
    const chips::ChipSpec chip = chips::load_chip("cpu-host");
    std::string peaks;
    for (const auto& p : chips::precision_table())
      if (const auto tflops = chip.compute.peak_tflops[static_cast<int>(p.precision)])
        peaks += fmt::format("{}{} {:.3g}", peaks.empty() ? "" : ", ", p.name, *tflops);
    fmt::print("peak:       {} TF/s (deriv from SIMD/AMX features, {} FMA pipes from cpu-host.toml)\n", peaks,
               chip.compute.fma_pipes.value_or(0));
    fmt::print("cpu-host:   {}\n", chips::format_memory_levels(chip));
    return;
  }
  if (!options.show.empty()) {
    const chips::ChipSpec chip = chips::load_chip(options.show);
    fmt::print("{}\n", chips::chip_to_json(chip).dump(2));
    return;
  }
  std::vector<chips::ChipSpec> all;
  for (const std::string& name : chips::list_presets()) all.push_back(chips::load_chip(name));
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& chip : all) out.push_back(chips::chip_to_json(chip));
    fmt::print("{}\n", out.dump(2));
    return;
  }
  print_list(all, options.csv);
}

void setup_chips(CLI::App& app) {
  auto options = std::make_shared<ChipsOptions>();
  CLI::App* command = app.add_subcommand("chips", "List chip presets (chips/*.toml) or show one chip");
  command->footer(
      "Examples:\n  xpusim chips\n  xpusim chips --json\n  xpusim chips --csv\n  xpusim chips --show "
      "gpu-h100-sxm\n"
      "  xpusim chips --show ./my-chip.toml\n  xpusim chips --detect");
  add_output_flags(*command, options->json, options->csv);
  command->add_flag("--detect", options->detect,
                    "Print what was detected on this machine (the cpu-host preset); measures the DRAM "
                    "bandwidth again and refreshes its per-machine cache");
  command->add_option("--show", options->show, "Validate and print one chip: a preset name or a .toml path");
  command->add_option("--schema-doc", options->schema_doc,
                      "Regenerate the schema table inside this markdown file (docs/chips.md)");
  command->callback([options] { run_chips(*options); });
}

}  // namespace

XPUSIM_REGISTER_COMMAND(setup_chips);

}  // namespace xpusim::cli
