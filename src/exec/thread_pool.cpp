#include "exec/thread_pool.h"

#include <algorithm>

namespace xpusim::exec {
namespace {

std::pair<int64_t, int64_t> part_range(int64_t n, int parts, int index) {
  int64_t base = n / parts, extra = n % parts;
  int64_t begin = index * base + std::min<int64_t>(index, extra);
  return {begin, begin + base + (index < extra ? 1 : 0)};
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  m_threads = threads;
  for (int i = 1; i < threads; ++i) m_workers.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  for (auto& worker : m_workers) worker.join();
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  while (true) {
    const std::function<void(int64_t, int64_t)>* job;
    int64_t n;
    int parts;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [&] { return m_stop || m_generation != seen; });
      if (m_stop) return;
      seen = m_generation;
      job = m_job;
      n = m_job_n;
      parts = m_job_parts;
    }
    if (index < parts) {
      auto [begin, end] = part_range(n, parts, index);
      try {
        (*job)(begin, end);
      } catch (...) {
        std::lock_guard lock(m_mutex);
        if (!m_error) m_error = std::current_exception();
      }
    }
    std::lock_guard lock(m_mutex);
    if (--m_pending == 0) m_done.notify_one();
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t min_per_thread,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  int64_t by_size = std::max<int64_t>(1, n / std::max<int64_t>(1, min_per_thread));
  int parts = static_cast<int>(std::min<int64_t>(m_threads, by_size));
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  {
    std::lock_guard lock(m_mutex);
    m_job = &fn;
    m_job_n = n;
    m_job_parts = parts;
    m_pending = static_cast<int>(m_workers.size());
    m_error = nullptr;
    ++m_generation;
  }
  m_wake.notify_all();
  std::exception_ptr own_error;
  auto [begin, end] = part_range(n, parts, 0);
  try {
    fn(begin, end);
  } catch (...) {
    own_error = std::current_exception();
  }
  std::unique_lock lock(m_mutex);
  m_done.wait(lock, [&] { return m_pending == 0; });
  if (own_error) std::rethrow_exception(own_error);
  if (m_error) std::rethrow_exception(m_error);
}

}  // namespace xpusim::exec
