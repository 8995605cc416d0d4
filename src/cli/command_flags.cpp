// Flags shared by several subcommands (command.h), outside main.cpp so the cli_args fuzzer links them too.
#include "cli/command.h"

namespace xpusim::cli {

void add_output_flags(CLI::App& command, bool& json, bool& csv, bool* quiet) {
  command.add_flag("--json", json, "Print one JSON object, nothing else on stdout");
  command.add_flag("--csv", csv, "Print the table as CSV, nothing else on stdout");
  if (quiet != nullptr) command.add_flag("--quiet,-q", *quiet, "No progress bar or notes on stderr");
}

}  // namespace xpusim::cli
