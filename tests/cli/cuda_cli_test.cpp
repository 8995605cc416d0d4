// `--chip cuda` on run and bench through the built binary. Where no NVIDIA GPU (or no CUDA build) is present
// the commands must fail with a message that says so, never crash; where one is, they must run.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "cli_runner.h"

namespace {

using Output = xpusim::testing::CliOutput;

Output run_cli(const std::string& args) { return xpusim::testing::run_xpusim(args); }

void expect_runs_or_explains(const Output& out) {
  ASSERT_TRUE(WIFEXITED(out.status)) << "killed by a signal: " << out.text;
  if (WEXITSTATUS(out.status) == 0) return;  // a GPU is present and the command ran
  EXPECT_TRUE(out.text.find("CUDA") != std::string::npos || out.text.find("cuda") != std::string::npos)
      << out.text;
  EXPECT_EQ(out.text.find("terminate called"), std::string::npos) << out.text;
}

const std::string kModel = "--model " + std::string(XPUSIM_TEST_DATA) + "/models/llama";

TEST(CliCuda, RunOnCudaRunsOrSaysWhyNot) {
  expect_runs_or_explains(
      run_cli("run " + kModel + " --chip cuda --prompt hi --max-tokens 3 --temperature 0"));
}

TEST(CliCuda, BenchOnCudaRunsOrSaysWhyNot) {
  expect_runs_or_explains(run_cli("bench " + kModel + " --chip cuda -p 8 -n 4 --reps 1"));
}

}  // namespace
