#include "engine/assembler.h"

#include <charconv>
#include <cmath>
#include <map>
#include <vector>

#include "core/error.h"
#include "numerics/float_bits.h"

namespace xpusim::engine {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

struct LineError {
  const std::string& source;
  size_t line;
  template <typename... Args>
  [[noreturn]] void operator()(fmt::format_string<Args...> format, Args&&... args) const {
    fail("{}:{}: {}", source, line, fmt::format(format, std::forward<Args>(args)...));
  }
};

bool parse_int(std::string_view text, int64_t& out) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty()) return false;
  uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || ptr != text.data() + text.size() || value > (uint64_t{1} << 62)) return false;
  out = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
  return true;
}

bool parse_reg(std::string_view text, int64_t& out) {
  if (text.size() < 2 || text[0] != 'r') return false;
  int64_t v;
  if (!parse_int(text.substr(1), v) || v < 0 || v > 63 || text[1] == '-' || text[1] == '+') return false;
  out = v;
  return true;
}

bool is_label_name(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_' || s[0] == '.'))
    return false;
  for (char ch : s)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.')) return false;
  return true;
}

struct PendingLabel {
  size_t pc;
  std::string label;
  bool relative;
  size_t line;
};

void parse_operand(const OpSpec& spec, const Operand& operand, std::string_view value, Decoded& d, size_t pc,
                   std::vector<PendingLabel>& pending, const LineError& error) {
  int64_t v = 0;
  switch (operand.kind) {
    case OperandKind::reg:
      if (!parse_reg(value, v))
        error("{} {}: expected a register r0..r63, got '{}'", spec.mnemonic, operand.name, value);
      d.*operand.field = v;
      return;
    case OperandKind::uimm:
    case OperandKind::simm:
      if (!parse_int(value, v))
        error("{} {}: expected an integer, got '{}'", spec.mnemonic, operand.name, value);
      d.*operand.field = v;
      return;
    case OperandKind::bf16: {
      if (value.size() > 2 && value[0] == '0' && (value[1] == 'x' || value[1] == 'X')) {
        if (!parse_int(value, v) || v > 0xFFFF)
          error("{} {}: bad bf16 bits '{}'", spec.mnemonic, operand.name, value);
      } else {
        const std::string copy(value);
        char* end = nullptr;
        const double number = std::strtod(copy.c_str(), &end);
        if (copy.empty() || end != copy.c_str() + copy.size())
          error("{} {}: expected bf16 bits (0x...) or a number, got '{}'", spec.mnemonic, operand.name,
                value);
        v = numerics::bits::f32_to_bf16(static_cast<float>(number));
      }
      d.*operand.field = v;
      return;
    }
    case OperandKind::enumer:
      for (size_t i = 0; i < operand.enums->names.size(); ++i)
        if (operand.enums->names[i] == value) {
          d.*operand.field = static_cast<int64_t>(i);
          return;
        }
      {
        std::string allowed;
        for (auto name : operand.enums->names) allowed += (allowed.empty() ? "" : ", ") + std::string(name);
        error("{} {}: '{}' is not one of: {}", spec.mnemonic, operand.name, value, allowed);
      }
    case OperandKind::mem: {
      if (value.size() < 3 || value.front() != '[' || value.back() != ']')
        error("{} {}: expected [rN+offset], got '{}'", spec.mnemonic, operand.name, value);
      std::string_view inner = trim(value.substr(1, value.size() - 2));
      int64_t reg = 0, offset = 0;
      const size_t plus = inner.find('+');
      std::string_view reg_text = plus == std::string_view::npos ? inner : trim(inner.substr(0, plus));
      std::string_view off_text =
          plus == std::string_view::npos ? std::string_view{} : trim(inner.substr(plus + 1));
      if (plus == std::string_view::npos && !parse_reg(reg_text, reg)) {
        reg_text = {};
        off_text = inner;
      }
      if (!reg_text.empty() && !parse_reg(reg_text, reg))
        error("{} {}: bad base register in '{}'", spec.mnemonic, operand.name, value);
      if (!off_text.empty() && (!parse_int(off_text, offset) || offset < 0))
        error("{} {}: bad offset in '{}'", spec.mnemonic, operand.name, value);
      d.*operand.reg = reg;
      d.*operand.field = offset;
      return;
    }
    case OperandKind::target:
    case OperandKind::rel:
      if (parse_int(value, v)) {
        d.*operand.field = v;
      } else if (is_label_name(value)) {
        pending.push_back({pc, std::string(value), operand.kind == OperandKind::rel, error.line});
      } else {
        error("{} {}: expected a label or a number, got '{}'", spec.mnemonic, operand.name, value);
      }
      return;
  }
}

