// GPT-2: pre-LayerNorm blocks, learned positions, biases everywhere, fc -> gelu_new -> proj MLP, tied LM
// head. x += attn(ln_1(x)); x += mlp(ln_2(x)); logits = ln_f(x) wte^T   (models.md §3.1)
#include "graph/families/blocks.h"

namespace xpusim::graph {

void build_gpt2(BlockBuilder& b) {
  TensorId x = b.embed();
  for (int layer = 0; layer < b.config().n_layers; ++layer) {
    std::string prefix = "blk." + std::to_string(layer) + ".";
    x = b.add(x, b.attention(b.norm(x, prefix + "attn_norm", layer), layer), prefix + "attn_residual", layer);
    x = b.add(x, b.mlp(b.norm(x, prefix + "ffn_norm", layer), layer), prefix + "ffn_residual", layer);
  }
  b.finish(x);
}

}  // namespace xpusim::graph
