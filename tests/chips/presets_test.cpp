// Completeness of chips/: every preset loads, is named after its file, carries a source and kind next to
// every number, and every family has a preset. Plus `extends`.
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "chip_test_util.h"

namespace xpusim::chips::test {
namespace {

namespace fs = std::filesystem;

std::string source_chips_dir() { return (fs::path(XPUSIM_SOURCE_DIR) / "chips").string(); }

TEST(ChipPresets, EveryPresetLoadsAndIsNamedAfterItsFile) {
  const std::vector<std::string> names = list_presets();
  ASSERT_GE(names.size(), 10u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const ChipSpec chip = load_chip(name);
    EXPECT_EQ(chip.name, name);
    EXPECT_EQ(fs::path(chip.source_path).stem().string(), name);
    EXPECT_EQ(chip.schema_version, 1);
    if (chip.family == Family::UE) continue;
    EXPECT_FALSE(chip.memory.empty());
    EXPECT_GT(chip.compute.units, 0);
    EXPECT_TRUE(chip.peak_flops(Precision::BF16) || chip.peak_flops(Precision::FP16) ||
                chip.peak_flops(Precision::INT8));
    EXPECT_EQ(chip.name.substr(0, chip.name.find('-')), family_name(chip.family))
        << "name starts with its family";
  }
}

TEST(ChipPresets, EveryFamilyHasAPreset) {
  std::set<std::string> families;
  for (const std::string& name : list_presets())
    families.insert(std::string(family_name(load_chip(name).family)));
  for (const auto& row : family_table()) {
    const std::string family(row.name);
    EXPECT_EQ(families.count(family), 1u) << "no preset for family " << family;
  }
}

TEST(ChipPresets, RequiredPresetsExist) {
  for (const char* name : {"cpu-host", "cpu-xeon-8480", "gpu-h100-sxm", "gpu-a100", "gpu-jetson-orin-nano",
                           "tpu-v5e", "tpu-v6e", "npu-apple-m4", "npu-intel-lunar-lake", "lpu-groq"})
    EXPECT_NO_THROW(find_chip_file(name)) << name;
}

// "key = 12.5  # comment" -> key; empty when the line does not assign a number. (No std::regex: GCC 12's
// <regex> trips -Werror=maybe-uninitialized under the sanitizers.)
std::string numeric_key(const std::string& line) {
  size_t i = line.find_first_not_of(' ');
  if (i == std::string::npos) return "";
  const size_t key_begin = i;
  while (i < line.size() && (std::islower(static_cast<unsigned char>(line[i])) ||
                             std::isdigit(static_cast<unsigned char>(line[i])) || line[i] == '_'))
    ++i;
  const std::string key = line.substr(key_begin, i - key_begin);
  i = line.find_first_not_of(' ', i);
  if (key.empty() || i == std::string::npos || line[i] != '=') return "";
  i = line.find_first_not_of(' ', i + 1);
  if (i == std::string::npos || std::string("+-.0123456789").find(line[i]) == std::string::npos) return "";
  return key;
}

bool names_a_kind(const std::string& comment) {
  for (const std::string kind : {"spec", "meas", "deriv", "claim", "unverified"}) {
    for (size_t at = comment.find(kind); at != std::string::npos; at = comment.find(kind, at + 1)) {
      const size_t end = at + kind.size();
      const bool starts_word = at == 0 || !std::isalpha(static_cast<unsigned char>(comment[at - 1]));
      const bool ends_word = end == comment.size() || !std::isalpha(static_cast<unsigned char>(comment[end]));
      if (starts_word && ends_word) return true;
    }
  }
  return false;
}

// STYLE 5: every number carries its source and kind in a comment on its line, or on its table header line.
TEST(ChipPresets, EveryNumberHasAKindComment) {
  const std::set<std::string> structural = {"schema_version", "shared_by_units", "chips_per_system"};
  EXPECT_EQ(numeric_key("  bf16 = 989  # spec [S3]"), "bf16");
  EXPECT_EQ(numeric_key("name = \"hbm\""), "");
  EXPECT_FALSE(names_a_kind("# specific [S3]"));
  for (const auto& entry : fs::directory_iterator(source_chips_dir())) {
    // ue-* files follow the engine's schema and its own source tags ([V], [D], [U]).
    if (entry.path().extension() != ".toml" || entry.path().filename().string().starts_with("ue-")) continue;
    std::ifstream in(entry.path());
    std::string line, header_comment;
    for (int line_number = 1; std::getline(in, line); ++line_number) {
      if (line.starts_with("["))
        header_comment = line.find('#') == std::string::npos ? "" : line.substr(line.find('#'));
      const std::string key = numeric_key(line);
      if (key.empty() || structural.count(key)) continue;
      const size_t hash = line.find('#');
      const std::string comment = hash == std::string::npos ? header_comment : line.substr(hash);
      EXPECT_TRUE(names_a_kind(comment))
          << entry.path().string() << ":" << line_number << ": number without a source kind: " << line;
    }
  }
}

TEST(ChipPresets, ExtendsOverridesAndKeepsPositions) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("xpusim-chips-test-{}", ::getpid());
  fs::create_directories(dir);
  const fs::path file = dir / "gpu-h100-slow.toml";
  std::ofstream(file) << "schema_version = 1\nname = \"gpu-h100-slow\"\nextends = \"gpu-h100-sxm\"\n"
                         "[[memory]]\nname = \"hbm\"\nbandwidth_gbps = 2000\n";
  const ChipSpec chip = load_chip(file.string());
  EXPECT_EQ(chip.name, "gpu-h100-slow");
  EXPECT_EQ(chip.extends_chain, std::vector<std::string>{"gpu-h100-sxm"});
  EXPECT_DOUBLE_EQ(chip.level("hbm").bandwidth_gbps, 2000);
  EXPECT_DOUBLE_EQ(chip.level("hbm").capacity_bytes, 80e9);  // from the base
  EXPECT_DOUBLE_EQ(chip.level("l2").bandwidth_gbps, 5500);
  EXPECT_EQ(chip.memory.size(), 3u);

