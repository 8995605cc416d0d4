// Every kind of bad chip file gives an xpusim::Error naming file, line, key, value and the allowed range.
#include "chip_test_util.h"

namespace xpusim::chips::test {
namespace {

TEST(ChipLoader, ValidFixtureLoads) {
  const ChipSpec chip = load_chip_from_string(kValidChip, "test-chip.toml");
  EXPECT_EQ(chip.name, "test-chip");
  EXPECT_EQ(chip.family, Family::GPU);
  ASSERT_EQ(chip.memory.size(), 2u);
  EXPECT_DOUBLE_EQ(chip.memory[0].capacity_bytes, 4.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(chip.memory[1].capacity_bytes, 16e9);
  EXPECT_DOUBLE_EQ(*chip.peak_flops(Precision::BF16), 10e12);
  EXPECT_FALSE(chip.peak_flops(Precision::FP8).has_value());
  EXPECT_EQ(chip.outermost_level()->name, "hbm");
  EXPECT_EQ(chip.system.chips_per_system, 1);
}

TEST(ChipLoader, UnknownKeySuggestsTheNearestKey) {
  expect_load_error(chip_with("bandwidth_gbps = 2000", "bandwith_gbps = 2000"),
                    {"test-chip.toml:16:", "unknown key 'memory[0].bandwith_gbps'",
                     "did you mean 'bandwidth_gbps'", "allowed here:"});
  expect_load_error(chip_with("[efficiency]", "colour = \"red\"\n[efficiency]"), {"unknown key", "colour"});
}

TEST(ChipLoader, MissingRequiredKey) {
  expect_load_error(chip_with("clock_mhz = 1000\n", "", chip_with("units = 4\n", "")),
                    {"test-chip.toml", "missing required key 'compute.units'", "integer", "[1, 1e+07]"});
  expect_load_error(chip_with("gemm_fraction = 0.8\n", ""),
                    {"missing required key 'efficiency.gemm_fraction'"});
  expect_load_error(chip_with("name = \"hbm\"\n", ""), {"missing required key 'memory[1].name'"});
}

TEST(ChipLoader, WrongType) {
  expect_load_error(chip_with("units = 4", "units = 4.5"),
                    {"test-chip.toml:8:", "key 'compute.units' = 4.5", "wrong type, expected integer"});
  expect_load_error(chip_with("clock_mhz = 1000", "clock_mhz = \"fast\""),
                    {"test-chip.toml:5:", "'clock_mhz' = \"fast\"", "expected number"});
  expect_load_error(chip_with("clock_mhz = 1000\n", "clock_mhz = 1000\npower = 3\n"),
                    {"test-chip.toml:6:", "'power' = 3", "expected table"});
}

TEST(ChipLoader, ImpossibleValuesNameTheAllowedRange) {
  expect_load_error(
      chip_with("bandwidth_gbps = 2000", "bandwidth_gbps = -5"),
      {"test-chip.toml:16:", "'memory[0].bandwidth_gbps' = -5", "out of range", "(0, 1e+08] GB/s"});
  expect_load_error(chip_with("capacity_mib = 4", "capacity_mib = 0"),
                    {"'memory[0].capacity_mib' = 0", "out of range"});
  expect_load_error(chip_with("clock_mhz = 1000", "clock_mhz = 0"),
                    {"test-chip.toml:5:", "'clock_mhz' = 0", "(0, 10000]"});
  expect_load_error(chip_with("gemm_fraction = 0.8", "gemm_fraction = 1.5"),
                    {"'efficiency.gemm_fraction' = 1.5", "(0, 1]"});
  expect_load_error(chip_with("gemm_fraction = 0.8", "gemm_fraction = 0"),
                    {"'efficiency.gemm_fraction' = 0", "(0, 1]"});
  expect_load_error(chip_with("gemm_fraction = 0.8", "gemm_fraction = nan"), {"out of range"});
  expect_load_error(chip_with("bf16 = 10", "bf16 = inf"),
                    {"'compute.peak_tflops.bf16' = inf", "out of range"});
  expect_load_error(chip_with("family = \"gpu\"", "family = \"fpga\""),
                    {"'family' = \"fpga\"", "not an allowed value", "one of: cpu, gpu, tpu, npu, lpu, ue"});
  expect_load_error(chip_with("schema_version = 1", "schema_version = 2"),
                    {"'schema_version' = 2", "[1, 1]"});
}

TEST(ChipLoader, LevelsMustBeOrderedAndUnique) {
  expect_load_error(chip_with("capacity_mib = 4", "capacity_gib = 32"),
                    {"test-chip.toml:17:", "memory[1] 'hbm'", "ordered innermost first", "'l2'"});
  expect_load_error(chip_with("name = \"hbm\"", "name = \"l2\""), {"memory[1]", "'l2' is used twice"});
  expect_load_error(chip_with("capacity_mib = 4", "capacity_mib = 4\ncapacity_bytes = 4"),
                    {"capacity given twice", "capacity_mib", "capacity_bytes"});
  expect_load_error(chip_with("capacity_mib = 4\n", ""),
                    {"missing capacity", "capacity_bytes, capacity_kib"});
  expect_load_error(chip_with("bandwidth_gbps = 2000", "shared_by_units = 8\nbandwidth_gbps = 2000"),
                    {"shared_by_units = 8 exceeds compute.units = 4"});
}

TEST(ChipLoader, CrossFieldRules) {
  expect_load_error(chip_with("[efficiency]", "[power]\nidle_w = 90\ntdp_w = 60\n[efficiency]"),
                    {"power.idle_w = 90 exceeds power.tdp_w = 60"});
  expect_load_error(chip_with("[efficiency]", "[system]\nchips_per_system = 4\n[efficiency]"),
                    {"no [interconnect]"});
  expect_load_error(chip_with("[efficiency]", "[system]\nchips_per_system = \"many\"\n[efficiency]"),
                    {"'system.chips_per_system' = \"many\"", "or \"auto\""});
  expect_load_error(chip_with("units = 4", "units = 4\ntile_m = 16"), {"gives 1 of tile_m, tile_n, tile_k"});
  expect_load_error(chip_with("clock_mhz = 1000", "clock_mhz = 1000\ndetect = true"),
                    {"only allowed for family cpu"});
  expect_load_error(chip_with("[compute.peak_tflops]\nbf16 = 10\nint8 = 20\n", "[compute.peak_tflops]\n"),
                    {"lists no precision"});
}

TEST(ChipLoader, NameMustMatchFileName) {
  expect_load_error(kValidChip, {"other-chip.toml:2:", "must equal the file name", "\"other-chip\""},
                    "other-chip.toml");
  expect_load_error(chip_with("name = \"test-chip\"", "name = \"Test_Chip\""), {"use lowercase letters"},
                    "Test_Chip.toml");
}

TEST(ChipLoader, SyntaxErrorGivesLine) {
  expect_load_error(chip_with("units = 4", "units = = 4"), {"test-chip.toml:8:", "TOML syntax error"});
}

TEST(ChipLoader, UeFamilyHandsItsOwnKeysToTheEngine) {
  // The engine's keys (any structure, even a [memory] table) are not checked here; the common ones are.
  const std::string text = R"(schema_version = 1
name = "ue-test"
description = "engine chip"
clock_mhz = 333
engines = 2
[compute]
array = "dot"
[memory]
sram_kib = 1024
)";
  const ChipSpec chip = load_chip_from_string(text, "ue-test.toml");
  EXPECT_EQ(chip.family, Family::UE);  // from the name's prefix
  EXPECT_DOUBLE_EQ(chip.clock_mhz, 333);
  EXPECT_EQ(chip.engine["memory"]["sram_kib"].value_or(0), 1024);
  EXPECT_EQ(chip.engine["memory"]["sram_kib"].node()->source().begin.line, 9u);  // positions survive
  EXPECT_EQ(chip.engine["engines"].value_or(0), 2);
  EXPECT_FALSE(chip.engine.contains("name"));
  EXPECT_TRUE(chip.memory.empty());
  expect_load_error(chip_with("clock_mhz = 333", "clock_mhz = -1", text),
                    {"ue-test.toml:4:", "'clock_mhz' = -1"}, "ue-test.toml");
  expect_load_error(chip_with("description = \"engine chip\"\n", "", text),
                    {"missing required key 'description'"}, "ue-test.toml");
}

TEST(ChipLoader, FamilyComesFromTheNameWhenAbsent) {
  const std::string no_family = chip_with("family = \"gpu\"\n", "");
  const ChipSpec chip = load_chip_from_string(chip_with("test-chip", "npu-test", no_family), "npu-test.toml");
  EXPECT_EQ(chip.family, Family::NPU);
  expect_load_error(no_family, {"missing required key 'family'"});  // "test" is no family
  expect_load_error(chip_with("[efficiency]", "[engine]\nx = 1\n[efficiency]"), {"unknown key 'engine'"});
}

TEST(ChipLoader, ExtendsErrors) {
  expect_load_error(chip_with("schema_version = 1", "schema_version = 1\nextends = \"no-such-chip\""),
                    {"unknown chip 'no-such-chip'", "presets:", "gpu-h100-sxm"});
  expect_load_error(chip_with("schema_version = 1", "schema_version = 1\nextends = \"test-chip\""),
                    {"cycle"});
  expect_load_error(chip_with("schema_version = 1", "schema_version = 1\nextends = 5"),
                    {"'extends' = 5", "expected string"});
}

TEST(ChipLoader, UnknownNameListsPresets) {
  try {
    load_chip("gpu-h1000");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("unknown chip 'gpu-h1000'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("tpu-v5e"), std::string::npos) << error.what();
  }
  EXPECT_THROW(load_chip("/nonexistent/dir/chip.toml"), Error);
}

}  // namespace
}  // namespace xpusim::chips::test
