// Flash attention per (sequence, kv head, query tile): the query rows of every head of the GQA group are
// stacked into one tile (head-major: rows j * tq + t), so each K/V block is read from the cache once per
// group and never duplicated. Per key block: S = Q K^T * scale (mm), masks, online softmax into the softmax
// contexts (running max / sum, correction factor per row), O = O * corr + P V (V transposed on chip). The
// score matrix lives only in SRAM. Masks: the causal mask of a block is a column window of the constant band
// U[i][c] = (c <= i + 64 ? 0 : -inf); the sliding-window lower edge uses L[i][c] = (c >= i + 64 ? 0 : -inf);
// the window start is (64 - key offset), so one band serves every block, position and window.
#include <algorithm>

#include "compiler/lowering.h"
#include "core/error.h"

namespace xpusim::compiler {

using engine::Broadcast;
using engine::ContextMode;
using engine::Opcode;
using engine::SoftmaxMode;
using engine::VectorArgs;

void lower_attention(Lowering& l, int32_t layer) {
  Emitter& e = l.emit;
  const model::ModelConfig& c = l.config;
  const int64_t d = c.head_dim, group = c.n_heads / c.n_kv_heads, q_width = c.n_heads * d;
  const int64_t max_rows = std::min<int64_t>(kMaskRows, l.chip.softmax_contexts);
  if (group > max_rows)
    fail("engine compiler: layer {}: {} query heads per kv head exceed the {} softmax contexts of chip {}",
         layer, group, max_rows, l.chip.name);
  const bool local = !c.layer_is_local.empty() && c.layer_is_local[static_cast<size_t>(layer)];
  const int64_t window = (c.layer_is_local.empty() || local) ? c.sliding_window : 0;
  const uint16_t scale = bf16_bits(c.effective_attn_scale());
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
    for (int64_t g = 0; g < c.n_kv_heads; ++g) {
      const uint64_t kcache = l.plan.kv_k(static_cast<int64_t>(seq), layer, g);
      const uint64_t vcache = l.plan.kv_v(static_cast<int64_t>(seq), layer, g);
      for (int64_t t0 = 0; t0 < sq.new_tokens; t0 += tq_max) {
        const int64_t tq = std::min(tq_max, sq.new_tokens - t0), rows = tq * group;
        const int64_t pos0 = sq.context + t0, last = pos0 + tq - 1;
        const uint64_t q_rows = l.plan.q + static_cast<uint64_t>((l.row0[seq] + t0) * q_width * 2);
        for (int64_t j = 0; j < group; ++j)
          e.dma_load(q_rows + static_cast<uint64_t>((g * group + j) * d * 2),
                     qbuf + static_cast<uint64_t>(j * tq) * bd, tq, d * 2, q_width * 2);
        e.ctx(ContextMode::clear, 0, 0, rows);
        const int64_t lo = window > 0 ? std::max<int64_t>(0, pos0 - window + 1) : 0;
        bool first = true;
        for (int64_t kb = lo / kAttnBlock * kAttnBlock; kb <= last; kb += kAttnBlock) {
          const int64_t n = std::min(kAttnBlock, last + 1 - kb);
          const int slot = static_cast<int>(l.kv_slot++ % 2);
          e.dma_load(kcache + static_cast<uint64_t>(kb) * bd, kbuf[slot], n, d * 2);
          e.dma_load(vcache + static_cast<uint64_t>(kb) * bd, vbuf[slot], n, d * 2);
          e.mm({.a = qbuf, .b = kbuf[slot], .c = s}, {.m = rows, .n = n, .k = d, .scale = scale});
          if (c.attn_softcap > 0) {
            VectorArgs sc{.rows = rows, .cols = n, .bcast = Broadcast::scalar};
            sc.scalar = bf16_bits(1.0 / c.attn_softcap);
            e.vbinary(Opcode::vmul, {.a = s, .c = s}, sc);
            e.vact({.a = s, .c = s}, {.rows = rows, .cols = n}, engine::kTanh);
            sc.scalar = bf16_bits(c.attn_softcap);
            e.vbinary(Opcode::vmul, {.a = s, .c = s}, sc);
          }
          // Causal: some key of the block lies after the first query's position.
          if (kb + n - 1 > pos0) {
            const int64_t shift = kAttnBlock - (pos0 - kb);
            for (int64_t j = 0; j < group; ++j) {
              const uint64_t tile = s + static_cast<uint64_t>(j * tq * n * 2);
              e.vbinary(Opcode::vadd,
                        {.a = tile, .b = l.sram.mask_upper + static_cast<uint64_t>(shift * 2), .c = tile},
                        {.rows = tq, .cols = n, .ldb = kMaskWidth});
            }
          }
          // Sliding window: some key of the block lies before the last query's window.
          if (window > 0 && kb < last - window + 1) {
            const int64_t shift = kAttnBlock - (pos0 - window + 1 - kb);
            for (int64_t j = 0; j < group; ++j) {
              const uint64_t tile = s + static_cast<uint64_t>(j * tq * n * 2);
              e.vbinary(Opcode::vadd,
                        {.a = tile, .b = l.sram.mask_lower + static_cast<uint64_t>(shift * 2), .c = tile},
                        {.rows = tq, .cols = n, .ldb = kMaskWidth});
            }
          }
          e.softmax({.a = s, .c = p, .s = corr}, {.rows = rows, .cols = n}, SoftmaxMode::online);
          e.vtrans({.a = vbuf[slot], .c = vt}, {.rows = n, .cols = d});
          if (first) {
            e.mm({.a = p, .b = vt, .c = o}, {.m = rows, .n = d, .k = n});
          } else {
            e.mm({.a = p, .b = vt, .c = pv}, {.m = rows, .n = d, .k = n});
            e.vbinary(Opcode::vmul, {.a = o, .b = corr, .c = o},
                      {.rows = rows, .cols = d, .bcast = Broadcast::col});
            e.vbinary(Opcode::vadd, {.a = o, .b = pv, .c = o}, {.rows = rows, .cols = d});
          }
          first = false;
        }
        e.ctx(ContextMode::read_recip_sum, recip, 0, rows);
        e.vbinary(Opcode::vmul, {.a = o, .b = recip, .c = o},
                  {.rows = rows, .cols = d, .bcast = Broadcast::col});
        const uint64_t out_rows = l.plan.attn + static_cast<uint64_t>((l.row0[seq] + t0) * q_width * 2);
        for (int64_t j = 0; j < group; ++j)
          e.dma_store(out_rows + static_cast<uint64_t>((g * group + j) * d * 2),
                      o + static_cast<uint64_t>(j * tq) * bd, tq, d * 2, q_width * 2);
      }
    }
  }
}

}  // namespace xpusim::compiler
