// `--stop` on every target through the one generation loop: the host executor, a cost-modelled chip (host
// values), the simulated unified engine and, where built and present, CUDA. Each target's own greedy text
// (without a stop) gives the stop string, so the check holds whatever numerics the target uses.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli_runner.h"

namespace {

// The real SmolLM2-135M (./setup.sh fetches it): a random-weight model's byte soup is no text to stop in.
std::filesystem::path default_model() {
  const char* dir = std::getenv("XPUSIM_MODEL_DIR");
  const std::filesystem::path home = std::getenv("HOME") ? std::getenv("HOME") : "";
  return (dir ? std::filesystem::path(dir) : home / ".cache/xpusim/models") /
         "smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf";
}

const std::string kRun = "run --model " + default_model().string() +
                         " --prompt 'The capital of France is' -n 6 --temperature 0 --json --threads 2";

nlohmann::json run_json(const std::string& chip_and_flags) {
  const xpusim::testing::CliOutput out =
      xpusim::testing::run_xpusim(kRun + " " + chip_and_flags, "2>/dev/null");
  EXPECT_TRUE(WIFEXITED(out.status) && WEXITSTATUS(out.status) == 0) << chip_and_flags << ": " << out.text;
  return nlohmann::json::parse(out.text, nullptr, false);
}

// Stops the target's greedy text at a piece of its middle: the text ends right before it, nothing after.
void expect_stop_cuts(const std::string& chip) {
  if (!std::filesystem::exists(default_model())) GTEST_SKIP() << "no SmolLM2-135M at " << default_model();
  const nlohmann::json free_run = run_json(chip);
  ASSERT_FALSE(free_run.is_discarded());
  const std::string text = free_run["text"].get<std::string>();
  ASSERT_GE(text.size(), 6u) << chip << " generated too little text to place a stop in: '" << text << "'";
  // Three bytes from the middle that do not occur earlier, so where the text ends is unambiguous.
  size_t at = text.size() / 2;
  while (at > 0 && (text.find(text.substr(at, 3)) < at || text.substr(at, 3).find('\'') != std::string::npos))
    --at;  // (a quote would end the shell argument)
  const std::string stop = text.substr(at, 3);
  const size_t first = text.find(stop);
  const nlohmann::json stopped = run_json(chip + " --stop '" + stop + "'");
  ASSERT_FALSE(stopped.is_discarded());
  EXPECT_EQ(stopped["stop_reason"], "stop_string") << chip << " stop '" << stop << "'";
  EXPECT_EQ(stopped["text"].get<std::string>(), text.substr(0, first)) << chip << " stop '" << stop << "'";
  EXPECT_LT(stopped["generated_tokens"].get<int64_t>(), free_run["generated_tokens"].get<int64_t>());
}

TEST(CliStop, HostExecutor) { expect_stop_cuts(""); }
TEST(CliStop, CostModelledChip) { expect_stop_cuts("--chip gpu-h100-sxm"); }
TEST(CliStop, SimulatedUnifiedEngine) { expect_stop_cuts("--chip ue-ku5p --no-program-cache"); }

TEST(CliStop, CudaWhereBuiltAndPresent) {
  const xpusim::testing::CliOutput probe = xpusim::testing::run_xpusim(kRun + " --chip cuda -n 1", "2>&1");
  if (!WIFEXITED(probe.status) || WEXITSTATUS(probe.status) != 0)
    GTEST_SKIP() << "no CUDA target or GPU here";
  expect_stop_cuts("--chip cuda");
}

}  // namespace