std::string format_operand(const Operand& operand, const Decoded& d) {
  const int64_t v = d.*operand.field;
  switch (operand.kind) {
    case OperandKind::reg:
      return fmt::format("r{}", v);
    case OperandKind::uimm:
    case OperandKind::simm:
    case OperandKind::target:
    case OperandKind::rel:
      return fmt::format("{}", v);
    case OperandKind::bf16:
      return fmt::format("0x{:04x}", v);
    case OperandKind::enumer:
      return std::string(operand.enums->names[static_cast<size_t>(v)]);
    case OperandKind::mem:
      return fmt::format("[r{}+0x{:x}]", d.*operand.reg, v);
  }
  return {};
}

}  // namespace

Program assemble(std::string_view text, const std::string& source) {
  std::vector<Decoded> code;
  std::map<std::string, size_t> labels;
  std::vector<PendingLabel> pending;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    ++line_number;
    const LineError error{source, line_number};
    const size_t comment = line.find_first_of("#;");
    if (comment != std::string_view::npos) line = line.substr(0, comment);
    line = trim(line);
    // Labels.
    while (true) {
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) break;
      const std::string_view name = trim(line.substr(0, colon));
      if (!is_label_name(name) || name.find(' ') != std::string_view::npos) break;
      if (!labels.emplace(std::string(name), code.size()).second) error("label '{}' defined twice", name);
      line = trim(line.substr(colon + 1));
    }
    if (line.empty()) continue;
    const size_t space = line.find_first_of(" \t");
    const std::string_view mnemonic = line.substr(0, space);
    const OpSpec* spec = op_by_mnemonic(mnemonic);
    if (spec == nullptr) error("unknown mnemonic '{}'", mnemonic);
    Decoded d;
    d.opcode = spec->opcode;
    std::vector<bool> seen(spec->operands.size(), false);
    std::string_view rest = space == std::string_view::npos ? std::string_view{} : line.substr(space);
    while (true) {
      rest = trim(rest);
      while (!rest.empty() && rest.front() == ',') rest = trim(rest.substr(1));
      if (rest.empty()) break;
      const size_t end = rest.find_first_of(" \t,");
      const std::string_view item = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
      const size_t eq = item.find('=');
      if (eq == std::string_view::npos) error("{}: expected name=value, got '{}'", spec->mnemonic, item);
      const std::string_view name = item.substr(0, eq);
      size_t index = spec->operands.size();
      for (size_t i = 0; i < spec->operands.size(); ++i)
        if (spec->operands[i].name == name) index = i;
      if (index == spec->operands.size()) {
        std::string expected;
        for (const Operand& op : spec->operands)
          expected += (expected.empty() ? "" : ", ") + std::string(op.name);
        error("{}: unknown operand '{}' (operands: {})", spec->mnemonic, name,
              expected.empty() ? "none" : expected);
      }
      if (seen[index]) error("{}: operand '{}' given twice", spec->mnemonic, name);
      seen[index] = true;
      parse_operand(*spec, spec->operands[index], item.substr(eq + 1), d, code.size(), pending, error);
    }
    for (size_t i = 0; i < spec->operands.size(); ++i)
      if (!seen[i] && !spec->operands[i].optional)
        error("{}: missing operand '{}' ({})", spec->mnemonic, spec->operands[i].name, spec->operands[i].doc);
    code.push_back(d);
  }
  for (const PendingLabel& p : pending) {
    const auto it = labels.find(p.label);
    if (it == labels.end()) fail("{}:{}: undefined label '{}'", source, p.line, p.label);
    code[p.pc].target = p.relative ? static_cast<int64_t>(it->second) - static_cast<int64_t>(p.pc)
                                   : static_cast<int64_t>(it->second);
  }
  Program program;
  for (size_t pc = 0; pc < code.size(); ++pc) {
    try {
      program.code.push_back(encode(code[pc]));
    } catch (const Error& e) {
      fail("{}: instruction {}: {}", source, pc, e.what());
    }
  }
  return program;
}

std::string disassemble_one(const Decoded& d) {
  const OpSpec& spec = op_spec(d.opcode);
  std::string text(spec.mnemonic);
  for (const Operand& operand : spec.operands) {
    if (operand.optional && d.*operand.field == 0 &&
        (operand.kind != OperandKind::mem || d.*operand.reg == 0))
      continue;
    text += fmt::format(" {}={}", operand.name, format_operand(operand, d));
  }
  return text;
}

std::string describe_word(const Descriptor& descriptor) {
  try {
    return disassemble_one(decode(descriptor));
  } catch (const Error& e) {
    return fmt::format("<invalid: {}>", e.what());
  }
}

std::string disassemble(const Program& program) {
  std::string out;
  for (const Descriptor& d : program.code) {
    const std::string text = describe_word(d);
    if (text.starts_with("<invalid"))
      out +=
          fmt::format("# {} words 0x{:016x} 0x{:016x} 0x{:016x} 0x{:016x}\n", text, d[0], d[1], d[2], d[3]);
    else
      out += text + "\n";
  }
  return out;
}

}  // namespace xpusim::engine
