// Text assembly <-> programs, generated from the ISA table (isa.h).
// Syntax, one instruction per line:   [label:] mnemonic name=value [name=value ...]   [# or ; comment]
//   registers r0..r63; integers decimal or 0x hex (signed where the field is signed);
//   memory operands [rN+offset], [offset] or [rN]; bf16 operands 0x hex bits or a decimal number (RNE);
//   target/off operands take a label or a number (off is relative to the instruction itself).
// disassemble() prints every required operand and every optional operand whose value is non-zero, so
// assemble(disassemble(p)) == p and disassembling again gives identical text.
// Non-goals: macros, expressions, directives.
#pragma once

#include <string>
#include <string_view>

#include "engine/program.h"

namespace xpusim::engine {

Program assemble(std::string_view text, const std::string& source);
std::string disassemble(const Program& program);  // one line per instruction (bad words as "# invalid: ...")
std::string disassemble_one(const Decoded& instr);
std::string describe_word(const Descriptor& d);  // disassembly or "<invalid: reason>"

}  // namespace xpusim::engine
