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
#include "model/rope.h"
#include "numerics/float_bits.h"

namespace xpusim::compiler {

namespace bits = numerics::bits;
using engine::ActivationPreset;

namespace {
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();
constexpr int64_t kBlock = 64;  // attention key block (lower_attention.cpp)

void rope_tables(const model::RopeConfig& rope, int64_t d, int64_t rows, std::vector<float>& cos_t,
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
  if (config.rope.enabled) {
    rope_tables(config.rope, config.head_dim, kv_capacity, m_cos, m_sin);
    m_cos_local = m_cos, m_sin_local = m_sin;
    if (config.rope.theta_local > 0 && !config.layer_is_local.empty()) {
      model::RopeConfig local = config.rope;
      local.theta = config.rope.theta_local;
      local.scaling = model::RopeScaling::NONE;
      rope_tables(local, config.head_dim, kv_capacity, m_cos_local, m_sin_local);
    }
  }
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

const std::vector<float>& PolicyExecutor::vec(const std::string& name) {
  auto it = m_vectors.find(name);
  if (it != m_vectors.end()) return it->second;
  const model::TensorView& view = m_weights.get(name);
  const bool plus_one =
      m_config.norm == model::NormKind::RMS_NORM_PLUS_ONE && name.find("norm.weight") != std::string::npos;
  std::vector<float> scratch(static_cast<size_t>(view.elements())), out(scratch.size());
  const float* row = exec::weight_row(view, 0, scratch.data());
  for (size_t i = 0; i < out.size(); ++i) out[i] = bf(bits::f32_to_bf16(row[i] + (plus_one ? 1.0f : 0.0f)));
  return m_vectors.emplace(name, std::move(out)).first->second;
}

std::vector<float> PolicyExecutor::linear(const std::vector<float>& x, int64_t rows,
                                          const std::string& weight, const std::string& bias,
                                          ActivationPreset act, float scale) {
  const Matrix& w = matrix(weight);
  const std::vector<float>* b = bias.empty() ? nullptr : &vec(bias);
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

void PolicyExecutor::norm(std::vector<float>& x, int64_t rows, int64_t cols, const std::string& name,
                          bool layer_norm) {
  const std::vector<float>& gamma = vec(name + ".weight");
  const std::vector<float>* beta = layer_norm ? &vec(name + ".bias") : nullptr;
  const float eps = bf(bits::f32_to_bf16(static_cast<float>(m_config.norm_eps)));
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

void PolicyExecutor::rope(std::vector<float>& x, int64_t rows, int64_t heads, int32_t layer) {
  const bool local = !m_config.layer_is_local.empty() && m_config.layer_is_local[static_cast<size_t>(layer)];
  const std::vector<float>& cos_t = local ? m_cos_local : m_cos;
  const std::vector<float>& sin_t = local ? m_sin_local : m_sin;
  const int64_t d = m_config.head_dim, half = d / 2;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < half; ++i) {
        float& x1 = x[static_cast<size_t>((r * heads + h) * d + i)];
        float& x2 = x[static_cast<size_t>((r * heads + h) * d + half + i)];
        const auto at = static_cast<size_t>((m_position + r) * half + i);
        const float ta = round(x1 * sin_t[at]), tb = round(x2 * sin_t[at]);
        x1 = round(round(x1 * cos_t[at]) - tb);
        x2 = round(round(x2 * cos_t[at]) + ta);
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

std::vector<float> PolicyExecutor::attention(const std::vector<float>& q, int64_t rows, int32_t layer) {
  const model::ModelConfig& c = m_config;
  const int64_t d = c.head_dim, group = c.n_heads / c.n_kv_heads, kv_width = c.n_kv_heads * d;
  const bool local = !c.layer_is_local.empty() && c.layer_is_local[static_cast<size_t>(layer)];
  const int64_t window = (c.layer_is_local.empty() || local) ? c.sliding_window : 0;
  const float scale = bf(bits::f32_to_bf16(static_cast<float>(c.effective_attn_scale())));
  const std::vector<uint16_t>& K = m_k[static_cast<size_t>(layer)];
  const std::vector<uint16_t>& Vt = m_vt[static_cast<size_t>(layer)];
  const engine::simd::MmKernels& kernels = engine::simd::mm_kernels();
  const engine::simd::AccRounding rounding = engine::simd::AccRounding::from(m_policy);
  std::vector<float> out(q.size());
  std::vector<float> s(kBlock), p(kBlock), o(static_cast<size_t>(d)), pv(static_cast<size_t>(d));
  std::vector<float> qa(static_cast<size_t>(d)), acc(static_cast<size_t>(std::max(kBlock, d)));
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t h = 0; h < c.n_heads; ++h) {
      const int64_t pos = m_position + t, g = h / group;
      const float* qr = q.data() + (t * c.n_heads + h) * d;
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
          if (c.attn_softcap > 0) {
            std::vector<float> one{v};
            softcap(one, c.attn_softcap);
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
        out[static_cast<size_t>((t * c.n_heads + h) * d + k)] = round(o[static_cast<size_t>(k)] * recip);
    }
  return out;
}

std::vector<float> PolicyExecutor::forward(std::span<const int32_t> tokens) {
  const model::ModelConfig& c = m_config;
  const auto rows = static_cast<int64_t>(tokens.size());
  if (rows < 1 || m_position + rows > m_capacity) fail("policy executor: bad step of {} tokens", rows);
  const std::vector<uint16_t> embedded = embed_rows(c, m_weights, m_format, m_policy, tokens, m_position);
  std::vector<float> x(embedded.size());
  for (size_t i = 0; i < x.size(); ++i) x[i] = bf(embedded[i]);
  const bool ln = c.norm == model::NormKind::LAYER_NORM, gemma = c.family == model::Family::GEMMA3;
  const ActivationPreset none{engine::Activation::none, 0, 0};
  ActivationPreset act = engine::kSilu;
  if (c.activation == model::Activation::GELU_TANH || c.activation == model::Activation::GELU_ERF)
    act = engine::kGelu;
  if (c.activation == model::Activation::RELU) act = engine::kRelu;
  const int64_t d = c.head_dim, kv_width = c.n_kv_heads * d;
  for (int32_t layer = 0; layer < c.n_layers; ++layer) {
    const std::string p = fmt::format("blk.{}.", layer);
    auto bias = [&](const char* n) { return c.attn_bias ? p + n + ".bias" : std::string(); };
    std::vector<float> h = x;
    norm(h, rows, c.hidden, p + "attn_norm", ln);
    std::vector<float> q = linear(h, rows, p + "attn_q.weight", bias("attn_q"), none);
    std::vector<float> k = linear(h, rows, p + "attn_k.weight", bias("attn_k"), none);
    std::vector<float> v = linear(h, rows, p + "attn_v.weight", bias("attn_v"), none);
    if (c.qk_norm) {
      norm(q, rows * c.n_heads, d, p + "attn_q_norm", false);
      norm(k, rows * c.n_kv_heads, d, p + "attn_k_norm", false);
    }
    if (c.rope.enabled) {
      rope(q, rows, c.n_heads, layer);
      rope(k, rows, c.n_kv_heads, layer);
    }
    std::vector<uint16_t>& k_cache = m_k[static_cast<size_t>(layer)];
    std::vector<uint16_t>& vt_cache = m_vt[static_cast<size_t>(layer)];
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < kv_width; ++i) {  // values are bf16 already: the conversion is exact
        const auto at = static_cast<size_t>(r * kv_width + i);
        k_cache[static_cast<size_t>((m_position + r) * kv_width + i)] = bits::f32_to_bf16(k[at]);
        vt_cache[static_cast<size_t>(i * m_capacity + m_position + r)] = bits::f32_to_bf16(v[at]);
      }
    std::vector<float> o =
        linear(attention(q, rows, layer), rows, p + "attn_output.weight", bias("attn_output"), none);
    if (gemma) norm(o, rows, c.hidden, p + "post_attention_norm", false);
    for (size_t i = 0; i < x.size(); ++i) x[i] = round(o[i] + x[i]);
    h = x;
    norm(h, rows, c.hidden, p + "ffn_norm", ln);
    std::vector<float> hidden;
    if (c.gated_mlp) {
      const std::vector<float> gate = linear(h, rows, p + "ffn_gate.weight", "", act);
      hidden = linear(h, rows, p + "ffn_up.weight", "", none);
      for (size_t i = 0; i < hidden.size(); ++i) hidden[i] = round(gate[i] * hidden[i]);
    } else {
      hidden = linear(h, rows, p + "ffn_up.weight", c.mlp_bias ? p + "ffn_up.bias" : "", act);
    }
    std::vector<float> down =
        linear(hidden, rows, p + "ffn_down.weight", c.mlp_bias ? p + "ffn_down.bias" : "", none);
    if (gemma) norm(down, rows, c.hidden, p + "post_ffw_norm", false);
    for (size_t i = 0; i < x.size(); ++i) x[i] = round(down[i] + x[i]);
  }
  std::vector<float> last(x.end() - c.hidden, x.end());
  norm(last, 1, c.hidden, "output_norm", ln);
  std::vector<float> logits =
      linear(last, 1, c.tied_embeddings ? "token_embd.weight" : "output.weight", "", none);
  if (c.final_softcap > 0) softcap(logits, c.final_softcap);
  m_position += rows;
  return logits;
}

}  // namespace xpusim::compiler
