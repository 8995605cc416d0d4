// Tiny model configs of every family for the compiler tests (shapes small enough that compiling and
// simulating a step takes milliseconds, but with GQA, several KV blocks and every family flag exercised).
#pragma once

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

}  // namespace xpusim::compiler::testing