  std::ofstream(file) << "schema_version = 1\nname = \"gpu-h100-slow\"\nextends = \"gpu-h100-sxm\"\n"
                         "[efficiency]\ngemm_fraction = 2\n";
  expect_file_error(file.string(), {"gpu-h100-slow.toml:5:", "'efficiency.gemm_fraction' = 2"});
  // A new level must be complete and still ordered.
  std::ofstream(file) << "schema_version = 1\nname = \"gpu-h100-slow\"\nextends = \"gpu-h100-sxm\"\n"
                         "[[memory]]\nname = \"ssd\"\nkind = \"dram\"\ncapacity_gb = 8\nbandwidth_gbps = 7\n";
  expect_file_error(file.string(), {"memory[3] 'ssd'", "ordered innermost first"});
  fs::remove_all(dir);
}

TEST(ChipSpecHelpers, LevelLookupAndDisplay) {
  const ChipSpec chip = load_chip("gpu-h100-sxm");
  EXPECT_EQ(chip.find_level("nope"), nullptr);
  expect_error_of([&] { (void)chip.level("nope"); }, {"no memory level 'nope'", "smem, l2, hbm"});
  EXPECT_EQ(chip.level("smem").instances, 132);
  EXPECT_NEAR(chip.level("smem").bandwidth_gbps, 128.0 * 132 * 1830e6 / 1e9, 1e-6);
  EXPECT_DOUBLE_EQ(*chip.peak_flops(Precision::FP8), 1979e12);
  EXPECT_DOUBLE_EQ(*chip.pj_per_mac(Precision::BF16), 0.30);
  EXPECT_EQ(format_bytes(256 * 1024), "256 KiB");
  EXPECT_EQ(format_bytes(50e6), "50 MB");
  EXPECT_EQ(format_bytes(80e9), "80 GB");
  EXPECT_EQ(format_bandwidth(3350), "3.35 TB/s");
  EXPECT_EQ(format_bandwidth(819), "819 GB/s");
  EXPECT_EQ(format_peak_bf16(load_chip("lpu-groq")), "188 (fp16)");
  const nlohmann::json json = chip_to_json(chip);
  EXPECT_EQ(json["memory"][2]["name"], "hbm");
  EXPECT_EQ(json["compute"]["peak_tflops"]["bf16"], 989.0);
}

TEST(ChipPresets, LpuSizesItselfAndGroqNumbersAreConsistent) {
  const ChipSpec chip = load_chip("lpu-groq");
  EXPECT_TRUE(chip.system.auto_size);
  EXPECT_EQ(chip.system.max_chips.value_or(0), 10440);
  ASSERT_TRUE(chip.interconnect.has_value());
  // 4 MXM planes of 320 x 320 MACs at 900 MHz are within 2 % of the 750 TOPS spec.
  const double macs = chip.compute.units * *chip.compute.tile_n * *chip.compute.tile_k;
  EXPECT_NEAR(macs * 2 * chip.clock_mhz * 1e6, *chip.peak_flops(Precision::INT8), 0.02 * 750e12);
}

}  // namespace
}  // namespace xpusim::chips::test
