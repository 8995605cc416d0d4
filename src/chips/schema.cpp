#include "chips/schema.h"
#include "core/enum_table.h"

#include <fmt/format.h>

#include "chips/chip_spec.h"
#include "core/error.h"

namespace xpusim::chips {

namespace {

template <typename E>
std::vector<std::string> names_of(std::span<const EnumName<E>> table) {
  std::vector<std::string> names;
  for (const auto& row : table) names.emplace_back(row.name);
  return names;
}

SchemaField number(std::string path, Need need, double min, bool min_exclusive, double max, std::string unit,
                   std::string doc, std::string group = {}) {
  SchemaField field;
  field.path = std::move(path);
  field.type = FieldType::NUMBER;
  field.need = need;
  field.group = std::move(group);
  field.min = min;
  field.min_exclusive = min_exclusive;
  field.max = max;
  field.unit = std::move(unit);
  field.doc = std::move(doc);
  return field;
}

SchemaField integer(std::string path, Need need, double min, double max, std::string doc) {
  SchemaField field = number(std::move(path), need, min, false, max, "", std::move(doc));
  field.type = FieldType::INTEGER;
  return field;
}

SchemaField other(std::string path, FieldType type, Need need, std::string doc,
                  std::vector<std::string> allowed = {}) {
  SchemaField field;
  field.path = std::move(path);
  field.type = type;
  field.need = need;
  field.allowed = std::move(allowed);
  field.doc = std::move(doc);
  return field;
}

std::vector<SchemaField> build_schema() {
  const Need req = Need::REQUIRED, core = Need::REQUIRED, opt = Need::OPTIONAL;
  std::vector<SchemaField> rows;
  rows.push_back(
      integer("schema_version", req, 1, kSchemaVersion, "version of this schema the file is written for"));
  rows.push_back(
      other("name", FieldType::STRING, req, "stable preset name; equals the file name without .toml"));
  std::vector<std::string> families;
  for (const auto& row : family_table()) families.emplace_back(row.name);
  rows.push_back(other("family", FieldType::ENUM, req,
                       "which family model times this chip; defaults to the name's prefix (gpu-..., ue-...)",
                       families));
  rows.push_back(other("description", FieldType::STRING, req, "one line shown by `xpusim chips`"));
  rows.push_back(
      other("extends", FieldType::STRING, opt,
            "preset this file starts from; its keys override the base (memory levels merge by name)"));
  rows.push_back(
      other("detect", FieldType::BOOLEAN, opt,
            "family cpu only: fill missing keys from this machine (cpuid, sysfs, a bandwidth run); "
            "memory levels in the file annotate detected levels by name (l1d, l2, l3, dram)"));
  rows.push_back(number("clock_mhz", opt, 0, true, 10000, "MHz",
                        "clock the peak rates refer to; absent when not published"));

  rows.push_back(other("compute", FieldType::TABLE, core, "compute units and their peak rates"));
  rows.push_back(other("compute.unit_name", FieldType::STRING, core,
                       "what one unit is: core, SM, TensorCore, NCE, superlane"));
  rows.push_back(integer("compute.units", core, 1, 1e7, "number of compute units per chip"));
  rows.push_back(
      integer("compute.simd_width_bits", opt, 64, 4096, "CPU: widest SIMD register usable for FMA"));
  rows.push_back(integer("compute.fma_pipes", opt, 1, 16, "CPU: SIMD FMA pipes per core"));
  rows.push_back(integer("compute.simd_pipes", opt, 1, 16,
                         "CPU: SIMD instructions (integer and FP) issued per cycle per core"));
  rows.push_back(integer("compute.matrix_engines_per_unit", opt, 1, 1024,
                         "AMX units per core, tensor cores per SM, MXUs per TensorCore, MXMs per LPU"));
  rows.push_back(
      integer("compute.tile_m", opt, 1, 4096, "native matmul tile of one matrix engine: rows of A"));
  rows.push_back(
      integer("compute.tile_n", opt, 1, 4096, "native matmul tile: columns of B (output columns)"));
  rows.push_back(integer("compute.tile_k", opt, 1, 4096, "native matmul tile: reduction depth"));
  rows.push_back(
      integer("compute.vector_lanes", opt, 1, 1e7, "per chip: vector ALU lanes (TPU VPU, LPU VXM)"));
  rows.push_back(other("compute.peak_tflops", FieldType::TABLE, core,
                       "dense peak per precision (TOPS for integer precisions); at least one entry"));
  for (const auto& p : precision_table())
    rows.push_back(number(fmt::format("compute.peak_tflops.{}", p.name), opt, 0, true, 1e7, "TFLOP/s",
                          fmt::format("dense {} peak per chip", p.name)));

  rows.push_back(other(
      "memory", FieldType::TABLE_ARRAY, core,
      "[[memory]] levels, innermost (smallest capacity per instance) first; the last holds the weights"));
  rows.push_back(other("memory[].name", FieldType::STRING, req, "unique level name (l2, hbm, vmem, sram)"));
  rows.push_back(other("memory[].kind", FieldType::ENUM, req,
                       "hardware cache, software scratchpad, or off-chip", names_of(memory_kind_names())));
  rows.push_back(other("memory[].technology", FieldType::STRING, opt, "free text: HBM3, LPDDR5X-8533, SRAM"));
  // Upper bounds: 10 PB in every unit (a sanity limit that catches unit mix-ups, not a physical one).
  const std::pair<const char*, double> capacity_units[] = {
      {"bytes", 1e16}, {"kib", 1e13}, {"mib", 1e10}, {"gib", 1e7}, {"kb", 1e13}, {"mb", 1e10}, {"gb", 1e7}};
  for (const auto& [suffix, max] : capacity_units)
    rows.push_back(number(fmt::format("memory[].capacity_{}", suffix), req, 0, true, max, suffix,
                          "capacity of one instance; give exactly one capacity_* key", "capacity"));
  rows.push_back(number("memory[].bandwidth_gbps", req, 0, true, 1e8, "GB/s",
                        "aggregate over all instances; give this or bytes_per_clock_per_unit", "bandwidth"));
  rows.push_back(number("memory[].bytes_per_clock_per_unit", req, 0, true, 65536, "B/clk",
                        "per compute unit per clock_mhz cycle; bandwidth = this x units x clock",
                        "bandwidth"));
  rows.push_back(number("memory[].latency_ns", opt, 0, true, 1e7, "ns", "load-to-use latency"));
  rows.push_back(number("memory[].energy_pj_per_byte", opt, 0, true, 1e5, "pJ/B", "access energy per byte"));
  rows.push_back(integer("memory[].shared_by_units", opt, 1, 1e7,
                         "compute units sharing one instance (1 = private per unit); absent = one per chip"));

  rows.push_back(
      other("interconnect", FieldType::TABLE, opt, "chip-to-chip links; required when a system has >1 chip"));
  rows.push_back(other("interconnect.name", FieldType::STRING, opt, "NVLink4, ICI, C2C"));
  rows.push_back(integer("interconnect.links", req, 1, 1024, "links per chip"));
  rows.push_back(
      number("interconnect.link_bandwidth_gbps", req, 0, true, 1e6, "GB/s", "per link, per direction"));
  rows.push_back(number("interconnect.latency_us", req, 0, true, 1e6, "us", "one hop, end to end"));
  rows.push_back(other("interconnect.topology", FieldType::ENUM, req, "how chips are wired",
                       names_of(topology_names())));
  rows.push_back(number("interconnect.energy_pj_per_bit", opt, 0, true, 1e4, "pJ/bit", "link energy"));

  rows.push_back(other("power", FieldType::TABLE, opt, "board/package power; absent when not published"));
  rows.push_back(number("power.idle_w", opt, 0, false, 1e6, "W", "static power while idle"));
  rows.push_back(number("power.tdp_w", opt, 0, true, 1e6, "W", "thermal design / max board power"));

  rows.push_back(other("cost", FieldType::TABLE, opt, "purchase price, for sweeps' cost per token"));
  rows.push_back(number("cost.price_usd", opt, 0, true, 1e9, "USD",
                        "price of one chip (or board); an assumption unless a source says otherwise"));

  rows.push_back(other("energy", FieldType::TABLE, opt, "dynamic energy per operation"));
  rows.push_back(
      other("energy.pj_per_mac", FieldType::TABLE, opt, "datapath energy of one MAC per precision"));
  for (const auto& p : precision_table())
    rows.push_back(number(fmt::format("energy.pj_per_mac.{}", p.name), opt, 0, true, 1e4, "pJ",
                          fmt::format("one {} multiply-accumulate", p.name)));

  rows.push_back(other("system", FieldType::TABLE, opt, "how many chips form a system; absent = one chip"));
  SchemaField chips =
      integer("system.chips_per_system", opt, 1, 1e6,
              "chips in the system, or \"auto\" (lpu: enough chips to hold weights + KV in SRAM)");
  chips.type = FieldType::INTEGER_OR_AUTO;
  rows.push_back(chips);
  rows.push_back(integer("system.max_chips", opt, 1, 1e6, "upper bound for chips_per_system = \"auto\""));
  rows.push_back(integer("system.chips_per_node", opt, 1, 1e6, "chips per node/board (links inside a node)"));
  rows.push_back(other("system.partition", FieldType::ENUM, opt,
                       "how a model is split over the chips (default auto)", names_of(partition_names())));
  rows.push_back(number("system.layer_sync_us", opt, 0, false, 1e6, "us",
                        "lpu: shortest time of one decoder layer per step, synchronisation included"));

  rows.push_back(
      other("efficiency", FieldType::TABLE, core, "documented achievable fractions; each with a source"));
  rows.push_back(
      number("efficiency.gemm_fraction", req, 0, true, 1, "", "achieved fraction of peak on large GEMMs"));
  rows.push_back(
      number("efficiency.memory_bw_fraction", req, 0, true, 1, "",
             "achieved fraction of the outermost level's bandwidth when streaming weights (decode)"));
  rows.push_back(
      number("efficiency.launch_overhead_us", req, 0, false, 1e6, "us", "fixed cost per kernel/op"));

  for (SchemaField& row : rows)
    row.common = row.path == "schema_version" || row.path == "name" || row.path == "family" ||
                 row.path == "description" || row.path == "extends" || row.path == "clock_mhz";
  return rows;
}

std::string format_limit(double value) {
  if (value >= 1e6 && value == static_cast<double>(static_cast<long long>(value)))
    return fmt::format("{:g}", value);
  return fmt::format("{}", value);
}

}  // namespace

const std::vector<SchemaField>& chip_schema() {
  static const std::vector<SchemaField> schema = build_schema();
  return schema;
}

const SchemaField* find_schema_field(std::string_view path) {
  for (const auto& field : chip_schema())
    if (field.path == path) return &field;
  return nullptr;
}

std::vector<const SchemaField*> schema_children(std::string_view parent_path) {
  std::vector<const SchemaField*> children;
  for (const auto& field : chip_schema()) {
    std::string_view path = field.path;
    if (parent_path.empty()) {
      if (path.find_first_of(".[") == std::string_view::npos) children.push_back(&field);
      continue;
    }
    if (path.size() > parent_path.size() + 1 && path.starts_with(parent_path) &&
        path[parent_path.size()] == '.' &&
        path.substr(parent_path.size() + 1).find('.') == std::string_view::npos)
      children.push_back(&field);
  }
  return children;
}

std::string describe_range(const SchemaField& field) {
  switch (field.type) {
    case FieldType::ENUM: {
      std::string text = "one of: ";
      for (size_t i = 0; i < field.allowed.size(); ++i) text += (i ? ", " : "") + field.allowed[i];
      return text;
    }
    case FieldType::INTEGER:
    case FieldType::NUMBER:
    case FieldType::INTEGER_OR_AUTO: {
      std::string text = fmt::format("{}{}, {}]", field.min_exclusive ? "(" : "[", format_limit(field.min),
                                     format_limit(field.max));
      if (field.type == FieldType::INTEGER_OR_AUTO) text += " or \"auto\"";
      return text;
    }
    default:
      return "";
  }
}

constexpr EnumName<FieldType> kFieldTypeNames[] = {
    {FieldType::STRING, "string"}, {FieldType::INTEGER, "integer"},
    {FieldType::NUMBER, "number"}, {FieldType::BOOLEAN, "boolean"},
    {FieldType::ENUM, "string"},   {FieldType::INTEGER_OR_AUTO, "integer or \"auto\""},
    {FieldType::TABLE, "table"},   {FieldType::TABLE_ARRAY, "array of tables"}};

std::string type_name(FieldType type) { return std::string(enum_name(kFieldTypeNames, type)); }

bool field_needed(const SchemaField& field, bool is_ue) {
  return field.need == Need::REQUIRED && (field.common || !is_ue);
}

std::string schema_markdown() {
  std::string text =
      "| Key | Type | Required | ue | Range / values | Unit | Meaning |\n|---|---|---|---|---|---|---|\n";
  for (const auto& field : chip_schema()) {
    std::string need = field.need == Need::REQUIRED ? "yes" : "no";
    if (!field.group.empty() && field.need != Need::OPTIONAL)
      need = fmt::format("one of `{}` group", field.group);
    std::string range = describe_range(field);
    for (size_t pos = 0; (pos = range.find('|', pos)) != std::string::npos; pos += 2)
      range.replace(pos, 1, "\\|");
    text += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} |\n", field.path, type_name(field.type), need,
                        field.common ? "yes" : "", range, field.unit, field.doc);
  }
  return text;
}

std::string replace_doc_table(const std::string& doc_text) {
  const size_t begin = doc_text.find(kDocBeginMarker);
  const size_t end = doc_text.find(kDocEndMarker);
  if (begin == std::string::npos || end == std::string::npos || end < begin)
    fail("docs/chips.md: markers '{}' ... '{}' not found; add them where the key table belongs",
         kDocBeginMarker, kDocEndMarker);
  const size_t table_begin = begin + kDocBeginMarker.size();
  return doc_text.substr(0, table_begin) + "\n" + schema_markdown() + doc_text.substr(end);
}

}  // namespace xpusim::chips
