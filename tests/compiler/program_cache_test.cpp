// The on-disk program cache (compiler/program_cache.h): encode/decode round trip; truncated, corrupt,
// wrong-version and wrong-key files are ignored (one-line warning) and the runner recompiles with the same
// results; a second runner loads instead of compiling; the key tells models, precisions and kinds apart;
// the directory follows XPUSIM_CACHE_DIR / XPUSIM_PROGRAM_CACHE.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "compiler/engine_runner.h"
#include "compiler/parallel_step.h"
#include "compiler/program_cache.h"
#include "compiler_test_util.h"
#include "engine/chip_config.h"
#include "model/synthetic.h"

namespace xpusim::compiler {
namespace {

namespace fs = std::filesystem;
using testing::tiny_config;

class TempDir {
 public:
  TempDir() : m_path(fs::temp_directory_path() / ("xpusim_program_cache_" + std::to_string(::getpid()))) {
    fs::remove_all(m_path);
  }
  ~TempDir() { fs::remove_all(m_path); }
  std::string str() const { return m_path.string(); }

 private:
  fs::path m_path;
};

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

struct Fixture {
  engine::ChipConfig chip = engine::load_chip("ue-ku5p");
  model::ModelConfig config = tiny_config(model::Family::LLAMA);
  DramPlan plan = plan_dram(config, engine::WeightFormat::ue_if4, {8, 1, 128}, chip);
};

TEST(ProgramCache, EncodeDecodeRoundTrip) {
  Fixture f;
  const StepPrograms programs = compile_generic_step_programs(f.plan, f.chip, 1);
  const std::vector<uint8_t> bytes = encode_programs(42, programs.engines);
  std::string why;
  const auto back = decode_programs(bytes, 42, why);
  ASSERT_TRUE(back.has_value()) << why;
  ASSERT_EQ(back->size(), 1u);
  const CompiledProgram& a = programs.engines[0];
  const CompiledProgram& b = (*back)[0];
  EXPECT_EQ(a.program.code, b.program.code);
  EXPECT_EQ(a.group_of_pc, b.group_of_pc);
  ASSERT_EQ(a.groups.size(), b.groups.size());
  for (size_t i = 0; i < a.groups.size(); ++i) {
    EXPECT_EQ(a.groups[i].label, b.groups[i].label);
    EXPECT_EQ(a.groups[i].op_type, b.groups[i].op_type);
    EXPECT_EQ(a.groups[i].dram_read_bytes, b.groups[i].dram_read_bytes);
    EXPECT_EQ(a.groups[i].instructions, b.groups[i].instructions);
  }
}

TEST(ProgramCache, BadFilesAreRejectedWithAReason) {
  Fixture f;
  const std::vector<uint8_t> good =
      encode_programs(7, compile_generic_step_programs(f.plan, f.chip, 1).engines);
  std::string why;
  EXPECT_FALSE(decode_programs(good, 8, why).has_value());
  EXPECT_NE(why.find("key"), std::string::npos) << why;
  for (size_t keep : {size_t{0}, size_t{10}, size_t{40}, good.size() / 2, good.size() - 1}) {
    const std::vector<uint8_t> truncated(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(keep));
    EXPECT_FALSE(decode_programs(truncated, 7, why).has_value()) << keep;
  }
  std::vector<uint8_t> version = good;
  version[8] ^= 0x7F;  // the format version field
  EXPECT_FALSE(decode_programs(version, 7, why).has_value());
  EXPECT_NE(why.find("version"), std::string::npos) << why;
  std::vector<uint8_t> magic = good;
  magic[0] = 'Y';
  EXPECT_FALSE(decode_programs(magic, 7, why).has_value());
  for (size_t at : {size_t{44}, good.size() / 3, good.size() - 3}) {
    std::vector<uint8_t> flipped = good;
    flipped[at] ^= 0x10;
    EXPECT_FALSE(decode_programs(flipped, 7, why).has_value()) << at;
    EXPECT_NE(why.find("checksum"), std::string::npos) << why;
  }
}

TEST(ProgramCache, KeySeparatesModelsPrecisionsAndKinds) {
  Fixture f;
  const uint64_t base = program_key(f.plan, f.chip, 1, "generic-1").value();
  EXPECT_EQ(base, program_key(f.plan, f.chip, 1, "generic-1").value());
  EXPECT_NE(base, program_key(f.plan, f.chip, 1, "generic-8").value());
  EXPECT_NE(base, program_key(f.plan, f.chip, 2, "generic-1").value());
  const DramPlan bf16 = plan_dram(f.config, engine::WeightFormat::bf16, {8, 1, 128}, f.chip);
  EXPECT_NE(base, program_key(bf16, f.chip, 1, "generic-1").value());
  model::ModelConfig other = f.config;
  other.norm_eps = 1e-6;
  EXPECT_NE(base, program_key(plan_dram(other, engine::WeightFormat::ue_if4, {8, 1, 128}, f.chip), f.chip, 1,
                              "generic-1")
                      .value());
  EXPECT_NE(base, program_key(f.plan, engine::load_chip("ue-kintex7"), 1, "generic-1").value());
  engine::ChipConfig unnamed = f.chip;
  unnamed.source = "not a file";
  EXPECT_FALSE(program_key(f.plan, unnamed, 1, "generic-1").has_value());
}

// A runner with a cache directory: the first compiles and stores, the second loads; damaged files are
// recompiled; all three give the same logits and cycles.
TEST(ProgramCache, RunnerLoadsStoresAndRecompilesDamagedFiles) {
  Fixture f;
  TempDir dir;
  const model::Weights weights = model::make_synthetic_weights(f.config);
  const RunnerOptions options{.format = engine::WeightFormat::ue_if4,
                              .kv_capacity = 64,
                              .max_step_tokens = 8,
                              .program_cache_dir = dir.str()};
  const std::vector<int32_t> prompt = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
  auto run = [&](int64_t expect_compiled, int64_t expect_loaded) {
    EngineRunner runner(f.chip, f.config, &weights, options);
    StepOutput out = runner.forward(prompt);
    std::vector<float> logits = out.logits;
    const int32_t next = out.argmax;
    out = runner.forward(std::span<const int32_t>(&next, 1));
    logits.insert(logits.end(), out.logits.begin(), out.logits.end());
    EXPECT_EQ(runner.program_stats().compiled, expect_compiled);
    EXPECT_EQ(runner.program_stats().loaded, expect_loaded);
    return std::make_pair(logits, out.cycles);
  };
  const auto first = run(3, 0);
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir.str())) files.push_back(entry.path().string());
  ASSERT_EQ(files.size(), 3u);  // decode, chunk of 8, last chunk of 3 (1-row buckets); no temp files
  for (const std::string& file : files) EXPECT_EQ(fs::path(file).extension(), ".xpuprog");
  EXPECT_EQ(run(0, 3), first);

