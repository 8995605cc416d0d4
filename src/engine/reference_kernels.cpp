#include "engine/reference_kernels.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "core/error.h"
#include "engine/block_formats.h"
#include "engine/kernels.h"
#include "engine/simulator.h"

namespace xpusim::engine {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_down(int64_t v, int64_t m) { return v / m * m; }
int64_t round_up(int64_t v, int64_t m) { return ceil_div(v, m) * m; }

// DRAM layout of the reference kernels (inputs, scratch, outputs; all below 2 GiB).
constexpr int64_t kQ = 0x0000'0000, kK = 0x0100'0000, kV = 0x0200'0000, kVt = 0x0300'0000, kQs = 0x0400'0000,
                  kAttnOut = 0x0500'0000, kAttnBias = 0x1000'0000, kScores = 0x2000'0000;
constexpr int64_t kDotRowLimit = 4095;   // one dot op: N·K/64 rows of the 12-bit row counter (engine.md §6)
constexpr int64_t kScaleEntries = 8192;  // scale BRAM: per-64 weight scales of one quantized strip (§3)
constexpr int64_t kTransposeMaxRows = 4032;  // identity-trick transpose: N <= 4032 (§6.1)

// The reference's two URAM banks on this chip: A (first half of SRAM) and B (second half).
struct Uram {
  int64_t bank_bytes = 0;
  int64_t usable = 0;  // elements the compiler fills (URAM_NEAR_FULL: all rows but one)
  int64_t full = 0;    // elements of a bank
};

Uram uram(const ChipConfig& chip) {
  if (chip.array != ArrayKind::dot)
    fail("reference-schedule kernels need the reference's dot datapath; chip {} is a systolic array",
         chip.name);
  const int64_t bank = chip.sram_bytes() / 2, row = 2 * chip.dot_lanes;
  return {bank, (bank / row - 1) * chip.dot_lanes, bank / 2};
}

// One op at a time, in order: the reference queue runs each UE op to completion before the next.
class Serial {
 public:
  explicit Serial(ProgramBuilder& b) : m_b(b) {}
  void load(int64_t dram, int64_t sram, int64_t rows, int64_t bytes, int64_t dstride = 0,
            int64_t sstride = 0) {
    m_b.dma_load(at(dram), at(sram), rows, bytes, dstride, sstride);
    m_b.fence();
  }
  void store(int64_t dram, int64_t sram, int64_t rows, int64_t bytes, int64_t dstride = 0,
             int64_t sstride = 0) {
    m_b.dma_store(at(dram), at(sram), rows, bytes, dstride, sstride);
    m_b.fence();
  }
  void mm(const MatmulArgs& args) {
    m_b.mm(args);
    m_b.fence();
  }
  void vbinary(Opcode op, const VectorArgs& args) {
    m_b.vbinary(op, args);
    m_b.fence();
  }
  void vred(const VectorArgs& args, ReduceMode mode) {
    m_b.vred(args, mode);
    m_b.fence();
  }
  void softmax(const VectorArgs& args) {
    m_b.softmax(args, SoftmaxMode::full);
    m_b.fence();
  }
  void vtrans(const VectorArgs& args) {
    m_b.vtrans(args);
    m_b.fence();
  }
  void quant(const VectorArgs& args, WeightFormat fmt) {
    m_b.quant(args, fmt);
    m_b.fence();
  }
  ProgramBuilder& builder() { return m_b; }

