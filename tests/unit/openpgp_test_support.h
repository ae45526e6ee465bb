// Keys and signatures made at test time with the host's gpg in a temporary
// GNUPGHOME, for the OpenPGP verifier's tests. Tests only.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "checks/formats/openpgp_verify.h"
#include "tests/unit/apt_test_support.h"
#include "tests/unit/host_tools.h"

namespace pycheck::test {

class GpgHome {
 public:
  // gpg with this home, batch mode, no passphrase; `options` before the command.
  std::string gpg(const std::string& args) const {
    return "GNUPGHOME=" + dir_.path() + " gpg --batch --quiet --no-tty --pinentry-mode loopback "
           "--passphrase '' " + args;
  }
  std::string run(const std::string& args) const { return host::run_command(gpg(args) + " 2>/dev/null"); }

  // A new key; returns its fingerprint. `algo` as --quick-gen-key takes it.
  std::string generate(const std::string& uid, const std::string& algo,
                       const std::string& expiry = "0", const std::string& options = "") {
    run(options + " --quick-gen-key '" + uid + "' " + algo + " sign " + expiry);
    return fingerprint_of(uid);
  }
  std::string fingerprint_of(const std::string& uid) const {
    return host::run_trimmed(gpg("--with-colons --list-keys '=" + uid +
                                 "' 2>/dev/null | awk -F: '/^fpr/{print $10; exit}'"));
  }
  // The fingerprint of the newest subkey of `primary`.
  std::string add_subkey(const std::string& primary, const std::string& algo) {
    run("--quick-add-key " + primary + " " + algo + " sign");
    return host::run_trimmed(gpg("--with-colons --list-keys " + primary +
                                 " 2>/dev/null | awk -F: '/^fpr/{f=$10} END{print f}'"));
  }
  std::string write(const std::string& name, const std::string& content) const {
    const std::string path = dir_.file(name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  // `text` clearsigned by `key` (add "!" to pick a subkey) with `digest`.
  std::string clearsign(const std::string& text, const std::string& key,
                        const std::string& digest = "SHA256", const std::string& options = "") {
    const std::string in = write("message.txt", text);
    return run(options + " --digest-algo " + digest + " -u '" + key + "' --clearsign -o - " + in);
  }
  std::string detach_sign(const std::string& text, const std::string& key, bool armor) {
    const std::string in = write("release.txt", text);
    return run(std::string(armor ? "--armor " : "") + "--digest-algo SHA256 -u '" + key +
               "' --detach-sign -o - " + in);
  }
  std::string export_keys(const std::string& keys, bool armor = false) const {
    return run(std::string(armor ? "--armor " : "") + "--export " + keys);
  }
  // Imports the revocation certificate gpg made when it generated `fpr`.
  void revoke(const std::string& fpr) {
    host::run_command("sed 's/^:-----BEGIN/-----BEGIN/' " + dir_.path() + "/openpgp-revocs.d/" + fpr +
                      ".rev | " + gpg("--import 2>/dev/null"));
  }
  void revoke_subkey(const std::string& primary, int index) {
    host::run_command("printf 'key " + std::to_string(index) + "\\nrevkey\\ny\\n0\\n\\ny\\nsave\\n' | " +
                      gpg("--yes --command-fd 0 --edit-key " + primary + " >/dev/null 2>&1"));
  }

 private:
  TempDir dir_;
};

inline TrustedKeys trusting(const std::string& keyring_bytes, std::vector<std::string> fprs = {}) {
  return TrustedKeys{{OpenPgpKeyring{"test keyring", keyring_bytes}}, std::move(fprs)};
}

inline std::chrono::sys_seconds now_seconds() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace pycheck::test
