// Shared helpers for the chip tests: a minimal valid chip file and an error-message matcher.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <initializer_list>
#include <string>

#include "chips/display.h"
#include "chips/loader.h"
#include "core/error.h"

namespace xpusim::chips::test {

// A small, valid chip named "test-chip" (load it as "test-chip.toml"). Line numbers matter to the tests:
// line 5 is clock_mhz, line 16 is the first level's bandwidth_gbps.
inline const std::string kValidChip = R"(schema_version = 1
name = "test-chip"
family = "gpu"
description = "a test chip"
clock_mhz = 1000
[compute]
unit_name = "SM"
units = 4
[compute.peak_tflops]
bf16 = 10
int8 = 20
[[memory]]
name = "l2"
kind = "cache"
capacity_mib = 4
bandwidth_gbps = 2000
[[memory]]
name = "hbm"
kind = "dram"
capacity_gb = 16
bandwidth_gbps = 500
energy_pj_per_byte = 31
[efficiency]
gemm_fraction = 0.8
memory_bw_fraction = 0.7
launch_overhead_us = 4
)";

// Replaces the first occurrence of `from` in the valid chip (the test fails if absent).
inline std::string chip_with(const std::string& from, const std::string& to, std::string base = kValidChip) {
  const size_t pos = base.find(from);
  EXPECT_NE(pos, std::string::npos) << "fixture does not contain: " << from;
  if (pos != std::string::npos) base.replace(pos, from.size(), to);
  return base;
}

// Loads `text` as test-chip.toml and checks that the error message contains every substring.
inline void expect_load_error(const std::string& text, std::initializer_list<std::string> parts,
                              const std::string& file_name = "test-chip.toml") {
  try {
    load_chip_from_string(text, file_name);
    ADD_FAILURE() << "expected an error containing '" << *parts.begin() << "'";
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts)
      EXPECT_NE(message.find(part), std::string::npos) << "message: " << message << "\nmissing: " << part;
  }
}

// Same for a call that should throw (load_chip(path), a helper).
template <typename Call>
void expect_error_of(Call call, std::initializer_list<std::string> parts) {
  try {
    call();
    ADD_FAILURE() << "expected an error containing '" << *parts.begin() << "'";
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts)
      EXPECT_NE(message.find(part), std::string::npos) << "message: " << message << "\nmissing: " << part;
  }
}

inline void expect_file_error(const std::string& path, std::initializer_list<std::string> parts) {
  expect_error_of([&] { load_chip(path); }, parts);
}

}  // namespace xpusim::chips::test
