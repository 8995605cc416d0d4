// The register convention of generic (position-independent) engine programs: which registers the host sets
// before each run, which ones the program derives from them in its prologue, and which ones the lowering
// uses as loop temporaries. Documented for users in docs/compiler.md ("Run-time registers").
// Non-goals: base registers for far operands (r1..r8, owned by the emitter, emitter.cpp).
// HOWTO add a run-time parameter: give it a register below kNewTokensRegister's neighbours here, set it in
// EngineRunner::run_chunk (engine_runner.cpp) and declare its range with Emitter::set_runtime_register.
#pragma once

#include <cstdint>

namespace xpusim::compiler {

class Emitter;
struct DramPlan;

// Set by the host (EngineRunner) before each run of a generic program.
inline constexpr int kPositionRegister = 60;   // position of the step's first token in its sequence
inline constexpr int kNewTokensRegister = 61;  // real (not padding) tokens of the step, >= 1

// Derived in the program's prologue from the two above (lower_step.cpp).
inline constexpr int kRopeOffsetRegister = 58;  // position * head_dim (bytes of one bf16 half-row pair)
inline constexpr int kKvOffsetRegister = 57;    // position * head_dim * 2 (bytes of one cache row)
inline constexpr int kLastRowRegister = 56;     // (new tokens - 1) * hidden * 2 (the head's input row)

// Emitter scratch: high part of a DRAM address beyond a register-relative offset field.
inline constexpr int kAddressScratchRegister = 59;

// r32..r36: token / expert ids loaded with `ld` and the offsets derived from them (lower_embedding.cpp,
// lower_moe.cpp).

// Attention key-block loop temporaries (lower_attention.cpp).
inline constexpr int kAttnFirstRegister = 40;  // r40..r55

// Declares the run-time registers' ranges to the emitter (position 0 .. KV capacity - rows, 1 .. rows real
// tokens) and emits the prologue that derives the offset registers.
void emit_runtime_prologue(Emitter& emit, const DramPlan& plan, int64_t rows);

}  // namespace xpusim::compiler
