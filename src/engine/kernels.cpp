#include "engine/kernels.h"

#include <algorithm>

#include "core/error.h"
#include "engine/block_formats.h"

namespace xpusim::engine {
namespace {

constexpr uint64_t kSramLimit = 1 << 20;  // 20-bit operand offsets

void check_fits(uint64_t end, const std::string& kernel) {
  if (end > kSramLimit)
    fail("kernel {}: tiles need {} bytes of SRAM offsets, more than {}", kernel, end, kSramLimit);
}

// Row-streaming vector kernels: for each tile of rows, load inputs (double-buffered), run `body`, store.
struct StreamPlan {
  int64_t rows, cols, tile_rows;
  int inputs;
};

Kernel make_stream_kernel(const std::string& name, const ChipConfig& chip, const KernelShape& s, int inputs,
                          bool load_params, double flops_per_element,
                          const std::function<void(ProgramBuilder&, uint64_t in0, uint64_t in1, uint64_t out,
                                                   uint64_t scratch, uint64_t params, int64_t rows)>& body) {
  (void)chip;
  const int64_t rows = s.m, cols = s.n;
  const uint64_t row_bytes = static_cast<uint64_t>(cols) * 2;
  const int64_t tile_rows =
      std::max<int64_t>(1, std::min<int64_t>(rows, static_cast<int64_t>(65536 / row_bytes)));
  const uint64_t tile_bytes = static_cast<uint64_t>(tile_rows) * row_bytes;
  // Layout: [in0 x2][in1 x2][out x2][scratch][params]
  const uint64_t in0 = 0, in1 = 2 * tile_bytes, out = 4 * tile_bytes, scratch = 6 * tile_bytes,
                 params = 7 * tile_bytes;
  check_fits(params + row_bytes + 4096, name);
  ProgramBuilder b;
  if (load_params)
    b.dma_load(at(static_cast<int64_t>(kDramBias)), at(static_cast<int64_t>(params)), 2,
               static_cast<int64_t>(row_bytes));
  const int64_t tiles = (rows + tile_rows - 1) / tile_rows;
  auto load = [&](int64_t t) {
    const int64_t r = std::min(tile_rows, rows - t * tile_rows);
    const uint64_t off = static_cast<uint64_t>(t % 2) * tile_bytes;
    b.dma_load(at(static_cast<int64_t>(kDramA + static_cast<uint64_t>(t * tile_rows) * row_bytes)),
               at(static_cast<int64_t>(in0 + off)), r, static_cast<int64_t>(row_bytes));
    if (inputs > 1)
      b.dma_load(at(static_cast<int64_t>(kDramB + static_cast<uint64_t>(t * tile_rows) * row_bytes)),
                 at(static_cast<int64_t>(in1 + off)), r, static_cast<int64_t>(row_bytes));
  };
  load(0);
  for (int64_t t = 0; t < tiles; ++t) {
    if (t + 1 < tiles) load(t + 1);
    const int64_t r = std::min(tile_rows, rows - t * tile_rows);
    const uint64_t off = static_cast<uint64_t>(t % 2) * tile_bytes;
    body(b, in0 + off, in1 + off, out + off, scratch, params, r);
    b.dma_store(at(static_cast<int64_t>(kDramOut + static_cast<uint64_t>(t * tile_rows) * row_bytes)),
                at(static_cast<int64_t>(out + off)), r, static_cast<int64_t>(row_bytes));
  }
  b.halt();
  return {name, b.finish(), flops_per_element * static_cast<double>(rows * cols), false};
}

Kernel make_transpose(const ChipConfig& chip, const KernelShape& s) {
  (void)chip;
  // 64 x cols row tiles -> cols x 64 column tiles, stored with a strided DMA into the [cols x rows] output.
  const int64_t rows = s.m, cols = s.n, tile = std::min<int64_t>(64, rows);
  const uint64_t tile_bytes = static_cast<uint64_t>(tile * cols) * 2;
  check_fits(4 * tile_bytes, "transpose");
  ProgramBuilder b;
  const int64_t tiles = (rows + tile - 1) / tile;
  auto load = [&](int64_t t) {
    b.dma_load(at(static_cast<int64_t>(kDramA) + t * tile * cols * 2),
               at(static_cast<int64_t>((t % 2) * tile_bytes)), std::min(tile, rows - t * tile), cols * 2);
  };
  load(0);
  for (int64_t t = 0; t < tiles; ++t) {
    if (t + 1 < tiles) load(t + 1);
    const int64_t r = std::min(tile, rows - t * tile);
    const auto src = static_cast<int64_t>((t % 2) * tile_bytes),
               dst = static_cast<int64_t>(2 * tile_bytes + (t % 2) * tile_bytes);
    b.vtrans({.a = at(src), .c = at(dst), .rows = r, .cols = cols});
    b.dma_store(at(static_cast<int64_t>(kDramOut) + t * tile * 2), at(dst), cols, r * 2, rows * 2);
  }
  b.halt();
  return {"transpose", b.finish(), 0, false};
}

Kernel make_quant(const ChipConfig& chip, const KernelShape& s, bool dequant) {
  (void)chip;
  const int64_t rows = s.m, cols = s.n,
                tile = std::max<int64_t>(1, std::min<int64_t>(rows, 65536 / (cols * 2)));
  const WeightFormat fmt = WeightFormat::ue_if4;
  const auto code_row = static_cast<int64_t>(packed_bytes(fmt, 1, static_cast<size_t>(cols)));
  const auto scale_row = static_cast<int64_t>(scale_bytes(fmt, 1, static_cast<size_t>(cols)));
  const int64_t bf16_tile = tile * cols * 2, code_tile = tile * code_row, scale_tile = tile * scale_row;
  const int64_t slot = bf16_tile + code_tile + scale_tile;  // one buffer set: bf16 | codes | scales
  check_fits(static_cast<uint64_t>(2 * slot), dequant ? "dequant" : "quant");
  ProgramBuilder b;
  const int64_t tiles = (rows + tile - 1) / tile;
  auto base = [&](int64_t t) { return (t % 2) * slot; };
  auto load = [&](int64_t t) {
    const int64_t r = std::min(tile, rows - t * tile);
    if (dequant) {
      b.dma_load(at(static_cast<int64_t>(kDramB) + t * tile * code_row), at(base(t) + bf16_tile), r,
                 code_row);
      b.dma_load(at(static_cast<int64_t>(kDramScales) + t * tile * scale_row),
                 at(base(t) + bf16_tile + code_tile), r, scale_row);
    } else {
      b.dma_load(at(static_cast<int64_t>(kDramA) + t * tile * cols * 2), at(base(t)), r, cols * 2);
    }
  };
  load(0);
  for (int64_t t = 0; t < tiles; ++t) {
    if (t + 1 < tiles) load(t + 1);
    const int64_t r = std::min(tile, rows - t * tile);
    const int64_t x = base(t), codes = x + bf16_tile, scales = codes + code_tile;
    if (dequant) {
      b.dequant({.b = at(codes), .c = at(x), .s = at(scales), .rows = r, .cols = cols}, fmt);
      b.dma_store(at(static_cast<int64_t>(kDramOut) + t * tile * cols * 2), at(x), r, cols * 2);
    } else {
      b.quant({.a = at(x), .c = at(codes), .s = at(scales), .rows = r, .cols = cols}, fmt);
      b.dma_store(at(static_cast<int64_t>(kDramOut) + t * tile * code_row), at(codes), r, code_row);
      b.dma_store(at(static_cast<int64_t>(kDramScales) + t * tile * scale_row), at(scales), r, scale_row);
    }
  }
  b.halt();
  return {dequant ? "dequant_ue-if4" : "quant_ue-if4", b.finish(), 0, false};
}

// Flash-style attention for one head: seq_q = m, seq_kv = n, head_dim = 128. Q tile of 64 rows resident;
// K/V blocks of 64 rows streamed (double-buffered): S = Q·Kᵀ·scale, online softmax (running max/sum in the
// contexts), O = O·corr + P·V, finally O·(1/sum).
Kernel make_flash_attention(const ChipConfig& chip, const KernelShape& s) {
  (void)chip;
  const int64_t hd = 128, blk = 64, tq = std::min<int64_t>(64, s.m);
  const int64_t q_bytes = tq * hd * 2, kv_bytes = blk * hd * 2;
  // Layout: Q x2 | K x2 | V x2 | Vt | S | P | corr | O | PV | recip
  const int64_t q0 = 0, k0 = 2 * q_bytes, v0 = k0 + 2 * kv_bytes, vt = v0 + 2 * kv_bytes, sc = vt + kv_bytes;
  const int64_t p = sc + tq * blk * 2, corr = p + tq * blk * 2, o = corr + 256, pv = o + q_bytes,
                recip = pv + q_bytes;
  check_fits(static_cast<uint64_t>(recip + 256), "flash_attention");
  ProgramBuilder b;
  const int64_t q_tiles = (s.m + tq - 1) / tq, kv_blocks = (s.n + blk - 1) / blk;
  const uint16_t scale = 0x3DB5;  // bf16(1/sqrt(128)) = 0.08837890625
  int64_t step = 0;
  auto load_kv = [&](int64_t block, int64_t slot) {
    b.dma_load(at(static_cast<int64_t>(kDramB) + block * kv_bytes), at(k0 + slot * kv_bytes), blk, hd * 2);
    b.dma_load(at(static_cast<int64_t>(kDramBias) + block * kv_bytes), at(v0 + slot * kv_bytes), blk, hd * 2);
  };
  b.dma_load(at(static_cast<int64_t>(kDramA)), at(q0), tq, hd * 2);
  load_kv(0, 0);
  for (int64_t qt = 0; qt < q_tiles; ++qt) {
    const int64_t rows = std::min(tq, s.m - qt * tq), qbuf = q0 + (qt % 2) * q_bytes;
    if (qt + 1 < q_tiles)
      b.dma_load(at(static_cast<int64_t>(kDramA) + (qt + 1) * q_bytes), at(q0 + ((qt + 1) % 2) * q_bytes),
                 std::min(tq, s.m - (qt + 1) * tq), hd * 2);
    b.ctx(ContextMode::clear, at(0), 0, rows);
    b.vbinary(Opcode::vmul,
              {.a = at(qbuf), .c = at(o), .rows = rows, .cols = hd, .bcast = Broadcast::scalar, .scalar = 0});
    for (int64_t kb = 0; kb < kv_blocks; ++kb, ++step) {
      const int64_t slot = step % 2;
      const bool last = qt + 1 == q_tiles && kb + 1 == kv_blocks;
      if (!last) load_kv((kb + 1) % kv_blocks, (step + 1) % 2);
      b.mm({.a = at(qbuf),
            .b = at(k0 + slot * kv_bytes),
            .c = at(sc),
            .m = rows,
            .n = blk,
            .k = hd,
            .scale = scale});
      b.softmax({.a = at(sc), .c = at(p), .s = at(corr), .rows = rows, .cols = blk}, SoftmaxMode::online);
      b.vtrans({.a = at(v0 + slot * kv_bytes), .c = at(vt), .rows = blk, .cols = hd});
      b.mm({.a = at(p), .b = at(vt), .c = at(pv), .m = rows, .n = hd, .k = blk});
      b.vbinary(Opcode::vmul,
                {.a = at(o), .b = at(corr), .c = at(o), .rows = rows, .cols = hd, .bcast = Broadcast::col});
      b.vbinary(Opcode::vadd, {.a = at(o), .b = at(pv), .c = at(o), .rows = rows, .cols = hd});
    }
    b.ctx(ContextMode::read_recip_sum, at(recip), 0, rows);
    b.vbinary(Opcode::vmul,
              {.a = at(o), .b = at(recip), .c = at(o), .rows = rows, .cols = hd, .bcast = Broadcast::col});
    b.dma_store(at(static_cast<int64_t>(kDramOut) + qt * q_bytes), at(o), rows, hd * 2);
  }
  b.halt();
  const double sq = static_cast<double>(s.m) * static_cast<double>(s.n);
  return {"flash_attention_hd128", b.finish(), 4.0 * sq * hd + 5.0 * sq, true};
}

}  // namespace

std::string matmul_kernel_name(const MatmulKernelOptions& o) {
  std::string name = fmt::format("{}_{}", o.softmax ? "softmax_matmul" : "matmul", weight_format_name(o.fmt));
  if (o.bias) name += "+bias";
  if (o.act.act == Activation::act && o.act.b == kGelu.b) name += "+gelu";
  if (o.act.act == Activation::act && o.act.b == kSilu.b) name += "+silu";
  return name;
}

Kernel make_matmul_kernel(const ChipConfig& chip, const KernelShape& s, const MatmulKernelOptions& o) {
  // Tile sizes: the dot array wants any rows (64 keeps 2 A tiles + 2 B strips + C in 1 MiB); a
  // weight-stationary R x C array wants >= R rows streamed per loaded weight tile and C-wide strips.
  const bool systolic = chip.array == ArrayKind::systolic;
  const int64_t mt = std::min<int64_t>(systolic ? 4 * chip.systolic_rows : 64, s.m);
  const int64_t nt = std::min<int64_t>(systolic ? chip.systolic_cols : 64, s.n), k = s.k;
  const auto code_row = static_cast<int64_t>(packed_bytes(o.fmt, 1, static_cast<size_t>(k)));
  const BlockFormatInfo& info = block_format_info(o.fmt);
  const int64_t scale_row = info.scale_bytes == 0 ? 0 : k / info.block * info.scale_bytes;
  const int64_t a_bytes = mt * k * 2, strip_codes = nt * code_row,
                strip_scales = info.codebook_bytes + nt * scale_row;
  const int64_t strip = (strip_codes + strip_scales + 63) / 64 * 64;
  const int64_t c_bytes = o.softmax ? mt * s.n * 2 : mt * nt * 2;
  // Every buffer gets its own base register, so tiles may exceed the 1 MiB operand offsets.
  enum Buffer { kA0, kA1, kB0, kB1, kBias, kC0, kC1, kSoft, kBufferCount };
  const int64_t sizes[kBufferCount] = {a_bytes, a_bytes, strip,   strip,
                                       s.n * 2, c_bytes, c_bytes, o.softmax ? c_bytes : 64};
  constexpr int kFirstReg = 10;
  ProgramBuilder b;
  int64_t top = 0;
  for (int i = 0; i < kBufferCount; ++i) {
    b.li(kFirstReg + i, top);
    top += (sizes[i] + 127) / 128 * 128;
  }
  if (top > chip.sram_bytes())
    fail("matmul kernel: tiles need {} bytes of SRAM, chip {} has {}", top, chip.name, chip.sram_bytes());
  auto buf = [](int index, int64_t offset = 0) { return at(kFirstReg + index, offset); };
  const int64_t m_tiles = (s.m + mt - 1) / mt, n_strips = (s.n + nt - 1) / nt;
  if (o.bias) b.dma_load(at(static_cast<int64_t>(kDramBias)), buf(kBias), 1, s.n * 2);
  int64_t step = 0;
  auto load_strip = [&](int64_t j, int slot) {
    const int64_t rows = std::min(nt, s.n - j * nt);
    b.dma_load(at(static_cast<int64_t>(kDramB) + j * nt * code_row), buf(kB0 + slot), 1, rows * code_row);
    if (o.fmt != WeightFormat::bf16) {
      if (info.codebook_bytes > 0)
        b.dma_load(at(static_cast<int64_t>(kDramScales)), buf(kB0 + slot, strip_codes), 1,
                   info.codebook_bytes);
      b.dma_load(at(static_cast<int64_t>(kDramScales) + info.codebook_bytes + j * nt * scale_row),
                 buf(kB0 + slot, strip_codes + info.codebook_bytes), 1, rows * scale_row);
    }
  };
  auto load_a = [&](int64_t i) {
    b.dma_load(at(static_cast<int64_t>(kDramA) + i * a_bytes), buf(kA0 + static_cast<int>(i % 2)),
               std::min(mt, s.m - i * mt), k * 2);
  };
  load_a(0);
  load_strip(0, 0);
  for (int64_t i = 0; i < m_tiles; ++i) {
    const int64_t rows = std::min(mt, s.m - i * mt);
    if (i + 1 < m_tiles) load_a(i + 1);
    const int cbuf = kC0 + static_cast<int>(i % 2);
    for (int64_t j = 0; j < n_strips; ++j, ++step) {
      const int64_t cols = std::min(nt, s.n - j * nt);
      const int slot = static_cast<int>(step % 2);
      const bool last = i + 1 == m_tiles && j + 1 == n_strips;
      if (!last) load_strip((j + 1) % n_strips, 1 - slot);  // prefetch the next strip into the other buffer
      const Addr out = o.softmax ? buf(cbuf, j * nt * 2) : buf(kC0 + slot);
      b.mm({.a = buf(kA0 + static_cast<int>(i % 2)),
            .b = buf(kB0 + slot),
            .c = out,
            .s = buf(kB0 + slot, strip_codes),
            .bias = buf(kBias, j * nt * 2),
            .m = rows,
            .n = cols,
            .k = k,
            .ldc = o.softmax ? s.n : cols,
            .fmt = o.fmt,
            .act = o.act,
            .bias_en = o.bias});
      if (!o.softmax)
        b.dma_store(at(static_cast<int64_t>(kDramOut) + (i * mt * s.n + j * nt) * 2), out, rows, cols * 2,
                    s.n * 2);
    }
    if (o.softmax) {
      b.softmax({.a = buf(cbuf), .c = buf(kSoft), .rows = rows, .cols = s.n}, SoftmaxMode::full);
      b.dma_store(at(static_cast<int64_t>(kDramOut) + i * mt * s.n * 2), buf(kSoft), rows, s.n * 2);
    }
  }
  b.halt();
  const double flops =
      2.0 * static_cast<double>(s.m * s.n * s.k) + (o.softmax ? 5.0 * static_cast<double>(s.m * s.n) : 0.0);
  return {matmul_kernel_name(o), b.finish(), flops, true};
}

const std::vector<KernelSpec>& kernel_table() {
  static const std::vector<KernelSpec> table = [] {
    std::vector<KernelSpec> t;
    auto matmul = [&](WeightFormat fmt, ActivationPreset act, bool bias, bool softmax) {
      MatmulKernelOptions o{fmt, act, bias, softmax};
      t.push_back({matmul_kernel_name(o),
                   [o](const ChipConfig& c, const KernelShape& s) { return make_matmul_kernel(c, s, o); }});
    };
    for (int f = 0; f < static_cast<int>(WeightFormat::COUNT); ++f)
      matmul(static_cast<WeightFormat>(f), {}, false, false);
    matmul(WeightFormat::bf16, kGelu, true, false);
    matmul(WeightFormat::bf16, kSilu, true, false);
    matmul(WeightFormat::ue_if4, kSilu, true, false);
    matmul(WeightFormat::bf16, {}, false, true);
    using B = ProgramBuilder;
    auto v = [](uint64_t a, uint64_t b2, uint64_t c, int64_t rows, int64_t cols) {
      return VectorArgs{.a = at(static_cast<int64_t>(a)),
                        .b = at(static_cast<int64_t>(b2)),
                        .c = at(static_cast<int64_t>(c)),
                        .rows = rows,
                        .cols = cols};
    };
    t.push_back({"add", [v](const ChipConfig& c, const KernelShape& s) {
                   return make_stream_kernel(
                       "add", c, s, 2, false, 1,
                       [&](B& b, uint64_t x, uint64_t y, uint64_t out, uint64_t, uint64_t, int64_t r) {
                         b.vbinary(Opcode::vadd, v(x, y, out, r, s.n));
                       });
                 }});
    t.push_back({"mul", [v](const ChipConfig& c, const KernelShape& s) {
                   return make_stream_kernel(
                       "mul", c, s, 2, false, 1,
                       [&](B& b, uint64_t x, uint64_t y, uint64_t out, uint64_t, uint64_t, int64_t r) {
                         b.vbinary(Opcode::vmul, v(x, y, out, r, s.n));
                       });
                 }});
    t.push_back({"scalar_mul", [v](const ChipConfig& c, const KernelShape& s) {
                   return make_stream_kernel(
                       "scalar_mul", c, s, 1, false, 1,
                       [&](B& b, uint64_t x, uint64_t, uint64_t out, uint64_t, uint64_t, int64_t r) {
                         VectorArgs a = v(x, 0, out, r, s.n);
                         a.bcast = Broadcast::scalar;
                         a.scalar = 0x3FC0;
                         b.vbinary(Opcode::vmul, a);
                       });
                 }});
    t.push_back({"rmsnorm", [v](const ChipConfig& c, const KernelShape& s) {
                   return make_stream_kernel("rmsnorm", c, s, 1, true, 4,
                                             [&](B& b, uint64_t x, uint64_t, uint64_t out, uint64_t scratch,
                                                 uint64_t gamma, int64_t r) {
                                               VectorArgs red = v(x, 0, scratch, r, s.n);
                                               red.scalar = 0x3727;  // eps ~1e-5
                                               b.vred(red, ReduceMode::rms_inv);
                                               VectorArgs norm = v(x, scratch, out, r, s.n);
                                               norm.bcast = Broadcast::col;
                                               b.vbinary(Opcode::vmul, norm);
                                               VectorArgs g = v(out, gamma, out, r, s.n);
                                               g.bcast = Broadcast::row;
                                               b.vbinary(Opcode::vmul, g);
                                             });
                 }});
    t.push_back(
        {"layernorm", [v](const ChipConfig& c, const KernelShape& s) {
           return make_stream_kernel(
               "layernorm", c, s, 1, true, 7,
               [&](B& b, uint64_t x, uint64_t, uint64_t out, uint64_t scratch, uint64_t params, int64_t r) {
                 b.vred(v(x, 0, scratch, r, s.n), ReduceMode::mean);
                 VectorArgs center = v(x, scratch, out, r, s.n);
                 center.bcast = Broadcast::col;
                 b.vbinary(Opcode::vsub, center);
                 VectorArgs red = v(out, 0, scratch + 8192, r, s.n);
                 red.scalar = 0x3727;
                 b.vred(red, ReduceMode::rms_inv);
                 VectorArgs norm = v(out, scratch + 8192, out, r, s.n);
                 norm.bcast = Broadcast::col;
                 b.vbinary(Opcode::vmul, norm);
                 VectorArgs g = v(out, params, out, r, s.n);
                 g.bcast = Broadcast::row;
                 b.vbinary(Opcode::vmul, g);
                 VectorArgs beta = v(out, params + static_cast<uint64_t>(s.n) * 2, out, r, s.n);
                 beta.bcast = Broadcast::row;
                 b.vbinary(Opcode::vadd, beta);
               });
         }});
    t.push_back({"transpose", make_transpose});
    t.push_back(
        {"quant_ue-if4", [](const ChipConfig& c, const KernelShape& s) { return make_quant(c, s, false); }});
    t.push_back(
        {"dequant_ue-if4", [](const ChipConfig& c, const KernelShape& s) { return make_quant(c, s, true); }});
    t.push_back({"flash_attention_hd128", make_flash_attention});
    return t;
  }();
  return table;
}

}  // namespace xpusim::engine
