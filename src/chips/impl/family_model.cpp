// FamilyModel: plan and per-op costs shared by the five family models (see family_model.h). Traffic model:
// an operand lives at its home level (weights and KV at the weight level, activations at the innermost
// chip-wide level that holds them) and is read through every level inside it; the number of times it is read
// from level i is set by how much of the other operand the level just inside i can keep (blocked GEMM with
// square-ish output blocks, double-buffered), so reuse is limited by capacity, never assumed.
#include "chips/impl/family_model.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "graph/builder.h"

namespace xpusim::chips::impl {

double wave_rounds(double tasks, double units) { return std::ceil(tasks / std::max(1.0, units) - 1e-9); }

double round_up(double value, double multiple) {
  if (multiple <= 1) return std::ceil(value - 1e-9);
  return std::ceil(value / multiple - 1e-9) * multiple;
}

namespace {

constexpr double kGB = 1e9;
// Static power when the chip file gives only a TDP: TPU v4's measured min/max chip power, 90 W / 192 W [S5].
constexpr double kStaticFractionOfTdp = 90.0 / 192.0;
// KV reserved when an LPU system is sized: one sequence of this many tokens (or max_positions if smaller).
constexpr int64_t kLpuKvReserveTokens = 4096;

FamilyHooks hooks_for(const ChipSpec& chip, Precision precision, const StackProfile* q8_dot) {
  switch (chip.family) {
    case Family::CPU:
      return make_cpu_hooks(chip, precision, q8_dot);
    case Family::GPU:
      return make_gpu_hooks(chip, precision);
    case Family::TPU:
      return make_tpu_hooks(chip, precision);
    case Family::NPU:
      return make_npu_hooks(chip, precision);
    case Family::LPU:
      return make_lpu_hooks(chip, precision);
    case Family::UE:
      break;
  }
  fail("chip '{}': family ue is timed by the engine compiler (compiler::make_engine_cost_model)", chip.name);
}

}  // namespace

FamilyModel::FamilyModel(const ChipSpec& chip, const model::ModelConfig& config, const std::string& precision,
                         const CostOptions& options)
    : m_chip(chip), m_config(config), m_options(options) {
  m_config.validate("model '" + config.name + "'");
  if (m_chip.memory.empty()) fail("chip '{}': no memory levels", chip.name);
  m_precision = choose_precision(m_chip, precision);
  apply_activation_precision();
  const StackProfile* q8_dot = use_q8_dot() ? &m_options.stack : nullptr;
  if (q8_dot) {
    m_precision.compute = Precision::INT8;
    m_precision.dequantize = false;
    m_precision.note = fmt::format(
        "weights in {} ({:.3g} bits/weight); matmuls on the int8 dot-product instructions against "
        "activations "
        "quantized to 8 bits ({} kernels; blocks unpacked in registers)",
        m_precision.format, m_precision.weight_bits, m_options.stack.name);
  }
  m_hooks = hooks_for(m_chip, m_precision.compute, q8_dot);
  // Families without a separate integer pipe: one integer op per vector lane, i.e. half the FLOP rate (FMA =
  // 2).
  if (m_hooks.integer_ops_per_s <= 0) m_hooks.integer_ops_per_s = m_hooks.vector_flops_per_s / 2;
  build_plan();
}

// CPU stacks with integer dot-product kernels (llama.cpp) run integer block formats that way when the chip
// would otherwise widen them to fp32 on the SIMD FMA path (no matrix engine for the format).
bool FamilyModel::use_q8_dot() const {
  return m_chip.family == Family::CPU && m_options.stack.has_q8_dot() && m_precision.integer_blocks &&
         m_precision.compute == Precision::FP32 && m_chip.peak_flops(Precision::INT8).has_value() &&
         m_chip.clock_mhz > 0;
}

// Weight-only quantization: the matmuls run at the activation precision; narrower weights are widened first.
void FamilyModel::apply_activation_precision() {
  const std::string& act = m_options.activations;
  if (act.empty()) return;
  const auto wanted = precision_from_name(act == "fp32" ? "fp32" : act);
  if (!wanted || (*wanted != Precision::BF16 && *wanted != Precision::FP16 && *wanted != Precision::FP32))
    fail("activations '{}': expected bf16, fp16 or fp32 (weight-only quantization)", act);
  Precision compute = *wanted;
  if (!m_chip.peak_flops(compute)) compute = compute == Precision::BF16 ? Precision::FP16 : Precision::BF16;
  if (!m_chip.peak_flops(compute)) compute = Precision::FP32;
  if (!m_chip.peak_flops(compute)) fail("chip '{}': no peak rate for {} activations", m_chip.name, act);
  const bool narrower = m_precision.weight_bits < 15.5;
  if (!narrower || m_chip.family == Family::CPU) return;  // the cpu rule already widens to its SIMD type
  m_precision.compute = compute;
  m_precision.dequantize = true;
  m_precision.note =
      fmt::format("weights in {} ({:.3g} bits/weight), weight-only: matmuls in {} after dequantizing",
                  m_precision.format, m_precision.weight_bits, precision_name(compute));
}

void FamilyModel::build_plan() {
  const ChipSpec& chip = m_chip;
  SystemPlan& plan = m_plan;
  plan.chip = chip.name;
  plan.family = chip.family;
  plan.weight_format = m_precision.format;
  plan.compute_precision = m_precision.compute;
  plan.notes.push_back(m_precision.note);
  for (const auto& note : m_hooks.notes) plan.notes.push_back(note);

  // The host executor keeps activations and KV in fp32; accelerators run them in 16-bit.
  const bool cpu = chip.family == Family::CPU;
  m_act_bytes = cpu ? 4 : 2;
  m_kv_bytes = cpu ? 4 : 2;
  plan.notes.push_back(fmt::format("activations in {}", cpu ? "fp32 (as the host executor)" : "bf16"));
  if (!m_options.kv_dtype.empty()) {
    m_kv_bytes = kv_dtype_bytes(m_options.kv_dtype);
    plan.notes.push_back(
        fmt::format("KV cache in {} ({:.3g} bytes per element)", m_options.kv_dtype, m_kv_bytes));
  } else {
    plan.notes.push_back(fmt::format("KV cache in {}", cpu ? "fp32 (as the host executor)" : "bf16"));
  }
  if (m_options.stack.valid()) {
    const StackProfile& stack = m_options.stack;
    plan.notes.push_back(fmt::format(
        "stack {}: {:g} kernels per layer x {:g} us each + {:g} us host work per step, in series with the "
        "work{}{}",
        stack.name, stack.kernels_per_layer, stack.kernel_gap_us, stack.step_overhead_us,
        stack.dequant_in_series && m_precision.dequantize
            ? fmt::format(
                  "; weight-only dequantization ({:g} integer/convert ops per weight) in series with the "
                  "weight stream",
                  m_precision.convert_ops_per_weight)
            : std::string(),
        stack.static_kv_tokens > 0
            ? fmt::format("; attention reads all {} static KV slots", stack.static_kv_tokens)
            : std::string()));
  }

  plan.weight_bytes = static_cast<double>(m_config.param_count()) * m_precision.weight_bits / 8.0;
  plan.kv_bytes_per_token =
      2.0 * static_cast<double>(m_config.n_layers * m_config.n_kv_heads * m_config.head_dim) * m_kv_bytes;
  m_peak = *chip.peak_flops(m_precision.compute);

  // Weights are read every step: they stay in a chip-wide cache only if they all fit (reuse across steps).
  const int outer = static_cast<int>(chip.memory.size()) - 1;
  m_weight_level = outer;
  for (int i = 0; i < outer; ++i) {
    const MemoryLevel& level = chip.memory[i];
    if (level.kind == MemoryKind::CACHE && level.instances == 1 &&
        plan.weight_bytes <= 0.8 * level.total_capacity_bytes()) {
      m_weight_level = i;
      plan.notes.push_back(fmt::format("weights ({:.3g} MB) fit in {} and stay there between steps",
                                       plan.weight_bytes / 1e6, level.name));
      break;
    }
  }
  const MemoryLevel& outer_level = chip.memory[outer];
  const double per_chip = outer_level.total_capacity_bytes();

  // Chip count.
  int chips = chip.system.chips_per_system;
  const double kv_tokens = m_options.kv_reserve_tokens > 0
                               ? static_cast<double>(m_options.kv_reserve_tokens)
                               : static_cast<double>(std::min<int64_t>(
                                     kLpuKvReserveTokens, std::max<int64_t>(1, m_config.max_positions)));
  if (chip.system.auto_size) {
    const double need = plan.weight_bytes + kv_tokens * plan.kv_bytes_per_token;
    const double needed = std::ceil(need / per_chip - 1e-9);
    if (needed > 1e6)
      fail("chip '{}': model '{}' would need {:.3g} chips of {:.4g} MB {}", chip.name, m_config.name, needed,
           per_chip / 1e6, outer_level.name);
    chips = static_cast<int>(needed);
    chips = std::max(chips, 1);
    plan.notes.push_back(fmt::format(
        "{} chips: {:.4g} MB of weights + {:.4g} MB of KV ({} tokens reserved{}) over {:.4g} MB {} per chip",
        chips, plan.weight_bytes / 1e6, kv_tokens * plan.kv_bytes_per_token / 1e6, kv_tokens,
        m_options.kv_reserve_tokens > 0 ? ": batch x (prompt + generated)" : "", per_chip / 1e6,
        outer_level.name));
    if (chip.system.max_chips && chips > *chip.system.max_chips)
      fail("chip '{}': model '{}' needs {} chips, more than system.max_chips = {}", chip.name, m_config.name,
           chips, *chip.system.max_chips);
  }
  plan.chips_used = chips;
  if (chips > 1 && !chip.interconnect)
    fail("chip '{}': a {}-chip system needs an [interconnect] table", chip.name, chips);
  Partition partition = chip.system.partition;
  if (partition == Partition::AUTO)
    partition = chip.family == Family::LPU ? Partition::PIPELINE : Partition::TENSOR;
  plan.partition = partition;
  if (chips > 1 && partition == Partition::TENSOR) {
    m_tensor_ways = chips;
    if (m_config.n_heads % chips != 0)
      plan.notes.push_back(fmt::format("{} heads do not split evenly over {} chips: the largest share counts",
                                       m_config.n_heads, chips));
  }
  if (chips > 1 && partition == Partition::PIPELINE) {
    split_pipeline_stages(chips, kv_tokens * plan.kv_bytes_per_token);
    plan.chips_used = chips;
  }
  if (chip.system.layer_sync_us && *chip.system.layer_sync_us > 0) {
    m_layer_sync_s = *chip.system.layer_sync_us * 1e-6;
    plan.notes.push_back(fmt::format(
        "a decoder layer takes at least {:g} us per step (system.layer_sync_us: the layer's synchronisation "
        "across its chips)",
        *chip.system.layer_sync_us));
  }

  const double capacity = per_chip * chips;
  if (plan.weight_bytes > capacity)
    fail("chip '{}': model '{}' needs {:.4g} GB of weights in {}, the {} of {} chip(s) hold {:.4g} GB",
         chip.name, m_config.name, plan.weight_bytes / kGB, m_precision.format, outer_level.name, chips,
         capacity / kGB);
  plan.weight_level = chip.memory[m_weight_level].name;
  const double kv_room = capacity - (m_weight_level == outer ? plan.weight_bytes : 0.0);
  plan.kv_capacity_tokens = std::floor(kv_room / plan.kv_bytes_per_token);
  plan.peak_flops = m_peak * chips;

  for (int i = 0; i <= outer; ++i) {
    const MemoryLevel& level = chip.memory[i];
    LevelInfo info;
    info.name = level.name;
    info.kind = level.kind;
    info.capacity_bytes = level.total_capacity_bytes() * chips;
    info.bandwidth_bytes_per_s = level_bandwidth(i) * chips;
    plan.levels.push_back(info);
  }

  // Static power.
  if (chip.power.idle_w) {
    m_static_w = *chip.power.idle_w * chips;
  } else if (chip.power.tdp_w) {
    m_static_w = *chip.power.tdp_w * kStaticFractionOfTdp * chips;
    plan.notes.push_back(
        fmt::format("no power.idle_w: static power assumed {:.3g} W per chip = TDP x 90/192 "
                    "(TPU v4 min/max chip power [S5])",
                    *chip.power.tdp_w * kStaticFractionOfTdp));
  } else {
    plan.notes.push_back("no power figures: static energy not counted");
  }
  m_energy = make_energy_table(chip, m_precision.compute, plan.notes);
}

// Pipeline partition: layers are laid out over stages, a stage holding ceil(layers / stages) whole layers
// plus their share of the KV reserve. When that is more than one chip's memory, the stage is split
// tensor-parallel over as many chips as it needs (each chip then holds 1/ways of every matrix and the layer
// all-reduces over them), so no chip is asked to stream a layer it cannot hold. A self-sizing system
// (chips_per_system = "auto") takes the stage count, from min(chips, layers) up to one layer per stage, that
// needs the fewest chips.
void FamilyModel::split_pipeline_stages(int& chips, double kv_bytes) {
  const double per_chip = m_chip.memory.back().total_capacity_bytes();
  const double layers = static_cast<double>(m_config.n_layers);
  const double bytes_per_layer = (m_plan.weight_bytes + kv_bytes) / layers;
  const auto ways_for = [&](double stages) {
    const double layers_per_stage = std::ceil(layers / stages - 1e-9);
    return std::max(1.0, std::ceil(layers_per_stage * bytes_per_layer / per_chip - 1e-9));
  };
  double stages = std::min<double>(chips, layers);
  double ways = ways_for(stages);
  if (m_chip.system.auto_size) {
    double best = std::max<double>(chips, stages * ways);
    for (double s = stages + 1; s <= layers && ways > 1; ++s) {
      const double w = ways_for(s);
      if (std::max<double>(chips, s * w) < best) {
        best = std::max<double>(chips, s * w);
        stages = s;
        ways = w;
      }
    }
  }
  m_stages = static_cast<int>(stages);
  m_tensor_ways = static_cast<int>(ways);
  chips = std::max(chips, static_cast<int>(stages * ways));
  if (ways > 1) {
    if (m_chip.system.max_chips && chips > *m_chip.system.max_chips)
      fail("chip '{}': model '{}' needs {} stages x {} chips, more than system.max_chips = {}", m_chip.name,
           m_config.name, m_stages, m_tensor_ways, *m_chip.system.max_chips);
  }
  m_plan.notes.push_back(fmt::format(
      "pipeline: {} layers over {} stages of {} chip(s) ({:.4g} MB of weights + KV per stage, {:.4g} MB per "
      "chip), {} us per stage boundary{}",
      m_config.n_layers, m_stages, m_tensor_ways, std::ceil(layers / stages - 1e-9) * bytes_per_layer / 1e6,
      per_chip / 1e6, m_chip.interconnect->latency_us, ways > 1 ? "; tensor parallel inside a stage" : ""));
}

double FamilyModel::level_bandwidth(int level) const {
  const MemoryLevel& spec = m_chip.memory[level];
  const bool outer = level == static_cast<int>(m_chip.memory.size()) - 1;
  return spec.bandwidth_gbps * kGB * (outer ? m_chip.efficiency.memory_bw_fraction : 1.0);
}

int FamilyModel::home_level(double bytes) const {
  const int outer = static_cast<int>(m_chip.memory.size()) - 1;
  for (int i = 0; i < outer; ++i) {
    const MemoryLevel& level = m_chip.memory[i];
    if (level.instances == 1 && bytes <= 0.5 * level.total_capacity_bytes()) return i;
  }
  return outer;
}

}  // namespace xpusim::chips::impl
