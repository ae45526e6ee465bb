// STUB: to be implemented.
#include "checks/check_table.h"

namespace pycheck {

CheckInfo pip_version_check() {
  return CheckInfo{"pip_version", "stub", "stub", [](const Context&) {
    return CheckOutcome{CheckStatus::skip, "not implemented", json::object(), ""};
  }, {}};
}

}  // namespace pycheck
