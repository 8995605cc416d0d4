// ThreadPool: the one persistent pool of the host kernels (matvec rows, GEMM panels, attention items); an
// executor owns one, so kernels never start threads of their own and never oversubscribe the cores.
// parallel_for cuts [0, n) into a few chunks per thread; the calling thread and the workers claim chunks from
// one atomic counter, so the caller does all the work itself when a worker is slow to wake or descheduled (a
// busy 2-core machine) instead of waiting for it, and the job ends as soon as every chunk is done. Workers
// spin briefly after a job (a decode step issues a few hundred jobs microseconds apart, and a
// condition-variable wake-up costs tens of microseconds), then sleep on a condition variable. A 1-thread pool
// runs everything inline.
// Shared cores: a worker the OS deschedules in the middle of a chunk holds the whole job up for a scheduler
// time slice (milliseconds, where a decode-step job takes tens of microseconds): with one busy neighbour on 2
// cores decode fell ~6x. So the caller times how long it waits for other threads' chunks after finishing its
// own; a wait longer than twice its own work (and > kStallMicros) is a stall, and the pool then runs jobs
// inline (on the calling thread only, the workers go to sleep and leave their core to the neighbour) for a
// back-off window that doubles with each stall (10 ms .. 1 s) and halves after four windows without one.
// Results do not change: ranges never depend on the thread that runs them. Non-goals: nested parallelism (a
// kernel never calls parallel_for from inside a range).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace xpusim::exec {

class ThreadPool {
 public:
  // threads <= 0: one per hardware thread.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return m_threads; }
  // Jobs run inline because of a recent stall (shared cores), since construction (for bench / tests).
  int64_t inline_jobs() const { return m_inline_jobs; }
  int64_t stalls() const { return m_stalls; }
  // Calls fn(begin, end) on disjoint ranges covering [0, n), possibly several per thread, from any thread;
  // returns when all are done. Ranges are at least `min_per_thread` long (one range, run inline, when n is
  // small). Results must not depend on which thread runs a range. Exceptions from fn are rethrown here.
  void parallel_for(int64_t n, int64_t min_per_thread, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop();
  // Claims and runs chunks of job `generation` until none is left.
  void run_chunks(uint64_t generation);
  // After a parallel job: the caller's own work and wait, in nanoseconds; updates the back-off.
  void note_wait(int64_t own_ns, int64_t wait_ns);

  int m_threads;
  std::vector<std::thread> m_workers;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  // The job: (generation << 32) | next unclaimed chunk. Job fields are written before the release store that
  // publishes a new generation; a claim (CAS on this word) succeeds only while that job is unfinished.
  std::atomic<uint64_t> m_claim{0};
  std::atomic<const std::function<void(int64_t, int64_t)>*> m_job{nullptr};
  std::atomic<int64_t> m_job_n{0};
  std::atomic<int64_t> m_chunk_size{1};
  std::atomic<int64_t> m_chunks{0};
  std::atomic<int64_t> m_finished{0};  // chunks of the current job done
  std::atomic<bool> m_stop{false};
  std::exception_ptr m_error;  // guarded by m_mutex
  // Stall back-off (touched by the calling thread only: jobs come from one thread at a time).
  std::chrono::steady_clock::time_point m_inline_until{}, m_last_change{};
  std::chrono::nanoseconds m_backoff{0};
  int64_t m_inline_jobs = 0, m_stalls = 0;
};

}  // namespace xpusim::exec
