#include "agent/core/run_facts.h"

namespace pycheck {

std::shared_ptr<RunFacts::Slot> RunFacts::slot_for(std::type_index type,
                                                   std::string_view name) const {
  std::lock_guard lock(mutex_);
  std::shared_ptr<Slot>& slot = slots_[{type, std::string(name)}];
  if (!slot) slot = std::make_shared<Slot>();
  return slot;
}

}  // namespace pycheck
