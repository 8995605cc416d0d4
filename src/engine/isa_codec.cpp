// Table-driven encoder/decoder for the 256-bit descriptor (isa.h).
#include "core/error.h"
#include "engine/isa.h"

namespace xpusim::engine {

uint64_t get_bits(const Descriptor& d, BitField field) {
  uint64_t value = 0;
  for (int i = 0; i < field.width; ++i) {
    const int bit = field.lsb + i;
    value |= ((d[static_cast<size_t>(bit / 64)] >> (bit % 64)) & 1u) << i;
  }
  return value;
}

void set_bits(Descriptor& d, BitField field, uint64_t value) {
  for (int i = 0; i < field.width; ++i) {
    const int bit = field.lsb + i;
    const uint64_t mask = uint64_t{1} << (bit % 64);
    auto& word = d[static_cast<size_t>(bit / 64)];
    word = ((value >> i) & 1u) ? (word | mask) : (word & ~mask);
  }
}

namespace {

bool is_signed(OperandKind kind) { return kind == OperandKind::simm || kind == OperandKind::rel; }

uint64_t field_value(const OpSpec& spec, const Operand& operand, int64_t value, BitField bits,
                     bool signed_field) {
  const int w = bits.width;
  if (signed_field) {
    const int64_t lo = -(int64_t{1} << (w - 1)), hi = (int64_t{1} << (w - 1)) - 1;
    if (value < lo || value > hi)
      fail("{}: operand '{}' = {} does not fit in {} signed bits", spec.mnemonic, operand.name, value, w);
  } else {
    const uint64_t hi = w >= 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1;
    if (value < 0 || static_cast<uint64_t>(value) > hi)
      fail("{}: operand '{}' = {} does not fit in {} unsigned bits (max {})", spec.mnemonic, operand.name,
           value, w, hi);
  }
  return static_cast<uint64_t>(value) & (w >= 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1);
}

int64_t sign_extend(uint64_t raw, int width) {
  if (width >= 64) return static_cast<int64_t>(raw);
  const uint64_t sign = uint64_t{1} << (width - 1);
  return static_cast<int64_t>((raw ^ sign) - sign);
}

}  // namespace

Descriptor encode(const Decoded& instr) {
  const OpSpec* spec = op_by_opcode(static_cast<uint8_t>(instr.opcode));
  if (spec == nullptr) fail("encode: unknown opcode 0x{:02x}", static_cast<unsigned>(instr.opcode));
  Descriptor d{};
  set_bits(d, kOpcodeBits, static_cast<uint8_t>(instr.opcode));
  for (const Operand& operand : spec->operands) {
    set_bits(d, operand.bits,
             field_value(*spec, operand, instr.*operand.field, operand.bits, is_signed(operand.kind)));
    if (operand.kind == OperandKind::mem)
      set_bits(d, operand.reg_bits, field_value(*spec, operand, instr.*operand.reg, operand.reg_bits, false));
    if (operand.kind == OperandKind::enumer &&
        instr.*operand.field >= static_cast<int64_t>(operand.enums->names.size()))
      fail("{}: operand '{}' = {} is not a valid choice", spec->mnemonic, operand.name, instr.*operand.field);
  }
  return d;
}

Descriptor reserved_mask(const OpSpec& spec) {
  Descriptor mask{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}};
  set_bits(mask, kOpcodeBits, 0);
  for (const Operand& operand : spec.operands) {
    set_bits(mask, operand.bits, 0);
    if (operand.kind == OperandKind::mem) set_bits(mask, operand.reg_bits, 0);
  }
  return mask;
}

Decoded decode(const Descriptor& descriptor) {
  const auto opcode = static_cast<uint8_t>(get_bits(descriptor, kOpcodeBits));
  const OpSpec* spec = op_by_opcode(opcode);
  if (spec == nullptr) fail("bad opcode 0x{:02x}", opcode);
  static const auto masks = [] {
    std::array<Descriptor, 256> table{};
    for (const OpSpec& s : op_table()) table[static_cast<uint8_t>(s.opcode)] = reserved_mask(s);
    return table;
  }();
  const Descriptor& mask = masks[opcode];
  for (size_t w = 0; w < 4; ++w)
    if (descriptor[w] & mask[w])
      fail("{}: reserved bits set (word {} bits 0x{:016x})", spec->mnemonic, w, descriptor[w] & mask[w]);
  Decoded instr;
  instr.opcode = static_cast<Opcode>(opcode);
  for (const Operand& operand : spec->operands) {
    const uint64_t raw = get_bits(descriptor, operand.bits);
    instr.*operand.field =
        is_signed(operand.kind) ? sign_extend(raw, operand.bits.width) : static_cast<int64_t>(raw);
    if (operand.kind == OperandKind::mem)
      instr.*operand.reg = static_cast<int64_t>(get_bits(descriptor, operand.reg_bits));
    if (operand.kind == OperandKind::enumer &&
        instr.*operand.field >= static_cast<int64_t>(operand.enums->names.size()))
      fail("{}: operand '{}' has invalid value {}", spec->mnemonic, operand.name, instr.*operand.field);
  }
  return instr;
}

}  // namespace xpusim::engine
