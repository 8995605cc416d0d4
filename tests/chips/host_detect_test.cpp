// Host detection: plausible values on this machine, cached per process, merged under cpu-host.toml, and the
// peak-rate arithmetic for each SIMD/AMX feature set.
#include <chrono>

#include "chip_test_util.h"
#include "chips/host_detect.h"

namespace xpusim::chips::test {
namespace {

TEST(HostDetect, FindsCoresCachesAndBandwidth) {
  const HostInfo& host = detect_host();
  EXPECT_GE(host.physical_cores, 1);
  EXPECT_GE(host.logical_cpus, host.physical_cores);
  EXPECT_GT(host.dram_bytes, 0);
  EXPECT_GT(host.dram_read_gbps, 0.1);
  EXPECT_LT(host.dram_read_gbps, 10000);
  EXPECT_GE(host.bandwidth_buffer_bytes, 16 << 20);
  for (const HostCache& cache : host.caches) {
    EXPECT_GT(cache.size_bytes, 0);
    EXPECT_GE(cache.shared_by_cores, 1);
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(&detect_host(), &host);  // cached: the second call does not measure again
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_NE(host_report(host).find("GB/s streaming read"), std::string::npos);
}

TEST(HostDetect, CpuHostPresetUsesDetectedValues) {
  const HostInfo& host = detect_host();
  const ChipSpec chip = load_chip("cpu-host");
  EXPECT_TRUE(chip.detected);
  EXPECT_EQ(chip.compute.units, host.physical_cores);
  EXPECT_DOUBLE_EQ(chip.level("dram").bandwidth_gbps, host.dram_read_gbps);
  EXPECT_DOUBLE_EQ(chip.level("dram").capacity_bytes, static_cast<double>(host.dram_bytes));
  EXPECT_DOUBLE_EQ(*chip.level("dram").energy_pj_per_byte, 140);  // from the file
  EXPECT_EQ(chip.memory.size(), host.caches.size() + 1);
  EXPECT_NE(chip.description.find("this machine"), std::string::npos);
}

HostInfo fake_host(HostFeatures features) {
  HostInfo host;
  host.physical_cores = 4;
  host.logical_cpus = 8;
  host.clock_mhz = 2000;
  host.features = features;
  host.dram_bytes = int64_t{16} << 30;
  host.dram_read_gbps = 40;
  return host;
}

double peak(const toml::table& table, const char* precision) {
  return table["compute"]["peak_tflops"][precision].value_or(-1.0);
}

TEST(HostDetect, PeakRatesFollowTheFeatureSet) {
  const toml::table file = toml::parse("[compute]\nfma_pipes = 2\n");
  HostFeatures avx2;
  avx2.fma = avx2.avx2 = avx2.os_avx = true;
  toml::table table = host_chip_table(fake_host(avx2), file, "cpu-host.toml");
  const double cycles = 4 * 2000e6;
  EXPECT_DOUBLE_EQ(peak(table, "fp32"), 8 * 2 * 2 * cycles / 1e12);  // 8 lanes x FMA x 2 pipes
  EXPECT_DOUBLE_EQ(peak(table, "bf16"), peak(table, "fp32"));
  EXPECT_DOUBLE_EQ(peak(table, "int8"), peak(table, "fp32") * 4 / 3);

  HostFeatures avx512 = avx2;
  avx512.avx512f = avx512.os_avx512 = avx512.avx512_bf16 = avx512.avx512_vnni = true;
  table = host_chip_table(fake_host(avx512), file, "cpu-host.toml");
  EXPECT_DOUBLE_EQ(peak(table, "fp32"), 16 * 2 * 2 * cycles / 1e12);
  EXPECT_DOUBLE_EQ(peak(table, "bf16"), 2 * peak(table, "fp32"));
  EXPECT_DOUBLE_EQ(peak(table, "int8"), 4 * peak(table, "fp32"));

  HostFeatures amx = avx512;
  amx.amx_tile = amx.amx_bf16 = amx.amx_int8 = amx.os_amx = true;
  table = host_chip_table(fake_host(amx), file, "cpu-host.toml");
  EXPECT_DOUBLE_EQ(peak(table, "bf16"), 1024 * cycles / 1e12);
  EXPECT_DOUBLE_EQ(peak(table, "int8"), 2048 * cycles / 1e12);
  EXPECT_EQ(table["compute"]["tile_k"].value_or(0), 32);

  amx.os_amx = false;  // the OS does not save AMX state: no AMX
  table = host_chip_table(fake_host(amx), file, "cpu-host.toml");
  EXPECT_DOUBLE_EQ(peak(table, "bf16"), 2 * peak(table, "fp32"));
}

TEST(HostDetect, FmaPipesMustComeFromTheFile) {
  expect_error_of([] { (void)host_chip_table(fake_host({}), toml::table{}, "cpu-host.toml"); },
                  {"cpu-host.toml", "compute.fma_pipes"});
}

TEST(HostDetect, FileValuesWinAndMissingLevelsAreDropped) {
  // A cpu chip with detect = true: the file's clock overrides detection; a level the machine lacks is
  // dropped.
  const std::string text = R"(schema_version = 1
name = "cpu-mine"
family = "cpu"
detect = true
clock_mhz = 1234
[compute]
fma_pipes = 1
[[memory]]
name = "l1d"
bytes_per_clock_per_unit = 64
[[memory]]
name = "l2"
bytes_per_clock_per_unit = 32
[[memory]]
name = "l3"
bytes_per_clock_per_unit = 16
[[memory]]
name = "l9"
bandwidth_gbps = 1
[efficiency]
gemm_fraction = 0.5
memory_bw_fraction = 0.9
launch_overhead_us = 2
)";
  const ChipSpec chip = load_chip_from_string(text, "cpu-mine.toml");
  EXPECT_DOUBLE_EQ(chip.clock_mhz, 1234);
  EXPECT_EQ(chip.find_level("l9"), nullptr);
  EXPECT_NE(chip.find_level("dram"), nullptr);
}

}  // namespace
}  // namespace xpusim::chips::test