  std::vector<uint8_t> bytes = read_file(files[0]);
  bytes.resize(bytes.size() / 2);
  write_file(files[0], bytes);  // truncated
  bytes = read_file(files[1]);
  bytes[bytes.size() - 5] ^= 0xFF;
  write_file(files[1], bytes);  // corrupt
  EXPECT_EQ(run(2, 1), first);  // both damaged files recompiled (and rewritten)
  EXPECT_EQ(run(0, 3), first);
}

TEST(ProgramCache, DirectoryFollowsTheEnvironment) {
  const char* old_dir = std::getenv("XPUSIM_CACHE_DIR");
  const char* old_flag = std::getenv("XPUSIM_PROGRAM_CACHE");
  const std::string saved_dir = old_dir ? old_dir : "", saved_flag = old_flag ? old_flag : "";
  ::setenv("XPUSIM_CACHE_DIR", "/some/where", 1);
  ::unsetenv("XPUSIM_PROGRAM_CACHE");
  EXPECT_EQ(default_program_cache_dir(), "/some/where/programs");
  ::setenv("XPUSIM_PROGRAM_CACHE", "0", 1);
  EXPECT_EQ(default_program_cache_dir(), "");
  if (old_dir)
    ::setenv("XPUSIM_CACHE_DIR", saved_dir.c_str(), 1);
  else
    ::unsetenv("XPUSIM_CACHE_DIR");
  if (old_flag)
    ::setenv("XPUSIM_PROGRAM_CACHE", saved_flag.c_str(), 1);
  else
    ::unsetenv("XPUSIM_PROGRAM_CACHE");
}

}  // namespace
}  // namespace xpusim::compiler
