// The LM head: the last token row of every sequence is gathered, normalised (output_norm) and multiplied by
// the vocabulary weight streamed in strips; each logits strip is soft-capped (Gemma), stored, and reduced by
// a top-1 on chip; a final top-1 over the strip maxima picks the winning strip (ties: lower index, like the
// host's argmax). The runner turns (winning strip, its candidate) into the token id.
#include <algorithm>

#include "compiler/lowering.h"
#include "compiler/runtime_registers.h"
#include "core/error.h"

namespace xpusim::compiler {

using engine::Broadcast;
using engine::Opcode;
using engine::VectorArgs;

HeadLayout head_layout(const DramPlan& plan, const engine::ChipConfig& chip) {
  const WeightSlot& w = plan.weight(plan.lm_head);
  const Strip s = strip_for(chip, w);
  return {s.rows, (w.rows + s.rows - 1) / s.rows};
}

namespace {

// The head's SRAM tiles and DRAM meeting points for one step.
struct HeadTiles {
  uint64_t slots[2] = {}, cbuf[2] = {}, idx[2] = {};
  uint64_t a = 0, cand = 0, cand_t = 0, win = 0, win_val = 0, gamma = 0, beta = 0, scratch = 0;
  uint64_t cand_idx_dram = 0, cand_val_dram = 0;
};

HeadTiles take_head_tiles(const Lowering& l, const Strip& strip, int64_t rows, int64_t strips) {
  const int64_t hidden = l.config.hidden;
  SramArena arena(l.sram.workspace, l.sram.end);
  HeadTiles t;
  for (int i = 0; i < 2; ++i) {
    t.slots[i] = arena.take(strip.bytes);
    t.cbuf[i] = arena.take(static_cast<uint64_t>(rows * strip.rows * 2));
    t.idx[i] = arena.take(static_cast<uint64_t>(rows * 4));
  }
  t.a = arena.take(static_cast<uint64_t>(rows * hidden * 2));
  t.cand = arena.take(static_cast<uint64_t>(strips * rows * 2));
  t.cand_t = rows > 1 ? arena.take(static_cast<uint64_t>(strips * rows * 2)) : t.cand;
  t.win = arena.take(static_cast<uint64_t>(rows * 4));
  t.win_val = arena.take(static_cast<uint64_t>(rows * 2));
  t.gamma = arena.take(static_cast<uint64_t>(hidden * 2));
  t.beta = arena.take(static_cast<uint64_t>(hidden * 2));
  t.scratch = arena.take(static_cast<uint64_t>(rows * 8 + 256));
  if (arena.overflowed())
    fail(
        "engine compiler: LM head: {} sequences x {} vocabulary strips do not fit the SRAM of chip {} ({} "
        "KiB)",
        rows, strips, l.chip.name, l.chip.sram_kib);
  // Several engines: strip maxima meet in DRAM after the candidate indices (the argmax area has room for
  // vocab + 1 u32 per sequence).
  t.cand_idx_dram = l.plan.argmax + static_cast<uint64_t>(rows * 4);
  t.cand_val_dram = t.cand_idx_dram + static_cast<uint64_t>(strips * rows * 4);
  if (l.shard.parallel() && rows * (4 + 6 * strips) > l.plan.shape.sequences * 4 * (l.config.vocab_size + 1))
    fail("engine compiler: LM head: {} strips of {} rows leave no room for the cross-engine argmax", strips,
         strip.rows);
  return t;
}

// The last row of every sequence, normalised.
void emit_head_rows(Lowering& l, const HeadSpec& head, const HeadTiles& t, int64_t rows) {
  Emitter& e = l.emit;
  const int64_t hidden = l.config.hidden;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t row =
        l.row0[static_cast<size_t>(r)] + l.step.sequences[static_cast<size_t>(r)].new_tokens - 1;
    const uint64_t at = l.plan.x + static_cast<uint64_t>(row * hidden * 2);
    // Generic programs: the last real row (kLastRowRegister), not the padded tile's last row.
    e.dma_load(l.dynamic ? Loc(kLastRowRegister, l.plan.x) : Loc(at),
               t.a + static_cast<uint64_t>(r * hidden * 2), 1, hidden * 2);
  }
  e.dma_load(l.plan.weight(head.norm.weight).codes, t.gamma, 1, hidden * 2);
  if (head.norm.op == NormOp::LAYER) e.dma_load(l.plan.weight(head.norm.bias).codes, t.beta, 1, hidden * 2);
  emit_norm(l, head.norm.op, t.a, rows, hidden, t.gamma, t.beta, t.scratch);
}

// This engine's vocabulary strips: logits (soft-capped), stored, and the top-1 of each strip.
void emit_head_strips(Lowering& l, const HeadSpec& head, const HeadTiles& t, const Strip& strip, int64_t rows,
                      IndexRange mine) {
  Emitter& e = l.emit;
  const WeightSlot& w = l.plan.weight(l.plan.lm_head);
  e.begin_group("linear", "output", -1);
  // Software-pipelined: strip j + 1 is requested before strip j's stores, which wait for its matrix work;
  // the DRAM channel is granted in program order, so a store issued first would hold the next load back.
  auto strip_rows = [&](int64_t j) { return std::min(strip.rows, w.rows - j * strip.rows); };
  uint64_t scales[2];
  scales[mine.begin % 2] =
      load_strip(l, w, strip, mine.begin, strip_rows(mine.begin), t.slots[mine.begin % 2]);
  for (int64_t j = mine.begin; j < mine.end; ++j) {
    const int64_t n = strip_rows(j);
    const int slot = static_cast<int>(j % 2);
    const uint64_t cbuf = t.cbuf[slot];
    if (j + 1 < mine.end)
      scales[1 - slot] = load_strip(l, w, strip, j + 1, strip_rows(j + 1), t.slots[1 - slot]);
    e.mm({.a = t.a, .b = t.slots[slot], .c = cbuf, .s = scales[slot]},
         {.m = rows, .n = n, .k = l.config.hidden, .fmt = w.format});
    if (head.softcap > 0) {
      VectorArgs v{.rows = rows, .cols = n, .bcast = Broadcast::scalar};
      v.scalar = bf16_bits(1.0 / head.softcap);
      e.vbinary(Opcode::vmul, {.a = cbuf, .c = cbuf}, v);
      e.vact({.a = cbuf, .c = cbuf}, {.rows = rows, .cols = n}, engine::kTanh);
      v.scalar = bf16_bits(head.softcap);
      e.vbinary(Opcode::vmul, {.a = cbuf, .c = cbuf}, v);
    }
    e.dma_store(l.plan.logits + static_cast<uint64_t>(j * strip.rows * 2), cbuf, rows, n * 2, w.rows * 2);
    const uint64_t cand = t.cand + static_cast<uint64_t>(j * rows * 2);
    e.topk({.a = cbuf, .c = t.idx[slot], .s = cand}, {.rows = rows, .cols = n}, 1);
    e.dma_store(t.cand_idx_dram + static_cast<uint64_t>(j * rows * 4), t.idx[slot], 1, rows * 4);
    if (l.shard.parallel())
      e.dma_store(t.cand_val_dram + static_cast<uint64_t>(j * rows * 2), cand, 1, rows * 2);
  }
}

}  // namespace

