#include "checks/check_table.h"

#include <vector>

namespace pycheck {

std::span<const CheckInfo> check_table() {
  static const std::vector<CheckInfo> table = {
      python_path_check(),
      python_installs_check(),
      python_shared_libraries_check(),
      locale_check(),
      tls_ca_certificates_check(),
      net_services_check(),
      apt_security_updates_check(),
      pip_version_check(),
      python_venv_check(),
      python_eol_check(),
      os_eol_check(),
      python_bytecode_check(),
  };
  return table;
}

const CheckInfo* find_check(std::string_view id) {
  for (const CheckInfo& check : check_table()) {
    if (check.id == id) return &check;
  }
  return nullptr;
}

}  // namespace pycheck