 private:
  ProgramBuilder& m_b;
};

// ---- bf16 matmul (matmat_mul_core, §8.2) ---------------------------------------------------------------
enum class Bias { none, vector, matrix };  // C as a broadcast [N] row, or a full [M, N] matrix (attention)

struct MatmulSpec {
  int64_t m = 0, n = 0, k = 0;
  ActivationPreset act = {Activation::none, 0, 0};
  Bias bias = Bias::none;
  bool softmax = false;
  bool keep_scores = false;  // softmax on rows still in URAM (attention core) instead of reloading them
  int64_t dram_a = kDramA, dram_b = kDramB, dram_bias = kDramBias, dram_out = kDramOut;
};

// N_chunk: the strip fits URAM_B and one dot op's N·K/64 fits the row counter; below 64 rows the
// compiler falls back to 32, then 16.
int64_t bf16_strip_rows(const Uram& u, int64_t n, int64_t k) {
  const int64_t limit = std::min(u.usable / k, kDotRowLimit * 64 / k);
  const int64_t chunk = limit >= 64 ? round_down(limit, 64) : limit >= 32 ? 32 : 16;
  if (limit < 16) fail("reference matmul: K = {} leaves no 16-row strip in a URAM bank", k);
  return std::min(n, chunk);
}

void emit_bf16_matmul(Serial& s, const ChipConfig& chip, const MatmulSpec& p) {
  const Uram u = uram(chip);
  const int64_t nc = bf16_strip_rows(u, p.n, p.k);
  const int64_t reserve = p.bias == Bias::none ? 0 : round_up(nc, 64);
  // Outputs follow A in URAM_A; the attention core keeps whole score rows there for its softmax.
  const int64_t out_cols = p.keep_scores ? p.n : nc;
  int64_t mc = std::min(p.m, (u.full - reserve) / (p.k + out_cols));
  if (p.softmax) mc = std::min<int64_t>(mc, chip.softmax_contexts);  // one fmax context per row
  if (mc < 1) fail("reference matmul: a {}-element row does not fit a URAM bank", p.k + out_cols);
  const int64_t a_base = 0, c_base = round_up(mc * p.k * 2, 128),
                bias_base = c_base + round_up(mc * out_cols * 2, 128), b_base = u.bank_bytes;
  for (int64_t i0 = 0; i0 < p.m; i0 += mc) {
    const int64_t rows = std::min(mc, p.m - i0);
    s.load(p.dram_a + i0 * p.k * 2, a_base, rows, p.k * 2);
    for (int64_t j0 = 0; j0 < p.n; j0 += nc) {
      const int64_t cols = std::min(nc, p.n - j0);
      s.load(p.dram_b + j0 * p.k * 2, b_base, cols, p.k * 2);
      if (p.bias == Bias::vector) s.load(p.dram_bias + j0 * 2, bias_base, 1, cols * 2);
      for (int64_t r = 0; r < rows; ++r) {
        if (p.bias == Bias::matrix) s.load(p.dram_bias + ((i0 + r) * p.n + j0) * 2, bias_base, 1, cols * 2);
        s.mm({.a = at(a_base + r * p.k * 2),
              .b = at(b_base),
              .c = at(c_base + (r * out_cols + (p.keep_scores ? j0 : 0)) * 2),
              .bias = at(bias_base),
              .m = 1,
              .n = cols,
              .k = p.k,
              .act = p.act,
              .bias_en = p.bias != Bias::none});
      }
      if (!p.keep_scores)  // strided write-back of the (tile, strip) block
        s.store(p.dram_out + (i0 * p.n + j0) * 2, c_base, rows, cols * 2, p.n * 2, nc * 2);
    }
    if (p.keep_scores) {  // softmax in place, scores written once
      for (int64_t r = 0; r < rows; ++r)
        s.softmax({.a = at(c_base + r * p.n * 2), .c = at(c_base + r * p.n * 2), .rows = 1, .cols = p.n});
      s.store(p.dram_out + i0 * p.n * 2, c_base, rows, p.n * 2);
      continue;
    }
    if (!p.softmax) continue;
    // Softmax: reload the finished rows (as many as fit a URAM bank), EXP + normalise per row, write back.
    const int64_t chunk = std::max<int64_t>(1, std::min(rows, u.usable / p.n));
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t n_rows = std::min(chunk, rows - r0);
      const int64_t dram = p.dram_out + (i0 + r0) * p.n * 2;
      s.load(dram, 0, n_rows, p.n * 2);
      for (int64_t r = 0; r < n_rows; ++r)
        s.softmax({.a = at(r * p.n * 2), .c = at(r * p.n * 2), .rows = 1, .cols = p.n});
      s.store(dram, 0, n_rows, p.n * 2);
    }
  }
}