void lower_head(Lowering& l, const HeadSpec& head) {
  Emitter& e = l.emit;
  const WeightSlot& w = l.plan.weight(l.plan.lm_head);
  const Strip strip = strip_for(l.chip, w);
  const int64_t rows = static_cast<int64_t>(l.step.sequences.size());
  const int64_t strips = (w.rows + strip.rows - 1) / strip.rows;
  const IndexRange mine = split_units(strips, l.shard);  // this engine's vocabulary strips

  e.begin_group(head.norm.op == NormOp::LAYER ? "layer_norm" : "rms_norm", head.norm.label, -1);
  const HeadTiles t = take_head_tiles(l, strip, rows, strips);
  if (!mine.empty()) {
    emit_head_rows(l, head, t, rows);
    emit_head_strips(l, head, t, strip, rows, mine);
  }
  emit_barrier(l, -1);  // engine 0 picks the winner over every engine's strips
  if (!l.shard.master()) return;
  e.begin_group("argmax", "output_argmax", -1);
  if (l.shard.parallel()) e.dma_load(t.cand_val_dram, t.cand, 1, strips * rows * 2);
  if (rows > 1) e.vtrans({.a = t.cand, .c = t.cand_t}, {.rows = strips, .cols = rows});
  e.topk({.a = t.cand_t, .c = t.win, .s = t.win_val}, {.rows = rows, .cols = strips}, 1);
  e.dma_store(l.plan.argmax, t.win, 1, rows * 4);
}

}  // namespace xpusim::compiler
