// STUB: to be implemented.
#include "checks/check_table.h"

namespace pycheck {

CheckInfo net_services_check() {
  return CheckInfo{"net_services", "stub", "stub", [](const Context&) {
    return CheckOutcome{CheckStatus::skip, "not implemented", json::object(), ""};
  }, {}};
}

}  // namespace pycheck
