// The pre-norm decoder block shared by GPT-2, Llama 3.x / SmolLM2 / Mixtral and Qwen3 / Qwen3-MoE:
//   x += attn(norm_attn(x)); x += mlp(norm_ffn(x)); logits = head(norm_out(x))
// What differs between these families is decided by the config inside BlockBuilder, not here:
// - GPT-2: LayerNorm, learned positions, biases, fc -> gelu_new -> proj MLP   (models.md §3.1)
// - Llama / SmolLM2: RMSNorm, RoPE rotate_half (optional llama3 scaling), GQA, SwiGLU   (§3.2, §3.3)
// - Mixtral: the Llama block with a top-2 MoE of SwiGLU experts   (§4.2)
// - Qwen3: per-head RMSNorm of q and k before RoPE (config.qk_norm); Qwen3-MoE: softmax-top-k MoE with
//   norm_topk_prob   (§3.4, §4.1)
#include "graph/families/blocks.h"

namespace xpusim::graph {

void build_pre_norm_decoder(BlockBuilder& b) {
  TensorId x = b.embed();
  for (int layer = 0; layer < b.config().n_layers; ++layer) {
    std::string prefix = "blk." + std::to_string(layer) + ".";
    x = b.add(x, b.attention(b.norm(x, prefix + "attn_norm", layer), layer), prefix + "attn_residual", layer);
    x = b.add(x, b.mlp(b.norm(x, prefix + "ffn_norm", layer), layer), prefix + "ffn_residual", layer);
  }
  b.finish(x);
}

}  // namespace xpusim::graph
