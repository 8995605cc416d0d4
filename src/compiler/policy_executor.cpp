#include "compiler/policy_executor.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "compiler/weight_image.h"
#include "core/error.h"
#include "engine/block_formats.h"
#include "engine/engine_numerics.h"
#include "engine/simd_mm.h"
#include "exec/kernels.h"
#include "graph/builder.h"
#include "graph/passes/readers.h"
#include "model/rope.h"
#include "numerics/float_bits.h"

namespace xpusim::compiler {

namespace bits = numerics::bits;
using engine::ActivationPreset;

namespace {
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();
constexpr int64_t kBlock = 64;  // attention key block (lower_attention.cpp)

void make_rope_tables(const model::RopeConfig& rope, int64_t d, int64_t rows, std::vector<float>& cos_t,
                      std::vector<float>& sin_t) {
  const std::vector<float> inv = model::rope_inverse_frequencies(rope, d);
  const int64_t half = d / 2;
  cos_t.resize(static_cast<size_t>(rows * half));
  sin_t.resize(static_cast<size_t>(rows * half));
  for (int64_t p = 0; p < rows; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p) * inv[static_cast<size_t>(i)];
      cos_t[static_cast<size_t>(p * half + i)] = bits::bf16_to_f32(bits::f32_to_bf16(std::cos(angle)));
      sin_t[static_cast<size_t>(p * half + i)] = bits::bf16_to_f32(bits::f32_to_bf16(std::sin(angle)));
    }
}

float bf(uint16_t b) { return bits::bf16_to_f32(b); }
}  // namespace

PolicyExecutor::PolicyExecutor(const engine::ChipConfig& chip, const model::ModelConfig& config,
                               const model::Weights& weights, engine::WeightFormat format,
                               int64_t kv_capacity)
    : m_policy(chip.numerics),
      m_config(config),
      m_weights(weights),
      m_format(format),
      m_capacity(kv_capacity) {
  if (config.is_moe()) fail("policy executor: MoE models are not supported");
  const size_t kv = static_cast<size_t>(kv_capacity * config.n_kv_heads * config.head_dim);
  m_k.assign(static_cast<size_t>(config.n_layers), std::vector<uint16_t>(kv));
  m_vt.assign(static_cast<size_t>(config.n_layers), std::vector<uint16_t>(kv));
}

const PolicyExecutor::RopeTables& PolicyExecutor::rope_tables(const model::RopeConfig& rope) {
  const std::pair<double, int> key{rope.theta, static_cast<int>(rope.scaling)};
  auto it = m_rope.find(key);
  if (it != m_rope.end()) return it->second;
  RopeTables tables;
  make_rope_tables(rope, m_config.head_dim, m_capacity, tables.cos, tables.sin);
  return m_rope.emplace(key, std::move(tables)).first->second;
}

float PolicyExecutor::round(float value) const { return bf(engine::output_bf16(value, m_policy)); }

const PolicyExecutor::Matrix& PolicyExecutor::matrix(const std::string& name) {
  auto it = m_matrices.find(name);
  if (it != m_matrices.end()) return it->second;
  const model::TensorView& view = m_weights.get(name);
  Matrix m;
  m.rows = view.shape.front(), m.cols = view.shape.back();
  const auto rows = static_cast<size_t>(m.rows), cols = static_cast<size_t>(m.cols);
  const size_t code_row = engine::packed_bytes(m_format, 1, cols),
               scale_row = engine::scale_bytes(m_format, 1, cols);
  m.codes.resize(rows * code_row);
  m.scales.resize(rows * scale_row);
  std::vector<float> scratch(cols);
  std::vector<uint16_t> row16(cols);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = exec::weight_row(view, static_cast<int64_t>(r), scratch.data());
    for (size_t c = 0; c < cols; ++c) row16[c] = bits::f32_to_bf16(row[c]);
    if (m_format == engine::WeightFormat::bf16)
      std::memcpy(m.codes.data() + r * code_row, row16.data(), code_row);
    else
      engine::quantize_row(m_format, row16.data(), cols, m.codes.data() + r * code_row,
                           m.scales.data() + r * scale_row);
  }
  m.interleaved = engine::simd::InterleavedWeights::from(
      engine::simd::WeightStrip::make(m_format, m.codes.data(), m.scales.data(), cols), rows, cols);
  if (!m.interleaved.bytes.empty()) m.codes = {}, m.scales = {};  // only one copy stays
  return m_matrices.emplace(name, std::move(m)).first->second;
}

