#include "compiler/weight_image.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "engine/block_formats.h"
#include "exec/kernels.h"
#include "model/rope.h"
#include "numerics/float_bits.h"

namespace xpusim::compiler {

namespace bits = numerics::bits;

namespace {

void write_rope(engine::DramImage& dram, uint64_t cos_at, uint64_t sin_at, const model::RopeConfig& rope,
                int64_t head_dim, int64_t rows) {
  const std::vector<float> inv_freq = model::rope_inverse_frequencies(rope, head_dim);
  const int64_t half = head_dim / 2;
  std::vector<uint16_t> cos_row(static_cast<size_t>(half)), sin_row(static_cast<size_t>(half));
  for (int64_t p = 0; p < rows; ++p) {
    for (int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p) * inv_freq[static_cast<size_t>(i)];
      cos_row[static_cast<size_t>(i)] = bits::f32_to_bf16(std::cos(angle));
      sin_row[static_cast<size_t>(i)] = bits::f32_to_bf16(std::sin(angle));
    }
    dram.write(cos_at + static_cast<uint64_t>(p * half * 2), cos_row.data(), static_cast<size_t>(half * 2));
    dram.write(sin_at + static_cast<uint64_t>(p * half * 2), sin_row.data(), static_cast<size_t>(half * 2));
  }
}

void write_masks(const DramPlan& plan, engine::DramImage& dram) {
  constexpr uint16_t kMinusInf = 0xFF80;
  std::vector<uint16_t> upper(kMaskRows * kMaskWidth), lower(kMaskRows * kMaskWidth);
  for (int64_t i = 0; i < kMaskRows; ++i)
    for (int64_t c = 0; c < kMaskWidth; ++c) {
      const auto at = static_cast<size_t>(i * kMaskWidth + c);
      upper[at] = c <= i + kAttnBlock ? 0 : kMinusInf;
      lower[at] = c >= i + kAttnBlock ? 0 : kMinusInf;
    }
  dram.write(plan.mask_upper, upper.data(), upper.size() * 2);
  dram.write(plan.mask_lower, lower.data(), lower.size() * 2);
}

void write_weight(const WeightSlot& slot, const model::TensorView& view, engine::DramImage& dram) {
  const std::vector<int64_t> expected = slot.rows == 1 && view.shape.size() == 1
                                            ? std::vector<int64_t>{slot.cols}
                                            : std::vector<int64_t>{slot.rows, slot.cols};
  if (view.shape != expected)
    fail("engine compiler: tensor '{}' has {} dims / {} elements, the plan expects [{} x {}]", view.name,
         view.shape.size(), view.elements(), slot.rows, slot.cols);
  std::vector<float> scratch(static_cast<size_t>(slot.cols));
  std::vector<uint16_t> row_bf16(static_cast<size_t>(slot.cols));
  std::vector<uint8_t> codes(slot.code_row_bytes), scales(slot.scale_row_bytes);
  const engine::BlockFormatInfo& info = engine::block_format_info(slot.format);
  if (slot.format != engine::WeightFormat::bf16 && !info.quantizable)
    fail(
        "engine compiler: the engine cannot produce {} weights for '{}' (its quantizer makes ue-* formats); "
        "choose bf16 or a ue-* precision",
        engine::weight_format_name(slot.format), view.name);
  for (int64_t r = 0; r < slot.rows; ++r) {
    const float* row = exec::weight_row(view, r, scratch.data());
    for (int64_t c = 0; c < slot.cols; ++c) {
      const float v = row[c] + (slot.plus_one ? 1.0f : 0.0f);
      row_bf16[static_cast<size_t>(c)] = bits::f32_to_bf16(v);
    }
    if (slot.format == engine::WeightFormat::bf16) {
      dram.write(slot.codes + static_cast<uint64_t>(r) * slot.code_row_bytes, row_bf16.data(),
                 slot.code_row_bytes);
      continue;
    }
    engine::quantize_row(slot.format, row_bf16.data(), static_cast<size_t>(slot.cols), codes.data(),
                         scales.data());
    dram.write(slot.codes + static_cast<uint64_t>(r) * slot.code_row_bytes, codes.data(), codes.size());
    dram.write(slot.scales + static_cast<uint64_t>(r) * slot.scale_row_bytes, scales.data(), scales.size());
  }
}

}  // namespace

