// Multi-engine tensor parallelism (Megatron-style, over engines sharing one DRAM): how one step's work is
// split between the engines of a chip, and the semaphore barrier that orders the engines' phases.
// Every engine runs its own program compiled for its EngineShard; all programs run the same op sequence:
//   - QKV, gate/up: output columns split on head / 64-row boundaries (attention: whole GQA groups, i.e. kv
//     heads, so Q, K, V, the KV cache and the attention of a kv head stay on one engine; with fewer kv
//     heads than engines the query heads are split on their own, and a barrier after the K/V stores
//     lets every engine read the cache of its heads' kv head);
//   - attn_output, ffn_down: output columns split too, each engine reading the *whole* input row from DRAM
//     (the shared DRAM makes that all-gather free: the barrier before the linear is all it needs). No
//     split-K: the engine's accumulator rounds after every MAC (bf20, sequential), so partial sums over K
//     would change the result; column splits keep every output element's dot product in the
//     single-engine order, so logits stay bit-exact for any engine count;
//   - post-norms (Gemma): the raw linear output goes to DRAM scratch, a barrier, then each engine
//     normalises whole token rows (its share of the step's rows) and adds the residual;
//   - LM head: vocabulary strips split between engines; each stores its strip maxima to DRAM, a barrier,
//     and engine 0 picks the winner over all strips (ties: lower index, as on one engine).
// Barrier (arrive / release, one flag per worker engine, engine 0 the master): worker i runs
// `sem.set i; sem.wait i until_clear`, the master `sem.wait 1..N-1` (until set) then `sem.clr 1..N-1`.
// sem.set / sem.clr act only after the engine's earlier DMA stores drained, so whatever an engine wrote
// before the barrier is in DRAM when any engine passes it. Flags are reusable without phases: a worker sets
// its flag again only after it saw the master clear it, and the master clears only after every flag was
// set. Needs N - 1 semaphores (7 of the 8 on ue-alveo-u50-x8).
// Non-goals: pipeline parallelism, split-K reductions, MoE (expert parallelism: MoE models run on one
// engine), several chips. HOWTO split a new op: give it a row range from split_rows()/shard_kv_heads() in
// its lowering, and an emit_barrier() before the first op that reads what other engines wrote.
#pragma once

#include <cstdint>

namespace xpusim::compiler {

struct EngineShard {
  int64_t index = 0;  // this engine
  int64_t count = 1;  // engines the step is split over
  bool parallel() const { return count > 1; }
  bool master() const { return index == 0; }
};

struct IndexRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
  bool empty() const { return end <= begin; }
};

// Balanced contiguous split of `units` units: this shard's [begin, end) (possibly empty).
IndexRange split_units(int64_t units, const EngineShard& shard);
// Rows [begin, end) of `rows`, split on multiples of `align` rows (the last shard takes the remainder).
IndexRange split_rows(int64_t rows, int64_t align, const EngineShard& shard);

struct Lowering;
struct LinearOut;
// The kv heads this engine projects (K, V, cache stores) and the query heads it projects and attends for:
// whole GQA groups while there are at least as many kv heads as engines; otherwise the query heads are
// split evenly on their own (a group's heads over several engines, each reading that kv head's cache).
IndexRange shard_kv_heads(const Lowering& l);
IndexRange shard_q_heads(const Lowering& l);
bool kv_heads_shared(const Lowering& l);  // more engines than kv heads: the split above decouples
// The barrier between the K/V cache stores and attention, needed only when kv_heads_shared().
void emit_kv_barrier(Lowering& l, int32_t layer);
// Sets the row ranges of the Q, K and V projections to this engine's heads.
void shard_head_columns(const Lowering& l, LinearOut& q, LinearOut& k, LinearOut& v);
// Emits the arrive/release barrier (nothing on one engine). Its waits are grouped as op type "barrier".
void emit_barrier(Lowering& l, int32_t layer);

}  // namespace xpusim::compiler
