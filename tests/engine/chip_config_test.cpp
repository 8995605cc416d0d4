// Chip files: every ue-* preset loads; schema errors name file, line, key and range.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "engine/chip_config.h"

namespace xpusim::engine {
namespace {

std::string preset_text(const std::string& name) {
  std::ifstream in(chips_directories().back() + "/" + name + ".toml");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string error_of(const std::string& text) {
  try {
    parse_chip(text, "test.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ChipConfig, PresetsLoad) {
  for (const char* name : {"ue-kintex7", "ue-ku5p", "ue-alveo-u50-x8", "ue-systolic-128"}) {
    const ChipConfig chip = load_chip(name);
    EXPECT_EQ(chip.name, name);
    EXPECT_GT(chip.clock_mhz, 0);
    EXPECT_GT(chip.macs_per_cycle(), 0);
    EXPECT_GT(chip.latency(LatencyClass::dot), 0);
  }
  const ChipConfig k7 = load_chip("ue-kintex7");
  EXPECT_EQ(k7.dot_lanes, 64);
  EXPECT_NEAR(k7.peak_flops() / 1e9, 25.39, 0.01);  // engine.md §5.2: 0.128 GFLOPS per MHz
  EXPECT_EQ(load_chip("ue-alveo-u50-x8").engines, 8);
  EXPECT_EQ(load_chip("ue-systolic-128").array, ArrayKind::systolic);
}

TEST(ChipConfig, UnknownKeyNamesFileLineAndKey) {
  std::string text = preset_text("ue-kintex7");
  text.replace(text.find("dot_lanes = 64"), 14, "dot_lanez = 64");
  const std::string error = error_of(text);
  EXPECT_NE(error.find("test.toml:"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown key 'engine.compute.dot_lanez'"), std::string::npos) << error;
}

TEST(ChipConfig, MissingAndOutOfRangeValues) {
  std::string missing = preset_text("ue-kintex7");
  missing.replace(missing.find("dot_lanes = 64"), 14, "");
  EXPECT_NE(error_of(missing).find("missing key 'engine.compute.dot_lanes'"), std::string::npos);
  std::string range = preset_text("ue-kintex7");
  range.replace(range.find("registers = 64"), 14, "registers = 99");
  const std::string error = error_of(range);
  EXPECT_NE(error.find("'engine.frontend.registers' = 99 is out of range [8, 64]"), std::string::npos)
      << error;
  EXPECT_NE(error.find("test.toml:"), std::string::npos);
  std::string choice = preset_text("ue-kintex7");
  choice.replace(choice.find("array = \"dot\""), 13, "array = \"dott\"");
  EXPECT_NE(error_of(choice).find("is not one of: dot, systolic"), std::string::npos);
  EXPECT_NE(error_of("name = \"x\"\nfamily = \"gpu\"\n").find("not an engine chip"), std::string::npos);
  EXPECT_NE(error_of("x = = 1").find("TOML syntax error"), std::string::npos);
}

}  // namespace
}  // namespace xpusim::engine
