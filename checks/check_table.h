// The one explicit list of checks, in the order they run and are reported.
// Each check lives in its own file and exposes a function returning its CheckInfo.
#pragma once

#include <span>
#include <string_view>

#include "agent/core/check.h"

namespace pycheck {

CheckInfo python_path_check();
CheckInfo python_installs_check();
CheckInfo python_shared_libraries_check();
CheckInfo locale_check();
CheckInfo tls_ca_certificates_check();
CheckInfo net_services_check();
CheckInfo apt_security_updates_check();
CheckInfo pip_version_check();
CheckInfo python_venv_check();
CheckInfo python_eol_check();
CheckInfo os_eol_check();
CheckInfo python_bytecode_check();

std::span<const CheckInfo> check_table();
const CheckInfo* find_check(std::string_view id);

}  // namespace pycheck
