// Expected failures as values: a Result<T> holds either a T or an Error.
// Nothing in pycheck throws across a check boundary; readers return these.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace pycheck {

struct Error {
  std::string message;  // complete, human-readable: names the file or thing at fault
  int errno_value = 0;  // the errno behind it, when there is one (ENOENT lets callers say "missing")

  // The run's deadline passed (RootFs and the HTTP client report it as ETIMEDOUT):
  // the check could not find out, so it reports `error`, never a verdict.
  bool timed_out() const { return errno_value == ETIMEDOUT; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }
  // True when the failure is "it does not exist" (as opposed to unreadable, too large, ...).
  bool missing() const { return !ok() && error().errno_value == ENOENT; }
  // True when the run's deadline stopped the read (see Error::timed_out).
  bool timed_out() const { return !ok() && error().timed_out(); }

  T value_or(T fallback) const { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace pycheck
