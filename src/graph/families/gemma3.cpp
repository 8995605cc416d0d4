// Gemma 3 (text): embedding * sqrt(hidden); four (1+w) RMSNorms per layer (the post-norms apply to the
// sub-block output before the residual add); per-head (1+w) q/k norms; local layers attend within a sliding
// window with their own RoPE base; GeGLU (gelu tanh) MLP.   (models.md §3.5) x +=
// post_attention_norm(attn(attn_norm(x))); x += post_ffw_norm(mlp(ffn_norm(x)))
#include "graph/families/blocks.h"

namespace xpusim::graph {

void build_gemma3(BlockBuilder& b) {
  TensorId x = b.embed();
  for (int layer = 0; layer < b.config().n_layers; ++layer) {
    std::string prefix = "blk." + std::to_string(layer) + ".";
    TensorId attn = b.attention(b.norm(x, prefix + "attn_norm", layer), layer);
    x = b.add(x, b.norm(attn, prefix + "post_attention_norm", layer), prefix + "attn_residual", layer);
    TensorId mlp = b.mlp(b.norm(x, prefix + "ffn_norm", layer), layer);
    x = b.add(x, b.norm(mlp, prefix + "post_ffw_norm", layer), prefix + "ffn_residual", layer);
  }
  b.finish(x);
}

}  // namespace xpusim::graph
