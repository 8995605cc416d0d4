// The persistent pool: ranges cover [0, n) exactly once, many back-to-back jobs (the decode pattern: hundreds
// of short jobs microseconds apart, workers spinning between them) all complete, exceptions from any range
// reach the caller, and jobs after a long idle gap (workers asleep on the condition variable) still run. A
// worker that stalls a job (as one the OS deschedules on shared cores) switches the pool to running jobs on
// the caller for a while, with the same ranges.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "exec/thread_pool.h"

namespace xpusim::exec {
namespace {

TEST(ThreadPool, RangesCoverEveryIndexOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 5, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.parallel_for(n, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
      });
      for (const auto& h : hits) EXPECT_EQ(h.load(), 1) << "threads " << threads << " n " << n;
    }
  }
}

TEST(ThreadPool, ManyShortJobsBackToBack) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  for (int job = 0; job < 20000; ++job) {
    pool.parallel_for(2, 1, [&](int64_t begin, int64_t end) { total.fetch_add(end - begin); });
  }
  EXPECT_EQ(total.load(), 40000);
}

TEST(ThreadPool, JobsAfterWorkersSleep) {
  ThreadPool pool(2);
  std::atomic<int> ranges{0};
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past the spin: workers wait on the cv
    pool.parallel_for(2, 1, [&](int64_t, int64_t) { ranges.fetch_add(1); });
  }
  EXPECT_EQ(ranges.load(), 6);
}

TEST(ThreadPool, AStalledWorkerSwitchesToInlineJobs) {
  using namespace std::chrono;
  ThreadPool pool(2);
  const auto caller = std::this_thread::get_id();
  // Ranges on a worker sleep 20 ms (a descheduled thread); the caller's take ~100 us each, long enough for a
  // woken worker to claim one.
  const auto job = [&](int64_t, int64_t) {
    if (std::this_thread::get_id() != caller) {
      std::this_thread::sleep_for(milliseconds(20));
    } else {
      const auto until = steady_clock::now() + microseconds(100);
      while (steady_clock::now() < until) {
      }
    }
  };
  steady_clock::time_point stalled_at;
  for (int attempt = 0; attempt < 50 && pool.stalls() == 0; ++attempt) {
    pool.parallel_for(8, 1, job);
    stalled_at = steady_clock::now();
  }
  ASSERT_GT(pool.stalls(), 0) << "no worker ever took a range";
  std::vector<int> covered(8, 0);
  const int64_t inline_before = pool.inline_jobs();
  const bool within_window = steady_clock::now() - stalled_at < milliseconds(5);  // the window is >= 10 ms
  pool.parallel_for(8, 1, [&](int64_t begin, int64_t end) {
    if (within_window) {
      EXPECT_EQ(std::this_thread::get_id(), caller);
    }
    EXPECT_EQ(end - begin, 1);  // the ranges of a parallel job
    for (int64_t i = begin; i < end; ++i) ++covered[static_cast<size_t>(i)];
  });
  for (int c : covered) EXPECT_EQ(c, 1);
  if (within_window) {
    EXPECT_EQ(pool.inline_jobs(), inline_before + 1);
  }
}

TEST(ThreadPool, ExceptionsReachTheCaller) {
  ThreadPool pool(2);
  for (int64_t throwing_index : {0, 1}) {
    EXPECT_THROW(pool.parallel_for(2, 1,
                                   [&](int64_t begin, int64_t) {
                                     if (begin == throwing_index) throw std::runtime_error("range failed");
                                   }),
                 std::runtime_error);
  }
  // The pool still works afterwards.
  std::atomic<int> ranges{0};
  pool.parallel_for(2, 1, [&](int64_t, int64_t) { ranges.fetch_add(1); });
  EXPECT_EQ(ranges.load(), 2);
}

}  // namespace
}  // namespace xpusim::exec
