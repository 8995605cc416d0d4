// Detected host values -> chip-file keys (host_chip_table) and the `xpusim chips --detect` report.
// Peak-rate arithmetic per core per cycle (deriv; the cpu-host file gives compute.fma_pipes):
//   fp32 = simd_width/32 lanes x 2 (FMA) x fma_pipes
//   bf16 = 1,024 with AMX-BF16 [S41]; 2 x fp32 with AVX512_BF16 (vdpbf16ps: two bf16 pairs per fp32 lane);
//          else fp32 (convert, then FMA)
//   int8 = 2,048 with AMX-INT8 [S41]; 4 x fp32 with VNNI (vpdpbusd: four u8*s8 MACs per 32-bit lane);
//          else 4/3 x fp32 (vpmaddubsw + vpmaddwd + vpaddd: four MACs per lane in three instructions)
#include <fmt/format.h>

#include "chips/chip_toml.h"
#include "chips/host_detect.h"
#include "core/error.h"

namespace xpusim::chips {

namespace {

const char* cache_name(const HostCache& cache) {
  switch (cache.level) {
    case 1:
      return "l1d";
    case 2:
      return "l2";
    case 3:
      return "l3";
    default:
      return "l4";
  }
}

}  // namespace

toml::table host_chip_table(const HostInfo& host, const toml::table& file, const std::string& file_path) {
  const auto* pipes_node = file.at_path("compute.fma_pipes").as_integer();
  if (pipes_node == nullptr)
    fail("{}: cpu-host detection needs compute.fma_pipes (FMA pipes per core cannot be detected)", file_path);
  const double pipes = static_cast<double>(pipes_node->get());
  const HostFeatures& f = host.features;
  const int width = f.simd_width_bits();
  const double fp32_per_cycle = width / 32.0 * 2 * pipes;
  const bool amx = f.amx_tile && f.os_amx;
  const double bf16_per_cycle = (amx && f.amx_bf16)               ? 1024
                                : (f.avx512_bf16 && width == 512) ? 2 * fp32_per_cycle
                                                                  : fp32_per_cycle;
  const bool vnni = (f.avx512_vnni && width == 512) || f.avx_vnni;
  const double int8_per_cycle = (amx && f.amx_int8) ? 2048
                                : vnni              ? 4 * fp32_per_cycle
                                                    : fp32_per_cycle * 4 / 3;
  const double cycles_per_s = host.clock_mhz * 1e6 * host.physical_cores;

  toml::table table;
  table.insert("description", fmt::format("this machine: {}, {} cores, {}",
                                          host.model_name.empty() ? "unknown CPU" : host.model_name,
                                          host.physical_cores, f.summary()));
  if (host.clock_mhz > 0) table.insert("clock_mhz", host.clock_mhz);
  toml::table compute;
  compute.insert("unit_name", "core");
  compute.insert("units", host.physical_cores);
  compute.insert("simd_width_bits", width);
  if (amx) {  // one TMUL per core; C[16x16] fp32 += A[16x32] bf16 x B[32x16] [S41]
    compute.insert("matrix_engines_per_unit", 1);
    compute.insert("tile_m", 16);
    compute.insert("tile_n", 16);
    compute.insert("tile_k", 32);
  }
  if (host.clock_mhz > 0) {
    toml::table peaks;
    peaks.insert("fp32", fp32_per_cycle * cycles_per_s / 1e12);
    peaks.insert("bf16", bf16_per_cycle * cycles_per_s / 1e12);
    peaks.insert("int8", int8_per_cycle * cycles_per_s / 1e12);
    compute.insert("peak_tflops", std::move(peaks));
  }
  table.insert("compute", std::move(compute));

  toml::array levels;
  for (const HostCache& cache : host.caches) {
    toml::table level;
    level.insert("name", cache_name(cache));
    level.insert("kind", "cache");
    level.insert("capacity_bytes", cache.size_bytes);
    level.insert("shared_by_units", std::min(cache.shared_by_cores, std::max(1, host.physical_cores)));
    levels.push_back(std::move(level));
  }
  toml::table dram;
  dram.insert("name", "dram");
  dram.insert("kind", "dram");
  if (host.dram_bytes > 0) dram.insert("capacity_bytes", host.dram_bytes);
  if (host.dram_read_gbps > 0) dram.insert("bandwidth_gbps", host.dram_read_gbps);
  levels.push_back(std::move(dram));
  table.insert("memory", std::move(levels));
  return table;
}

std::string host_report(const HostInfo& host) {
  std::string text;
  text += fmt::format("cpu:        {}\n", host.model_name.empty() ? "unknown" : host.model_name);
  text += fmt::format("cores:      {} physical, {} logical (sysfs topology, sysconf)\n", host.physical_cores,
                      host.logical_cpus);
  text += fmt::format("clock:      {:.0f} MHz ({})\n", host.clock_mhz,
                      host.clock_source.empty() ? "not detected" : host.clock_source);
  text += fmt::format("simd:       {} bits; {} (cpuid + xgetbv)\n", host.features.simd_width_bits(),
                      host.features.summary());
  for (const HostCache& cache : host.caches)
    text += fmt::format("{:<11} {} KiB per instance, shared by {} core(s) (sysfs cache/index*)\n",
                        std::string(cache_name(cache)) + ":", cache.size_bytes / 1024, cache.shared_by_cores);
  text += fmt::format("dram:       {:.1f} GiB (/proc/meminfo)\n", host.dram_bytes / 1073741824.0);
  if (host.bandwidth_cached)
    text += fmt::format(
        "bandwidth:  {:.1f} GB/s streaming read ({} threads, {} MiB buffer; from the per-machine cache)\n",
        host.dram_read_gbps, host.bandwidth_threads, host.bandwidth_buffer_bytes >> 20);
  else
    text += fmt::format(
        "bandwidth:  {:.1f} GB/s streaming read ({} threads, {} MiB buffer, median of {} probes, {:.2f} s; "
        "{})\n",
        host.dram_read_gbps, host.bandwidth_threads, host.bandwidth_buffer_bytes >> 20, host.bandwidth_probes,
        host.bandwidth_seconds,
        host.bandwidth_busy ? fmt::format("NOT cached: load average {:.1f} on {} CPUs, other work shared the "
                                          "cores, so this is low; run `xpusim chips --detect` when idle",
                                          host.bandwidth_load_average, host.logical_cpus)
                            : std::string("cached"));
  return text;
}

}  // namespace xpusim::chips
