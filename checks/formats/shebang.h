// Pure parser of script interpreter lines ("#!"), as the Linux kernel reads
// them, plus the two indirections pip's scripts use to reach Python:
//
//   #!/usr/local/bin/python3.11                 direct: the kernel runs that path
//   #!/usr/bin/env python3                      env: `python3` is looked up on PATH
//   #!/usr/bin/env -S python3 -u                env -S: the argument is split first
//   #!/bin/sh                                   distlib's wrapper for long or spaced
//   '''exec' "/opt/my app/bin/python" "$0" "$@"   paths: the shell execs line 2
//   ' '''
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace pycheck {

enum class ShebangForm { direct, env, sh_exec };
std::string_view to_string(ShebangForm form);

struct Shebang {
  ShebangForm form = ShebangForm::direct;
  std::string interpreter;  // what the kernel runs, as written: "/usr/bin/env", "/bin/sh", ...
  std::string argument;     // the one optional argument the kernel passes ("" when none)
  // The Python the script ends up in: a path (direct, sh_exec, env with a path),
  // or a command name that env looks up through PATH (python_via_path).
  std::string python;
  bool python_via_path = false;
  std::vector<std::string> python_args;  // options given to Python ("-E", "-s", "-u")
  // The first line is longer than the kernel's buffer (BINPRM_BUF_SIZE 256 since
  // Linux 5.1, 128 before): it is cut or refused, which is why distlib switches
  // to the /bin/sh form above 127 bytes.
  bool too_long = false;
  bool carriage_return = false;  // "\r\n" line end: the kernel looks for "python3\r"
};

// Parses the start of a file (read a few hundred bytes; the sh form needs line 2).
// Fails when there is no "#!" line or no interpreter on it; an sh script that is
// not distlib's wrapper is returned as a direct shebang running /bin/sh.
Result<Shebang> parse_shebang(std::string_view head);

}  // namespace pycheck