// ---- quantized streaming matmul (quantized_matmat_core, §8.3) ----------------------------------------
// The decode path run for every row: per strip the scales go to the scale BRAM and the codes stream from
// DRAM through DOT_PRODUCT. Streaming is modelled by prefetching the next (row, strip) into a second buffer.
void emit_quantized_matmul(ProgramBuilder& b, const ChipConfig& chip, const MatmulSpec& p, WeightFormat fmt) {
  const BlockFormatInfo& info = block_format_info(fmt);
  const int64_t blocks = p.k / info.block;
  const int64_t limit = kScaleEntries / blocks;
  const int64_t nc = std::min(p.n, limit >= 64 ? round_down(limit, 64) : limit >= 32 ? 32 : 16);
  const auto code_row = static_cast<int64_t>(packed_bytes(fmt, 1, static_cast<size_t>(p.k)));
  const int64_t scale_row = blocks * info.scale_bytes;
  const int64_t codes = round_up(nc * code_row, 128), scales = round_up(nc * scale_row, 128),
                bias = p.bias == Bias::none ? 0 : round_up(nc * 2, 128);
  const int64_t slot = codes + scales + bias;
  const int64_t a_region = chip.sram_bytes() - 2 * slot;
  const int64_t mc = std::min(p.m, a_region / (2 * (p.k + p.n)));
  if (mc < 1) fail("reference quantized matmul: strips of {} rows do not fit twice in SRAM", nc);
  const int64_t a_base = 2 * slot, c_base = a_base + round_up(mc * p.k * 2, 128);
  const int64_t strips = ceil_div(p.n, nc);
  auto fetch = [&](int64_t step) {  // scales, (bias,) codes of step = row * strips + strip
    const int64_t j0 = (step % strips) * nc, cols = std::min(nc, p.n - j0), base = (step % 2) * slot;
    b.dma_load(at(kDramScales + j0 * scale_row), at(base + codes), 1, cols * scale_row);
    if (p.bias != Bias::none) b.dma_load(at(p.dram_bias + j0 * 2), at(base + codes + scales), 1, cols * 2);
    b.dma_load(at(p.dram_b + j0 * code_row), at(base), 1, cols * code_row);
  };
  const int64_t steps = p.m * strips;
  fetch(0);
  for (int64_t i0 = 0; i0 < p.m; i0 += mc) {
    const int64_t rows = std::min(mc, p.m - i0);
    b.dma_load(at(p.dram_a + i0 * p.k * 2), at(a_base), rows, p.k * 2);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < strips; ++j) {
        const int64_t step = (i0 + r) * strips + j, base = (step % 2) * slot, j0 = j * nc;
        if (step + 1 < steps) fetch(step + 1);
        b.mm({.a = at(a_base + r * p.k * 2),
              .b = at(base),
              .c = at(c_base + (r * p.n + j0) * 2),
              .s = at(base + codes),
              .bias = at(base + codes + scales),
              .m = 1,
              .n = std::min(nc, p.n - j0),
              .k = p.k,
              .fmt = fmt,
              .act = p.act,
              .bias_en = p.bias != Bias::none});
      }
    b.dma_store(at(p.dram_out + i0 * p.n * 2), at(c_base), rows, p.n * 2);
    b.fence();
  }
}

// ---- element-wise and norm kernels (row-tiled through URAM_A, in place) ---------------------------------
int64_t tile_rows(const Uram& u, int64_t cols) {
  const int64_t rows = u.usable / cols;
  if (rows < 1) fail("reference kernel: a {}-element row does not fit a URAM bank", cols);
  return rows;
}

// A (op) B or A (op) scalar over [m, n]: per tile load A (and B into URAM_B), one op, write back.
void emit_eltwise(Serial& s, const ChipConfig& chip, int64_t m, int64_t n, Opcode op, bool tensor) {
  const Uram u = uram(chip);
  const int64_t tr = tile_rows(u, n);
  for (int64_t r0 = 0; r0 < m; r0 += tr) {
    const int64_t rows = std::min(tr, m - r0);
    s.load(kDramA + r0 * n * 2, 0, rows, n * 2);
    if (tensor) s.load(kDramB + r0 * n * 2, u.bank_bytes, rows, n * 2);
    s.vbinary(op, {.a = at(0),
                   .b = at(u.bank_bytes),
                   .c = at(0),
                   .rows = rows,
                   .cols = n,
                   .bcast = tensor ? Broadcast::none : Broadcast::scalar,
                   .scalar = 0x3FC0});
    s.store(kDramOut + r0 * n * 2, 0, rows, n * 2);
  }
}

