// docs/isa.md generator: everything comes from the ISA table (isa.h); tests fail when the committed
// docs/isa.md differs from isa_markdown() (regenerate with `xpusim engine isa --markdown > docs/isa.md`).
#pragma once

#include <string>

namespace xpusim::engine {

std::string isa_markdown();
std::string isa_summary_text();  // one line per instruction, for `xpusim engine isa`

}  // namespace xpusim::engine
