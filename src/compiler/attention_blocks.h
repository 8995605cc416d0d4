// One key block of flash attention (S = Q K^T * scale, soft-cap, masks, online softmax, O = O * corr + P V)
// shared by the shape-specialised key loop (positions known at compile time, lower_attention.cpp) and the
// run-time loop of generic programs (`loop` over a register count; K/V addresses, buffer slot and mask
// column windows in registers). Internal to src/compiler.
// Non-goals: query tiling and the final 1/sum scaling (lower_attention.cpp).
// HOWTO add a per-block score transform: add it to emit_key_block before the masks, in both modes at once.
#pragma once

#include <cstdint>
#include <optional>

#include "compiler/lowering.h"

namespace xpusim::compiler {

// SRAM tiles of one attention op.
struct AttentionTiles {
  uint64_t qbuf = 0, s = 0, p = 0, corr = 0, o = 0, pv = 0, vt = 0;
  uint64_t kbuf0 = 0, kbuf1 = 0, v_delta = 0;  // K buffers; a V buffer sits v_delta bytes after its K buffer
  int64_t head_dim = 0;
  double scale = 1.0, softcap = 0.0;  // the ATTENTION op's score multiplier and logit cap (0: none)
};

// The query tile the blocks are computed for: `tq` query rows per head, `group` heads (rows = tq * group).
struct QueryTile {
  int64_t tq = 1, group = 1;
  int64_t rows() const { return tq * group; }
};

struct KeyBlock {
  Loc k, v;                           // SRAM K / V block buffers
  int64_t n = 0;                      // keys in the block
  std::optional<Loc> causal, window;  // column windows of the mask bands, when the block needs them
  bool first = false;                 // the first block of the tile: O = P V
};
void emit_key_block(Lowering& l, const AttentionTiles& t, const QueryTile& q, const KeyBlock& b);

// Generic programs: every key block of one (kv head, query tile) at the run-time position
// (kPositionRegister + t0): block count, K/V addresses, slot and mask windows computed in registers.
void emit_runtime_key_blocks(Lowering& l, const AttentionTiles& t, const QueryTile& q, uint64_t kcache,
                             uint64_t vcache, int64_t t0, int64_t window);

}  // namespace xpusim::compiler
