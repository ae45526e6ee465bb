// STUB: to be implemented.
#include "checks/check_table.h"

namespace pycheck {

CheckInfo python_installs_check() {
  return CheckInfo{"python_installs", "stub", "stub", [](const Context&) {
    return CheckOutcome{CheckStatus::skip, "not implemented", json::object(), ""};
  }, {}};
}

}  // namespace pycheck