const std::vector<float>& PolicyExecutor::vec(const std::string& name, bool plus_one) {
  auto it = m_vectors.find(name);
  if (it != m_vectors.end()) return it->second;
  const model::TensorView& view = m_weights.get(name);
  std::vector<float> scratch(static_cast<size_t>(view.elements())), out(scratch.size());
  const float* row = exec::weight_row(view, 0, scratch.data());
  for (size_t i = 0; i < out.size(); ++i) out[i] = bf(bits::f32_to_bf16(row[i] + (plus_one ? 1.0f : 0.0f)));
  return m_vectors.emplace(name, std::move(out)).first->second;
}

std::vector<float> PolicyExecutor::linear_out(const std::vector<float>& x, int64_t rows,
                                              const std::string& weight, const std::string& bias,
                                              ActivationPreset act, float scale) {
  const Matrix& w = matrix(weight);
  const std::vector<float>* b = bias.empty() ? nullptr : &vec(bias, false);
  std::vector<float> y(static_cast<size_t>(rows * w.rows));
  const float act_a = bf(act.a), act_b = bf(act.b);
  const auto n = static_cast<size_t>(w.rows), k = static_cast<size_t>(w.cols);
  std::vector<float> a(x.size()), acc(static_cast<size_t>(rows) * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = engine::to_bf19(x[i]);
  const engine::simd::WeightStrip strip = engine::simd::WeightStrip::make(
      m_format, w.codes.data(), m_format == engine::WeightFormat::bf16 ? nullptr : w.scales.data(), k);
  const engine::simd::AccRounding rounding = engine::simd::AccRounding::from(m_policy);
  if (!w.interleaved.bytes.empty())
    engine::simd::mm_accumulate(engine::simd::mm_kernels(), w.interleaved, a.data(),
                                static_cast<size_t>(rows), rounding, acc.data());
  else
    engine::simd::mm_accumulate(engine::simd::mm_kernels(), strip, a.data(), static_cast<size_t>(rows), n, k,
                                rounding, acc.data());
  for (size_t i = 0; i < acc.size(); ++i) {
    float v = acc[i];
    if (b) v = v + (*b)[i % n];
    v = v * scale;
    v = engine::apply_activation(act.act, v, act_a, act_b);
    y[i] = round(v);
  }
  return y;
}

void PolicyExecutor::norm(std::vector<float>& x, const graph::Graph& g, const graph::Op& op) {
  const bool layer_norm = op.kind == graph::OpKind::LAYER_NORM;
  const std::vector<float>& gamma = vec(g.tensors[static_cast<size_t>(op.inputs[1])].name, op.attrs.plus_one);
  const std::vector<float>* beta =
      layer_norm ? &vec(g.tensors[static_cast<size_t>(op.inputs[2])].name, false) : nullptr;
  const float eps = bf(bits::f32_to_bf16(static_cast<float>(op.attrs.eps)));
  const int64_t cols = g.tensors[static_cast<size_t>(op.output)].shape.back();
  const int64_t rows = static_cast<int64_t>(x.size()) / cols;
  const auto n = static_cast<float>(cols);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x.data() + r * cols;
    if (layer_norm) {
      float sum = 0;
      for (int64_t j = 0; j < cols; ++j) sum = engine::accumulate_round(sum + row[j], m_policy);
      const float mean = round(sum / n);
      for (int64_t j = 0; j < cols; ++j) row[j] = round(row[j] - mean);
    }
    float sum_sq = 0;
    for (int64_t j = 0; j < cols; ++j) sum_sq = engine::accumulate_round(sum_sq + row[j] * row[j], m_policy);
    const float inv = round(1.0f / std::sqrt(sum_sq / n + eps));
    for (int64_t j = 0; j < cols; ++j) {
      row[j] = round(round(row[j] * inv) * gamma[static_cast<size_t>(j)]);
      if (beta) row[j] = round(row[j] + (*beta)[static_cast<size_t>(j)]);
    }
  }
}

