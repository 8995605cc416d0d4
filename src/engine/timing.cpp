#include "engine/timing.h"

#include <algorithm>

#include "core/error.h"
#include "engine/block_formats.h"
#include "engine/ops.h"

namespace xpusim::engine {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

ByteRange sram_range(const ChipConfig& chip, const EngineState& state, std::string_view name, int64_t reg,
                     int64_t offset, uint64_t bytes, uint64_t align) {
  const uint64_t begin = state.address(reg, offset);
  const uint64_t end = begin + bytes;
  const auto size = static_cast<uint64_t>(chip.sram_bytes());
  if (end > size)
    fail("SRAM overflow: operand {} covers [0x{:x}, 0x{:x}) but SRAM is 0x{:x} bytes", name, begin, end,
         size);
  if (begin % align != 0)
    fail("misaligned operand {}: address 0x{:x} is not a multiple of {}", name, begin, align);
  return {begin, end};
}

// Bytes spanned by `rows` rows of `row_elems` bf16 elements with a row stride of `ld` elements.
uint64_t span2(int64_t rows, int64_t ld, int64_t row_elems) {
  return 2 * static_cast<uint64_t>((rows - 1) * ld + row_elems);
}

void require(bool ok, std::string_view what) {
  if (!ok) fail("bad operand: {}", what);
}

void need_shape(int64_t rows, int64_t cols) { require(rows >= 1 && cols >= 1, "rows and cols must be >= 1"); }

int64_t vector_busy(const ChipConfig& chip, int64_t rows, int64_t cols, int64_t passes) {
  return passes * rows * ceil_div(cols, chip.vector_lanes);
}

Unit vector_unit(const ChipConfig& chip) { return chip.shared_vector_unit ? Unit::matrix : Unit::vector; }

void plan_dma(const ChipConfig& chip, const EngineState& state, const Decoded& d, OpPlan& p, bool store) {
  require(d.rows >= 1 && d.row_bytes >= 1, "rows and bytes must be >= 1");
  const int64_t dstride = stride_or(d.dram_stride, d.row_bytes);
  const int64_t sstride = stride_or(d.sram_stride, d.row_bytes);
  const uint64_t dram_begin = state.address(d.dram_reg, d.dram_off);
  const uint64_t dram_end = dram_begin + static_cast<uint64_t>((d.rows - 1) * dstride + d.row_bytes);
  if (dram_end > chip.dram_bytes())
    fail("address out of range: DRAM [0x{:x}, 0x{:x}) is beyond the {} MiB DRAM", dram_begin, dram_end,
         chip.dram_size_mib);
  const ByteRange sram = sram_range(chip, state, "sram", d.sram_reg, d.sram_off,
                                    static_cast<uint64_t>((d.rows - 1) * sstride + d.row_bytes), 1);
  if (store)
    p.read(sram);
  else
    p.write(sram);
  p.dram = {dram_begin, dram_end};
  p.has_dram = true;
  p.dram_write = store;
  const int64_t total = d.rows * d.row_bytes;
  const int64_t bursts = dstride == d.row_bytes ? ceil_div(total, chip.dram_burst_bytes)
                                                : d.rows * ceil_div(d.row_bytes, chip.dram_burst_bytes);
  const int64_t port =
      ceil_div(total, chip.dma_port_bytes_per_cycle) + bursts * chip.dram_burst_overhead_cycles;
  const int64_t outstanding = ceil_div(bursts * chip.dram_latency_cycles, chip.dram_max_outstanding);
  p.unit = store ? Unit::dma_store : Unit::dma_load;
  p.busy = std::max(port, outstanding);
  p.latency = chip.dram_latency_cycles + chip.latency(LatencyClass::dma);
  p.dram_bytes = static_cast<uint64_t>(total);
}

void plan_matmul(const ChipConfig& chip, const EngineState& state, const Decoded& d, OpPlan& p) {
  require(d.m >= 1 && d.n >= 1 && d.k >= 1, "m, n, k must be >= 1");
  const auto format = static_cast<WeightFormat>(d.fmt);
  const BlockFormatInfo& info = block_format_info(format);
  if (d.k % info.block != 0)
    fail("bad operand: k = {} is not a multiple of the {} block size {}", d.k, weight_format_name(format),
         info.block);
  const int64_t ldc = stride_or(d.ldc, d.n);
  require(ldc >= d.n, "ldc must be >= n");
  if (d.fmax_en && d.m > chip.softmax_contexts)
    fail("bad operand: fmax_en with m = {} rows but the chip has {} softmax contexts", d.m,
         chip.softmax_contexts);
  const auto m = static_cast<uint64_t>(d.m), n = static_cast<uint64_t>(d.n), k = static_cast<uint64_t>(d.k);
  p.read(sram_range(chip, state, "a", d.a_reg, d.a_off, 2 * m * k, 2));
  p.read(sram_range(chip, state, "b", d.b_reg, d.b_off, packed_bytes(format, n, k),
                    info.code_bits == 16 ? 2 : 1));
  if (format != WeightFormat::bf16)
    p.read(sram_range(chip, state, "s", d.s_reg, d.s_off, scale_bytes(format, n, k), 1));
  if (d.bias_en) p.read(sram_range(chip, state, "bias", d.bias_reg, d.bias_off, 2 * n, 2));
  p.write(sram_range(chip, state, "c", d.c_reg, d.c_off, span2(d.m, ldc, d.n), 2));
  p.uses_contexts = d.fmax_en != 0;
  p.unit = Unit::matrix;
  p.busy = matmul_busy_cycles(chip, d.m, d.n, d.k);
  // The fused epilogue lengthens the pipeline: bias adder (an element-wise add) then the activation unit.
  p.latency = chip.latency(LatencyClass::dot) + (d.bias_en ? chip.latency(LatencyClass::vec) : 0) +
              (static_cast<Activation>(d.act) != Activation::none ? chip.latency(LatencyClass::act) : 0);
  p.macs = m * n * k;
}

void plan_vector(const ChipConfig& chip, const EngineState& state, const Decoded& d, OpPlan& p) {
  p.unit = vector_unit(chip);
  p.latency = chip.latency(op_spec(d.opcode).latency);
  const int64_t lda = stride_or(d.lda, d.cols), ldb = stride_or(d.ldb, d.cols);
  switch (d.opcode) {
    case Opcode::vadd:
    case Opcode::vsub:
    case Opcode::vmul:
    case Opcode::vmax: {
      need_shape(d.m, d.cols);
      const int64_t ldc = stride_or(d.ldc, d.cols);
      require(lda >= d.cols && ldb >= d.cols && ldc >= d.cols, "row strides must be >= cols");
      p.read(sram_range(chip, state, "a", d.a_reg, d.a_off, span2(d.m, lda, d.cols), 2));
      switch (static_cast<Broadcast>(d.bcast)) {
        case Broadcast::none:
          p.read(sram_range(chip, state, "b", d.b_reg, d.b_off, span2(d.m, ldb, d.cols), 2));
          break;
        case Broadcast::row:
          p.read(sram_range(chip, state, "b", d.b_reg, d.b_off, 2 * static_cast<uint64_t>(d.cols), 2));
          break;
        case Broadcast::col:
          p.read(sram_range(chip, state, "b", d.b_reg, d.b_off, 2 * static_cast<uint64_t>(d.m), 2));
          break;
        default:
          break;
      }
      p.write(sram_range(chip, state, "c", d.c_reg, d.c_off, span2(d.m, ldc, d.cols), 2));
      p.busy = vector_busy(chip, d.m, d.cols, 1);
      break;
    }
    case Opcode::vact: {
      need_shape(d.m, d.cols);
      const int64_t ldc = stride_or(d.ldc, d.cols);
      require(lda >= d.cols && ldc >= d.cols, "row strides must be >= cols");
      p.read(sram_range(chip, state, "a", d.a_reg, d.a_off, span2(d.m, lda, d.cols), 2));
      p.write(sram_range(chip, state, "c", d.c_reg, d.c_off, span2(d.m, ldc, d.cols), 2));
      p.busy = vector_busy(chip, d.m, d.cols, 1);
      break;
    }
    case Opcode::vred: {
      need_shape(d.m, d.cols);
      require(lda >= d.cols, "lda must be >= cols");
      const uint64_t per_row = static_cast<ReduceMode>(d.mode) == ReduceMode::meanvar ? 4 : 2;
      p.read(sram_range(chip, state, "a", d.a_reg, d.a_off, span2(d.m, lda, d.cols), 2));
      p.write(sram_range(chip, state, "c", d.c_reg, d.c_off, per_row * static_cast<uint64_t>(d.m), 2));
      p.busy = vector_busy(chip, d.m, d.cols, 1);
      break;
    }
    case Opcode::softmax: {
      need_shape(d.m, d.cols);
      const int64_t ldc = stride_or(d.ldc, d.cols);
      require(lda >= d.cols && ldc >= d.cols, "row strides must be >= cols");
      const bool online = static_cast<SoftmaxMode>(d.mode) == SoftmaxMode::online;
      if (online && d.ctx + d.m > chip.softmax_contexts)
        fail("bad operand: contexts [{}, {}) exceed the chip's {} softmax contexts", d.ctx, d.ctx + d.m,
             chip.softmax_contexts);
      p.read(sram_range(chip, state, "a", d.a_reg, d.a_off, span2(d.m, lda, d.cols), 2));
      p.write(sram_range(chip, state, "c", d.c_reg, d.c_off, span2(d.m, ldc, d.cols), 2));
      if (online) p.write(sram_range(chip, state, "s", d.s_reg, d.s_off, 2 * static_cast<uint64_t>(d.m), 2));
      p.uses_contexts = online;
      // Passes: max, exp+sum, and (full) normalize.
      p.busy = vector_busy(chip, d.m, d.cols, online ? 2 : 3);
      break;
    }
    case Opcode::ctx: {
      require(d.count >= 1, "count must be >= 1");
      if (d.ctx + d.count > chip.softmax_contexts)
        fail("bad operand: contexts [{}, {}) exceed the chip's {} softmax contexts", d.ctx, d.ctx + d.count,
             chip.softmax_contexts);
      if (static_cast<ContextMode>(d.mode) != ContextMode::clear)
        p.write(sram_range(chip, state, "c", d.c_reg, d.c_off, 2 * static_cast<uint64_t>(d.count), 2));
      p.uses_contexts = true;
      p.busy = ceil_div(d.count, chip.vector_lanes);
      break;
    }
    case Opcode::vtrans: {
      need_shape(d.m, d.cols);
      const int64_t ldc = stride_or(d.ldc, d.m);
      require(lda >= d.cols && ldc >= d.m, "lda must be >= cols and ldc >= rows");
      p.read(sram_range(chip, state, "a", d.a_reg, d.a_off, span2(d.m, lda, d.cols), 2));
      p.write(sram_range(chip, state, "c", d.c_reg, d.c_off, span2(d.cols, ldc, d.m), 2));
      // One pass per row of the longer side, min(rows, cols) elements wide at the transpose rate.
      p.busy = std::max(d.m, d.cols) * ceil_div(std::min(d.m, d.cols), chip.transpose_elements_per_cycle);
      break;
    }
    case Opcode::quant:
    case Opcode::dequant: {
      need_shape(d.m, d.cols);
      const auto format = static_cast<WeightFormat>(d.fmt);
      const BlockFormatInfo& info = block_format_info(format);
      if (format == WeightFormat::bf16)
        fail("bad operand: {} needs a packed format, not bf16", op_spec(d.opcode).mnemonic);
      if (d.cols % info.block != 0)
        fail("bad operand: cols = {} is not a multiple of the block size {}", d.cols, info.block);
      const auto rows = static_cast<uint64_t>(d.m), cols = static_cast<uint64_t>(d.cols);
      if (d.opcode == Opcode::quant) {
        if (!info.quantizable)
          fail("bad operand: the quantize unit cannot produce {}", weight_format_name(format));
        require(lda >= d.cols, "lda must be >= cols");
        p.read(sram_range(chip, state, "a", d.a_reg, d.a_off, span2(d.m, lda, d.cols), 2));
        p.write(sram_range(chip, state, "c", d.c_reg, d.c_off, packed_bytes(format, rows, cols), 1));
        p.write(sram_range(chip, state, "s", d.s_reg, d.s_off, scale_bytes(format, rows, cols), 1));
      } else {
        const int64_t ldc = stride_or(d.ldc, d.cols);
        require(ldc >= d.cols, "ldc must be >= cols");
        p.read(sram_range(chip, state, "b", d.b_reg, d.b_off, packed_bytes(format, rows, cols), 1));
        p.read(sram_range(chip, state, "s", d.s_reg, d.s_off, scale_bytes(format, rows, cols), 1));
        p.write(sram_range(chip, state, "c", d.c_reg, d.c_off, span2(d.m, ldc, d.cols), 2));
      }
      p.busy = vector_busy(chip, d.m, d.cols, 1);
      break;
    }
    case Opcode::topk: {
      need_shape(d.m, d.cols);
      require(d.count >= 1 && d.count <= 8, "k must be 1..8");
      require(d.cols >= d.count, "cols must be >= k");
      require(lda >= d.cols, "lda must be >= cols");
      const auto k = static_cast<uint64_t>(d.count), rows = static_cast<uint64_t>(d.m);
      p.read(sram_range(chip, state, "a", d.a_reg, d.a_off, span2(d.m, lda, d.cols), 2));
      p.write(sram_range(chip, state, "c", d.c_reg, d.c_off, 4 * rows * k, 4));
      p.write(sram_range(chip, state, "s", d.s_reg, d.s_off, 2 * rows * k, 2));
      p.busy = vector_busy(chip, d.m, d.cols, 1);
      break;
    }
    default:
      XPUSIM_ASSERT(false);
  }
  p.vector_elements = static_cast<uint64_t>(std::max<int64_t>(d.m, 1) * std::max<int64_t>(d.cols, 1));
}

}  // namespace