// RMSNorm (RMS -> MUL_BROADCAST -> ELTWISE_MUL γ) or LayerNorm (ADD_REDUCE -> ADD_BROADCAST -> RMS ->
// MUL_BROADCAST -> ×γ -> +β), one op per row each (§6.1). The hardware RMS has no epsilon.
void emit_norm(Serial& s, const ChipConfig& chip, int64_t m, int64_t n, bool layernorm) {
  const Uram u = uram(chip);
  const int64_t tr = tile_rows(u, n);
  const int64_t gamma = u.bank_bytes, beta = gamma + round_up(n * 2, 128),
                scratch = beta + round_up(n * 2, 128);
  s.load(kDramBias, gamma, 1, n * 2);
  if (layernorm) s.load(kDramBias + n * 2, beta, 1, n * 2);
  for (int64_t r0 = 0; r0 < m; r0 += tr) {
    const int64_t rows = std::min(tr, m - r0);
    s.load(kDramA + r0 * n * 2, 0, rows, n * 2);
    for (int64_t r = 0; r < rows; ++r) {
      const Addr x = at(r * n * 2);
      auto row = [&](Addr b, Broadcast bcast) {
        return VectorArgs{.a = x, .b = b, .c = x, .rows = 1, .cols = n, .bcast = bcast};
      };
      if (layernorm) {
        s.vred({.a = x, .c = at(scratch), .rows = 1, .cols = n}, ReduceMode::mean);
        s.vbinary(Opcode::vsub, row(at(scratch), Broadcast::col));
      }
      s.vred({.a = x, .c = at(scratch + 128), .rows = 1, .cols = n}, ReduceMode::rms_inv);
      s.vbinary(Opcode::vmul, row(at(scratch + 128), Broadcast::col));
      s.vbinary(Opcode::vmul, row(at(gamma), Broadcast::row));
      if (layernorm) s.vbinary(Opcode::vadd, row(at(beta), Broadcast::row));
    }
    s.store(kDramOut + r0 * n * 2, 0, rows, n * 2);
  }
}

// ---- transpose (identity trick, §6.1) ----------------------------------------------------------------
// Per tile of R input rows, one op per input column picks that column (R outputs: one output row), then a
// strided write-back places the [cols x R] block into the [cols x rows] output.
void emit_transpose(Serial& s, const ChipConfig& chip, int64_t rows, int64_t cols, int64_t dram_in,
                    int64_t dram_out) {
  const Uram u = uram(chip);
  const int64_t limit = std::min(u.usable / cols, kTransposeMaxRows);
  const int64_t tr = std::min(rows, limit >= 64 ? round_down(limit, 64) : limit);
  if (tr < 1) fail("reference transpose: a {}-element row does not fit a URAM bank", cols);
  for (int64_t r0 = 0; r0 < rows; r0 += tr) {
    const int64_t r = std::min(tr, rows - r0);
    s.load(dram_in + r0 * cols * 2, 0, r, cols * 2);
    for (int64_t j = 0; j < cols; ++j)
      s.vtrans(
          {.a = at(j * 2), .c = at(u.bank_bytes + j * r * 2), .rows = r, .cols = 1, .lda = cols, .ldc = r});
    s.store(dram_out + r0 * 2, u.bank_bytes, cols, r * 2, rows * 2);
  }
}

// ---- quantize / dequantize ---------------------------------------------------------------------------
constexpr WeightFormat kQuantFormat = WeightFormat::ue_fp4;  // the quantize unit makes the FP4 variant (§6)
constexpr int64_t kQuantCols = 1024;

void emit_quantize(Serial& s, const ChipConfig& chip, int64_t elements) {
  const Uram u = uram(chip);
  const int64_t rows_total = elements / kQuantCols, tr = tile_rows(u, kQuantCols);
  const auto code_row = static_cast<int64_t>(packed_bytes(kQuantFormat, 1, kQuantCols));
  const auto scale_row = static_cast<int64_t>(scale_bytes(kQuantFormat, 1, kQuantCols));
  const int64_t codes = u.bank_bytes, scales = codes + round_up(tr * code_row, 128);
  for (int64_t r0 = 0; r0 < rows_total; r0 += tr) {
    const int64_t rows = std::min(tr, rows_total - r0);
    s.load(kDramA + r0 * kQuantCols * 2, 0, rows, kQuantCols * 2);
    s.quant({.a = at(0), .c = at(codes), .s = at(scales), .rows = rows, .cols = kQuantCols}, kQuantFormat);
    s.store(kDramOut + r0 * code_row, codes, rows, code_row);
    s.store(kDramScales + r0 * scale_row, scales, rows, scale_row);
  }
}

