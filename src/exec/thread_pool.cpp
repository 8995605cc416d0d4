#include "exec/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace xpusim::exec {
namespace {

// About 0.2-0.5 ms of spinning before a worker sleeps (pause is ~40-140 cycles).
constexpr int kSpinIterations = 1 << 13;
// Chunks per thread: enough for the caller to absorb a late worker's share, few enough to keep claims cheap.
constexpr int64_t kChunksPerThread = 4;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

uint64_t generation_of(uint64_t claim) { return claim >> 32; }

// A wait shorter than this is never a stall (a chunk of a normal job can take that long).
constexpr int64_t kStallMicros = 200;
constexpr std::chrono::nanoseconds kMinBackoff = std::chrono::milliseconds(10);
constexpr std::chrono::nanoseconds kMaxBackoff = std::chrono::seconds(1);

int64_t nanoseconds_between(std::chrono::steady_clock::time_point a,
                            std::chrono::steady_clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  m_threads = threads;
  for (int i = 1; i < threads; ++i) m_workers.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(m_mutex);
    m_stop.store(true);
  }
  m_wake.notify_all();
  for (auto& worker : m_workers) worker.join();
}

void ThreadPool::run_chunks(uint64_t generation) {
  uint64_t claim = m_claim.load(std::memory_order_acquire);
  while (generation_of(claim) == generation) {
    const int64_t chunk = static_cast<int64_t>(claim & 0xFFFFFFFFu);
    if (chunk >= m_chunks.load(std::memory_order_relaxed)) return;
    if (!m_claim.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      continue;  // `claim` was reloaded
    }
    // The claim succeeded, so this job is unfinished and its fields are the ones published with it.
    const int64_t n = m_job_n.load(std::memory_order_relaxed),
                  size = m_chunk_size.load(std::memory_order_relaxed);
    const int64_t begin = chunk * size, end = std::min(n, begin + size);
    try {
      (*m_job.load(std::memory_order_relaxed))(begin, end);
    } catch (...) {
      std::lock_guard lock(m_mutex);
      if (!m_error) m_error = std::current_exception();
    }
    m_finished.fetch_add(1, std::memory_order_acq_rel);
    claim = m_claim.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  while (true) {
    // Spin first: the next job of a decode step usually comes within microseconds.
    bool ready = false;
    for (int spin = 0; spin < kSpinIterations; ++spin) {
      if (generation_of(m_claim.load(std::memory_order_acquire)) != seen ||
          m_stop.load(std::memory_order_relaxed)) {
        ready = true;
        break;
      }
      cpu_relax();
    }
    if (!ready) {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [&] { return m_stop.load() || generation_of(m_claim.load()) != seen; });
    }
    if (m_stop.load()) return;
    seen = generation_of(m_claim.load(std::memory_order_acquire));
    run_chunks(seen);
  }
}

void ThreadPool::note_wait(int64_t own_ns, int64_t wait_ns) {
  const auto now = std::chrono::steady_clock::now();
  if (wait_ns > 2 * own_ns && wait_ns > kStallMicros * 1000) {
    ++m_stalls;
    m_backoff = std::clamp(2 * m_backoff, kMinBackoff, kMaxBackoff);
    m_inline_until = now + m_backoff;
    m_last_change = now;
  } else if (m_backoff.count() > 0 && now - m_last_change > 4 * m_backoff) {
    // Clean for four windows since the last stall (or the last halving): contention has likely eased.
    m_backoff = m_backoff / 2 < kMinBackoff ? std::chrono::nanoseconds(0) : m_backoff / 2;
    m_last_change = now;
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t min_per_thread,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t min_size = std::max<int64_t>(1, min_per_thread);
  const int64_t chunks = std::min<int64_t>({(n + min_size - 1) / min_size, m_threads * kChunksPerThread, n});
  if (m_threads <= 1 || chunks <= 1) {
    fn(0, n);
    return;
  }
  const int64_t size = (n + chunks - 1) / chunks;
  const int64_t real_chunks = (n + size - 1) / size;
  const auto start = std::chrono::steady_clock::now();
  if (start < m_inline_until) {  // after a stall: the same ranges, all on this thread
    ++m_inline_jobs;
    for (int64_t begin = 0; begin < n; begin += size) fn(begin, std::min(n, begin + size));
    return;
  }
  uint64_t generation;
  {
    // Under the mutex so a worker between its predicate check and its wait cannot miss the new job.
    std::lock_guard lock(m_mutex);
    m_error = nullptr;
    m_job.store(&fn, std::memory_order_relaxed);
    m_job_n.store(n, std::memory_order_relaxed);
    m_chunk_size.store(size, std::memory_order_relaxed);
    m_chunks.store(real_chunks, std::memory_order_relaxed);
    m_finished.store(0, std::memory_order_relaxed);
    generation = generation_of(m_claim.load(std::memory_order_relaxed)) + 1;
    m_claim.store(generation << 32, std::memory_order_release);
  }
  m_wake.notify_all();
  run_chunks(generation);
  const auto own_done = std::chrono::steady_clock::now();
  // Only chunks other threads claimed and are still running are waited for.
  bool waited = false;
  for (int spin = 0; m_finished.load(std::memory_order_acquire) < real_chunks; ++spin) {
    waited = true;
    if (spin < kSpinIterations) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
  note_wait(nanoseconds_between(start, own_done),
            waited ? nanoseconds_between(own_done, std::chrono::steady_clock::now()) : 0);
  std::lock_guard lock(m_mutex);
  if (m_error) std::rethrow_exception(m_error);
}

}  // namespace xpusim::exec
