// Qwen3 and Qwen3-MoE: the Llama block plus per-head RMSNorm of q and k after projection, before RoPE
// (config.qk_norm; emitted by BlockBuilder::attention). Qwen3-MoE replaces every MLP with a softmax-top-k MoE
// (norm_topk_prob renormalises the k weights).   (models.md §3.4, §4.1)
#include "graph/families/blocks.h"

namespace xpusim::graph {

void build_qwen3(BlockBuilder& b) {
  TensorId x = b.embed();
  for (int layer = 0; layer < b.config().n_layers; ++layer) {
    std::string prefix = "blk." + std::to_string(layer) + ".";
    x = b.add(x, b.attention(b.norm(x, prefix + "attn_norm", layer), layer), prefix + "attn_residual", layer);
    x = b.add(x, b.mlp(b.norm(x, prefix + "ffn_norm", layer), layer), prefix + "ffn_residual", layer);
  }
  b.finish(x);
}

}  // namespace xpusim::graph
