// ThreadPool: a small persistent pool for the host kernels (matvec rows, attention heads). Workers sleep on a
// condition variable between jobs; parallel_for splits [0, n) into one contiguous range per thread and the
// calling thread runs the first range itself, so a 1-thread pool runs everything inline. Non-goals: work
// stealing, nested parallelism (a kernel never calls parallel_for from inside a range).
#pragma once

#include <condition_variable>
#include <cstdint>
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
  // Calls fn(begin, end) on disjoint ranges covering [0, n); returns when all are done. Ranges are at least
  // `min_per_thread` long (fewer threads are used for small n). Exceptions from fn are rethrown here.
  void parallel_for(int64_t n, int64_t min_per_thread, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop(int index);

  int m_threads;
  std::vector<std::thread> m_workers;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::condition_variable m_done;
  const std::function<void(int64_t, int64_t)>* m_job = nullptr;
  int64_t m_job_n = 0;
  int m_job_parts = 0;
  uint64_t m_generation = 0;
  int m_pending = 0;
  bool m_stop = false;
  std::exception_ptr m_error;
};

}  // namespace xpusim::exec
