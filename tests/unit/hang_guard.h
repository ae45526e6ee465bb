// Bounds for tests that wait: far above what any step takes on a slow, loaded
// machine (ASan, 2 cores), so they only turn a hang into a failure and never
// decide a result. What a test asserts must not depend on the machine's speed.
#pragma once

#include <chrono>
#include <thread>

namespace pycheck::test {

inline constexpr std::chrono::seconds kHangGuard{30};

// Waits until predicate() holds; false only when it still does not after `limit`.
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds limit = kHangGuard) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace pycheck::test
