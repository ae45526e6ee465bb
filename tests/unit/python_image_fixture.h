// Fixture roots shaped like the official python image (docker-library/python,
// python:3.11-slim-bookworm) and the things users add to it: Debian's python3
// from apt, venvs. Only the files pycheck reads are written.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/check.h"
#include "checks/check_table.h"
#include "tests/unit/fixture_root.h"

namespace pycheck::test {

// The image's PATH: Docker's default with /usr/local/bin put first once more.
inline constexpr std::string_view kImagePath =
    "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

inline std::string patchlevel_h(std::string_view version, int major, int minor) {
  return "#ifndef Py_PATCHLEVEL_H\n/* Python version identification scheme. */\n"
         "#define PY_RELEASE_LEVEL_FINAL  0xF\n"
         "#define PY_MAJOR_VERSION        " +
         std::to_string(major) +
         "\n"
         "#define PY_MINOR_VERSION        " +
         std::to_string(minor) +
         "\n"
         "#define PY_MICRO_VERSION        15\n"
         "#define PY_RELEASE_LEVEL        PY_RELEASE_LEVEL_FINAL\n"
         "#define PY_RELEASE_SERIAL       0\n\n"
         "/* Version as a string */\n"
         "#define PY_VERSION              \"" +
         std::string(version) +
         "\"\n"
         "#define PY_VERSION_HEX ((PY_MAJOR_VERSION << 24) | (PY_MINOR_VERSION << 16))\n#endif\n";
}

inline std::string pip_metadata(std::string_view version) {
  return "Metadata-Version: 2.1\nName: pip\nVersion: " + std::string(version) +
         "\nSummary: The PyPA recommended tool for installing Python packages.\n"
         "Home-page: https://pip.pypa.io/\nLicense: MIT\nRequires-Python: >=3.7\n\n"
         "pip - The Python Package Installer\n==================================\n";
}

inline std::string pip_script(std::string_view shebang) {
  return std::string(shebang) +
         "\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom pip._internal.cli.main import "
         "main\nif __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', "
         "'', sys.argv[0])\n    sys.exit(main())\n";
}

// /usr/local as the image builds it, for Python `version` ("3.11.15") with `pip`.
inline void add_image_python(FixtureRoot& root, std::string_view version = "3.11.15",
                             std::string_view pip = "24.0") {
  const std::string v(version);
  const std::string minor = v.substr(0, v.find('.', v.find('.') + 1));  // "3.11"
  const int minor_number = std::stoi(minor.substr(2));
  const std::string lib = "/usr/local/lib/python" + minor;
  const std::string script = pip_script("#!/usr/local/bin/python" + minor);
  root.executable("/usr/local/bin/python" + minor)
      .symlink("/usr/local/bin/python3", "python" + minor)
      .symlink("/usr/local/bin/python", "python3")
      .file("/usr/local/bin/pip3", script, 0755)
      .file("/usr/local/bin/pip" + minor, script, 0755)
      .symlink("/usr/local/bin/pip", "pip3")
      .file("/usr/local/include/python" + minor + "/patchlevel.h",
            patchlevel_h(version, 3, minor_number))
      .file(lib + "/os.py", "# stdlib\n")
      .file(lib + "/_sysconfigdata__linux_x86_64-linux-gnu.py",
            "# system configuration generated and used by the sysconfig module\n"
            "build_time_vars = {'ABIFLAGS': '',\n 'CONFIG_ARGS': \"'--enable-shared' "
            "'--with-lto'\",\n 'MULTIARCH': 'x86_64-linux-gnu',\n 'VERSION': '" +
                minor + "',\n 'prefix': '/usr/local'}\n")
      .file(lib + "/site-packages/pip-" + std::string(pip) + ".dist-info/METADATA",
            pip_metadata(pip))
      .file(lib + "/site-packages/pip/__init__.py", "__version__ = \"" + std::string(pip) + "\"\n")
      .file(lib + "/ensurepip/_bundled/pip-" + std::string(pip) + "-py3-none-any.whl", "PK")
      .file("/usr/local/lib/libpython" + minor + ".so.1.0",
            "\x7f"
            "ELF")
      .file("/etc/debian_version", "12.11\n");
}

// What `apt-get install python3` adds on bookworm: /usr/bin/python3.11 (3.11.2)
// without headers, with dpkg's records of it.
inline void add_debian_python(FixtureRoot& root, bool with_pip = false) {
  root.executable("/usr/bin/python3.11")
      .symlink("/usr/bin/python3", "python3.11")
      .file("/usr/lib/python3.11/os.py", "# stdlib\n")
      .file("/usr/lib/python3.11/_sysconfigdata__x86_64-linux-gnu.py",
            "build_time_vars = {'MULTIARCH': 'x86_64-linux-gnu', 'VERSION': '3.11'}\n")
      .mkdir("/usr/lib/python3/dist-packages")
      .file("/var/lib/dpkg/info/python3.11-minimal.list",
            "/.\n/usr\n/usr/bin\n/usr/bin/python3.11\n/usr/share/doc/python3.11-minimal\n")
      .file("/var/lib/dpkg/info/python3-minimal.list", "/.\n/usr\n/usr/bin\n/usr/bin/python3\n")
      .file("/var/lib/dpkg/info/libc6:amd64.list", "/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n")
      .file("/var/lib/dpkg/status",
            "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
            "Version: 2.36-9+deb12u10\n\n"
            "Package: python3.11-minimal\nStatus: install ok installed\nPriority: optional\n"
            "Architecture: amd64\nSource: python3.11\nVersion: 3.11.2-6+deb12u6\n"
            "Description: Minimal subset of the Python language (version 3.11)\n"
            " This package contains the interpreter and some essential modules.\n\n"
            "Package: python3-minimal\nStatus: install ok installed\nArchitecture: amd64\n"
            "Source: python3-defaults\nVersion: 3.11.2-1+b1\n\n");
  if (with_pip) {
    root.file("/usr/bin/pip3", pip_script("#!/usr/bin/python3"), 0755)
        .file("/usr/lib/python3/dist-packages/pip-23.0.1.dist-info/METADATA",
              pip_metadata("23.0.1"))
        .file("/usr/lib/python3/dist-packages/pip/__init__.py", "__version__ = \"23.0.1\"\n");
  }
}

// Runs one check from the table on a fixture root and environment, with the
// run's deadline at `deadline` when given (RootFs then fails every read past it).
inline CheckOutcome run_check(
    std::string_view id, const FixtureRoot& root, const Environment& env,
    const json& params = json::object(),
    std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) {
  const CheckInfo* check = find_check(id);
  if (check == nullptr) throw std::runtime_error("no check " + std::string(id));
  json merged = json::object();
  for (const CheckParam& p : check->params)
    merged[std::string(p.name)] = json::parse(p.default_json);
  for (const auto& [key, value] : params.items()) merged[key] = value;
  RootFs fs = root.fs();
  if (deadline) fs.set_deadline(*deadline);
  Context ctx{fs, env, merged, std::chrono::system_clock::now(), false};
  return check->run(ctx);
}

inline Environment image_env(std::string_view path = kImagePath,
                             std::string_view python_version = "3.11.15") {
  Environment env;
  env.set("PATH", std::string(path));
  if (!python_version.empty()) env.set("PYTHON_VERSION", std::string(python_version));
  env.set("LANG", "C.UTF-8");
  return env;
}

}  // namespace pycheck::test
