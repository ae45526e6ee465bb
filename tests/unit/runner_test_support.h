// Helpers that keep runner and scheduler tests independent of the machine's
// speed: a clock that moves only when told, and checks that hang until
// released and say when they have started.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>

#include "agent/core/check.h"
#include "agent/run/runner.h"
#include "tests/unit/hang_guard.h"

namespace pycheck::test {

// A RunClock that stands still until advance(). The runner sees a new time
// within a millisecond: it polls, as the runner's condition variable is its own.
class ManualClock final : public RunClock {
 public:
  time_point now() const override { return time_point(time_point::duration(ticks_.load())); }
  void wait_until(std::condition_variable& progress, std::unique_lock<std::mutex>& lock,
                  time_point until) const override {
    ++waits_;
    if (now() < until) progress.wait_for(lock, std::chrono::milliseconds(1));
  }
  void advance(std::chrono::nanoseconds by) {
    ticks_ += std::chrono::duration_cast<time_point::duration>(by).count();
  }
  // Waits until the runner has gone round its loop a few more times at this
  // time: whatever it would do now (start a thread, end the run), it has done.
  bool runner_looked_again() {
    const auto target = waits_.load() + 3;
    return eventually([&] { return waits_.load() >= target; });
  }

 private:
  std::atomic<time_point::duration::rep> ticks_{
      std::chrono::steady_clock::now().time_since_epoch().count()};
  mutable std::atomic<long> waits_{0};
};

// Runs `work` (a run, or a scheduler step that makes one) on another thread,
// so the test can move the clock meanwhile. A test that stops early (a failed
// REQUIRE) moves the clock a day ahead on the way out: the run ends at its
// deadline instead of keeping the test waiting for it.
template <typename T>
class InBackground {
 public:
  InBackground(std::shared_ptr<ManualClock> clock, std::function<T()> work)
      : clock_(std::move(clock)), result_(std::async(std::launch::async, std::move(work))) {}
  ~InBackground() {
    if (result_.valid() && !returned()) clock_->advance(std::chrono::hours(24));
  }
  InBackground(const InBackground&) = delete;
  InBackground& operator=(const InBackground&) = delete;

  bool returned(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
    return result_.wait_for(wait) == std::future_status::ready;
  }
  T get() { return result_.get(); }

 private:
  std::shared_ptr<ManualClock> clock_;
  std::future<T> result_;
};

// Stands in for a read on a dead network filesystem: HangGate::hang counts
// itself in, then blocks until the test's HangGate is released or destroyed.
// Check functions are plain function pointers, hence the one current gate.
class HangGate {
 public:
  HangGate() {
    std::lock_guard lock(current_mutex());
    current() = state_;
  }
  ~HangGate() { release(); }
  HangGate(const HangGate&) = delete;
  HangGate& operator=(const HangGate&) = delete;

  // Waits until `count` hanging checks have started; false after kHangGuard.
  bool started(int count) {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, kHangGuard, [&] { return state_->started >= count; });
  }
  int started_now() {
    std::lock_guard lock(state_->mutex);
    return state_->started;
  }
  void release() {
    {
      std::lock_guard lock(state_->mutex);
      state_->released = true;
    }
    state_->changed.notify_all();
  }

  static CheckOutcome hang(const Context&) {
    std::shared_ptr<State> state;
    {
      std::lock_guard lock(current_mutex());
      state = current();  // kept: the thread may outlive the test and its gate
    }
    std::unique_lock lock(state->mutex);
    ++state->started;
    state->changed.notify_all();
    state->changed.wait(lock, [&] { return state->released; });
    return {CheckStatus::pass, "released", json::object(), {}};
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    int started = 0;
    bool released = false;
  };
  // Never destroyed: a thread left behind by a run may still read them at exit.
  static std::shared_ptr<State>& current() {
    static auto* state = new std::shared_ptr<State>(std::make_shared<State>());
    return *state;
  }
  static std::mutex& current_mutex() {
    static auto* mutex = new std::mutex;
    return *mutex;
  }
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace pycheck::test
