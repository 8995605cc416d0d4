// Mixture-of-experts MLP (Qwen3-MoE, Mixtral) on one engine. Per layer:
//   1. ffn_norm of the residual rows -> moe_in (DRAM), so every expert reads the same normalised rows;
//   2. router: moe_in x ffn_gate_inp^T (bf16 weights, streamed like any linear), then on chip per token row:
//      softmax over all experts, topk (ties: lower index), optional renormalisation of the k weights
//      (norm_topk_prob; Mixtral's softmax-over-the-top-k is the same numbers), ids -> moe_ids [T, k] u32,
//      weights -> moe_probs [k, T] bf16 (slot-major);
//   3. experts, one "assignment" per (slot i, token t), numbered a = i * T + t: each expert streams its
//      gate/up/down weights in strips (triple-buffered, like lower_linear.cpp) once against the token rows
//      assigned to it, multiplies its output rows by their routing weight and stores them to moe_out row a;
//   4. combine: x[t] += sum over slots i of moe_out[i * T + t] (slot order).
// Dispatch. A one-token step (decode) is the real thing: for each slot the program DMAs the routed id into
// SRAM, `ld`s it into a register, multiplies by the distance between consecutive experts' weights (the plan
// stores experts at a constant stride) and streams that expert's weights through register-relative DMAs;
// DRAM traffic is the k selected experts' bytes. Steps of several tokens (prefill, batched decode) are
// compiled for a balanced routing: the T * k assignments are split evenly over min(E, T * k) experts in
// assignment order (expert j takes assignments [j T k / A, (j + 1) T k / A)), each expert's weights read once
// per step with its share of token rows — the bytes and MACs of a step whose routing is balanced; the values
// are not those of the real routing (run-time token counts per expert are not compiled), so such steps are
// timing-only. Timing-only runs read 0 from `ld`: decode then streams expert 0's weights k times, which costs
// exactly what any k experts cost (every expert has the same size, DMA timing depends only on sizes).
// Non-goals: shared experts (no preset has them), expert parallelism over several engines.
#include <algorithm>

#include "compiler/lowering.h"
#include "core/error.h"
#include "engine/block_formats.h"

