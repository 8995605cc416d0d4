// chips::impl::FamilyModel: the shared machinery of the five analytic family models (cpu, gpu, tpu, npu,
// lpu). It owns everything that is the same for every family: the system plan (chip count, partition, where
// weights and KV live, compute precision), walking the step graph, memory traffic per hierarchy level with
// capacity-limited reuse (blocked GEMM, flash attention), energy, multi-chip collectives and pipeline
// bubbles. A family supplies only how a GEMM maps onto its compute units (tile and wave quantization), its
// vector rate and two scheduling flags (FamilyHooks). Non-goals: request scheduling (src/serving), the ue
// family (compiler). HOWTO add a family: write impl/<family>_model.cpp with a make_<family>_hooks(chip)
// returning FamilyHooks, declare it below and add it to make_cost_model() in cost_model.cpp; document its
// precision rule in docs/chips.md ("Family models").
#pragma once

#include <fmt/format.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chips/cost_model.h"
#include "chips/stack.h"
#include "graph/graph.h"

namespace xpusim::chips::impl {

// A (batched) matrix multiply on one chip: `batch` independent products of [m, k] x [k, n].
struct Gemm {
  double m = 1, n = 1, k = 1;
  double batch = 1;
  double flops() const { return 2.0 * m * n * k * batch; }
};

// How one family runs work. Every function returns seconds on ONE chip at the plan's compute precision.
struct FamilyHooks {
  // Matrix units, including tile padding, wave quantization over units, systolic fill/drain and the chip's
  // gemm_fraction. `peak` is the chip's peak at the compute precision (FLOP/s).
  std::function<double(const Gemm& gemm, double peak)> gemm_seconds;
  // Attention's score and value products when they do not run like the weight matmuls (CPU q8 dot path:
  // attention stays on the fp32 FMA path); empty = gemm_seconds.
  std::function<double(const Gemm& gemm, double peak)> attention_gemm_seconds;
  double vector_flops_per_s = 0;  // element-wise and softmax work
  double integer_ops_per_s = 0;   // integer / type-conversion instructions (weight unpacking), lane-ops per s
  bool fuses_elementwise =
      false;                  // element-wise ops run in the producing kernel's epilogue (no launch/traffic)
  bool async_launch = false;  // launches overlap the previous op (time = max), else they add (dispatch)
  // Collectives are compiler-scheduled direct exchanges (every chip sends its share straight to its peers):
  // an all-reduce is one reduce-scatter and one all-gather round, 2 link latencies, not a ring's 2(p-1).
  bool direct_collectives = false;
  // Register-level block (rows, cols) of one matrix engine: bounds reuse of the innermost memory level.
  double register_rows = 1, register_cols = 1;
  std::vector<std::string> notes;  // assumptions this family made about the chip
};

// Weight-stationary systolic array (TPU MXU, NPU MAC array, LPU MXM): a tile_n x tile_k weight tile is
// installed, then the m rows stream through one per cycle; installing the next tile overlaps the streaming,
// so a tile costs max(m rounded up to row_multiple, install_rows) cycles, plus one fill + drain per GEMM.
struct SystolicArray {
  double engines = 1, tile_n = 128, tile_k = 128, row_multiple = 1, install_rows = 0, efficiency = 1;
  double clock_hz = 0;  // fill/drain run at the clock; 0 = derive the cycle from the peak
};
double systolic_seconds(const Gemm& gemm, double peak, const SystolicArray& array);

// The chip file's matrix units as systolic arrays; `defaults` fills the keys the file leaves out.
SystolicArray systolic_array_of(const ChipSpec& chip, const SystolicArray& defaults);

// The hooks every compiler-scheduled weight-stationary systolic family (TPU, LPU) shares, for `array`.
FamilyHooks systolic_family_hooks(const SystolicArray& array);

// Vector rate = lanes x `ops_per_lane_cycle` x clock; without lanes or clock, 1/16 of the `fallback`
// precision's peak, with a note naming the `unit`.
void set_vector_rate(FamilyHooks& hooks, const ChipSpec& chip, double ops_per_lane_cycle, Precision fallback,
                     const char* unit);

// `q8_dot`: the stack's integer dot-product kernels run the weight matmuls (see StackProfile).
FamilyHooks make_cpu_hooks(const ChipSpec& chip, Precision precision, const StackProfile* q8_dot);
FamilyHooks make_gpu_hooks(const ChipSpec& chip, Precision precision);
FamilyHooks make_tpu_hooks(const ChipSpec& chip, Precision precision);
FamilyHooks make_npu_hooks(const ChipSpec& chip, Precision precision);
FamilyHooks make_lpu_hooks(const ChipSpec& chip, Precision precision);

// Wave quantization: `tasks` equal tasks over `units` parallel units take ceil(tasks / units) rounds.
double wave_rounds(double tasks, double units);
double round_up(double value, double multiple);

// The compute precision for weights stored in `format` on `chip` (docs/chips.md, "Compute precision").
struct PrecisionChoice {
  Precision compute = Precision::BF16;
  double weight_bits = 16;  // bits per weight element in the stored format (block scales included)
  bool dequantize = false;  // weights are widened to `compute` by the vector units before the MACs
  // Integer / conversion instructions per weight to widen it: 1 for 8-bit integers (one int->float convert),
  // 2 for fp8 (e4m3 -> f16 -> bf16: no direct convert before Blackwell), 2 for 4-bit formats (unpack +
  // convert).
  double convert_ops_per_weight = 0;
  bool integer_blocks =
      false;  // an integer format (int8, int4, ggml Q4_0/Q8_0/K-quants): int8 dot products apply
  std::string format = "bf16";  // canonical format name
  std::string note;             // what was decided, for SystemPlan::notes
};
PrecisionChoice choose_precision(const ChipSpec& chip, const std::string& format_name);

// Energy per action on one chip (energy.cpp); missing chip numbers are filled with documented assumptions,
// each appended to `notes`.
struct EnergyTable {
  double pj_per_mac = 0;            // at the compute precision
  double pj_per_vector_flop = 0;    // element-wise, softmax and dequantization work
  std::vector<double> pj_per_byte;  // per chip memory level
  double pj_per_link_bit = 0;
};
EnergyTable make_energy_table(const ChipSpec& chip, Precision precision, std::vector<std::string>& notes);

// Fills a step's totals (seconds, FLOPs, bytes, link bytes, energy) and its bound from its ops.
void sum_step(StepCost& step, size_t levels);

class FamilyModel : public CostModel {
 public:
  FamilyModel(const ChipSpec& chip, const model::ModelConfig& config, const std::string& precision,
              const CostOptions& options = {});
  const SystemPlan& plan() const override { return m_plan; }
  StepCost step(const StepShape& shape) override;

