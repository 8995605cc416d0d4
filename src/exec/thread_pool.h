// ThreadPool: the one persistent pool of the host kernels (matvec rows, GEMM panels, attention items); an
// executor owns one, so kernels never start threads of their own and never oversubscribe the cores.
// parallel_for cuts [0, n) into a few chunks per thread; the calling thread and the workers claim chunks from
// one atomic counter, so the caller does all the work itself when a worker is slow to wake or descheduled (a
// busy 2-core machine) instead of waiting for it, and the job ends as soon as every chunk is done. Workers
// spin briefly after a job (a decode step issues a few hundred jobs microseconds apart, and a
// condition-variable wake-up costs tens of microseconds), then sleep on a condition variable. A 1-thread pool
// runs everything inline. Non-goals: nested parallelism (a kernel never calls parallel_for from inside a
// range).
#pragma once

#include <atomic>
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
  // Calls fn(begin, end) on disjoint ranges covering [0, n), possibly several per thread, from any thread;
  // returns when all are done. Ranges are at least `min_per_thread` long (one range, run inline, when n is
  // small). Results must not depend on which thread runs a range. Exceptions from fn are rethrown here.
  void parallel_for(int64_t n, int64_t min_per_thread, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop();
  // Claims and runs chunks of job `generation` until none is left.
  void run_chunks(uint64_t generation);

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
};

}  // namespace xpusim::exec
