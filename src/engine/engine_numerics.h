// The engine's arithmetic, defined once and shared by the simulator and by the host reference used in
// tests (engine.md §4). Policy (configurable per chip, [numerics] in chips/ue-*.toml):
//   * storage: bf16 in DRAM and SRAM;
//   * multiply inputs: "bf19" = fp32 truncated to 10 mantissa bits (bf16 inputs are exact in it; decoded
//     block-format weights are code x |scale| computed exactly in fp32, then truncated to bf19);
//   * products: exact in fp32 (11-bit x 11-bit mantissas), so fused or unfused multiply-add agree;
//   * accumulation ("bf20"): sequential over k in the order of the data, each partial sum = fp32 add (RNE)
//     then reduced to acc_mantissa_bits (default 11, truncation; configurable mode);
//   * epilogue (bias, scale, activation, softmax, reductions' final math) in fp32 with libm expf/logf/sqrtf;
//   * outputs: fp32 -> bf16 with the configured output rounding (default RNE).
// Non-goals: the bit layout of the hardware's 21-bit class-coded bf19 (values are identical).
// HOWTO add a rounding mode: extend Rounding, round_to_mantissa(), and the chip schema enum list.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

#include "engine/isa.h"
#include "numerics/float_bits.h"

namespace xpusim::engine {

enum class Rounding : uint8_t { rne, truncate };

struct NumericsPolicy {
  int acc_mantissa_bits = 11;  // 7..23
  Rounding acc_rounding = Rounding::truncate;
  Rounding output_rounding = Rounding::rne;
};

inline float bf16_value(uint16_t bits) { return numerics::bits::bf16_to_f32(bits); }

// Keep `mantissa_bits` of the fp32 mantissa. Inf stays Inf; NaN stays NaN (quiet bit is kept).
inline float round_to_mantissa(float value, int mantissa_bits, Rounding rounding) {
  const int drop = 23 - mantissa_bits;
  if (drop <= 0) return value;
  uint32_t u = std::bit_cast<uint32_t>(value);
  const uint32_t mask = ~((1u << drop) - 1u);
  if (rounding == Rounding::rne && (u & 0x7F800000u) != 0x7F800000u)
    u += ((1u << (drop - 1)) - 1u) + ((u >> drop) & 1u);
  return std::bit_cast<float>(u & mask);
}

inline float to_bf19(float value) { return round_to_mantissa(value, 10, Rounding::truncate); }

inline float accumulate_round(float value, const NumericsPolicy& policy) {
  return round_to_mantissa(value, policy.acc_mantissa_bits, policy.acc_rounding);
}

inline uint16_t output_bf16(float value, const NumericsPolicy& policy) {
  return policy.output_rounding == Rounding::rne ? numerics::bits::f32_to_bf16(value)
                                                 : numerics::bits::f32_to_bf16_truncate(value);
}

// The activation unit (LALU): act = (a + x)·sigmoid(−b·x), act_nox = a·sigmoid(−b·x),
// tanh = a·sigmoid(−b·x) − 1 (a=2, b=−2 gives tanh), clamp = max(a, min(x, b)), log = log(clamp(x)).
inline float apply_activation(Activation act, float x, float a, float b) {
  switch (act) {
    case Activation::none:
      return x;
    case Activation::act:
      return (a + x) / (1.0f + std::exp(b * x));
    case Activation::act_nox:
      return a / (1.0f + std::exp(b * x));
    case Activation::tanh:
      return a / (1.0f + std::exp(b * x)) - 1.0f;
    case Activation::clamp:
      return std::fmax(a, std::fmin(x, b));
    case Activation::recip:
      return 1.0f / x;
    case Activation::rsqrt:
      return 1.0f / std::sqrt(x);
    case Activation::log:
      return std::log(std::fmax(a, std::fmin(x, b)));
    case Activation::exp:
      return std::exp(x);
    case Activation::COUNT:
      break;
  }
  return x;
}

// Descriptor bf16 "scale" fields use 0x0000 to mean 1.0 (so the field can be omitted).
inline float scale_or_one(int64_t bits) { return bits == 0 ? 1.0f : bf16_value(static_cast<uint16_t>(bits)); }

// Preset activation parameters (engine.md §2.3), as bf16 bits.
struct ActivationPreset {
  Activation act;
  uint16_t a;
  uint16_t b;
};
inline constexpr ActivationPreset kGelu{Activation::act, 0x0000, 0xBFD9};  // x·σ(1.6953125x)
inline constexpr ActivationPreset kSilu{Activation::act, 0x0000, 0xBF80};  // x·σ(x)
inline constexpr ActivationPreset kSigmoid{Activation::act_nox, 0x3F80, 0xBF80};
inline constexpr ActivationPreset kTanh{Activation::tanh, 0x4000, 0xC000};   // 2·σ(2x) − 1
inline constexpr ActivationPreset kRelu{Activation::clamp, 0x0000, 0x7F80};  // max(0, min(x, +inf))

}  // namespace xpusim::engine
