// The embedding gather on chip: the host writes the step's token ids (u32, one per token row) to
// plan.tokens; the program DMAs them into SRAM, `ld`s each id into a register, turns it into the row's byte
// offset (id * row bytes) and DMAs that row of token_embd — stored like every linear weight, in bf16 or the
// plan's packed format (codes and scales, then one `dequant` for the chunk) — into the x tile; GPT-2 adds
// its learned position rows (the step's positions: compile-time, or the run-time position register of
// generic programs) with one vadd, Gemma multiplies by bf16(sqrt(hidden)) with one vmul; the tile is stored
// to plan.x. The host reference of these rounding points is embed_rows (weight_image.h), which the policy
// executor uses, so logits stay bit-exact. Timing-only runs read 0 from `ld` (token 0): every row has the
// same size, so the cycles are those of any tokens.
// Multi-engine steps: every engine gathers every row itself (a few KiB per token, no barrier): the copies
// write identical bytes, and the first barrier (after attention) comes before anything else writes x.
#include <algorithm>

#include "compiler/lowering.h"
#include "compiler/runtime_registers.h"
#include "core/error.h"
#include "engine/block_formats.h"

namespace xpusim::compiler {

using engine::Opcode;
using engine::VectorArgs;

namespace {

// Lowering registers (free in the runtime_registers.h convention: r32..r39 belong to lower_embedding.cpp
// and lower_moe.cpp, which never hold them across each other).
constexpr int kTokenCodesRegister = 33;   // token id * code row bytes
constexpr int kTokenScalesRegister = 34;  // token id * scale row bytes
constexpr int kPosCodesRegister = 35;     // run-time position * code row bytes (generic programs)
constexpr int kPosScalesRegister = 36;    // run-time position * scale row bytes

bool packed(const WeightSlot& w) { return w.format != engine::WeightFormat::bf16; }
uint64_t codebook_bytes(const WeightSlot& w) {
  return static_cast<uint64_t>(engine::block_format_info(w.format).codebook_bytes);
}

// SRAM tiles for `rows` rows of a table: codes and scales (packed formats) and the bf16 rows.
struct RowTiles {
  uint64_t codes = 0, scales = 0, rows = 0;
};
RowTiles take_tiles(SramArena& arena, const WeightSlot& w, int64_t rows) {
  RowTiles t;
  if (packed(w)) {
    t.codes = arena.take(w.code_row_bytes * static_cast<uint64_t>(rows));
    t.scales = arena.take(codebook_bytes(w) + w.scale_row_bytes * static_cast<uint64_t>(rows));
  }
  t.rows = arena.take(static_cast<uint64_t>(rows * w.cols * 2));
  return t;
}

// DMAs `n` consecutive rows of `w` from row `first` (offset from register codes_reg / scales_reg when
// non-zero) into tile row `at`.
void load_rows(Lowering& l, const WeightSlot& w, const RowTiles& t, int64_t at, int64_t first, int64_t n,
               int codes_reg, int scales_reg) {
  auto where = [](int reg, uint64_t address) { return reg != 0 ? Loc(reg, address) : Loc(address); };
  const auto row = static_cast<uint64_t>(first), dst = static_cast<uint64_t>(at);
  if (!packed(w)) {
    l.emit.dma_load(where(codes_reg, w.codes + row * w.code_row_bytes), t.rows + dst * w.code_row_bytes, n,
                    static_cast<int64_t>(w.code_row_bytes));
    return;
  }
  l.emit.dma_load(where(codes_reg, w.codes + row * w.code_row_bytes), t.codes + dst * w.code_row_bytes, n,
                  static_cast<int64_t>(w.code_row_bytes));
  const uint64_t book = codebook_bytes(w);
  l.emit.dma_load(where(scales_reg, w.scales + book + row * w.scale_row_bytes),
                  t.scales + book + dst * w.scale_row_bytes, n, static_cast<int64_t>(w.scale_row_bytes));
}

// Packed tiles -> bf16 rows (the codebook, if the format has one, loaded once per chunk).
void decode_rows(Lowering& l, const WeightSlot& w, const RowTiles& t, int64_t rows) {
  if (!packed(w)) return;
  if (codebook_bytes(w) > 0) l.emit.dma_load(w.scales, t.scales, 1, static_cast<int64_t>(codebook_bytes(w)));
  l.emit.dequant({.b = t.codes, .c = t.rows, .s = t.scales}, VectorArgs{.rows = rows, .cols = w.cols},
                 w.format);
}

}  // namespace

void lower_embedding(Lowering& l, const EmbeddingSpec& spec) {
  const model::ModelConfig& c = l.config;
  Emitter& e = l.emit;
  const WeightSlot& table = l.plan.weight(spec.table);
  const WeightSlot* positions = spec.positions.empty() ? nullptr : &l.plan.weight(spec.positions);
  const int64_t hidden = c.hidden;
  const IndexRange mine{0, l.total_tokens};
  e.begin_group("embed_rows", "token_embd", -1);
  if (positions != nullptr && l.dynamic) {
    e.scalar_imm(Opcode::muli, kPosCodesRegister, kPositionRegister,
                 static_cast<int64_t>(positions->code_row_bytes));
    if (packed(*positions))
      e.scalar_imm(Opcode::muli, kPosScalesRegister, kPositionRegister,
                   static_cast<int64_t>(positions->scale_row_bytes));
  }
  const uint64_t per_row =
      4 + 2 * (table.code_row_bytes + table.scale_row_bytes + 2 * static_cast<uint64_t>(hidden)) +
      2 * static_cast<uint64_t>(hidden);
  const uint64_t space = l.sram.end - l.sram.workspace;
  const int64_t chunk = std::clamp<int64_t>(static_cast<int64_t>((space - 8192) / per_row), 1, 64);
  for (int64_t t0 = mine.begin; t0 < mine.end; t0 += chunk) {
    const int64_t r = std::min(chunk, mine.end - t0);
    SramArena arena(l.sram.workspace, l.sram.end);
    const uint64_t ids = arena.take(static_cast<uint64_t>(r * 4));
    const RowTiles tok = take_tiles(arena, table, r);
    const RowTiles pos = positions != nullptr ? take_tiles(arena, *positions, r) : RowTiles{};
    if (arena.overflowed())
      fail("engine compiler: the embedding gather does not fit SRAM on chip {}", l.chip.name);
    e.dma_load(l.plan.tokens + static_cast<uint64_t>(t0 * 4), ids, 1, r * 4);
    for (int64_t i = 0; i < r; ++i) {
      e.ld(kTokenCodesRegister, ids + static_cast<uint64_t>(i * 4), 0,
           static_cast<uint32_t>(c.vocab_size - 1));
      if (packed(table))
        e.scalar_imm(Opcode::muli, kTokenScalesRegister, kTokenCodesRegister,
                     static_cast<int64_t>(table.scale_row_bytes));
      e.scalar_imm(Opcode::muli, kTokenCodesRegister, kTokenCodesRegister,
                   static_cast<int64_t>(table.code_row_bytes));
      load_rows(l, table, tok, i, 0, 1, kTokenCodesRegister, kTokenScalesRegister);
    }
    decode_rows(l, table, tok, r);
    if (positions != nullptr) {
      if (l.dynamic) {  // sequence 0 at the run-time position
        load_rows(l, *positions, pos, 0, t0, r, kPosCodesRegister, kPosScalesRegister);
      } else {
        for (size_t s = 0; s < l.step.sequences.size(); ++s) {
          const int64_t begin = std::max(t0, l.row0[s]);
          const int64_t end = std::min(t0 + r, l.row0[s] + l.step.sequences[s].new_tokens);
          if (begin >= end) continue;
          // Beyond the learned positions only timing-only costing gets here (the runner rejects such steps):
          // read the last rows instead, the same bytes.
          const int64_t first_position = std::max<int64_t>(
              0,
              std::min(l.step.sequences[s].context + (begin - l.row0[s]), c.max_positions - (end - begin)));
          load_rows(l, *positions, pos, begin - t0, first_position, end - begin, 0, 0);
        }
      }
      decode_rows(l, *positions, pos, r);
      e.vbinary(Opcode::vadd, {.a = tok.rows, .b = pos.rows, .c = tok.rows},
                VectorArgs{.rows = r, .cols = hidden});
    }
    if (spec.scale != 1.0) {
      VectorArgs scale{.rows = r, .cols = hidden, .bcast = engine::Broadcast::scalar};
      scale.scalar = bf16_bits(spec.scale);
      e.vbinary(Opcode::vmul, {.a = tok.rows, .c = tok.rows}, scale);
    }
    e.dma_store(l.plan.x + static_cast<uint64_t>(t0 * hidden * 2), tok.rows, r, hidden * 2);
  }
}

}  // namespace xpusim::compiler
