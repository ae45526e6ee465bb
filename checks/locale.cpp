// STUB: to be implemented.
#include "checks/check_table.h"

namespace pycheck {

CheckInfo locale_check() {
  return CheckInfo{"locale", "stub", "stub", [](const Context&) {
    return CheckOutcome{CheckStatus::skip, "not implemented", json::object(), ""};
  }, {}};
}

}  // namespace pycheck
