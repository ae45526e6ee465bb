// STUB: to be implemented.
#include "checks/check_table.h"

namespace pycheck {

CheckInfo tls_ca_certificates_check() {
  return CheckInfo{"tls_ca_certificates", "stub", "stub", [](const Context&) {
    return CheckOutcome{CheckStatus::skip, "not implemented", json::object(), ""};
  }, {}};
}

}  // namespace pycheck
