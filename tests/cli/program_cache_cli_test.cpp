// `xpusim run --chip ue-*` and the on-disk program cache: the first run compiles the generic programs and
// stores them under $XPUSIM_CACHE_DIR/programs, the second loads them (same text, same simulated figures);
// --no-program-cache and XPUSIM_PROGRAM_CACHE=0 compile afresh.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include <unistd.h>

#include "cli_runner.h"

namespace xpusim {
namespace {

nlohmann::json run_json(const std::string& flags) {
  const std::string model = std::string(XPUSIM_TEST_DATA) + "/models/llama";
  const testing::CliOutput out = testing::run_xpusim(
      "run --model " + model + " --chip ue-ku5p --prompt 'hello there' -n 4 --temperature 0 --json " + flags,
      "2>/dev/null");
  EXPECT_EQ(out.status, 0) << out.text;
  return nlohmann::json::parse(out.text, nullptr, false);
}

TEST(CliProgramCache, SecondRunLoadsTheProgramsFirstRunCompiled) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("xpusim_cli_program_cache_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ::setenv("XPUSIM_CACHE_DIR", dir.string().c_str(), 1);  // inherited by the child processes
  ::unsetenv("XPUSIM_PROGRAM_CACHE");
  const nlohmann::json first = run_json("");
  const nlohmann::json second = run_json("");
  const nlohmann::json fresh = run_json("--no-program-cache");
  ::setenv("XPUSIM_PROGRAM_CACHE", "0", 1);
  const nlohmann::json disabled = run_json("");
  ::unsetenv("XPUSIM_PROGRAM_CACHE");
  ::unsetenv("XPUSIM_CACHE_DIR");
  ASSERT_FALSE(first.is_discarded());
  ASSERT_FALSE(second.is_discarded());
  EXPECT_GE(first["programs_compiled"].get<int64_t>(), 2);  // decode + a prefill chunk
  EXPECT_EQ(first["programs_loaded_from_cache"], 0);
  EXPECT_EQ(second["programs_compiled"], 0);
  EXPECT_EQ(second["programs_loaded_from_cache"], first["programs_compiled"]);
  EXPECT_EQ(second["text"], first["text"]);
  EXPECT_EQ(second["ttft_s"], first["ttft_s"]);
  EXPECT_EQ(second["decode_s_per_token"], first["decode_s_per_token"]);
  EXPECT_EQ(fresh["programs_loaded_from_cache"], 0);
  EXPECT_EQ(disabled["programs_loaded_from_cache"], 0);
  EXPECT_TRUE(std::filesystem::exists(dir / "programs"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace xpusim
