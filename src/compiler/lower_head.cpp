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

void lower_head(Lowering& l, const HeadSpec& head) {
  Emitter& e = l.emit;
  const model::ModelConfig& c = l.config;
  const WeightSlot& w = l.plan.weight(l.plan.lm_head);
  const Strip strip = strip_for(l.chip, w);
  const int64_t rows = static_cast<int64_t>(l.step.sequences.size());
  const int64_t strips = (w.rows + strip.rows - 1) / strip.rows;
  const IndexRange mine = split_units(strips, l.shard);  // this engine's vocabulary strips

  const bool layer_norm = head.norm.op == NormOp::LAYER;
  e.begin_group(layer_norm ? "layer_norm" : "rms_norm", head.norm.label, -1);
  SramArena arena(l.sram.workspace, l.sram.end);
  uint64_t slots[2], cbuf[2], idx[2];
  for (int i = 0; i < 2; ++i) {
    slots[i] = arena.take(strip.bytes);
    cbuf[i] = arena.take(static_cast<uint64_t>(rows * strip.rows * 2));
    idx[i] = arena.take(static_cast<uint64_t>(rows * 4));
  }
  const uint64_t a = arena.take(static_cast<uint64_t>(rows * c.hidden * 2));
  const uint64_t cand = arena.take(static_cast<uint64_t>(strips * rows * 2));
  const uint64_t cand_t = rows > 1 ? arena.take(static_cast<uint64_t>(strips * rows * 2)) : cand;
  const uint64_t win = arena.take(static_cast<uint64_t>(rows * 4));
  const uint64_t win_val = arena.take(static_cast<uint64_t>(rows * 2));
  const uint64_t gamma = arena.take(static_cast<uint64_t>(c.hidden * 2));
  const uint64_t beta = arena.take(static_cast<uint64_t>(c.hidden * 2));
  const uint64_t scratch = arena.take(static_cast<uint64_t>(rows * 8 + 256));
  if (arena.overflowed())
    fail(
        "engine compiler: LM head: {} sequences x {} vocabulary strips do not fit the SRAM of chip {} ({} "
        "KiB)",
        rows, strips, l.chip.name, l.chip.sram_kib);
  // Several engines: strip maxima meet in DRAM after the candidate indices (the argmax area has room for
  // vocab + 1 u32 per sequence).
  const uint64_t cand_idx_dram = l.plan.argmax + static_cast<uint64_t>(rows * 4);
  const uint64_t cand_val_dram = cand_idx_dram + static_cast<uint64_t>(strips * rows * 4);
  if (l.shard.parallel() && rows * (4 + 6 * strips) > l.plan.shape.sequences * 4 * (c.vocab_size + 1))
    fail("engine compiler: LM head: {} strips of {} rows leave no room for the cross-engine argmax", strips,
         strip.rows);

  if (!mine.empty()) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t row =
          l.row0[static_cast<size_t>(r)] + l.step.sequences[static_cast<size_t>(r)].new_tokens - 1;
      const uint64_t at = l.plan.x + static_cast<uint64_t>(row * c.hidden * 2);
      // Generic programs: the last real row (kLastRowRegister), not the padded tile's last row.
      e.dma_load(l.dynamic ? Loc(kLastRowRegister, l.plan.x) : Loc(at),
                 a + static_cast<uint64_t>(r * c.hidden * 2), 1, c.hidden * 2);
    }
    e.dma_load(l.plan.weight(head.norm.weight).codes, gamma, 1, c.hidden * 2);
    if (layer_norm) e.dma_load(l.plan.weight(head.norm.bias).codes, beta, 1, c.hidden * 2);
    emit_norm(l, head.norm.op, a, rows, c.hidden, gamma, beta, scratch);

    e.begin_group("linear", "output", -1);
    // Software-pipelined: strip j + 1 is requested before strip j's stores, which wait for its matrix work;
    // the DRAM channel is granted in program order, so a store issued first would hold the next load back.
    auto strip_rows = [&](int64_t j) { return std::min(strip.rows, w.rows - j * strip.rows); };
    uint64_t scales[2];
    scales[mine.begin % 2] =
        load_strip(l, w, strip, mine.begin, strip_rows(mine.begin), slots[mine.begin % 2]);
    for (int64_t j = mine.begin; j < mine.end; ++j) {
      const int64_t n = strip_rows(j);
      const int slot = static_cast<int>(j % 2);
      if (j + 1 < mine.end)
        scales[1 - slot] = load_strip(l, w, strip, j + 1, strip_rows(j + 1), slots[1 - slot]);
      const uint64_t sc = scales[slot];
      e.mm({.a = a, .b = slots[slot], .c = cbuf[slot], .s = sc},
           {.m = rows, .n = n, .k = c.hidden, .fmt = w.format});
      if (head.softcap > 0) {
        VectorArgs v{.rows = rows, .cols = n, .bcast = Broadcast::scalar};
        v.scalar = bf16_bits(1.0 / head.softcap);
        e.vbinary(Opcode::vmul, {.a = cbuf[slot], .c = cbuf[slot]}, v);
        e.vact({.a = cbuf[slot], .c = cbuf[slot]}, {.rows = rows, .cols = n}, engine::kTanh);
        v.scalar = bf16_bits(head.softcap);
        e.vbinary(Opcode::vmul, {.a = cbuf[slot], .c = cbuf[slot]}, v);
      }
      e.dma_store(l.plan.logits + static_cast<uint64_t>(j * strip.rows * 2), cbuf[slot], rows, n * 2,
                  w.rows * 2);
      e.topk({.a = cbuf[slot], .c = idx[slot], .s = cand + static_cast<uint64_t>(j * rows * 2)},
             {.rows = rows, .cols = n}, 1);
      e.dma_store(cand_idx_dram + static_cast<uint64_t>(j * rows * 4), idx[slot], 1, rows * 4);
      if (l.shard.parallel())
        e.dma_store(cand_val_dram + static_cast<uint64_t>(j * rows * 2),
                    cand + static_cast<uint64_t>(j * rows * 2), 1, rows * 2);
    }
  }
  emit_barrier(l, -1);  // engine 0 picks the winner over every engine's strips
  if (!l.shard.master()) return;
  e.begin_group("argmax", "output_argmax", -1);
  if (l.shard.parallel()) e.dma_load(cand_val_dram, cand, 1, strips * rows * 2);
  if (rows > 1) e.vtrans({.a = cand, .c = cand_t}, {.rows = strips, .cols = rows});
  e.topk({.a = cand_t, .c = win, .s = win_val}, {.rows = rows, .cols = strips}, 1);
  e.dma_store(l.plan.argmax, win, 1, rows * 4);
}

}  // namespace xpusim::compiler
