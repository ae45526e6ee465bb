// Shebang forms met in the wild: pip's console scripts as the image, Debian,
// pyenv and venvs write them; env forms; distlib's and pypa/installer's sh wrappers.
#include "checks/formats/shebang.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace pycheck;

namespace {

struct Vector {
  std::string text;
  ShebangForm form;
  std::string interpreter;
  std::string python;
  bool via_path;
  std::vector<std::string> args;
};

}  // namespace

TEST_CASE("shebang: real-world forms", "[shebang]") {
  const std::vector<Vector> vectors = {
      // python:3.11 image, /usr/local/bin/pip3 (ensurepip during make install)
      {"#!/usr/local/bin/python3.11\n# -*- coding: utf-8 -*-\nimport re\n",
       ShebangForm::direct,
       "/usr/local/bin/python3.11",
       "/usr/local/bin/python3.11",
       false,
       {}},
      // Debian bookworm python3-pip
      {"#! /usr/bin/python3\n# EASY-INSTALL-ENTRY-SCRIPT",
       ShebangForm::direct,
       "/usr/bin/python3",
       "/usr/bin/python3",
       false,
       {}},
      // pyenv-built interpreter
      {"#!/root/.pyenv/versions/3.11.7/bin/python3.11\n",
       ShebangForm::direct,
       "/root/.pyenv/versions/3.11.7/bin/python3.11",
       "/root/.pyenv/versions/3.11.7/bin/python3.11",
       false,
       {}},
      // a venv's pip
      {"#!/opt/venv/bin/python\n",
       ShebangForm::direct,
       "/opt/venv/bin/python",
       "/opt/venv/bin/python",
       false,
       {}},
      // an option for Python; trailing blanks are dropped as the kernel does
      {"#!/usr/bin/python3 -E  \t\n",
       ShebangForm::direct,
       "/usr/bin/python3",
       "/usr/bin/python3",
       false,
       {"-E"}},
      // no newline at all (file is just the line)
      {"#!/usr/bin/python3.11",
       ShebangForm::direct,
       "/usr/bin/python3.11",
       "/usr/bin/python3.11",
       false,
       {}},
      // env forms
      {"#!/usr/bin/env python3\n", ShebangForm::env, "/usr/bin/env", "python3", true, {}},
      {"#!/usr/bin/env -S python3 -u\n", ShebangForm::env, "/usr/bin/env", "python3", true, {"-u"}},
      {"#!/usr/bin/env -S PYTHONUTF8=1 python3.11 -X dev\n",
       ShebangForm::env,
       "/usr/bin/env",
       "python3.11",
       true,
       {"-X", "dev"}},
      // without -S, Linux hands env ONE argument: it looks for a program named "python3 -u"
      {"#!/usr/bin/env python3 -u\n", ShebangForm::env, "/usr/bin/env", "python3 -u", true, {}},
      {"#!/usr/bin/env /usr/local/bin/python3\n",
       ShebangForm::env,
       "/usr/bin/env",
       "/usr/local/bin/python3",
       false,
       {}},
      // distlib: path with a space
      {"#!/bin/sh\n'''exec' \"/opt/my app/venv/bin/python\" \"$0\" \"$@\"\n' '''\n# -*- coding: "
       "utf-8 -*-\n",
       ShebangForm::sh_exec,
       "/bin/sh",
       "/opt/my app/venv/bin/python",
       false,
       {}},
      // distlib: path longer than 127 bytes (no quotes needed)
      {"#!/bin/sh\n'''exec' /builds/group/project/" + std::string(120, 'x') +
           "/.venv/bin/python \"$0\" \"$@\"\n' '''\n",
       ShebangForm::sh_exec,
       "/bin/sh",
       "/builds/group/project/" + std::string(120, 'x') + "/.venv/bin/python",
       false,
       {}},
      // pypa/installer: shlex.quote gives single quotes
      {"#!/bin/sh\n'''exec' '/srv/a b/bin/python3' \"$0\" \"$@\"\n' '''\n",
       ShebangForm::sh_exec,
       "/bin/sh",
       "/srv/a b/bin/python3",
       false,
       {}},
      // distlib with an option and /usr/bin/env "..."
      {"#!/bin/sh\n'''exec' /usr/bin/env \"/dir with spaces/bin/python\" -E \"$0\" \"$@\"\n",
       ShebangForm::sh_exec,
       "/bin/sh",
       "/dir with spaces/bin/python",
       false,
       {"-E"}},
      // a plain shell script (pyenv shim) is not a wrapper: it runs /bin/sh itself
      {"#!/bin/sh\nset -e\nexec pyenv exec \"$0\"\n",
       ShebangForm::direct,
       "/bin/sh",
       "/bin/sh",
       false,
       {}},
      {"#!/usr/bin/env bash\nset -e\n", ShebangForm::env, "/usr/bin/env", "bash", true, {}},
  };
  for (const Vector& v : vectors) {
    INFO(v.text);
    auto parsed = parse_shebang(v.text);
    REQUIRE(parsed.ok());
    CHECK(parsed->form == v.form);
    CHECK(parsed->interpreter == v.interpreter);
    CHECK(parsed->python == v.python);
    CHECK(parsed->python_via_path == v.via_path);
    CHECK(parsed->python_args == v.args);
    CHECK_FALSE(parsed->too_long);
    CHECK_FALSE(parsed->carriage_return);
  }
}

TEST_CASE("shebang: what the kernel would refuse or misread", "[shebang]") {
  SECTION("CRLF line ends are flagged") {
    auto parsed = parse_shebang("#!/usr/local/bin/python3.11\r\nimport sys\r\n");
    REQUIRE(parsed.ok());
    CHECK(parsed->carriage_return);
    CHECK(parsed->python == "/usr/local/bin/python3.11");
  }
  SECTION("a line longer than the kernel's 255 bytes is flagged") {
    auto parsed = parse_shebang("#!/" + std::string(300, 'p') + "/bin/python3\n");
    REQUIRE(parsed.ok());
    CHECK(parsed->too_long);
  }
  SECTION("not a script, or an empty interpreter") {
    for (std::string bad :
         {std::string(""),
          std::string("\x7f"
                      "ELF\x02\x01\x01"),
          std::string("# comment\n#!/usr/bin/python3\n"), std::string("#!\n"),
          std::string("#!   \t\nimport os"), std::string("#!/usr/bin/env\n"),
          std::string("#!/usr/bin/env -S -i\n"), std::string("#!/bin/sh\n'''exec' \"$0\" \"$@\"\n"),
          std::string("#!/usr/bin/py\0thon\n", 19)}) {
      INFO(bad);
      CHECK_FALSE(parse_shebang(bad).ok());
    }
  }
  SECTION("to_string") {
    CHECK(to_string(ShebangForm::direct) == "direct");
    CHECK(to_string(ShebangForm::env) == "env");
    CHECK(to_string(ShebangForm::sh_exec) == "sh-exec");
  }
}
