// compiler::ProgramCache: compiled engine programs kept on disk between runs, so `xpusim run --chip ue-*`
// compiles a model's generic programs once per (model, chip, precision, compiler). Key = xxh3 of the model
// config (every field the lowering reads), the DRAM plan (shape, format, every weight slot), the chip file's
// contents, the engine count, the program kind, kCompilerVersion, the ISA version and a digest of the running
// executable (a rebuilt compiler never loads programs an older build wrote). Value: one file per key,
// `<dir>/<key>.xpuprog` = header {magic "XPUPROG\0", u32 format version, u32 reserved, u64 key, u64 payload
// bytes, u64 xxh3 of the payload} + payload (per engine program: descriptors, op groups, group_of_pc).
// Directory: $XPUSIM_CACHE_DIR/programs, else ~/.cache/xpusim/programs; XPUSIM_PROGRAM_CACHE=0 (or the CLI's
// --no-program-cache) disables it. A missing, truncated, corrupt or mismatched file is ignored with a
// one-line warning on stderr and the program recompiled; writes go to a temporary file renamed into place.
// Descriptors are not re-validated on load (the checksum vouches for the bytes this build wrote); the
// simulator decodes every descriptor when a program is loaded and reports a bad one as xpusim::Error.
// Each store keeps the directory under 512 MiB by deleting the oldest files (a llama-3.2-1b decode program is
// 1.7 MB; every rebuild writes new keys). Non-goals: sharing across machines, locking (rename is atomic).
// HOWTO change what a program depends on: add it to program_key(); bump kCompilerVersion when the lowering's
// output changes for the same inputs without a rebuild (data files, not code).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/emitter.h"
#include "compiler/memory_plan.h"
#include "engine/chip_config.h"

namespace xpusim::compiler {

inline constexpr uint32_t kCompilerVersion = 1;
inline constexpr uint32_t kProgramCacheFormat = 1;

// The directory from the environment; empty when XPUSIM_PROGRAM_CACHE=0 or no home directory is known.
std::string default_program_cache_dir();

// `kind` names the program ("generic-1", "generic-64"); `engines`: programs per step. nullopt when the chip
// was not loaded from a readable file (nothing would identify it).
std::optional<uint64_t> program_key(const DramPlan& plan, const engine::ChipConfig& chip, int64_t engines,
                                    const std::string& kind);

// Serialisation (also used by the tests): encode -> bytes with header; decode -> nullopt and `why` set when
// the bytes are not a valid cache file for `key`.
std::vector<uint8_t> encode_programs(uint64_t key, const std::vector<CompiledProgram>& programs);
std::optional<std::vector<CompiledProgram>> decode_programs(const std::vector<uint8_t>& bytes, uint64_t key,
                                                            std::string& why);

class ProgramCache {
 public:
  explicit ProgramCache(std::string dir) : m_dir(std::move(dir)) {}
  bool enabled() const { return !m_dir.empty(); }
  std::string path_for(uint64_t key) const;
  // nullopt (with a one-line warning unless the file is simply absent) when there is no valid entry.
  std::optional<std::vector<CompiledProgram>> load(uint64_t key) const;
  // Best effort: a directory or file that cannot be written gives a one-line warning, never an error.
  void store(uint64_t key, const std::vector<CompiledProgram>& programs) const;

 private:
  std::string m_dir;
};

}  // namespace xpusim::compiler
