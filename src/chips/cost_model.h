// chips::CostModel: the one interface every timed target implements — the per-family analytic models of
// src/chips (cpu, gpu, tpu, npu, lpu) and the unified engine's compiler + simulator (src/compiler, family
// ue). A cost model answers "how long and how many joules does one forward step of this model take on this
// chip (or system of chips)?", per op, with the op's bound. Everything above it (compare, serve-sim, the HTML
// report) is written against this header only. Non-goals: values/text (targets that generate text do it
// through the host executor or the engine simulator), and scheduling of requests (src/serving composes
// steps). HOWTO add a family: implement CostModel in src/chips/<family>_model.cpp and add it to
// make_cost_model()'s switch; the ue family is created by compiler::make_engine_cost_model
// (compiler/cost_model.h) instead, because chips sits below the compiler in the library order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chips/chip_spec.h"
#include "chips/stack.h"
#include "model/config.h"

namespace xpusim::chips {

// What limits an op (or a step): the slowest of its compute time, its time at each memory level, its link
// time, or a fixed per-op overhead (launch/dispatch) that exceeds all of those.
enum class Bound { COMPUTE, MEMORY, INTERCONNECT, OVERHEAD };
const char* bound_name(Bound bound);  // "compute", "memory", "interconnect", "overhead"

// Joules split by where they are spent. static = idle/leakage power x time.
struct EnergySplit {
  double compute_j = 0;
  double onchip_memory_j = 0;   // caches, SRAM, register files, scratchpads
  double offchip_memory_j = 0;  // DRAM / HBM / LPDDR
  double links_j = 0;           // chip-to-chip interconnect
  double static_j = 0;
  double total() const { return compute_j + onchip_memory_j + offchip_memory_j + links_j + static_j; }
  EnergySplit& operator+=(const EnergySplit& other);
};

// One sequence's part of a step: `new_tokens` tokens are processed after `context` tokens already in its KV
// cache. Prefill of a P-token prompt is {P, 0}; the k-th decode step of it is {1, P + k}.
struct SequenceChunk {
  int64_t new_tokens = 1;
  int64_t context = 0;
};

// One forward step over a batch of sequences (continuous batching mixes prefill chunks and decodes).
struct StepShape {
  std::vector<SequenceChunk> sequences;
  int64_t total_new_tokens() const;
};

// Cost of one graph op (or one fused group) in a step. Ops of all layers are listed (layer = -1 outside
// blocks).
struct OpCost {
  std::string op_type;  // graph op name ("linear", "attention", "rms_norm", ...; graph::op_name)
  std::string label;    // tensor/op name for humans ("blk.3.attn_q")
  int32_t layer = -1;
  double seconds = 0;
  double flops = 0;
  std::vector<double> bytes_per_level;  // indexed like SystemPlan::levels
  double link_bytes = 0;                // bytes sent over the interconnect for this op (collectives)
  Bound bound = Bound::COMPUTE;
  int bound_level = -1;  // index into SystemPlan::levels when bound == MEMORY
  EnergySplit energy;
};

struct StepCost {
  double seconds = 0;
  double flops = 0;
  std::vector<double> bytes_per_level;  // indexed like SystemPlan::levels
  double link_bytes = 0;
  EnergySplit energy;
  Bound bound = Bound::COMPUTE;  // the bound that accounts for most of the step's time
  std::vector<OpCost> ops;       // in execution order
};

// A memory level as the plan sees it (capacity and bandwidth of the whole system, all chips together).
struct LevelInfo {
  std::string name;  // "l2", "hbm", "sram"
  MemoryKind kind = MemoryKind::DRAM;
  double capacity_bytes = 0;         // system total
  double bandwidth_bytes_per_s = 0;  // system total, achievable (after the chip's efficiency factor)
};

// How the model is placed on the chip or system: decided once per (chip, model, precision).
struct SystemPlan {
  std::string chip;  // preset name
  Family family = Family::CPU;
  int chips_used = 1;
  Partition partition = Partition::TENSOR;
  std::string weight_level;       // name of the memory level that holds the weights ("hbm", "sram")
  double weight_bytes = 0;        // in the chosen weight format, all chips together
  double kv_bytes_per_token = 0;  // all layers, K and V, one sequence
  double kv_capacity_tokens = 0;  // tokens of KV that fit next to the weights (all sequences together)
  std::string weight_format;      // numerics format name of the weights ("bf16", "nvfp4", "ue-if4")
  Precision compute_precision = Precision::BF16;  // the MAC precision the chip runs the matmuls in
  double peak_flops = 0;                          // system peak at compute_precision (FLOP/s or op/s)
  std::vector<LevelInfo> levels;                  // innermost first; the roofline draws one roof per level
  std::vector<std::string> notes;  // plain-language decisions ("12 chips: 270 MB of weights / 230 MB SRAM")
};

class CostModel {
 public:
  virtual ~CostModel() = default;
  virtual const SystemPlan& plan() const = 0;
  // Throws xpusim::Error when the step cannot run (e.g. KV does not fit): the message names the limit.
  virtual StepCost step(const StepShape& shape) = 0;
};

// precision: a numerics format name (numerics/format_table.h: "bf16", "fp8-e4m3", "int8", "nvfp4", "ue-if4",
// ...) for the weights; empty = the chip's default (bf16 where supported). The compute precision follows from
// the format and what the chip supports (documented per family in docs/chips.md). Family ue: xpusim::Error
// pointing to compiler::make_engine_cost_model.
std::unique_ptr<CostModel> make_cost_model(const ChipSpec& chip, const model::ModelConfig& config,
                                           const std::string& precision);

// Run parameters beyond the weight format. kv_dtype: a number format name for the KV cache ("bf16",
// "fp8-e4m3", "int8", "fp32"; empty = the family default: fp32 on cpu like the host executor, bf16
// elsewhere). stack: the software stack (stack.h); an invalid (empty) profile adds nothing. activations:
// "bf16" / "fp16" / "fp32" runs the matmuls at that precision, weights narrower than it being dequantized
// first (weight-only quantization, W8A16 / W4A16); empty = the chip's natural choice for the weight format
// (docs/chips.md, "Compute precision").
struct CostOptions {
  std::string kv_dtype;
  std::string activations;
  StackProfile stack;
  // Systems that size themselves (lpu): KV tokens to make room for, i.e. batch x (prompt + generated) of the
  // run being asked about; 0 = one sequence of min(4096, max_positions) tokens.
  int64_t kv_reserve_tokens = 0;
};
std::unique_ptr<CostModel> make_cost_model(const ChipSpec& chip, const model::ModelConfig& config,
                                           const std::string& precision, const CostOptions& options);
// Bytes per KV element of a --kv-dtype name; xpusim::Error listing the accepted names.
double kv_dtype_bytes(const std::string& name);

// Whole-request figures for `batch` identical requests of prompt_len tokens generating gen_len tokens each:
// one prefill step of the whole batch, then gen_len - 1 decode steps (the first token comes from prefill).
struct RunShape {
  int64_t batch = 1;
  int64_t prompt_len = 128;
  int64_t gen_len = 128;
};

struct RunEstimate {
  SystemPlan plan;
  RunShape shape;
  StepCost prefill;                // the prefill step
  StepCost decode;                 // all decode steps summed (ops merged by position in the step)
  double ttft_s = 0;               // prefill time
  double tpot_s = 0;               // mean decode step time
  double tokens_per_s = 0;         // generated tokens (batch x gen_len) / (prefill + decode time)
  double decode_tokens_per_s = 0;  // batch / tpot
  double energy_per_token_j = 0;   // (prefill + decode energy) / generated tokens
  EnergySplit energy_per_token;    // the same, split
  double tokens_per_joule = 0;
  double utilization = 0;                // achieved FLOP/s over peak_flops, over the whole run
  Bound dominant_bound = Bound::MEMORY;  // by time over the whole run
};

// Runs the steps of `shape` through `model`. Decode steps may be sampled (every step for gen_len <= 256, else
// a fixed number of evenly spaced steps with the time integrated between them); the result says nothing else.
RunEstimate estimate_run(CostModel& model, const RunShape& shape);

}  // namespace xpusim::chips