 private:
  // One op's work on ONE chip: either shapes (gemms, element-wise flops, operand bytes) from which
  // fill_traffic() derives per-level traffic, or traffic filled directly (attention).
  struct Work {
    std::string op_type, label;
    int32_t layer = -1;
    std::vector<Gemm> gemms;
    double compute_s = 0;        // filled by the attention path; else derived from gemms + vector work
    double matrix_flops = 0;     // useful (unpadded) matrix FLOPs
    double vector_flops = 0;     // element-wise / softmax FLOPs
    double dequant_flops = 0;    // widening of weights before the MACs (not model FLOPs)
    double weight_bytes = 0;     // non-matmul weight reads (embedding rows, norm gains)
    double act_bytes = 0;        // non-matmul activation reads + writes
    double kv_write = 0;         // bytes written to the KV cache
    double allreduce_bytes = 0;  // tensor all-reduced over the tensor-parallel chips after the op
    bool fused = false, view = false;
    std::vector<double> traffic;  // bytes read/written at each chip level
    double chips_working = 1;     // chips doing this work at once (system totals = per chip x this)
  };
  struct CachedOps {
    std::vector<OpCost> ops;        // context-independent op costs (attention entries filled per step)
    std::vector<size_t> attention;  // indices of attention ops in `ops`
    std::vector<const graph::Op*> attention_ops;
    graph::Graph graph;
  };

  void build_plan();
  void apply_activation_precision();
  bool use_q8_dot() const;
  const CachedOps& cached_ops(int64_t tokens, int64_t sequences);
  Work work_of(const graph::Graph& graph, const graph::Op& op, double rows) const;
  void fill_traffic(Work& work) const;
  OpCost finish(const Work& work) const;
  OpCost attention_cost(const graph::Op& op, const StepShape& shape) const;
  StepCost evaluate(const StepShape& shape);
  OpCost stack_overhead(double tokens_in_step, double sequences) const;
  void add_layer_sync(StepCost& step) const;
  void split_pipeline_stages(int& chips, double kv_bytes);
  StepCost evaluate_pipelined(const StepShape& shape, int64_t micro_batches);
  std::pair<double, double> gemm_passes(const Gemm& gemm, int level, double act_bytes,
                                        double weight_bytes) const;
  int home_level(double bytes) const;  // innermost chip-wide level that holds `bytes` of activations
  double level_bandwidth(int level) const;
  // Per-instance capacity of the level inside `level` (0 for level 0: the register block applies).
  double capacity_inside(int level) const;

  ChipSpec m_chip;
  model::ModelConfig m_config;
  CostOptions m_options;
  SystemPlan m_plan;
  FamilyHooks m_hooks;
  PrecisionChoice m_precision;
  int m_weight_level = 0;     // chip level index holding the weights (KV: always the outermost level)
  double m_act_bytes = 2;     // bytes per activation element
  double m_kv_bytes = 2;      // bytes per KV cache element
  double m_peak = 0;          // one chip, compute precision, FLOP/s
  int m_tensor_ways = 1;      // tensor-parallel degree
  int m_stages = 1;           // pipeline stages
  double m_layer_sync_s = 0;  // lpu: shortest time of one decoder layer per step (system.layer_sync_us)
  double m_static_w = 0;      // static power of the whole system
  EnergyTable m_energy;
  std::map<std::pair<int64_t, int64_t>, std::unique_ptr<CachedOps>> m_cache;
};

}  // namespace xpusim::chips::impl
