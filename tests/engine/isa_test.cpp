// ISA table tests: fields fit the 256-bit descriptor without overlap, opcodes unique, encode/decode identity
// on random descriptors, asm -> bin -> disasm -> asm exact, docs/isa.md in sync with the table.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/error.h"
#include "engine/assembler.h"
#include "engine/isa.h"
#include "engine/isa_docs.h"

namespace xpusim::engine {
namespace {

TEST(IsaTable, FieldsFitWithoutOverlap) {
  for (const OpSpec& spec : op_table()) {
    std::vector<int> owner(kDescriptorBits, 0);
    auto claim = [&](BitField f, std::string_view what) {
      ASSERT_GT(f.width, 0) << spec.mnemonic << " " << what;
      ASSERT_LE(f.lsb + f.width, kDescriptorBits) << spec.mnemonic << " " << what << " exceeds 256 bits";
      for (int b = f.lsb; b < f.lsb + f.width; ++b) {
        EXPECT_EQ(owner[static_cast<size_t>(b)], 0)
            << spec.mnemonic << ": bit " << b << " of " << what << " assigned twice";
        owner[static_cast<size_t>(b)] = 1;
      }
    };
    claim(kOpcodeBits, "opcode");
    std::set<std::string_view> names;
    for (const Operand& operand : spec.operands) {
      EXPECT_TRUE(names.insert(operand.name).second)
          << spec.mnemonic << ": operand " << operand.name << " twice";
      claim(operand.bits, operand.name);
      if (operand.kind == OperandKind::mem) claim(operand.reg_bits, operand.name);
      EXPECT_EQ(operand.kind == OperandKind::mem, operand.reg != nullptr)
          << spec.mnemonic << " " << operand.name;
      EXPECT_EQ(operand.kind == OperandKind::enumer, operand.enums != nullptr)
          << spec.mnemonic << " " << operand.name;
      EXPECT_FALSE(operand.doc.empty()) << spec.mnemonic << " " << operand.name;
    }
    // Every bit is either assigned or reserved-must-be-zero: the reserved mask is exactly the complement.
    const Descriptor reserved = reserved_mask(spec);
    for (int b = 0; b < kDescriptorBits; ++b)
      EXPECT_EQ(get_bits(reserved, {static_cast<uint16_t>(b), 1}), owner[static_cast<size_t>(b)] ? 0u : 1u);
  }
}

TEST(IsaTable, OpcodesAndMnemonicsAreUnique) {
  std::set<int> opcodes;
  std::set<std::string_view> mnemonics;
  for (const OpSpec& spec : op_table()) {
    EXPECT_TRUE(opcodes.insert(static_cast<int>(spec.opcode)).second) << spec.mnemonic;
    EXPECT_TRUE(mnemonics.insert(spec.mnemonic).second) << spec.mnemonic;
    EXPECT_EQ(op_by_opcode(static_cast<uint8_t>(spec.opcode)), &spec);
    EXPECT_EQ(op_by_mnemonic(spec.mnemonic), &spec);
    EXPECT_FALSE(spec.doc.empty());
    // Data-path ops have semantics; front-end ops are executed by the simulator core.
    EXPECT_EQ(spec.unit != Unit::frontend, spec.execute != nullptr) << spec.mnemonic;
  }
}

// A random descriptor that is valid for `spec`: random values in every field, reserved bits zero.
Descriptor random_descriptor(const OpSpec& spec, std::mt19937_64& rng) {
  Descriptor d{rng(), rng(), rng(), rng()};
  const Descriptor reserved = reserved_mask(spec);
  for (size_t w = 0; w < 4; ++w) d[w] &= ~reserved[w];
  set_bits(d, kOpcodeBits, static_cast<uint8_t>(spec.opcode));
  for (const Operand& operand : spec.operands)
    if (operand.kind == OperandKind::enumer) set_bits(d, operand.bits, rng() % operand.enums->names.size());
  return d;
}

TEST(IsaCodec, EncodeDecodeIdentityOnRandomDescriptors) {
  std::mt19937_64 rng(1234);
  for (const OpSpec& spec : op_table())
    for (int trial = 0; trial < 200; ++trial) {
      const Descriptor d = random_descriptor(spec, rng);
      const Decoded decoded = decode(d);
      EXPECT_EQ(encode(decoded), d) << spec.mnemonic;
    }
}

TEST(IsaCodec, RejectsBadOpcodeAndReservedBits) {
  Descriptor d{};
  set_bits(d, kOpcodeBits, 0xEE);
  EXPECT_THROW(decode(d), Error);
  Descriptor halt{};
  set_bits(halt, kOpcodeBits, static_cast<uint8_t>(Opcode::halt));
  EXPECT_NO_THROW(decode(halt));
  halt[3] = 1ull << 63;
  try {
    decode(halt);
    FAIL() << "reserved bit accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reserved"), std::string::npos);
  }
}

