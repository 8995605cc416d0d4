// compiler::PolicyExecutor: the host reference of the engine's numerics policy for whole models. It computes
// a decoder step the way the compiled program does on the engine — bf16 storage after every instruction,
// bf19 multiply inputs, sequential bf20-style accumulation (engine_numerics.h), weights quantized by the
// engine's quantizer and decoded by its decoder, the same rounding points in norms (reduce, scale, gamma),
// RoPE (six element-wise ops), flash attention (64-key blocks aligned to absolute positions, online softmax
// with bf16 correction factors, O = O*corr + P V) and the fused epilogues — but written as plain loops over
// the model's tensors, independent of tiles, strips, SRAM addresses and instruction order. Its logits must
// equal the engine simulator's bit for bit (tests/compiler/policy_test.cpp).
// Speed: the matrix work runs on the engine's fast kernels (engine/simd_mm.h: the same bit-exact
// accumulation order, vectorized across outputs) on weights kept packed in the engine's format, so this is
// also the yardstick of functional-simulation speed (bench/engine_model_bench.cpp).
// It runs the model's step graph (graph/builder.h) fused as the engine fuses it (graph/passes/fuse.h): one
// policy kernel per op kind, epilogues on the fused linear's output before the next rounding point.
// Non-goals: MoE, threads.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "engine/chip_config.h"
#include "engine/isa.h"
#include "engine/simd_mm.h"
#include "graph/graph.h"
#include "graph/passes/fuse.h"
#include "graph/passes/readers.h"
#include "model/config.h"
#include "model/weights.h"

namespace xpusim::compiler {

class PolicyExecutor {
 public:
  PolicyExecutor(const engine::ChipConfig& chip, const model::ModelConfig& config,
                 const model::Weights& weights, engine::WeightFormat format, int64_t kv_capacity);
  // Last token's logits (bf16 values) after running `tokens` at position() ...
  std::vector<float> forward(std::span<const int32_t> tokens);
  int64_t position() const { return m_position; }

 private:
  struct Matrix {  // the weight as the engine stores it: packed [rows][cols] codes and their scales
    int64_t rows = 0, cols = 0;
    std::vector<uint8_t> codes, scales;
    engine::simd::InterleavedWeights interleaved;  // the same weights laid out for the fast decode
  };
  struct RopeTables {
    std::vector<float> cos, sin;  // [capacity, d / 2] bf16 values
  };
  using Values = std::vector<std::vector<float>>;  // per graph tensor: its rows (bf16 values)
  const Matrix& matrix(const std::string& name);
  const std::vector<float>& vec(const std::string& name, bool plus_one);
  const RopeTables& rope_tables(const model::RopeConfig& rope);
  float round(float value) const;  // to a bf16 value with the output rounding
  std::vector<float> linear_out(const std::vector<float>& x, int64_t rows, const std::string& weight,
                                const std::string& bias, engine::ActivationPreset act, float scale = 1.0f);
  // The graph's fused groups (graph/passes/fuse.h), each computed the way the engine lowers it.
  void run_group(const graph::Graph& g, const graph::UseLists& uses, const graph::FusedGroup& group,
                 std::span<const int32_t> tokens, Values& values);
  std::vector<float> run_linear(const graph::Graph& g, const graph::UseLists& uses,
                                const graph::FusedLinear& f, const std::vector<float>& x, int64_t rows,
                                const Values& values);
  void norm(std::vector<float>& x, const graph::Graph& g, const graph::Op& op);
  void rope(std::vector<float>& x, int64_t rows, const graph::OpAttrs& attrs);
  void softcap(std::vector<float>& x, double cap);
  void kv_store(const std::vector<float>& x, int64_t rows, int32_t layer, bool values);
  std::vector<float> attention(const std::vector<float>& q, int64_t rows, const graph::Op& op);

  engine::NumericsPolicy m_policy;
  model::ModelConfig m_config;
  const model::Weights& m_weights;
  engine::WeightFormat m_format;
  int64_t m_capacity;
  int64_t m_position = 0;
  std::map<std::string, Matrix> m_matrices;
  std::map<std::string, std::vector<float>> m_vectors;
  // Per layer, bf16 bits: K as [capacity][kv_heads * d], V transposed as [kv_heads * d][capacity], so both
  // products of attention run on the mm kernels (keys, resp. output dims, are the weight rows).
  std::vector<std::vector<uint16_t>> m_k, m_vt;
  std::map<std::pair<double, int>, RopeTables> m_rope;  // by (base, scaling kind)
};

}  // namespace xpusim::compiler
