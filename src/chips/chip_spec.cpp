#include "chips/chip_spec.h"

#include "core/error.h"

namespace xpusim::chips {

namespace {

constexpr FamilyInfo kFamilyTable[] = {
    {Family::CPU, "cpu",
     "units = cores; SIMD width, FMA pipes and matrix extensions (AMX) per core; caches + DRAM"},
    {Family::GPU, "gpu",
     "units = SMs; tensor cores per SM with their MMA tile; L1/shared per SM, L2, HBM/LPDDR"},
    {Family::TPU, "tpu", "units = TensorCores; MXUs per TensorCore (systolic N x N); VMEM scratchpad + HBM"},
    {Family::NPU, "npu", "units = neural engines; MAC arrays; on-die SRAM + the host's shared LPDDR"},
    {Family::LPU, "lpu",
     "units = superlanes; SRAM-only, compiler-scheduled; the system is sized to hold the model"},
    {Family::UE, "ue",
     "unified engine: keys beyond the common ones are the engine simulator's (src/engine validates them)"},
};

constexpr PrecisionInfo kPrecisionTable[] = {
    {Precision::FP32, "fp32", 32}, {Precision::TF32, "tf32", 19}, {Precision::BF16, "bf16", 16},
    {Precision::FP16, "fp16", 16}, {Precision::FP8, "fp8", 8},    {Precision::INT8, "int8", 8},
    {Precision::INT4, "int4", 4},  {Precision::FP4, "fp4", 4},
};
static_assert(std::size(kPrecisionTable) == kPrecisionCount, "one row per Precision");

constexpr EnumName<MemoryKind> kMemoryKindNames[] = {
    {MemoryKind::CACHE, "cache"}, {MemoryKind::SRAM, "sram"}, {MemoryKind::DRAM, "dram"}};
constexpr EnumName<Topology> kTopologyNames[] = {{Topology::POINT_TO_POINT, "point_to_point"},
                                                 {Topology::RING, "ring"},
                                                 {Topology::SWITCH, "switch"},
                                                 {Topology::MESH, "mesh"},
                                                 {Topology::TORUS2D, "torus2d"},
                                                 {Topology::TORUS3D, "torus3d"},
                                                 {Topology::DRAGONFLY, "dragonfly"}};
constexpr EnumName<Partition> kPartitionNames[] = {
    {Partition::TENSOR, "tensor"}, {Partition::PIPELINE, "pipeline"}, {Partition::AUTO, "auto"}};

}  // namespace

std::span<const FamilyInfo> family_table() { return kFamilyTable; }

std::string_view family_name(Family family) {
  for (const auto& row : kFamilyTable)
    if (row.family == family) return row.name;
  XPUSIM_ASSERT(false && "family missing from kFamilyTable");
  return {};
}

std::optional<Family> family_from_name(std::string_view name) {
  for (const auto& row : kFamilyTable)
    if (row.name == name) return row.family;
  return std::nullopt;
}

std::span<const PrecisionInfo> precision_table() { return kPrecisionTable; }

std::string_view precision_name(Precision precision) {
  return kPrecisionTable[static_cast<int>(precision)].name;
}

std::optional<Precision> precision_from_name(std::string_view name) {
  for (const auto& row : kPrecisionTable)
    if (row.name == name) return row.precision;
  return std::nullopt;
}

std::span<const EnumName<MemoryKind>> memory_kind_names() { return kMemoryKindNames; }
std::span<const EnumName<Topology>> topology_names() { return kTopologyNames; }
std::span<const EnumName<Partition>> partition_names() { return kPartitionNames; }

std::optional<double> ChipSpec::peak_flops(Precision precision) const {
  const auto& tflops = compute.peak_tflops[static_cast<int>(precision)];
  if (!tflops) return std::nullopt;
  return *tflops * 1e12;
}

std::optional<double> ChipSpec::pj_per_mac(Precision precision) const {
  return energy_pj_per_mac[static_cast<int>(precision)];
}

const MemoryLevel* ChipSpec::find_level(std::string_view level_name) const {
  for (const auto& level : memory)
    if (level.name == level_name) return &level;
  return nullptr;
}

const MemoryLevel& ChipSpec::level(std::string_view level_name) const {
  if (const MemoryLevel* found = find_level(level_name)) return *found;
  std::string names;
  for (const auto& level : memory) {
    if (!names.empty()) names += ", ";
    names += level.name;
  }
  fail("chip '{}': no memory level '{}' (levels: {})", name, level_name, names.empty() ? "none" : names);
}

const MemoryLevel* ChipSpec::outermost_level() const { return memory.empty() ? nullptr : &memory.back(); }

}  // namespace xpusim::chips
