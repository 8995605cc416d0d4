// The ISA table: one OpSpec row per instruction (see isa.h for what is generated from it).
// Layout convention (bit ranges are per instruction; the table test proves no overlap within a row):
//   [7:0] opcode; scalar ops rd [13:8], rs [19:14], rt [25:20], imm/target [57:26];
//   compute ops: base registers from bit 8, 20-bit SRAM byte offsets after them, shapes, then modes.
#include <algorithm>
#include <array>

#include "core/error.h"
#include "engine/isa.h"
#include "engine/ops.h"

namespace xpusim::engine {
namespace {

using K = OperandKind;
using D = Decoded;

constexpr std::string_view kWeightFormatList[] = {
    "bf16", "ue-int4", "ue-fp4", "ue-if4", "ue-int8", "ue-fp8", "ue-if8", "ue-tq4", "mxfp4", "nvfp4", "if4"};
constexpr std::string_view kActivationList[] = {"none",  "act",   "act_nox", "tanh", "clamp",
                                                "recip", "rsqrt", "log",     "exp"};
constexpr std::string_view kBroadcastList[] = {"none", "row", "col", "scalar"};
constexpr std::string_view kReduceList[] = {"sum", "max", "mean", "rms_inv", "meanvar"};
constexpr std::string_view kSoftmaxList[] = {"full", "online"};
constexpr std::string_view kContextList[] = {"clear", "read_max", "read_sum", "read_recip_sum"};
static_assert(std::size(kWeightFormatList) == static_cast<size_t>(WeightFormat::COUNT));
static_assert(std::size(kActivationList) == static_cast<size_t>(Activation::COUNT));
static_assert(std::size(kBroadcastList) == static_cast<size_t>(Broadcast::COUNT));
static_assert(std::size(kReduceList) == static_cast<size_t>(ReduceMode::COUNT));
static_assert(std::size(kSoftmaxList) == static_cast<size_t>(SoftmaxMode::COUNT));
static_assert(std::size(kContextList) == static_cast<size_t>(ContextMode::COUNT));

}  // namespace

const EnumTable kWeightFormatNames{kWeightFormatList};
const EnumTable kActivationNames{kActivationList};
const EnumTable kBroadcastNames{kBroadcastList};
const EnumTable kReduceModeNames{kReduceList};
const EnumTable kSoftmaxModeNames{kSoftmaxList};
const EnumTable kContextModeNames{kContextList};

namespace {

// ---- scalar / control operands ----
constexpr Operand kRd{"rd", K::reg, {8, 6}, &D::rd, {}, nullptr, nullptr, false, "destination register"};
constexpr Operand kRs{"rs", K::reg, {14, 6}, &D::rs, {}, nullptr, nullptr, false, "source register"};
constexpr Operand kRt{"rt", K::reg, {20, 6}, &D::rt, {}, nullptr, nullptr, false, "second source register"};
constexpr Operand kImm{
    "imm", K::simm, {26, 32}, &D::imm, {}, nullptr, nullptr, false, "32-bit signed immediate"};
constexpr Operand kShift{"imm", K::uimm, {26, 5}, &D::imm, {}, nullptr, nullptr, false, "shift amount 0..31"};
constexpr Operand kTarget{"target",   K::target, {26, 32},
                          &D::target, {},        nullptr,
                          nullptr,    false,     "absolute instruction index (or label)"};
constexpr Operand kRel{"off",      K::rel, {26, 32},
                       &D::target, {},     nullptr,
                       nullptr,    false,  "signed instruction offset from this instruction (or label)"};
constexpr Operand kStreamMask{"streams", K::uimm, {58, 16},
                              &D::mask,  {},      nullptr,
                              nullptr,   true,    "bit i set: advance address stream i"};
constexpr Operand kSid{"sid", K::uimm, {20, 4}, &D::sid, {}, nullptr, nullptr, false, "address stream 0..15"};
constexpr Operand kStride{"stride", K::simm, {26, 32},
                          &D::imm,  {},      nullptr,
                          nullptr,  false,   "added to the register at each advance"};
constexpr Operand kSem{"sem", K::uimm, {8, 8}, &D::sem, {}, nullptr, nullptr, false, "semaphore index"};
constexpr Operand kSemUntilClear{"until_clear", K::uimm, {16, 1},
                                 &D::value,     {},      nullptr,
                                 nullptr,       true,    "1: wait until the flag is 0 instead of 1"};
constexpr Operand kTimeout{"timeout",   K::uimm, {26, 32},
                           &D::timeout, {},      nullptr,
                           nullptr,     true,    "cycles before a timeout fault; 0 = chip default"};
constexpr Operand kLdAddr{"addr",  K::mem,  {26, 24},
                          &D::imm, {14, 6}, &D::rs,
                          nullptr, false,   "SRAM byte address: register + 24-bit offset (4 bytes read)"};
constexpr Operand kMarkId{"id", K::uimm, {8, 16}, &D::id, {}, nullptr, nullptr, false, "marker id"};

// ---- DMA operands ----
constexpr Operand kDram{"dram",       K::mem, {26, 32},
                        &D::dram_off, {8, 6}, &D::dram_reg,
                        nullptr,      false,  "DRAM byte address: register + 32-bit offset"};
constexpr Operand kSram{"sram",       K::mem,  {64, 24},
                        &D::sram_off, {14, 6}, &D::sram_reg,
                        nullptr,      false,   "SRAM byte address: register + 24-bit offset"};
constexpr Operand kDmaRows{"rows", K::uimm, {88, 16}, &D::rows, {}, nullptr, nullptr, false, "row count"};
constexpr Operand kRowBytes{"bytes", K::uimm, {104, 24}, &D::row_bytes,  {},
                            nullptr, nullptr, false,     "bytes per row"};
constexpr Operand kDramStride{"dstride",       K::uimm, {128, 32},
                              &D::dram_stride, {},      nullptr,
                              nullptr,         true,    "DRAM bytes between rows (0 = bytes: contiguous)"};
constexpr Operand kSramStride{"sstride",       K::uimm, {160, 24},
                              &D::sram_stride, {},      nullptr,
                              nullptr,         true,    "SRAM bytes between rows (0 = bytes: contiguous)"};

// ---- compute operands (vector family layout) ----
constexpr Operand kA{"a", K::mem, {26, 20}, &D::a_off, {8, 6}, &D::a_reg, nullptr, false, "input A (SRAM)"};
constexpr Operand kB{"b", K::mem, {46, 20}, &D::b_off, {14, 6}, &D::b_reg, nullptr, false, "input B (SRAM)"};
constexpr Operand kC{"c", K::mem, {66, 20}, &D::c_off, {20, 6}, &D::c_reg, nullptr, false, "output C (SRAM)"};
constexpr Operand kS{
    "s", K::mem, {226, 20}, &D::s_off, {220, 6}, &D::s_reg, nullptr, false, "second output / scales (SRAM)"};
constexpr Operand kSOpt{"s",       K::mem,   {226, 20},
                        &D::s_off, {220, 6}, &D::s_reg,
                        nullptr,   true,     "optional second output (SRAM; omitted = not written)"};
constexpr Operand kRows{"rows", K::uimm, {86, 16}, &D::m, {}, nullptr, nullptr, false, "rows"};
constexpr Operand kCols{"cols", K::uimm, {102, 16}, &D::cols, {}, nullptr, nullptr, false, "columns"};
constexpr Operand kLda{
    "lda", K::uimm, {118, 16}, &D::lda, {}, nullptr, nullptr, true, "A row stride in elements (0 = cols)"};
constexpr Operand kLdb{
    "ldb", K::uimm, {134, 16}, &D::ldb, {}, nullptr, nullptr, true, "B row stride in elements (0 = cols)"};
constexpr Operand kLdcV{"ldc",   K::uimm, {150, 16},
                        &D::ldc, {},      nullptr,
                        nullptr, true,    "C row stride in elements (0 = natural width)"};
constexpr Operand kBcast{"bcast",
                         K::enumer,
                         {166, 2},
                         &D::bcast,
                         {},
                         nullptr,
                         &kBroadcastNames,
                         true,
                         "B operand shape: none (rows x cols), row (1 x cols), col (rows x 1), scalar"};
constexpr Operand kScalar{
    "scalar", K::bf16, {168, 16}, &D::scale, {}, nullptr, nullptr, true, "bf16 scalar operand"};
constexpr Operand kEps{"eps",     K::bf16, {168, 16},
                       &D::scale, {},      nullptr,
                       nullptr,   true,    "bf16 epsilon added to mean(x^2) / var"};
constexpr Operand kPreScale{"scale",   K::bf16, {168, 16},
                            &D::scale, {},      nullptr,
                            nullptr,   true,    "bf16 factor applied to x first (0 = 1.0)"};
constexpr Operand kVMode{"mode",  K::enumer,         {184, 3}, &D::mode,   {},
                         nullptr, &kReduceModeNames, false,    "reduction"};
constexpr Operand kSoftMode{"mode",
                            K::enumer,
                            {184, 3},
                            &D::mode,
                            {},
                            nullptr,
                            &kSoftmaxModeNames,
                            false,
                            "full row softmax, or online (running max/sum in contexts)"};
constexpr Operand kCtxMode{"mode",  K::enumer,          {184, 3}, &D::mode,           {},
                           nullptr, &kContextModeNames, false,    "context operation"};
constexpr Operand kVAct{"act",   K::enumer,         {188, 4}, &D::act,     {},
                        nullptr, &kActivationNames, false,    "activation"};
constexpr Operand kVActA{"act_a", K::bf16, {192, 16}, &D::act_a, {}, nullptr, nullptr, true, "parameter a"};
constexpr Operand kVActB{"act_b", K::bf16, {208, 16}, &D::act_b, {}, nullptr, nullptr, true, "parameter b"};
constexpr Operand kCtx{"ctx", K::uimm, {188, 6}, &D::ctx, {}, nullptr, nullptr, true, "first context index"};
constexpr Operand kCount{"count", K::uimm, {194, 7}, &D::count,           {},
                         nullptr, nullptr, false,    "number of contexts"};
constexpr Operand kTopK{"k", K::uimm, {194, 4}, &D::count, {}, nullptr, nullptr, false, "k (1..8)"};
constexpr Operand kVFmt{"fmt",   K::enumer,           {202, 4}, &D::fmt,        {},
                        nullptr, &kWeightFormatNames, false,    "packed format"};

// ---- matmul layout (uses all 256 bits) ----
constexpr Operand kMmA{
    "a", K::mem, {38, 20}, &D::a_off, {8, 6}, &D::a_reg, nullptr, false, "A [m x k] bf16, dense (SRAM)"};
constexpr Operand kMmB{
    "b", K::mem, {58, 20}, &D::b_off, {14, 6}, &D::b_reg, nullptr, false, "B [n x k] in fmt, dense (SRAM)"};
constexpr Operand kMmC{"c",       K::mem,  {78, 20},
                       &D::c_off, {20, 6}, &D::c_reg,
                       nullptr,   false,   "C [m x n] bf16, row stride ldc (SRAM)"};
constexpr Operand kMmS{"s",       K::mem,  {98, 20},
                       &D::s_off, {26, 6}, &D::s_reg,
                       nullptr,   true,    "B scales [n x k/block] (tq4: 32-byte codebook first)"};
constexpr Operand kMmBias{"bias",       K::mem,  {118, 20},
                          &D::bias_off, {32, 6}, &D::bias_reg,
                          nullptr,      true,    "bias [n] bf16 (used when bias_en=1)"};
constexpr Operand kMmM{"m", K::uimm, {138, 12}, &D::m, {}, nullptr, nullptr, false, "rows of A / C"};
constexpr Operand kMmN{
    "n", K::uimm, {150, 16}, &D::n, {}, nullptr, nullptr, false, "rows of B = columns of C"};
constexpr Operand kMmK{"k", K::uimm, {166, 16}, &D::k, {}, nullptr, nullptr, false, "reduction length"};
constexpr Operand kMmLdc{
    "ldc", K::uimm, {182, 16}, &D::ldc, {}, nullptr, nullptr, true, "C row stride in elements (0 = n)"};
constexpr Operand kMmFmt{"fmt",
                         K::enumer,
                         {198, 4},
                         &D::fmt,
                         {},
                         nullptr,
                         &kWeightFormatNames,
                         true,
                         "format of B (default bf16)"};
constexpr Operand kMmAct{"act",   K::enumer,         {202, 4}, &D::act,           {},
                         nullptr, &kActivationNames, true,     "fused activation"};
constexpr Operand kMmBiasEn{"bias_en",   K::uimm, {206, 1},
                            &D::bias_en, {},      nullptr,
                            nullptr,     true,    "add bias before scale/activation"};
constexpr Operand kMmFmaxEn{"fmax_en",   K::uimm, {207, 1},
                            &D::fmax_en, {},      nullptr,
                            nullptr,     true,    "fold each output row's max into context[row]"};
constexpr Operand kMmActA{"act_a", K::bf16, {208, 16}, &D::act_a, {}, nullptr, nullptr, true, "activation a"};
constexpr Operand kMmActB{"act_b", K::bf16, {224, 16}, &D::act_b, {}, nullptr, nullptr, true, "activation b"};
constexpr Operand kMmScale{"scale",   K::bf16, {240, 16},
                           &D::scale, {},      nullptr,
                           nullptr,   true,    "output scale (0 = 1.0), applied after bias"};

constexpr std::span<const Operand> kNone{};

constexpr Operand kRegImm[] = {kRd, kImm};
constexpr Operand kRegRegReg[] = {kRd, kRs, kRt};
constexpr Operand kRegRegImm[] = {kRd, kRs, kImm};
constexpr Operand kRegRegShift[] = {kRd, kRs, kShift};
constexpr Operand kJmpAbs[] = {kTarget};
constexpr Operand kJmpRel[] = {kRel};
constexpr Operand kJmpReg[] = {kRs};
constexpr Operand kCondAbs[] = {kRs, kTarget};
constexpr Operand kCondRel[] = {kRs, kRel};
constexpr Operand kLoop[] = {kRd, kRel, kStreamMask};
constexpr Operand kStreamOps[] = {kSid, kRd, kStride};
constexpr Operand kSemOne[] = {kSem};
constexpr Operand kSemWait[] = {kSem, kSemUntilClear, kTimeout};
constexpr Operand kMark[] = {kMarkId};
constexpr Operand kLdOps[] = {kRd, kLdAddr};
constexpr Operand kDma[] = {kDram, kSram, kDmaRows, kRowBytes, kDramStride, kSramStride};
constexpr Operand kMm[] = {kMmA,   kMmB,   kMmC,   kMmS,      kMmBias,   kMmM,    kMmN,    kMmK,
                           kMmLdc, kMmFmt, kMmAct, kMmBiasEn, kMmFmaxEn, kMmActA, kMmActB, kMmScale};
constexpr Operand kVBin[] = {kA, kB, kC, kRows, kCols, kLda, kLdb, kLdcV, kBcast, kScalar};
constexpr Operand kVActOps[] = {kA, kC, kRows, kCols, kLda, kLdcV, kVAct, kVActA, kVActB};
constexpr Operand kVRed[] = {kA, kC, kRows, kCols, kLda, kVMode, kEps};
constexpr Operand kSoftmaxOps[] = {kA, kC, kSOpt, kRows, kCols, kLda, kLdcV, kSoftMode, kCtx, kPreScale};
constexpr Operand kCtxOps[] = {kC, kCtxMode, kCtx, kCount};
constexpr Operand kTransOps[] = {kA, kC, kRows, kCols, kLda, kLdcV};
constexpr Operand kQuantOps[] = {kA, kC, kS, kRows, kCols, kLda, kVFmt};
constexpr Operand kDequantOps[] = {kB, kC, kS, kRows, kCols, kLdcV, kVFmt};
constexpr Operand kTopkOps[] = {kA, kC, kSOpt, kRows, kCols, kLda, kTopK};

using U = Unit;
using L = LatencyClass;
using O = Opcode;

constexpr OpSpec kOpTable[] = {
    {"nop", O::nop, U::frontend, L::none, kNone, nullptr, "no operation (one issue slot)"},
    {"halt", O::halt, U::frontend, L::none, kNone, nullptr, "wait for every unit to drain, then stop"},
    {"mark", O::mark, U::frontend, L::none, kMark, nullptr,
     "trace marker: records (id, cycle) in the trace buffer once prior work has drained"},
    {"fence", O::fence, U::frontend, L::none, kNone, nullptr, "wait until every unit is idle"},
    {"li", O::li, U::frontend, L::alu, kRegImm, nullptr, "rd = imm"},
    {"add", O::add, U::frontend, L::alu, kRegRegReg, nullptr, "rd = rs + rt (32-bit wrap)"},
    {"addi", O::addi, U::frontend, L::alu, kRegRegImm, nullptr, "rd = rs + imm"},
    {"sub", O::sub, U::frontend, L::alu, kRegRegReg, nullptr, "rd = rs - rt"},
    {"mul", O::mul, U::frontend, L::mul, kRegRegReg, nullptr, "rd = rs * rt (low 32 bits, pipelined)"},
    {"muli", O::muli, U::frontend, L::mul, kRegRegImm, nullptr, "rd = rs * imm"},
    {"shl", O::shl, U::frontend, L::alu, kRegRegShift, nullptr, "rd = rs << imm"},
    {"shr", O::shr, U::frontend, L::alu, kRegRegShift, nullptr, "rd = rs >> imm (logical)"},
    {"min", O::min, U::frontend, L::alu, kRegRegReg, nullptr, "rd = min(rs, rt) unsigned"},
    {"max", O::max, U::frontend, L::alu, kRegRegReg, nullptr, "rd = max(rs, rt) unsigned"},
    {"div", O::div, U::frontend, L::div, kRegRegReg, nullptr,
     "rd = rs / rt unsigned (sequential divider; rt = 0 faults)"},
    {"ld", O::ld, U::frontend, L::alu, kLdOps, nullptr,
     "rd = u32 (little-endian) at SRAM addr, once every in-flight op writing those 4 bytes is ready; "
     "timing-only runs read 0"},
    {"jmp", O::jmp, U::frontend, L::branch, kJmpAbs, nullptr,
     "jump to target (may refill the i-cache window)"},
    {"jmp.rel", O::jmp_rel, U::frontend, L::branch, kJmpRel, nullptr, "jump by off instructions"},
    {"jmp.reg", O::jmp_reg, U::frontend, L::branch, kJmpReg, nullptr, "jump to the index held in rs"},
    {"jz", O::jz, U::frontend, L::branch, kCondAbs, nullptr, "jump to target if rs == 0"},
    {"jnz", O::jnz, U::frontend, L::branch, kCondAbs, nullptr, "jump to target if rs != 0"},
    {"bz", O::bz, U::frontend, L::branch, kCondRel, nullptr, "branch by off if rs == 0"},
    {"bnz", O::bnz, U::frontend, L::branch, kCondRel, nullptr, "branch by off if rs != 0"},
    {"loop", O::loop, U::frontend, L::branch, kLoop, nullptr,
     "rd -= 1; advance the selected address streams; branch by off if rd != 0"},
    {"stream", O::stream, U::frontend, L::alu, kStreamOps, nullptr,
     "bind address stream sid to register rd with a per-advance stride"},
    {"sem.set", O::sem_set, U::frontend, L::sem, kSemOne, nullptr,
     "after all prior work drains, set shared semaphore flag sem to 1"},
    {"sem.clr", O::sem_clr, U::frontend, L::sem, kSemOne, nullptr,
     "after all prior work drains, clear shared semaphore flag sem"},
    {"sem.wait", O::sem_wait, U::frontend, L::sem, kSemWait, nullptr,
     "stall until flag sem is 1 (until_clear=1: is 0); faults after timeout cycles"},
    {"dma.ld", O::dma_ld, U::dma_load, L::dma, kDma, op_dma_load,
     "2-D strided copy DRAM -> SRAM (raw bytes: bf16 or packed block formats)"},
    {"dma.st", O::dma_st, U::dma_store, L::dma, kDma, op_dma_store, "2-D strided copy SRAM -> DRAM"},
    {"mm", O::mm, U::matrix, L::dot, kMm, op_matmul,
     "C = act((A . B^T + bias) * scale); B in bf16 or a packed block format"},
    {"vadd", O::vadd, U::vector, L::vec, kVBin, op_vadd, "C = A + B (B broadcast per bcast)"},
    {"vsub", O::vsub, U::vector, L::vec, kVBin, op_vsub, "C = A - B"},
    {"vmul", O::vmul, U::vector, L::vec, kVBin, op_vmul, "C = A * B"},
    {"vmax", O::vmax, U::vector, L::vec, kVBin, op_vmax, "C = max(A, B)"},
    {"vact", O::vact, U::vector, L::act, kVActOps, op_vact, "C = act(A) through the activation unit"},
    {"vred", O::vred, U::vector, L::reduce, kVRed, op_vreduce,
     "per row: sum, max, mean, 1/sqrt(mean(x^2)+eps), or (mean, 1/sqrt(var+eps)) -> C"},
    {"softmax", O::softmax, U::vector, L::exp, kSoftmaxOps, op_softmax,
     "row softmax; online: exp(x - running max) with running sum in contexts, correction -> s"},
    {"ctx", O::ctx, U::vector, L::vec, kCtxOps, op_context,
     "clear softmax contexts (max=-inf, sum=0) or read max / sum / 1/sum as bf16 -> C"},
    {"vtrans", O::vtrans, U::vector, L::trans, kTransOps, op_transpose, "C[cols x rows] = A^T"},
    {"quant", O::quant, U::vector, L::quant, kQuantOps, op_quantize,
     "quantize bf16 rows to a packed ue-* format: codes -> C, scales -> S"},
    {"dequant", O::dequant, U::vector, L::quant, kDequantOps, op_dequantize,
     "decode packed B (codes) + S (scales) to bf16 rows -> C"},
    {"topk", O::topk, U::vector, L::topk, kTopkOps, op_topk,
     "per row: indices (u32) of the k largest values -> C, their values (bf16) -> s; ties: lower index"},
};

}  // namespace

std::span<const OpSpec> op_table() { return kOpTable; }

const OpSpec* op_by_opcode(uint8_t opcode) {
  static const std::array<const OpSpec*, 256> index = [] {
    std::array<const OpSpec*, 256> table{};
    for (const OpSpec& spec : kOpTable) table[static_cast<uint8_t>(spec.opcode)] = &spec;
    return table;
  }();
  return index[opcode];
}

const OpSpec* op_by_mnemonic(std::string_view mnemonic) {
  for (const OpSpec& spec : kOpTable)
    if (spec.mnemonic == mnemonic) return &spec;
  return nullptr;
}

const OpSpec& op_spec(Opcode opcode) {
  const OpSpec* spec = op_by_opcode(static_cast<uint8_t>(opcode));
  XPUSIM_ASSERT(spec != nullptr);
  return *spec;
}

std::string_view weight_format_name(WeightFormat format) {
  return kWeightFormatList[static_cast<size_t>(format)];
}

std::string_view unit_name(Unit unit) {
  constexpr std::string_view names[] = {"frontend", "dma_load", "dma_store", "matrix", "vector"};
  return names[static_cast<size_t>(unit)];
}

std::string_view latency_class_name(LatencyClass cls) {
  constexpr std::string_view names[] = {"none", "alu", "mul", "div",    "branch", "sem",   "dma", "dot",
                                        "vec",  "act", "exp", "reduce", "trans",  "quant", "topk"};
  static_assert(std::size(names) == kLatencyClassCount);
  return names[static_cast<size_t>(cls)];
}

}  // namespace xpusim::engine
