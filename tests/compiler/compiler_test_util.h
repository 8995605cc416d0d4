// Tiny model configs of every family for the compiler tests, and the logit correlation they check with
// (shapes small enough that compiling and simulating a step takes milliseconds, but with GQA, several KV
// blocks and every family flag exercised).
#pragma once

#include <cmath>
#include <vector>

#include "model/config.h"
#include "model/presets.h"

namespace xpusim::compiler::testing {

inline model::ModelConfig tiny_config(model::Family family) {
  model::ModelConfig c = model::family_defaults(family);
  c.name = std::string("tiny-") + model::family_name(family);
  c.vocab_size = 320;
  c.hidden = 128;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = family == model::Family::GPT2 ? 4 : 2;
  c.head_dim = 32;
  c.ffn_hidden = 256;
  c.max_positions = 512;
  if (family == model::Family::GEMMA3) {
    c.sliding_window = 48;
    c.layer_is_local = {true, false};
    c.rope.theta_local = 10000.0;
    c.rope.theta = 1000000.0;
  }
  if (family == model::Family::LLAMA) {
    c.rope.scaling = model::RopeScaling::LLAMA3;
    c.rope.factor = 8.0;
    c.rope.original_max_positions = 64;
  }
  return c;
}

// Pearson correlation of two logit vectors (engine numerics against the fp32 host).
inline double correlation(const std::vector<float>& a, const std::vector<float>& b) {
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= static_cast<double>(a.size()), mb /= static_cast<double>(b.size());
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

}  // namespace xpusim::compiler::testing
