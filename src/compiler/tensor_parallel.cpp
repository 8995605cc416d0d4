#include "compiler/tensor_parallel.h"

#include <algorithm>

#include "compiler/lowering.h"
#include "core/error.h"

namespace xpusim::compiler {

namespace {
// sem.wait timeout of a barrier: the largest the instruction holds (32 bits, ~11.7 s at 366 MHz). Engines
// can legitimately wait a long time (an engine without kv heads waits out the others' attention of a long
// prefill); a real deadlock is reported by the simulator as soon as every engine waits.
constexpr int64_t kBarrierTimeoutCycles = 0xFFFFFFFFll;
}  // namespace

IndexRange split_units(int64_t units, const EngineShard& shard) {
  XPUSIM_ASSERT(shard.count >= 1 && shard.index >= 0 && shard.index < shard.count && units >= 0);
  return {units * shard.index / shard.count, units * (shard.index + 1) / shard.count};
}

IndexRange split_rows(int64_t rows, int64_t align, const EngineShard& shard) {
  const int64_t units = (rows + align - 1) / align;
  const IndexRange u = split_units(units, shard);
  return {std::min(rows, u.begin * align), std::min(rows, u.end * align)};
}

IndexRange shard_kv_heads(const Lowering& l) { return split_units(l.config.n_kv_heads, l.shard); }

bool kv_heads_shared(const Lowering& l) { return l.shard.count > l.config.n_kv_heads; }

IndexRange shard_q_heads(const Lowering& l) {
  if (kv_heads_shared(l)) return split_units(l.config.n_heads, l.shard);
  const IndexRange kv = shard_kv_heads(l);
  const int64_t group = l.config.n_heads / l.config.n_kv_heads;
  return {kv.begin * group, kv.end * group};
}

void emit_kv_barrier(Lowering& l, int32_t layer) {
  if (kv_heads_shared(l)) emit_barrier(l, layer);
}

void shard_head_columns(const Lowering& l, LinearOut& q, LinearOut& k, LinearOut& v) {
  const int64_t d = l.config.head_dim;
  const IndexRange qh = shard_q_heads(l), kvh = shard_kv_heads(l);
  q.row_begin = qh.begin * d, q.row_end = qh.end * d;
  k.row_begin = v.row_begin = kvh.begin * d;
  k.row_end = v.row_end = kvh.end * d;
}

void emit_barrier(Lowering& l, int32_t layer) {
  const EngineShard& s = l.shard;
  if (!s.parallel()) return;
  if (s.count > l.chip.semaphores + 1)
    fail("engine compiler: a barrier over {} engines needs {} semaphores; chip {} has {}", s.count,
         s.count - 1, l.chip.name, l.chip.semaphores);
  Emitter& e = l.emit;
  e.begin_group("barrier", layer >= 0 ? fmt::format("blk.{}.barrier", layer) : std::string("barrier"), layer);
  if (s.master()) {
    for (int64_t w = 1; w < s.count; ++w) e.sem_wait(static_cast<int>(w), false, kBarrierTimeoutCycles);
    for (int64_t w = 1; w < s.count; ++w) e.sem_clr(static_cast<int>(w));
  } else {
    e.sem_set(static_cast<int>(s.index));
    e.sem_wait(static_cast<int>(s.index), true, kBarrierTimeoutCycles);
  }
}

}  // namespace xpusim::compiler