void write_model_image(const DramPlan& plan, const model::Weights& weights, engine::DramImage& dram) {
  for (const auto& [name, slot] : plan.weights) write_weight(slot, weights.get(name), dram);
  const model::ModelConfig& c = plan.config;
  if (c.rope.enabled) {
    write_rope(dram, plan.rope_cos, plan.rope_sin, c.rope, c.head_dim, plan.shape.kv_capacity);
    if (plan.rope_cos_local != plan.rope_cos) {
      model::RopeConfig local = c.rope;
      local.theta = c.rope.theta_local;
      local.scaling = model::RopeScaling::NONE;
      write_rope(dram, plan.rope_cos_local, plan.rope_sin_local, local, c.head_dim, plan.shape.kv_capacity);
    }
  }
  write_masks(plan, dram);
}

std::vector<uint16_t> embed_rows(const model::ModelConfig& c, const model::Weights& weights,
                                 engine::WeightFormat format, const engine::NumericsPolicy& policy,
                                 std::span<const int32_t> tokens, int64_t first_position) {
  const model::TensorView& table = weights.get("token_embd.weight", {c.vocab_size, c.hidden});
  const model::TensorView* positions =
      c.learned_positions ? &weights.get("position_embd.weight", {c.max_positions, c.hidden}) : nullptr;
  const auto cols = static_cast<size_t>(c.hidden);
  std::vector<float> scratch(cols), decoded(cols), tok(cols), pos(cols);
  std::vector<uint16_t> row16(cols);
  std::vector<uint8_t> codes(engine::packed_bytes(format, 1, cols)),
      scales(engine::scale_bytes(format, 1, cols));
  // A table row as stored in the plan (write_weight) and read back by dma (bf16) or dequant (packed).
  auto stored_row = [&](const model::TensorView& view, int64_t r, std::vector<float>& out) {
    const float* row = exec::weight_row(view, r, scratch.data());
    for (size_t i = 0; i < cols; ++i) row16[i] = bits::f32_to_bf16(row[i]);
    if (format == engine::WeightFormat::bf16) {
      for (size_t i = 0; i < cols; ++i) out[i] = bits::bf16_to_f32(row16[i]);
      return;
    }
    engine::quantize_row(format, row16.data(), cols, codes.data(), scales.data());
    engine::decode_row(format, codes.data(), scales.data(), nullptr, cols, decoded.data());
    for (size_t i = 0; i < cols; ++i) out[i] = bits::bf16_to_f32(engine::output_bf16(decoded[i], policy));
  };
  const float scale = bits::bf16_to_f32(bits::f32_to_bf16(static_cast<float>(c.embed_scale)));
  std::vector<uint16_t> out(tokens.size() * cols);
  for (size_t t = 0; t < tokens.size(); ++t) {
    if (tokens[t] < 0 || tokens[t] >= c.vocab_size)
      fail("token id {} is outside the vocabulary of {} entries", tokens[t], c.vocab_size);
    stored_row(table, tokens[t], tok);
    const int64_t position = first_position + static_cast<int64_t>(t);
    if (positions != nullptr) {
      if (position >= c.max_positions)
        fail("position {} is beyond the {} learned positions of {}", position, c.max_positions, c.name);
      stored_row(*positions, position, pos);
      for (size_t i = 0; i < cols; ++i)
        tok[i] = bits::bf16_to_f32(engine::output_bf16(tok[i] + pos[i], policy));
    }
    for (size_t i = 0; i < cols; ++i) {
      const float v = c.embed_scale != 1.0 ? tok[i] * scale : tok[i];
      out[t * cols + i] = engine::output_bf16(v, policy);
    }
  }
  return out;
}

}  // namespace xpusim::compiler