TEST(IsaCodec, EncodeRejectsValuesThatDoNotFit) {
  Decoded d{.opcode = Opcode::li, .rd = 64};
  EXPECT_THROW(encode(d), Error);
  Decoded mm{.opcode = Opcode::mm};
  mm.m = 4096;  // 12-bit field
  EXPECT_THROW(encode(mm), Error);
}

TEST(Assembler, RoundTripIsExactOnRandomPrograms) {
  std::mt19937_64 rng(99);
  Program program;
  for (int i = 0; i < 2000; ++i) {
    const OpSpec& spec = op_table()[rng() % op_table().size()];
    program.code.push_back(random_descriptor(spec, rng));
  }
  const std::string text = disassemble(program);
  const Program again = assemble(text, "roundtrip.s");
  ASSERT_EQ(again.code.size(), program.code.size());
  for (size_t i = 0; i < program.code.size(); ++i)
    EXPECT_EQ(again.code[i], program.code[i]) << "instruction " << i;
  EXPECT_EQ(disassemble(again), text);
  EXPECT_EQ(program_from_binary(program_to_binary(program), "x.bin").code, program.code);
}

TEST(Assembler, LabelsCommentsAndErrors) {
  const Program p = assemble(
      "# count down\n"
      "      li rd=r1 imm=3\n"
      "top:  addi rd=r2 rs=r2 imm=1   ; body\n"
      "      loop rd=r1 off=top\n"
      "      jmp target=end\n"
      "end:  halt\n",
      "t.s");
  ASSERT_EQ(p.code.size(), 5u);
  EXPECT_EQ(decode(p.code[2]).target, -1);
  EXPECT_EQ(decode(p.code[3]).target, 4);
  auto message = [](const std::string& text) {
    try {
      assemble(text, "bad.s");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("frob rd=r1\n").find("bad.s:1: unknown mnemonic 'frob'"), std::string::npos);
  EXPECT_NE(message("halt\nli rd=r1\n").find("bad.s:2: li: missing operand 'imm'"), std::string::npos);
  EXPECT_NE(message("li rd=r99 imm=1\n").find("expected a register"), std::string::npos);
  EXPECT_NE(message("li rd=r1 imm=1 zz=3\n").find("unknown operand 'zz'"), std::string::npos);
  EXPECT_NE(message("jmp target=nowhere\n").find("undefined label 'nowhere'"), std::string::npos);
  EXPECT_NE(message("mm a=[r0] b=[r0] c=[r0] m=5000 n=1 k=64\n").find("does not fit"), std::string::npos);
  EXPECT_NE(message("mm a=[r0] b=[r0] c=[r0] m=1 n=1 k=64 fmt=fp99\n").find("not one of"), std::string::npos);
}

TEST(Assembler, Bf16OperandsAcceptNumbers) {
  const Program p =
      assemble("mm a=[r1+0x40] b=[0x1000] c=[r2] m=1 n=2 k=64 act=act act_b=-1.6953125\n", "t.s");
  const Decoded d = decode(p.code[0]);
  EXPECT_EQ(d.act_b, 0xBFD9);
  EXPECT_EQ(d.a_reg, 1);
  EXPECT_EQ(d.a_off, 0x40);
  EXPECT_EQ(d.b_reg, 0);
  EXPECT_EQ(d.b_off, 0x1000);
  EXPECT_EQ(disassemble(p), "mm a=[r1+0x40] b=[r0+0x1000] c=[r2+0x0] m=1 n=2 k=64 act=act act_b=0xbfd9\n");
}

TEST(IsaDocs, CommittedDocsMatchTheTable) {
  std::ifstream in(std::string(XPUSIM_SOURCE_DIR) + "/docs/isa.md");
  ASSERT_TRUE(in) << "docs/isa.md missing: run `xpusim engine isa --markdown > docs/isa.md`";
  std::stringstream buffer;
  buffer << in.rdbuf();
  EXPECT_EQ(buffer.str(), isa_markdown())
      << "docs/isa.md is stale: run `xpusim engine isa --markdown > docs/isa.md`";
}

}  // namespace
}  // namespace xpusim::engine
