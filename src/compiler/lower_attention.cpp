// Flash attention per (sequence, kv head, query tile): the query rows of every head of the GQA group are
// stacked into one tile (head-major: rows j * tq + t), so each K/V block is read from the cache once per
// group and never duplicated. Per key block: S = Q K^T * scale (mm), masks, online softmax into the softmax
// contexts (running max / sum, correction factor per row), O = O * corr + P V (V transposed on chip). The
// score matrix lives only in SRAM. Masks: the causal mask of a block is a column window of the constant band
// U[i][c] = (c <= i + 64 ? 0 : -inf); the sliding-window lower edge uses L[i][c] = (c >= i + 64 ? 0 : -inf);
// the window start is (64 - key offset), so one band serves every block, position and window. Generic
// programs (l.dynamic) run the key blocks as a `loop` over a register count instead (attention_blocks.cpp).
#include <algorithm>

#include "compiler/attention_blocks.h"
#include "compiler/lowering.h"
#include "core/error.h"

namespace xpusim::compiler {

using engine::Broadcast;
using engine::ContextMode;
using engine::Opcode;
using engine::SoftmaxMode;
using engine::VectorArgs;

namespace {

// The key blocks of one query tile at compile-time positions pos0 .. last: K/V blocks double-buffered,
// causal and sliding-window masks where a block needs them.
void emit_static_key_blocks(Lowering& l, const AttentionTiles& tiles, const QueryTile& tile,
                            std::pair<uint64_t, uint64_t> caches, int64_t pos0, int64_t last,
                            int64_t window) {
  Emitter& e = l.emit;
  const int64_t d = tiles.head_dim;
  const auto bd = static_cast<uint64_t>(d * 2);
  const uint64_t kbuf[2] = {tiles.kbuf0, tiles.kbuf1};
  const int64_t lo = window > 0 ? std::max<int64_t>(0, pos0 - window + 1) : 0;
  const int64_t kb0 = lo / kAttnBlock * kAttnBlock;
  for (int64_t kb = kb0; kb <= last; kb += kAttnBlock) {
    const int64_t n = std::min(kAttnBlock, last + 1 - kb);
    const int slot = static_cast<int>(l.kv_slot++ % 2);
    const uint64_t vbuf = kbuf[slot] + tiles.v_delta;
    e.dma_load(caches.first + static_cast<uint64_t>(kb) * bd, kbuf[slot], n, d * 2);
    e.dma_load(caches.second + static_cast<uint64_t>(kb) * bd, vbuf, n, d * 2);
    KeyBlock b{.k = kbuf[slot], .v = vbuf, .n = n, .first = kb == kb0};
    // Causal: some key of the block lies after the first query's position.
    if (kb + n - 1 > pos0)
      b.causal = l.sram.mask_upper + static_cast<uint64_t>((kAttnBlock - (pos0 - kb)) * 2);
    // Sliding window: some key of the block lies before the last query's window.
    if (window > 0 && kb < last - window + 1)
      b.window = l.sram.mask_lower + static_cast<uint64_t>((kAttnBlock - (pos0 - window + 1 - kb)) * 2);
    emit_key_block(l, tiles, tile, b);
  }
}

}  // namespace

void lower_attention(Lowering& l, const graph::Op& op) {
  Emitter& e = l.emit;
  const graph::OpAttrs& a = op.attrs;
  const int32_t layer = op.layer;
  const int64_t d = a.head_dim, group = a.n_heads / a.n_kv_heads, q_width = a.n_heads * d;
  const int64_t max_rows = std::min<int64_t>(kMaskRows, l.chip.softmax_contexts);
  if (group > max_rows)
    fail("engine compiler: layer {}: {} query heads per kv head exceed the {} softmax contexts of chip {}",
         layer, group, max_rows, l.chip.name);
  const int64_t window = a.window;
  const auto bd = static_cast<uint64_t>(d * 2);
  const std::string label = fmt::format("blk.{}.attn", layer);
  e.begin_group("attention", label, layer);

  SramArena arena(l.sram.workspace, l.sram.end);
  const uint64_t qbuf = arena.take(static_cast<uint64_t>(max_rows) * bd);
  uint64_t kbuf[2], vbuf[2];
  for (int i = 0; i < 2; ++i) {
    kbuf[i] = arena.take(kAttnBlock * bd);
    vbuf[i] = arena.take(kAttnBlock * bd);
  }
  const uint64_t vt = arena.take(kAttnBlock * bd);
  const uint64_t s = arena.take(static_cast<uint64_t>(max_rows * kAttnBlock * 2));
  const uint64_t p = arena.take(static_cast<uint64_t>(max_rows * kAttnBlock * 2));
  const uint64_t corr = arena.take(static_cast<uint64_t>(max_rows * 2));
  const uint64_t o = arena.take(static_cast<uint64_t>(max_rows) * bd);
  const uint64_t pv = arena.take(static_cast<uint64_t>(max_rows) * bd);
  const uint64_t recip = arena.take(static_cast<uint64_t>(max_rows * 2));
  if (arena.overflowed())
    fail("engine compiler: layer {}: attention tiles for head_dim {} do not fit the SRAM of chip {}", layer,
         d, l.chip.name);

  for (size_t seq = 0; seq < l.step.sequences.size(); ++seq) {
    const SequenceStep& sq = l.step.sequences[seq];
    const int64_t tq_max = std::max<int64_t>(1, std::min(sq.new_tokens, max_rows / group));
    // This engine's query heads (tensor_parallel.h): whole GQA groups, or part of one when engines
    // outnumber kv heads; the query tiling stays the single-engine one, so every row is computed alike.
    const IndexRange qh = shard_q_heads(l);
    for (int64_t g = qh.begin / group; !qh.empty() && g * group < qh.end; ++g) {
      const int64_t j0 = std::max(qh.begin, g * group) - g * group;
      const int64_t heads = std::min(qh.end, (g + 1) * group) - g * group - j0;
      const uint64_t kcache = l.plan.kv_k(static_cast<int64_t>(seq), layer, g);
      const uint64_t vcache = l.plan.kv_v(static_cast<int64_t>(seq), layer, g);
      for (int64_t t0 = 0; t0 < sq.new_tokens; t0 += tq_max) {
        const int64_t tq = std::min(tq_max, sq.new_tokens - t0), rows = tq * heads;
        const int64_t pos0 = sq.context + t0, last = pos0 + tq - 1;
        const uint64_t q_rows = l.plan.q + static_cast<uint64_t>((l.row0[seq] + t0) * q_width * 2);
        for (int64_t j = 0; j < heads; ++j)
          e.dma_load(q_rows + static_cast<uint64_t>((g * group + j0 + j) * d * 2),
                     qbuf + static_cast<uint64_t>(j * tq) * bd, tq, d * 2, q_width * 2);
        e.ctx(ContextMode::clear, 0, 0, rows);
        const AttentionTiles tiles{
            qbuf, s, p, corr, o, pv, vt, kbuf[0], kbuf[1], vbuf[0] - kbuf[0], d, a.scale, a.softcap};
        const QueryTile tile{tq, heads};
        if (l.dynamic) {
          emit_runtime_key_blocks(l, tiles, tile, kcache, vcache, t0, window);
        } else {
          emit_static_key_blocks(l, tiles, tile, {kcache, vcache}, pos0, last, window);
        }
        e.ctx(ContextMode::read_recip_sum, recip, 0, rows);
        e.vbinary(Opcode::vmul, {.a = o, .b = recip, .c = o},
                  {.rows = rows, .cols = d, .bcast = Broadcast::col});
        const uint64_t out_rows = l.plan.attn + static_cast<uint64_t>((l.row0[seq] + t0) * q_width * 2);
        for (int64_t j = 0; j < heads; ++j)
          e.dma_store(out_rows + static_cast<uint64_t>((g * group + j0 + j) * d * 2),
                      o + static_cast<uint64_t>(j * tq) * bd, tq, d * 2, q_width * 2);
      }
    }
  }
}

}  // namespace xpusim::compiler