// DEQUANTIZE streams the codes from DRAM while it decodes. Emulated by splitting each tile's stream into
// kStreamChunks loads kept in flight in three buffers, each decoded as it lands, so the stream and not the
// decode sets the pace (only the last chunk's decode is exposed); the scales go first (scale BRAM), the
// bf16 result is written back at the end.
void emit_dequantize(ProgramBuilder& b, const ChipConfig& chip, int64_t elements) {
  const Uram u = uram(chip);
  const int64_t rows_total = elements / kQuantCols, tr = tile_rows(u, kQuantCols);
  const auto code_row = static_cast<int64_t>(packed_bytes(kQuantFormat, 1, kQuantCols));
  const auto scale_row = static_cast<int64_t>(scale_bytes(kQuantFormat, 1, kQuantCols));
  constexpr int64_t kStreamChunks = 8;
  const int64_t chunk_rows = ceil_div(std::min(tr, rows_total), kStreamChunks);
  const int64_t code_slot = round_up(chunk_rows * code_row, 128);
  constexpr int64_t kSlots = 3;
  const int64_t scales = u.bank_bytes + kSlots * code_slot;
  Serial s(b);
  for (int64_t r0 = 0; r0 < rows_total; r0 += tr) {
    const int64_t rows = std::min(tr, rows_total - r0), chunks = ceil_div(rows, chunk_rows);
    s.load(kDramScales + r0 * scale_row, scales, rows, scale_row);
    auto fetch = [&](int64_t c) {
      const int64_t first = c * chunk_rows, n = std::min(chunk_rows, rows - first);
      b.dma_load(at(kDramB + (r0 + first) * code_row), at(u.bank_bytes + (c % kSlots) * code_slot), n,
                 code_row);
    };
    for (int64_t c = 0; c < std::min(kSlots - 1, chunks); ++c) fetch(c);
    for (int64_t c = 0; c < chunks; ++c) {
      if (c + kSlots - 1 < chunks) fetch(c + kSlots - 1);
      const int64_t first = c * chunk_rows, n = std::min(chunk_rows, rows - first);
      b.dequant({.b = at(u.bank_bytes + (c % kSlots) * code_slot),
                 .c = at(first * kQuantCols * 2),
                 .s = at(scales + first * scale_row),
                 .rows = n,
                 .cols = kQuantCols},
                kQuantFormat);
    }
    b.fence();
    s.store(kDramOut + r0 * kQuantCols * 2, 0, rows, kQuantCols * 2);
  }
}

// ---- memory-efficient attention (unified_attention_core, §8.5) ------------------------------------------
void emit_attention(ProgramBuilder& b, const ChipConfig& chip, int64_t seq, int64_t hd, bool bias) {
  Serial s(b);
  emit_transpose(s, chip, seq, hd, kV, kVt);  // Vᵀ [hd, seq] in DRAM scratch
  // Q × 1/√hd by broadcast, into scratch.
  const Uram u = uram(chip);
  const int64_t tr = tile_rows(u, hd);
  const auto scale =
      static_cast<uint16_t>(std::bit_cast<uint32_t>(1.0f / std::sqrt(static_cast<float>(hd))) >> 16);
  for (int64_t r0 = 0; r0 < seq; r0 += tr) {
    const int64_t rows = std::min(tr, seq - r0);
    s.load(kQ + r0 * hd * 2, 0, rows, hd * 2);
    s.vbinary(
        Opcode::vmul,
        {.a = at(0), .c = at(0), .rows = rows, .cols = hd, .bcast = Broadcast::scalar, .scalar = scale});
    s.store(kQs + r0 * hd * 2, 0, rows, hd * 2);
  }
  // scores = softmax(Qs·Kᵀ [+ bias]) spilled to DRAM, then out = P·(Vᵀ)ᵀ.
  emit_bf16_matmul(s, chip,
                   {.m = seq,
                    .n = seq,
                    .k = hd,
                    .bias = bias ? Bias::matrix : Bias::none,
                    .softmax = true,
                    .keep_scores = true,
                    .dram_a = kQs,
                    .dram_b = kK,
                    .dram_bias = kAttnBias,
                    .dram_out = kScores});
  emit_bf16_matmul(s, chip,
                   {.m = seq, .n = hd, .k = seq, .dram_a = kScores, .dram_b = kVt, .dram_out = kAttnOut});
}

