// Subcommand registry for the xpusim CLI. Each subcommand lives in its own cmd_<name>.cpp and registers
// itself with XPUSIM_REGISTER_COMMAND; main.cpp knows none of them by name.
// HOWTO add a subcommand: create src/cli/cmd_<name>.cpp with a setup function that adds a CLI11
// subcommand and sets its callback, then XPUSIM_REGISTER_COMMAND(setup). Document it in README/docs.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace xpusim::cli {

using CommandSetup = std::function<void(CLI::App& app)>;

std::vector<CommandSetup>& command_registry();

// The output flags every listing or report command shares, with one wording: --json and --csv (each the whole
// of stdout; the command refuses both), and --quiet,-q (nothing on stderr but errors) where `quiet` is given.
void add_output_flags(CLI::App& command, bool& json, bool& csv, bool* quiet = nullptr);

struct CommandRegistrar {
  explicit CommandRegistrar(CommandSetup setup) { command_registry().push_back(std::move(setup)); }
};

}  // namespace xpusim::cli

#define XPUSIM_CONCAT_INNER(a, b) a##b
#define XPUSIM_CONCAT(a, b) XPUSIM_CONCAT_INNER(a, b)
#define XPUSIM_REGISTER_COMMAND(setup_fn) \
  static ::xpusim::cli::CommandRegistrar XPUSIM_CONCAT(xpusim_command_, __LINE__) { setup_fn }