int64_t matmul_busy_cycles(const ChipConfig& chip, int64_t m, int64_t n, int64_t k) {
  if (chip.array == ArrayKind::dot) return m * n * ceil_div(k, chip.dot_lanes);
  const int64_t r = chip.systolic_rows, c = chip.systolic_cols;
  if (chip.dataflow == Dataflow::weight_stationary)
    return ceil_div(k, r) * ceil_div(n, c) * std::max(m, r) + r + c;
  return ceil_div(m, r) * ceil_div(n, c) * std::max(k, r) + r + c;
}

OpPlan plan_op(const ChipConfig& chip, const EngineState& state, const Decoded& d) {
  OpPlan plan;
  switch (d.opcode) {
    case Opcode::dma_ld:
      plan_dma(chip, state, d, plan, false);
      break;
    case Opcode::dma_st:
      plan_dma(chip, state, d, plan, true);
      break;
    case Opcode::mm:
      plan_matmul(chip, state, d, plan);
      break;
    case Opcode::vadd:
    case Opcode::vsub:
    case Opcode::vmul:
    case Opcode::vmax:
    case Opcode::vact:
    case Opcode::vred:
    case Opcode::softmax:
    case Opcode::ctx:
    case Opcode::vtrans:
    case Opcode::quant:
    case Opcode::dequant:
    case Opcode::topk:
      plan_vector(chip, state, d, plan);
      break;
    case Opcode::nop:
    case Opcode::halt:
    case Opcode::mark:
    case Opcode::fence:
    case Opcode::li:
    case Opcode::add:
    case Opcode::addi:
    case Opcode::sub:
    case Opcode::mul:
    case Opcode::muli:
    case Opcode::shl:
    case Opcode::shr:
    case Opcode::min:
    case Opcode::max:
    case Opcode::div:
    case Opcode::ld:
    case Opcode::jmp:
    case Opcode::jmp_rel:
    case Opcode::jmp_reg:
    case Opcode::jz:
    case Opcode::jnz:
    case Opcode::bz:
    case Opcode::bnz:
    case Opcode::loop:
    case Opcode::stream:
    case Opcode::sem_set:
    case Opcode::sem_clr:
    case Opcode::sem_wait:
      XPUSIM_ASSERT(false);
  }
  plan.busy += chip.op_issue_cycles;  // descriptor decode and address-generator setup, serial on the unit
  return plan;
}

}  // namespace xpusim::engine
