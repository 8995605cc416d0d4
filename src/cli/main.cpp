// xpusim: run LLMs on software models of AI chips. Subcommands register themselves (command.h).
#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <filesystem>

#include "cli/command.h"
#include "core/error.h"

namespace xpusim::cli {

std::vector<CommandSetup>& command_registry() {
  static std::vector<CommandSetup> registry;
  return registry;
}

}  // namespace xpusim::cli

int main(int argc, char** argv) {
  CLI::App app{"xpusim: how would this LLM run on that chip, and why?"};
  app.set_version_flag("--version", std::string("xpusim ") + XPUSIM_VERSION);
  app.require_subcommand(1);
  for (const auto& setup : xpusim::cli::command_registry()) setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const xpusim::Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    fmt::print(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {  // e.g. a directory where a file was expected
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {  // a library's own exception: still a message and exit 1, never abort
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (...) {
    std::fflush(stdout);
    fmt::print(stderr, "error: unexpected failure\n");
    return 1;
  }
  return 0;
}
