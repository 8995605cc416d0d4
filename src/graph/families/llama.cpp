// Llama 3.x, SmolLM2 and Mixtral: pre-RMSNorm blocks, RoPE (rotate_half, optional llama3 scaling), GQA,
// SwiGLU MLP (Mixtral: top-2 MoE of SwiGLU experts).
// x += o(attn(rms_in(x))); x += down(silu(gate(h)) * up(h)) with h = rms_post(x)   (models.md §3.2, §3.3,
// §4.2)
#include "graph/families/blocks.h"

namespace xpusim::graph {

void build_llama(BlockBuilder& b) {
  TensorId x = b.embed();
  for (int layer = 0; layer < b.config().n_layers; ++layer) {
    std::string prefix = "blk." + std::to_string(layer) + ".";
    x = b.add(x, b.attention(b.norm(x, prefix + "attn_norm", layer), layer), prefix + "attn_residual", layer);
    x = b.add(x, b.mlp(b.norm(x, prefix + "ffn_norm", layer), layer), prefix + "ffn_residual", layer);
  }
  b.finish(x);
}

}  // namespace xpusim::graph