void PolicyExecutor::rope(std::vector<float>& x, int64_t rows, const graph::OpAttrs& attrs) {
  const RopeTables& tables = rope_tables(attrs.rope);
  const int64_t d = attrs.head_dim, half = d / 2, heads = attrs.n_heads;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < half; ++i) {
        float& x1 = x[static_cast<size_t>((r * heads + h) * d + i)];
        float& x2 = x[static_cast<size_t>((r * heads + h) * d + half + i)];
        const auto at = static_cast<size_t>((m_position + r) * half + i);
        const float ta = round(x1 * tables.sin[at]), tb = round(x2 * tables.sin[at]);
        x1 = round(round(x1 * tables.cos[at]) - tb);
        x2 = round(round(x2 * tables.cos[at]) + ta);
      }
}

void PolicyExecutor::softcap(std::vector<float>& x, double cap) {
  const float inv = bf(bits::f32_to_bf16(static_cast<float>(1.0 / cap)));
  const float c = bf(bits::f32_to_bf16(static_cast<float>(cap)));
  for (float& v : x)
    v = round(round(engine::apply_activation(engine::Activation::tanh, round(v * inv), bf(engine::kTanh.a),
                                             bf(engine::kTanh.b))) *
              c);
}

std::vector<float> PolicyExecutor::attention(const std::vector<float>& q, int64_t rows, const graph::Op& op) {
  const graph::OpAttrs& a = op.attrs;
  const int32_t layer = op.layer;
  const int64_t d = a.head_dim, n_heads = a.n_heads, group = n_heads / a.n_kv_heads,
                kv_width = a.n_kv_heads * d;
  const int64_t window = a.window;
  const float scale = bf(bits::f32_to_bf16(static_cast<float>(a.scale)));
  const std::vector<uint16_t>& K = m_k[static_cast<size_t>(layer)];
  const std::vector<uint16_t>& Vt = m_vt[static_cast<size_t>(layer)];
  const engine::simd::MmKernels& kernels = engine::simd::mm_kernels();
  const engine::simd::AccRounding rounding = engine::simd::AccRounding::from(m_policy);
  std::vector<float> out(q.size());
  std::vector<float> s(kBlock), p(kBlock), o(static_cast<size_t>(d)), pv(static_cast<size_t>(d));
  std::vector<float> qa(static_cast<size_t>(d)), acc(static_cast<size_t>(std::max(kBlock, d)));
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t h = 0; h < n_heads; ++h) {
      const int64_t pos = m_position + t, g = h / group;
      const float* qr = q.data() + (t * n_heads + h) * d;
      for (int64_t k = 0; k < d; ++k) qa[static_cast<size_t>(k)] = engine::to_bf19(qr[k]);
      float run_max = kMinusInf, run_sum = 0;
      bool first = true;
      const int64_t lo = window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0;
      for (int64_t kb = lo / kBlock * kBlock; kb <= pos; kb += kBlock) {
        const int64_t n = std::min(kBlock, pos + 1 - kb);
        // Scores: the keys kb .. kb+n-1 of this KV head are the weight rows.
        engine::simd::WeightStrip keys;
        keys.codes = reinterpret_cast<const uint8_t*>(K.data() + kb * kv_width + g * d);
        keys.code_row_bytes = static_cast<size_t>(kv_width) * 2;
        engine::simd::mm_accumulate(kernels, keys, qa.data(), 1, static_cast<size_t>(n),
                                    static_cast<size_t>(d), rounding, acc.data());
        float row_max = kMinusInf;
        for (int64_t j = 0; j < n; ++j) {
          float v = round(acc[static_cast<size_t>(j)] * scale);
          if (a.softcap > 0) {
            std::vector<float> one{v};
            softcap(one, a.softcap);
            v = one[0];
          }
          if (kb + j < lo) v = kMinusInf;  // masked keys contribute exactly nothing (see header)
          s[static_cast<size_t>(j)] = v;
          row_max = std::fmax(row_max, v);
        }
        const float new_max = std::fmax(run_max, row_max);
        float sum = 0;
        for (int64_t j = 0; j < n; ++j) {
          const float shifted = new_max == kMinusInf ? kMinusInf : s[static_cast<size_t>(j)] - new_max;
          p[static_cast<size_t>(j)] = round(std::exp(shifted));
          sum = engine::accumulate_round(sum + p[static_cast<size_t>(j)], m_policy);
        }
        const float correction = run_max == kMinusInf ? 0.0f : std::exp(run_max - new_max);
        run_max = new_max;
        run_sum = engine::accumulate_round(run_sum * correction + sum, m_policy);
        const float corr = round(correction);
        // P V: the d output dims of this KV head are the weight rows of the transposed V (bf16 p values are
        // exact bf19 inputs).
        engine::simd::WeightStrip values;
        values.codes = reinterpret_cast<const uint8_t*>(Vt.data() + g * d * m_capacity + kb);
        values.code_row_bytes = static_cast<size_t>(m_capacity) * 2;
        engine::simd::mm_accumulate(kernels, values, p.data(), 1, static_cast<size_t>(d),
                                    static_cast<size_t>(n), rounding, acc.data());
        for (int64_t k = 0; k < d; ++k) pv[static_cast<size_t>(k)] = round(acc[static_cast<size_t>(k)]);
        for (int64_t k = 0; k < d; ++k) {
          auto& ok = o[static_cast<size_t>(k)];
          ok = first ? pv[static_cast<size_t>(k)] : round(round(ok * corr) + pv[static_cast<size_t>(k)]);
        }
        first = false;
      }
      const float recip = round(1.0f / run_sum);
      for (int64_t k = 0; k < d; ++k)
        out[static_cast<size_t>((t * n_heads + h) * d + k)] = round(o[static_cast<size_t>(k)] * recip);
    }
  return out;
}

