// STUB: to be implemented.
#include "checks/check_table.h"

namespace pycheck {

CheckInfo python_path_check() {
  return CheckInfo{"python_path", "stub", "stub", [](const Context&) {
    return CheckOutcome{CheckStatus::skip, "not implemented", json::object(), ""};
  }, {}};
}

}  // namespace pycheck
