// `xpusim chips` end to end: the listing names every preset, --show validates a file, errors exit non-zero.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "chip_test_util.h"

#include "cli_runner.h"

namespace xpusim::chips::test {
namespace {

struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

CommandResult run_cli(const std::string& arguments) {
  const xpusim::testing::CliOutput out = xpusim::testing::run_xpusim(arguments);
  return CommandResult{out.status, out.text};
}

TEST(ChipsCommand, ListsEveryPreset) {
  const CommandResult result = run_cli("chips");
  ASSERT_EQ(result.status, 0) << result.output;
  for (const std::string& name : list_presets())
    EXPECT_NE(result.output.find(name), std::string::npos) << name;
  EXPECT_NE(result.output.find("hbm 80 GB @ 3.35 TB/s"), std::string::npos) << result.output;
  const CommandResult json = run_cli("chips --json");
  ASSERT_EQ(json.status, 0);
  const nlohmann::json parsed = nlohmann::json::parse(json.output);
  EXPECT_EQ(parsed.size(), list_presets().size());
}

TEST(ChipsCommand, ShowReportsFileErrors) {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / fmt::format("xpusim-cli-{}", ::getpid()) / "test-chip.toml";
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << chip_with("bandwidth_gbps = 2000", "bandwidth_gbps = 0");
  const CommandResult bad = run_cli("chips --show " + file.string());
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("error: " + file.string() + ":16:"), std::string::npos) << bad.output;
  std::ofstream(file) << kValidChip;
  const CommandResult good = run_cli("chips --show " + file.string());
  EXPECT_EQ(good.status, 0) << good.output;
  EXPECT_NE(good.output.find("\"test-chip\""), std::string::npos);
  std::filesystem::remove_all(file.parent_path());
}

TEST(ChipsCommand, DetectPrintsTheHost) {
  const CommandResult result = run_cli("chips --detect");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("GB/s streaming read"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("peak:"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace xpusim::chips::test
