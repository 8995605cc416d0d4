#include "compiler/attention_blocks.h"

#include "compiler/runtime_registers.h"

namespace xpusim::compiler {

using engine::Broadcast;
using engine::Opcode;
using engine::SoftmaxMode;
using engine::VectorArgs;

namespace {

// A mask band window added to every head's score rows. One query row per head: all rows share band row 0
// (one broadcast add); otherwise one add per head over its tq rows.
void add_mask(Emitter& e, const AttentionTiles& t, const QueryTile& q, int64_t n, Loc band) {
  if (q.tq == 1) {
    e.vbinary(Opcode::vadd, {.a = t.s, .b = band, .c = t.s},
              {.rows = q.group, .cols = n, .ldb = kMaskWidth, .bcast = Broadcast::row});
    return;
  }
  for (int64_t j = 0; j < q.group; ++j) {
    const uint64_t tile = t.s + static_cast<uint64_t>(j * q.tq * n * 2);
    e.vbinary(Opcode::vadd, {.a = tile, .b = band, .c = tile}, {.rows = q.tq, .cols = n, .ldb = kMaskWidth});
  }
}

}  // namespace

void emit_key_block(Lowering& l, const AttentionTiles& t, const QueryTile& q, const KeyBlock& b) {
  Emitter& e = l.emit;
  const int64_t d = t.head_dim, rows = q.rows(), n = b.n;
  e.mm({.a = t.qbuf, .b = b.k, .c = t.s}, {.m = rows, .n = n, .k = d, .scale = bf16_bits(t.scale)});
  if (t.softcap > 0) {
    VectorArgs sc{.rows = rows, .cols = n, .bcast = Broadcast::scalar};
    sc.scalar = bf16_bits(1.0 / t.softcap);
    e.vbinary(Opcode::vmul, {.a = t.s, .c = t.s}, sc);
    e.vact({.a = t.s, .c = t.s}, {.rows = rows, .cols = n}, engine::kTanh);
    sc.scalar = bf16_bits(t.softcap);
    e.vbinary(Opcode::vmul, {.a = t.s, .c = t.s}, sc);
  }
  if (b.causal) add_mask(e, t, q, n, *b.causal);
  if (b.window) add_mask(e, t, q, n, *b.window);
  e.softmax({.a = t.s, .c = t.p, .s = t.corr}, {.rows = rows, .cols = n}, SoftmaxMode::online);
  e.vtrans({.a = b.v, .c = t.vt}, {.rows = n, .cols = d});
  if (b.first) {
    e.mm({.a = t.p, .b = t.vt, .c = t.o}, {.m = rows, .n = d, .k = n});
    return;
  }
  e.mm({.a = t.p, .b = t.vt, .c = t.pv}, {.m = rows, .n = d, .k = n});
  e.vbinary(Opcode::vmul, {.a = t.o, .b = t.corr, .c = t.o},
            {.rows = rows, .cols = d, .bcast = Broadcast::col});
  e.vbinary(Opcode::vadd, {.a = t.o, .b = t.pv, .c = t.o}, {.rows = rows, .cols = d});
}

void emit_runtime_key_blocks(Lowering& l, const AttentionTiles& t, const QueryTile& q, uint64_t kcache,
                             uint64_t vcache, int64_t t0, int64_t window) {
  Emitter& e = l.emit;
  const int64_t row_bytes = t.head_dim * 2;
  constexpr int r_pos = kAttnFirstRegister, r_count = r_pos + 1, r_key = r_pos + 2, r_offset = r_pos + 3,
                r_slot = r_pos + 4, r_slot_sum = r_pos + 5, r_causal = r_pos + 6, r_window = r_pos + 7,
                r_band_end = r_pos + 8, r_temp = r_pos + 9, r_middle = r_pos + 10;
  // pos0 = position of the tile's first query; lo = first key of its window (0 without one).
  e.scalar_imm(Opcode::addi, r_pos, kPositionRegister, t0);
  if (window > 0) {  // lo = max(pos0 + 1, window) - window: unsigned registers, no negative values
    e.scalar_imm(Opcode::addi, r_temp, r_pos, 1);
    e.li(r_key, static_cast<uint64_t>(window));
    e.scalar(Opcode::max, r_temp, r_temp, r_key);
    e.scalar(Opcode::sub, r_temp, r_temp, r_key);
    e.scalar_imm(Opcode::shr, r_key, r_temp, 6);
  } else {
    e.li(r_key, 0);
  }
  // Blocks from lo's block through the block of the tile's last query (pos0 + tq - 1).
  e.scalar_imm(Opcode::addi, r_count, r_pos, q.tq - 1);
  e.scalar_imm(Opcode::shr, r_count, r_count, 6);
  e.scalar(Opcode::sub, r_count, r_count, r_key);
  e.scalar_imm(Opcode::addi, r_count, r_count, 1);
  // Blocks after the first that lie wholly before pos0 need no mask: max(pos0 / 64 - lo / 64, 1) - 1 of
  // them (decode: all but the first and the last). Sliding-window layers mask every block instead.
  const bool unmasked_middle = window == 0;
  if (unmasked_middle) {
    e.scalar_imm(Opcode::shr, r_middle, r_pos, 6);
    e.scalar(Opcode::sub, r_middle, r_middle, r_key);
    e.li(r_temp, 1);
    e.scalar(Opcode::max, r_middle, r_middle, r_temp);
    e.scalar_imm(Opcode::addi, r_middle, r_middle, -1);
  }
  e.scalar_imm(Opcode::shl, r_key, r_key, 6);
  e.scalar_imm(Opcode::muli, r_offset, r_key, row_bytes);
  e.li(r_slot, t.kbuf0);
  e.li(r_slot_sum, t.kbuf0 + t.kbuf1);
  e.li(r_band_end, 2 * kAttnBlock);

  // Every block is a whole 64-key block; the causal band masks keys past each query (stale or padding K/V
  // give exp(-inf) = 0 and add +0.0), so the block counts are the only run-time quantities. Band column
  // window = clamp(64 + kb - pos0, 0, 128) (causal) and clamp(kb + 63 + window - pos0, 0, 128) (window):
  // 0 = all visible, 128 = all masked, so a masked block is right wherever it lies.
  auto block = [&](bool first, bool masked) {
    e.dma_load(Loc(r_offset, kcache), Loc(r_slot, 0), kAttnBlock, row_bytes);
    e.dma_load(Loc(r_offset, vcache), Loc(r_slot, t.v_delta), kAttnBlock, row_bytes);
    auto band_window = [&](int reg, int64_t ahead) {
      e.scalar_imm(Opcode::addi, reg, r_key, ahead);
      e.scalar(Opcode::max, reg, reg, r_pos);
      e.scalar(Opcode::sub, reg, reg, r_pos);
      e.scalar(Opcode::min, reg, reg, r_band_end);
      e.scalar_imm(Opcode::shl, reg, reg, 1);
    };
    KeyBlock b{.k = Loc(r_slot, 0), .v = Loc(r_slot, t.v_delta), .n = kAttnBlock, .first = first};
    if (masked) {
      band_window(r_causal, kAttnBlock);
      b.causal = Loc(r_causal, l.sram.mask_upper);
    }
    if (masked && window > 0) {
      band_window(r_window, kAttnBlock - 1 + window);
      b.window = Loc(r_window, l.sram.mask_lower);
    }
    emit_key_block(l, t, q, b);
    e.scalar_imm(Opcode::addi, r_key, r_key, kAttnBlock);
    e.scalar_imm(Opcode::addi, r_offset, r_offset, kAttnBlock * row_bytes);
    e.scalar(Opcode::sub, r_slot, r_slot_sum, r_slot);  // double buffering: the other slot
  };
  block(true, true);
  e.scalar_imm(Opcode::addi, r_count, r_count, -1);
  if (unmasked_middle) {  // the middle blocks, then the masked rest (the block of pos0 and maybe the next)
    const engine::Label after_middle = e.new_label();
    e.scalar(Opcode::sub, r_count, r_count, r_middle);
    e.branch_if_zero(r_middle, after_middle);
    const engine::Label middle = e.loop_begin();
    block(false, false);
    e.loop_end(r_middle, middle);
    e.bind(after_middle);
  }
  const engine::Label done = e.new_label();
  e.branch_if_zero(r_count, done);
  const engine::Label body = e.loop_begin();
  block(false, true);
  e.loop_end(r_count, body);
  e.bind(done);
}

}  // namespace xpusim::compiler
