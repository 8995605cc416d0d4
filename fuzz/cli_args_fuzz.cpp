// libFuzzer target: the CLI argument parser. Builds the real command tree (every src/cli/cmd_*.cpp registers
// itself) and parses an argv made from the input (arguments separated by NUL bytes); the root's
// parse-complete callback, which CLI11 runs after every option is converted and checked but before any
// command's action, ends the parse, so nothing runs. (Replacing the commands' callbacks instead would free
// the option structs they own while CLI11 still writes into them.) CLI::Error (a parse error, --help,
// --version) is the only acceptable failure: any other exception, crash or sanitizer report is a bug. Seeds:
// fuzz/corpus/cli_args/.
#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/command.h"

namespace xpusim::cli {
std::vector<CommandSetup>& command_registry() {  // main.cpp's, which this target does not link
  static std::vector<CommandSetup> registry;
  return registry;
}
}  // namespace xpusim::cli

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args = {"xpusim"};
  std::string current;
  for (size_t i = 0; i < size && args.size() < 64; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current += static_cast<char>(data[i]);
    }
  }
  if (!current.empty()) args.push_back(current);
  CLI::App app{"xpusim"};
  app.set_version_flag("--version", "xpusim fuzz");
  app.require_subcommand(1);
  for (const auto& setup : xpusim::cli::command_registry()) setup(app);
  app.parse_complete_callback([] { throw CLI::Success(); });  // parsed and checked: stop before any action
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
    // Refused with CLI11's message (or --help / --version).
  }
  return 0;
}