void PolicyExecutor::kv_store(const std::vector<float>& x, int64_t rows, int32_t layer, bool values) {
  const int64_t kv_width = m_config.n_kv_heads * m_config.head_dim;
  std::vector<uint16_t>& cache = (values ? m_vt : m_k)[static_cast<size_t>(layer)];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < kv_width; ++i) {  // values are bf16 already: the conversion is exact
      const uint16_t b = bits::f32_to_bf16(x[static_cast<size_t>(r * kv_width + i)]);
      if (values)
        cache[static_cast<size_t>(i * m_capacity + m_position + r)] = b;
      else
        cache[static_cast<size_t>((m_position + r) * kv_width + i)] = b;
    }
}

std::vector<float> PolicyExecutor::run_linear(const graph::Graph& g, const graph::UseLists& uses,
                                              const graph::FusedLinear& f, const std::vector<float>& x,
                                              int64_t rows, const Values& values) {
  auto name = [&](graph::TensorId t) -> const std::string& { return g.tensors[static_cast<size_t>(t)].name; };
  auto bias = [&](const graph::Op& linear) { return linear.inputs.size() > 2 ? name(linear.inputs[2]) : ""; };
  const graph::Op& linear = g.ops[static_cast<size_t>(f.linear)];
  const ActivationPreset none{engine::Activation::none, 0, 0};
  ActivationPreset act = none;
  if (f.activation >= 0)
    act =
        g.ops[static_cast<size_t>(f.activation)].kind == graph::OpKind::SILU ? engine::kSilu : engine::kGelu;
  std::vector<float> y;
  graph::TensorId chain = linear.output;
  if (f.gate >= 0) {  // act(x Wg^T) * (x Wu^T + b), each rounded (the engine's gated strips)
    const graph::Op& gate = g.ops[static_cast<size_t>(f.gate)];
    const std::vector<float> gated = linear_out(x, rows, name(gate.inputs[1]), bias(gate), act);
    y = linear_out(x, rows, name(linear.inputs[1]), bias(linear), none);
    for (size_t i = 0; i < y.size(); ++i) y[i] = round(gated[i] * y[i]);
    chain = g.ops[static_cast<size_t>(f.gate_mul)].output;
  } else {
    y = linear_out(x, rows, name(linear.inputs[1]), bias(linear), act);
    if (f.activation >= 0) chain = g.ops[static_cast<size_t>(f.activation)].output;
  }
  for (int32_t index : f.epilogue) {
    const graph::Op& op = g.ops[static_cast<size_t>(index)];
    switch (op.kind) {
      case graph::OpKind::RESHAPE:  // rows are contiguous either way
        break;
      case graph::OpKind::RMS_NORM:
      case graph::OpKind::LAYER_NORM:
        norm(y, g, op);
        break;
      case graph::OpKind::ROPE:
        rope(y, rows, op.attrs);
        break;
      case graph::OpKind::KV_STORE: {
        bool is_values = false;  // V caches are the third input of the attention reading them
        for (int32_t r : uses.readers[static_cast<size_t>(op.output)])
          is_values = is_values || g.ops[static_cast<size_t>(r)].inputs[2] == op.output;
        kv_store(y, rows, op.layer, is_values);
        break;
      }
      case graph::OpKind::ADD: {
        const std::vector<float>& residual =
            values[static_cast<size_t>(op.inputs[0] == chain ? op.inputs[1] : op.inputs[0])];
        for (size_t i = 0; i < y.size(); ++i) y[i] = round(y[i] + residual[i]);
        break;
      }
      case graph::OpKind::SOFTCAP:
        softcap(y, op.attrs.softcap);
        break;
      default:
        fail("policy executor: '{}' ({}) on a linear's output has no policy kernel", name(op.output),
             graph::op_name(op.kind));
    }
    chain = op.output;
  }
  return y;
}