namespace xpusim::compiler {

using engine::Broadcast;
using engine::Opcode;
using engine::VectorArgs;

namespace {

constexpr int kExpertRegister = 32;  // expert id * expert stride (lowering register, runtime_registers.h)
constexpr int kStripSlots = 3;

VectorArgs vargs(int64_t rows, int64_t cols) { return VectorArgs{.rows = rows, .cols = cols}; }

engine::ActivationPreset expert_activation(model::Activation act) {
  switch (act) {
    case model::Activation::SILU:
      return engine::kSilu;
    case model::Activation::RELU:
      return engine::kRelu;
    default:
      return engine::kGelu;
  }
}

// Strip of `rows` weight rows from `first_row`; reg != 0: DRAM addresses relative to that register.
uint64_t load_expert_strip(Lowering& l, const WeightSlot& w, const Strip& s, int64_t first_row, int64_t rows,
                           uint64_t slot, int reg) {
  auto where = [&](uint64_t address) { return reg != 0 ? Loc(reg, address) : Loc(address); };
  l.emit.dma_load(where(w.codes + static_cast<uint64_t>(first_row) * w.code_row_bytes), slot, 1,
                  static_cast<int64_t>(w.code_row_bytes) * rows);
  const uint64_t scales = slot + s.codes_bytes;
  if (w.format != engine::WeightFormat::bf16) {
    const auto codebook = static_cast<uint64_t>(engine::block_format_info(w.format).codebook_bytes);
    if (codebook > 0) l.emit.dma_load(where(w.scales), scales, 1, static_cast<int64_t>(codebook));
    l.emit.dma_load(where(w.scales + codebook + static_cast<uint64_t>(first_row) * w.scale_row_bytes),
                    scales + codebook, 1, static_cast<int64_t>(w.scale_row_bytes) * rows);
  }
  return scales;
}

// Byte distance between consecutive experts' weights (0 when the plan aliases weights: timing-only).
uint64_t expert_stride(const Lowering& l, const MoeSpec& m) {
  const int32_t layer = m.layer;
  const auto experts = static_cast<int64_t>(m.experts.size());
  if (experts < 2 || l.plan.weights_aliased) return 0;
  const uint64_t stride = l.plan.weight(m.experts[1][0]).codes - l.plan.weight(m.experts[0][0]).codes;
  for (size_t kind = 0; kind < 3; ++kind)
    for (int64_t e = 1; e < experts; ++e) {
      const WeightSlot& w = l.plan.weight(m.experts[static_cast<size_t>(e)][kind]);
      const WeightSlot& first = l.plan.weight(m.experts[0][kind]);
      if (w.codes - first.codes != static_cast<uint64_t>(e) * stride ||
          (w.scales != 0 && w.scales - first.scales != static_cast<uint64_t>(e) * stride))
        fail("engine compiler: layer {}: expert weights are not at a constant stride in the DRAM plan",
             layer);
    }
  if (stride * static_cast<uint64_t>(experts - 1) > 0xFFFFFFFFull)
    fail("engine compiler: layer {}: {} experts of {} bytes exceed the 32-bit expert offset register", layer,
         experts, stride);
  return stride;
}

// ffn_norm of the step's rows -> moe_in.
void emit_moe_norm(Lowering& l, const MoeSpec& m) {
  Emitter& e = l.emit;
  const int64_t hidden = l.config.hidden, tokens = l.total_tokens;
  const NormRef& norm = m.norm;
  e.begin_group(norm.op == NormOp::LAYER ? "layer_norm" : "rms_norm", norm.label, m.layer);
  const uint64_t gamma = l.sram.params;
  const uint64_t beta = gamma + static_cast<uint64_t>(round_up(hidden * 2, 128));
  e.dma_load(l.plan.weight(norm.weight).codes, gamma, 1, hidden * 2);
  if (norm.op == NormOp::LAYER) e.dma_load(l.plan.weight(norm.bias).codes, beta, 1, hidden * 2);
  const uint64_t space = l.sram.end - l.sram.workspace;
  const int64_t chunk =
      std::clamp<int64_t>(static_cast<int64_t>((space - 8192) / static_cast<uint64_t>(hidden * 2 + 16)), 1,
                          std::min<int64_t>(64, tokens));
  SramArena arena(l.sram.workspace, l.sram.end);
  const uint64_t tile = arena.take(static_cast<uint64_t>(chunk * hidden * 2));
  const uint64_t scratch = arena.take(1024 + static_cast<uint64_t>(chunk) * 8);
  for (int64_t t0 = 0; t0 < tokens; t0 += chunk) {
    const int64_t r = std::min(chunk, tokens - t0);
    const auto at = static_cast<uint64_t>(t0 * hidden * 2);
    e.dma_load(l.plan.x + at, tile, r, hidden * 2);
    emit_norm(l, norm.op, tile, r, hidden, gamma, beta, scratch);
    e.dma_store(l.plan.moe_in + at, tile, r, hidden * 2);
  }
}

// Router logits tile [rows, E] -> routed ids and weights in DRAM.
void emit_routing(Lowering& l, const MoeSpec& m, uint64_t logits, int64_t rows, int64_t c0,
                  SramArena& arena) {
  Emitter& e = l.emit;
  const int32_t layer = m.layer;
  const auto experts = static_cast<int64_t>(m.experts.size());
  const int64_t k = m.top_k, tokens = l.total_tokens;
  e.begin_group("moe", fmt::format("blk.{}.moe_router", layer), layer);
  const uint64_t ids = arena.take(static_cast<uint64_t>(rows * k * 4));
  const uint64_t probs = arena.take(static_cast<uint64_t>(rows * k * 2));
  const uint64_t probs_t = arena.take(static_cast<uint64_t>(rows * k * 2));
  const uint64_t sums = arena.take(static_cast<uint64_t>(rows * 2) + 128);
  if (arena.overflowed()) fail("engine compiler: layer {}: the router tiles do not fit SRAM", layer);
  e.softmax({.a = logits, .c = logits}, vargs(rows, experts), engine::SoftmaxMode::full);
  e.topk({.a = logits, .c = ids, .s = probs}, vargs(rows, experts), k);
  if (m.norm_topk) {
    e.vred({.a = probs, .c = sums}, vargs(rows, k), engine::ReduceMode::sum);
    e.vact({.a = sums, .c = sums}, vargs(rows, 1), {engine::Activation::recip, 0, 0});
    VectorArgs scale = vargs(rows, k);
    scale.bcast = Broadcast::col;
    e.vbinary(Opcode::vmul, {.a = probs, .b = sums, .c = probs}, scale);
  }
  e.vtrans({.a = probs, .c = probs_t}, vargs(rows, k));  // [k, rows]: one contiguous weight run per slot
  e.dma_store(l.plan.moe_ids + static_cast<uint64_t>(c0 * k * 4), ids, 1, rows * k * 4);
  e.dma_store(l.plan.moe_probs + static_cast<uint64_t>(c0 * 2), probs_t, k, rows * 2, tokens * 2);
}

struct ExpertWeights {
  const WeightSlot *gate, *up, *down;
};

// Assignments [a0, a1) through one expert: input rows moe_in[a % T], output rows moe_out[a] (weighted).
// reg != 0: the expert's weights are at DRAM offsets from that register (dynamic dispatch).
void emit_expert(Lowering& l, const MoeSpec& m, const ExpertWeights& w, int reg, int64_t a0, int64_t a1,
                 const std::string& label) {
  const int32_t layer = m.layer;
  Emitter& e = l.emit;
  const int64_t hidden = l.config.hidden, ffn = l.config.expert_ffn_hidden, tokens = l.total_tokens;
  const Strip gs = strip_for(l.chip, *w.gate), us = strip_for(l.chip, *w.up), ds = strip_for(l.chip, *w.down);
  const uint64_t strip_bytes = std::max({gs.bytes, us.bytes, ds.bytes});
  const uint64_t per_row = 2 * static_cast<uint64_t>(hidden + ffn + gs.rows + hidden + 1);
  const uint64_t fixed = kStripSlots * ((strip_bytes + 127) / 128 * 128) + 8192;
  const uint64_t space = l.sram.end - l.sram.workspace;
  const int64_t fit = space > fixed ? static_cast<int64_t>((space - fixed) / per_row) : 0;
  const int64_t chunk = std::min({fit, l.max_chunk_rows(), a1 - a0});
  if (chunk < 1)
    fail(
        "engine compiler: layer {}: an expert with hidden {} and expert_ffn_hidden {} needs {} KiB of SRAM "
        "for "
        "one token row and {} KiB of weight strips; chip {} has {} KiB",
        layer, hidden, ffn, per_row / 1024, fixed / 1024, l.chip.name, l.chip.sram_kib);
  const engine::ActivationPreset act = expert_activation(m.activation);
  for (int64_t b0 = a0; b0 < a1; b0 += chunk) {
    const int64_t r = std::min(chunk, a1 - b0);
    SramArena arena(l.sram.workspace, l.sram.end);
    uint64_t slots[kStripSlots];
    for (uint64_t& s : slots) s = arena.take(strip_bytes);
    const uint64_t a = arena.take(static_cast<uint64_t>(r * hidden * 2));
    const uint64_t h = arena.take(static_cast<uint64_t>(r * ffn * 2));
    const uint64_t gate_tmp = arena.take(static_cast<uint64_t>(r * gs.rows * 2));
    const uint64_t out = arena.take(static_cast<uint64_t>(r * hidden * 2));
    const uint64_t weights = arena.take(static_cast<uint64_t>(r * 2));
    XPUSIM_ASSERT(!arena.overflowed());
    e.begin_group("moe", label, layer);
    // Input rows: runs of consecutive tokens (assignment a reads token a mod T).
    for (int64_t i = 0; i < r;) {
      const int64_t token = (b0 + i) % tokens;
      const int64_t run = std::min(r - i, tokens - token);
      e.dma_load(l.plan.moe_in + static_cast<uint64_t>(token * hidden * 2),
                 a + static_cast<uint64_t>(i * hidden * 2), run, hidden * 2);
      i += run;
    }
    // h = act(A Wg^T) * (A Wu^T), strip by strip.
    for (int64_t j = 0; j * gs.rows < ffn; ++j) {
      const int64_t n = std::min(gs.rows, ffn - j * gs.rows);
      const uint64_t h_strip = h + static_cast<uint64_t>(j * gs.rows * 2);
      uint64_t slot = slots[l.strip_slot++ % kStripSlots];
      uint64_t sc = load_expert_strip(l, *w.gate, gs, j * gs.rows, n, slot, reg);
      e.mm({.a = a, .b = slot, .c = gate_tmp, .s = sc},
           {.m = r, .n = n, .k = hidden, .fmt = w.gate->format, .act = act});
      slot = slots[l.strip_slot++ % kStripSlots];
      sc = load_expert_strip(l, *w.up, us, j * gs.rows, n, slot, reg);
      e.mm({.a = a, .b = slot, .c = h_strip, .s = sc},
           {.m = r, .n = n, .k = hidden, .ldc = ffn, .fmt = w.up->format});
      VectorArgs v = vargs(r, n);
      v.lda = n, v.ldb = ffn, v.ldc = ffn;
      e.vbinary(Opcode::vmul, {.a = gate_tmp, .b = h_strip, .c = h_strip}, v);
    }
    // out = h Wd^T, then each row times its routing weight.
    for (int64_t j = 0; j * ds.rows < hidden; ++j) {
      const int64_t n = std::min(ds.rows, hidden - j * ds.rows);
      const uint64_t slot = slots[l.strip_slot++ % kStripSlots];
      const uint64_t sc = load_expert_strip(l, *w.down, ds, j * ds.rows, n, slot, reg);
      e.mm({.a = h, .b = slot, .c = out + static_cast<uint64_t>(j * ds.rows * 2), .s = sc},
           {.m = r, .n = n, .k = ffn, .ldc = hidden, .fmt = w.down->format});
    }
    e.dma_load(l.plan.moe_probs + static_cast<uint64_t>(b0 * 2), weights, 1, r * 2);
    VectorArgs scale = vargs(r, hidden);
    scale.bcast = Broadcast::col;
    e.vbinary(Opcode::vmul, {.a = out, .b = weights, .c = out}, scale);
    e.dma_store(l.plan.moe_out + static_cast<uint64_t>(b0 * hidden * 2), out, r, hidden * 2);
  }
}

// x[t] += sum_i moe_out[i * T + t].
void emit_combine(Lowering& l, const MoeSpec& m) {
  Emitter& e = l.emit;
  const int32_t layer = m.layer;
  const int64_t hidden = l.config.hidden, tokens = l.total_tokens, k = m.top_k;
  e.begin_group("add", fmt::format("blk.{}.moe_combine", layer), layer);
  const uint64_t space = l.sram.end - l.sram.workspace;
  const int64_t chunk =
      std::clamp<int64_t>(static_cast<int64_t>((space - 4096) / static_cast<uint64_t>(6 * hidden)), 1,
                          std::min<int64_t>(64, tokens));
  SramArena arena(l.sram.workspace, l.sram.end);
  const uint64_t x = arena.take(static_cast<uint64_t>(chunk * hidden * 2));
  const uint64_t acc = arena.take(static_cast<uint64_t>(chunk * hidden * 2));
  const uint64_t tmp = arena.take(static_cast<uint64_t>(chunk * hidden * 2));
  for (int64_t t0 = 0; t0 < tokens; t0 += chunk) {
    const int64_t r = std::min(chunk, tokens - t0);
    for (int64_t i = 0; i < k; ++i) {
      const auto row = static_cast<uint64_t>((i * tokens + t0) * hidden * 2);
      e.dma_load(l.plan.moe_out + row, i == 0 ? acc : tmp, r, hidden * 2);
      if (i > 0) e.vbinary(Opcode::vadd, {.a = acc, .b = tmp, .c = acc}, vargs(r, hidden));
    }
    e.dma_load(l.plan.x + static_cast<uint64_t>(t0 * hidden * 2), x, r, hidden * 2);
    e.vbinary(Opcode::vadd, {.a = x, .b = acc, .c = x}, vargs(r, hidden));
    e.dma_store(l.plan.x + static_cast<uint64_t>(t0 * hidden * 2), x, r, hidden * 2);
  }
}

}  // namespace

void lower_moe(Lowering& l, const MoeSpec& m) {
  const model::ModelConfig& c = l.config;
  const int32_t layer = m.layer;
  const auto experts = static_cast<int64_t>(m.experts.size());
  if (l.shard.parallel())
    fail("engine compiler: layer {}: MoE layers run on one engine (no expert parallelism yet)", layer);
  if (m.top_k < 1 || m.top_k > 8 || m.top_k > experts)
    fail("engine compiler: layer {}: top-{} routing over {} experts; the engine's topk selects 1..8", layer,
         m.top_k, experts);
  emit_moe_norm(l, m);

  LinearGroup router;
  router.in_dram = l.plan.moe_in, router.in = c.hidden, router.layer = layer;
  LinearOut logits{.weight = m.router, .store = false};
  logits.label = m.router_label;
  logits.epilogue = [m](Lowering& lw, uint64_t tile, int64_t rows, int64_t c0, SramArena& arena) {
    emit_routing(lw, m, tile, rows, c0, arena);
  };
  router.outs = {logits};
  lower_linear_group(l, router);

  const int64_t tokens = l.total_tokens, k = m.top_k;
  auto weights_of = [&](int64_t expert) {
    const std::array<std::string, 3>& names = m.experts[static_cast<size_t>(expert)];
    return ExpertWeights{&l.plan.weight(names[0]), &l.plan.weight(names[1]), &l.plan.weight(names[2])};
  };
  if (tokens == 1) {
    // Decode: dispatch on the routed ids at run time.
    const uint64_t stride = expert_stride(l, m);
    const ExpertWeights first = weights_of(0);
    for (int64_t i = 0; i < k; ++i) {
      const std::string label = fmt::format("blk.{}.moe_expert_slot{}", layer, i);
      l.emit.begin_group("moe", label, layer);
      const uint64_t id_at =
          l.sram.workspace;  // the expert's tiles reuse it after the ld (ordered by hazards)
      l.emit.dma_load(l.plan.moe_ids + static_cast<uint64_t>(i * 4), id_at, 1, 4);
      l.emit.ld(kExpertRegister, id_at, 0, static_cast<uint32_t>(experts - 1));
      l.emit.scalar_imm(Opcode::muli, kExpertRegister, kExpertRegister, static_cast<int64_t>(stride));
      emit_expert(l, m, first, kExpertRegister, i, i + 1, label);
    }
  } else {
    // Several tokens: balanced routing (timing-only; see the header comment).
    const int64_t assignments = tokens * k, active = std::min(experts, assignments);
    for (int64_t j = 0; j < active; ++j) {
      const int64_t a0 = j * assignments / active, a1 = (j + 1) * assignments / active;
      if (a1 > a0) emit_expert(l, m, weights_of(j), 0, a0, a1, fmt::format("blk.{}.moe_expert{}", layer, j));
    }
  }
  emit_combine(l, m);
}

}  // namespace xpusim::compiler
