// RunFacts: facts that several checks of one run need (the dpkg database, a
// Python installation's layout), worked out once by whichever check asks first
// and then shared, read-only, by the others.
//
// A run's checks run on parallel threads: a second check asking for a fact
// being computed waits for it rather than reading the same files again. A fact
// is keyed by its type and a name ("dpkg", or a path), lives as long as the run
// (RunSetup), and is never recomputed. When `compute` throws, nothing is kept
// and the exception reaches the caller; the next caller tries again.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeindex>
#include <utility>

namespace pycheck {

class RunFacts {
 public:
  template <typename T>
  std::shared_ptr<const T> get(std::string_view name, const std::function<T()>& compute) const {
    std::shared_ptr<Slot> slot = slot_for(std::type_index(typeid(T)), name);
    std::call_once(slot->once, [&] { slot->value = std::make_shared<const T>(compute()); });
    return std::static_pointer_cast<const T>(slot->value);
  }

 private:
  struct Slot {
    std::once_flag once;
    std::shared_ptr<const void> value;
  };
  std::shared_ptr<Slot> slot_for(std::type_index type, std::string_view name) const;

  mutable std::mutex mutex_;
  mutable std::map<std::pair<std::type_index, std::string>, std::shared_ptr<Slot>> slots_;
};

// The fact `name` of type T: computed once and shared when there are RunFacts,
// computed afresh when `facts` is null (a check run on its own, a unit test).
template <typename T, typename Compute>
std::shared_ptr<const T> shared_fact(const RunFacts* facts, std::string_view name,
                                     Compute&& compute) {
  if (facts == nullptr) return std::make_shared<const T>(compute());
  return facts->get<T>(name, std::function<T()>(std::forward<Compute>(compute)));
}

}  // namespace pycheck