void PolicyExecutor::run_group(const graph::Graph& g, const graph::UseLists& uses,
                               const graph::FusedGroup& group, std::span<const int32_t> tokens,
                               Values& values) {
  auto at = [&](graph::TensorId t) -> std::vector<float>& { return values[static_cast<size_t>(t)]; };
  auto op = [&](int32_t index) -> const graph::Op& { return g.ops[static_cast<size_t>(index)]; };
  switch (group.kind) {
    case graph::GroupKind::EMBEDDING: {
      const std::vector<uint16_t> embedded =
          embed_rows(m_config, m_weights, m_format, m_policy, tokens, m_position);
      std::vector<float>& x = at(op(group.ops.back()).output);
      x.resize(embedded.size());
      for (size_t i = 0; i < x.size(); ++i) x[i] = bf(embedded[i]);
      return;
    }
    case graph::GroupKind::LINEARS: {
      const graph::TensorId input = group.slice >= 0      ? op(group.slice).inputs[0]
                                    : group.pre_norm >= 0 ? op(group.pre_norm).inputs[0]
                                                          : op(group.linears.front().linear).inputs[0];
      const int64_t width = g.tensors[static_cast<size_t>(input)].shape.back();
      std::vector<float> x = at(input);
      if (group.slice >= 0) {
        const graph::OpAttrs& slice = op(group.slice).attrs;
        x = std::vector<float>(x.begin() + slice.begin * width,
                               x.begin() + (slice.begin + slice.count) * width);
      }
      if (group.pre_norm >= 0) norm(x, g, op(group.pre_norm));
      const int64_t rows = static_cast<int64_t>(x.size()) / width;
      for (const graph::FusedLinear& f : group.linears) {
        std::vector<float> y = run_linear(g, uses, f, x, rows, values);
        if (g.tensors[static_cast<size_t>(f.output)].role != graph::TensorRole::KV_CACHE)
          at(f.output) = std::move(y);
      }
      return;
    }
    case graph::GroupKind::SINGLE:
      if (op(group.anchor).kind == graph::OpKind::ATTENTION) {
        const graph::Op& attn = op(group.anchor);
        at(attn.output) = attention(at(attn.inputs[0]), g.n_tokens, attn);
        return;
      }
      break;
    case graph::GroupKind::MOE:
      break;
  }
  fail("policy executor: op '{}' ({}) has no policy kernel outside a fused group",
       g.tensors[static_cast<size_t>(op(group.anchor).output)].name, graph::op_name(op(group.anchor).kind));
}

std::vector<float> PolicyExecutor::forward(std::span<const int32_t> tokens) {
  const auto rows = static_cast<int64_t>(tokens.size());
  if (rows < 1 || m_position + rows > m_capacity) fail("policy executor: bad step of {} tokens", rows);
  const graph::Graph g = graph::build_step(m_config, graph::StepShape{rows, m_position, m_capacity, false});
  const graph::UseLists uses = graph::use_lists(g);
  Values values(g.tensors.size());
  for (const graph::FusedGroup& group : graph::fuse_linear_epilogues(g).groups)
    run_group(g, uses, group, tokens, values);
  m_position += rows;
  return std::move(values[static_cast<size_t>(g.logits)]);
}

}  // namespace xpusim::compiler