Program finish(ProgramBuilder& b) {
  b.halt();
  return b.finish();
}

// ---- the table ---------------------------------------------------------------------------------------
std::vector<ReferenceKernel> build_table() {
  std::vector<ReferenceKernel> t;
  constexpr int64_t n = 1024;
  const double mn = static_cast<double>(n * n), mkn2 = 2.0 * mn * static_cast<double>(n);
  const std::string cube = "1024x1024x1024", square = "1024x1024";
  struct Epilogue {
    const char* suffix;
    ActivationPreset act;
    bool bias;
    double flops_per_output;
  };
  const Epilogue epilogues[] = {{"", {}, false, 0},         {"+bias", {}, true, 1},
                                {"+gelu", kGelu, false, 4}, {"+bias+gelu", kGelu, true, 5},
                                {"+silu", kSilu, false, 4}, {"+bias+silu", kSilu, true, 5}};
  // bf16 x bf16 (engine-kernels.md, first table)
  const double bf16_cycles[] = {17'820'455, 17'858'564, 17'923'045, 17'927'850, 17'921'594, 17'926'623};
  for (size_t i = 0; i < std::size(epilogues); ++i) {
    const Epilogue e = epilogues[i];
    t.push_back({fmt::format("matmul_bf16{}", e.suffix), "bf16 x bf16", cube, ReferenceMetric::cycles,
                 bf16_cycles[i], mkn2 + e.flops_per_output * mn, [e](const ChipConfig& chip) {
                   ProgramBuilder b;
                   Serial s(b);
                   emit_bf16_matmul(
                       s, chip,
                       {.m = n, .n = n, .k = n, .act = e.act, .bias = e.bias ? Bias::vector : Bias::none});
                   return finish(b);
                 }});
  }
  for (const bool bias : {false, true})
    t.push_back({bias ? "softmax_matmul_bf16+bias" : "softmax_matmul_bf16", "bf16 x bf16", cube,
                 ReferenceMetric::cycles, bias ? 19'051'310.0 : 19'004'997.0, mkn2 + (bias ? 6 : 5) * mn,
                 [bias](const ChipConfig& chip) {
                   ProgramBuilder b;
                   Serial s(b);
                   emit_bf16_matmul(
                       s, chip,
                       {.m = n, .n = n, .k = n, .bias = bias ? Bias::vector : Bias::none, .softmax = true});
                   return finish(b);
                 }});
  t.push_back(
      {"transpose", "bf16 x bf16", square, ReferenceMetric::cycles, 1'648'647, 0, [](const ChipConfig& chip) {
         ProgramBuilder b;
         Serial s(b);
         emit_transpose(s, chip, n, n, kDramA, kDramOut);
         return finish(b);
       }});
  struct Elt {
    const char* name;
    Opcode op;
    bool tensor;
    double cycles;
  };
  for (const Elt e :
       {Elt{"scalar_mul", Opcode::vmul, false, 180'500}, Elt{"scalar_add", Opcode::vadd, false, 181'005},
        Elt{"mul", Opcode::vmul, true, 263'580}, Elt{"add", Opcode::vadd, true, 263'871}})
    t.push_back(
        {e.name, "bf16 x bf16", square, ReferenceMetric::cycles, e.cycles, mn, [e](const ChipConfig& chip) {
           ProgramBuilder b;
           Serial s(b);
           emit_eltwise(s, chip, n, n, e.op, e.tensor);
           return finish(b);
         }});
  for (const bool ln : {false, true})
    t.push_back({ln ? "layernorm" : "rmsnorm", "bf16 x bf16", square, ReferenceMetric::cycles,
                 ln ? 414'679.0 : 290'945.0, (ln ? 7 : 4) * mn, [ln](const ChipConfig& chip) {
                   ProgramBuilder b;
                   Serial s(b);
                   emit_norm(s, chip, n, n, ln);
                   return finish(b);
                 }});
  // bf16 activations x 4-bit weights (second table)
  const double q4_cycles[] = {22'849'177, 23'073'635, 22'850'336, 23'100'231, 22'850'243, 23'104'094};
  for (size_t i = 0; i < std::size(epilogues); ++i) {
    const Epilogue e = epilogues[i];
    t.push_back({fmt::format("matmul_{}{}", weight_format_name(WeightFormat::ue_if4), e.suffix),
                 "bf16 x 4-bit weights", cube, ReferenceMetric::cycles, q4_cycles[i],
                 mkn2 + e.flops_per_output * mn, [e](const ChipConfig& chip) {
                   ProgramBuilder b;
                   emit_quantized_matmul(
                       b, chip,
                       {.m = n, .n = n, .k = n, .act = e.act, .bias = e.bias ? Bias::vector : Bias::none},
                       WeightFormat::ue_if4);
                   return finish(b);
                 }});
  }
  // quantize / dequantize (third table)
  constexpr int64_t elements = 131'072;
  t.push_back({fmt::format("quant_{}", weight_format_name(kQuantFormat)), "quantize / dequantize", "131072",
               ReferenceMetric::cycles, 15'266, 2.0 * elements, [](const ChipConfig& chip) {
                 ProgramBuilder b;
                 Serial s(b);
                 emit_quantize(s, chip, elements);
                 return finish(b);
               }});
  t.push_back({fmt::format("dequant_{}", weight_format_name(kQuantFormat)), "quantize / dequantize", "131072",
               ReferenceMetric::cycles, 13'193, 1.0 * elements, [](const ChipConfig& chip) {
                 ProgramBuilder b;
                 emit_dequantize(b, chip, elements);
                 return finish(b);
               }});
  // memory-efficient attention (fourth table: GFLOP/s read off the published charts)
  const int64_t seqs[] = {64, 128, 256, 512, 1024, 2048, 3072, 4096, 6144, 8192};
  const int64_t dims[] = {64, 128, 256};
  const double gflops[10][6] = {{11.3, 14.0, 16.2, 10.0, 12.9, 15.4}, {18.1, 21.8, 24.4, 16.2, 20.3, 23.2},
                                {24.4, 28.1, 30.5, 22.4, 26.5, 29.6}, {29.6, 32.7, 34.4, 27.9, 31.5, 33.7},
                                {33.0, 35.3, 36.0, 31.5, 34.4, 35.3}, {35.0, 36.3, 37.0, 33.7, 35.3, 36.2},
                                {35.7, 36.9, 37.5, 34.5, 36.1, 36.9}, {34.4, 35.6, 36.2, 33.2, 34.8, 35.6},
                                {34.9, 35.9, 36.5, 33.8, 35.1, 35.9}, {33.7, 34.7, 35.2, 32.7, 34.0, 34.7}};
  for (const bool bias : {false, true})
    for (size_t d = 0; d < std::size(dims); ++d)
      for (size_t i = 0; i < std::size(seqs); ++i) {
        const int64_t seq = seqs[i], hd = dims[d];
        const double s = static_cast<double>(seq);
        t.push_back({fmt::format("attention_s{}_hd{}{}", seq, hd, bias ? "+bias" : ""), "attention",
                     fmt::format("seq {} hd {}", seq, hd), ReferenceMetric::gflops,
                     gflops[i][d + (bias ? 3 : 0)], 4.0 * s * s * static_cast<double>(hd),
                     [seq, hd, bias](const ChipConfig& chip) {
                       ProgramBuilder b;
                       emit_attention(b, chip, seq, hd, bias);
                       return finish(b);
                     }});
      }
  return t;
}

}  // namespace

const std::vector<ReferenceKernel>& reference_kernels() {
  static const std::vector<ReferenceKernel> table = build_table();
  return table;
}

ReferenceResult run_reference_kernel(const ChipConfig& chip, const ReferenceKernel& kernel) {
  Simulator sim(chip, RunOptions{.functional = false});
  const Program program = kernel.make(chip);
  sim.load_program(0, program);
  const RunResult r = sim.run();
  ReferenceResult result;
  result.cycles = r.cycles;
  result.seconds = r.seconds;
  result.instructions = r.engines[0].instructions;
  result.simulated = kernel.metric == ReferenceMetric::cycles
                         ? static_cast<double>(r.cycles)
                         : (r.seconds > 0 ? kernel.flops / r.seconds / 1e9 : 0.0);
  result.error = result.simulated / kernel.measured - 1.0;
  return result;
}

}  // namespace xpusim::engine
