// openpgp_verdict: pycheck's InRelease verifier (checks/formats/openpgp_verify.h)
// on files, one JSON line out. The oracle (tests/integration/openpgp_oracle.py)
// compares it with apt's own tools.
//
//   openpgp_verdict --keyring FILE... [--fingerprint FPR...] --now EPOCH
//                   (--inrelease FILE | --release FILE --release-gpg FILE)
//                   [--repeat N] [--message-out FILE]
//
// --repeat N verifies N times and adds the mean time per verification
// ("seconds_per_verification"); a figure, not a judgment.
// --message-out FILE writes the verified message (empty unless verified), so
// the oracle can compare it with apt's own split of the file.
// Exit status: 0 when a verdict was printed (whatever it is), 2 on usage or
// unreadable files.
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "checks/formats/openpgp_verify.h"

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "openpgp_verdict: " << why << "\n"
            << "usage: openpgp_verdict --keyring FILE... [--fingerprint FPR...] --now EPOCH\n"
               "                       (--inrelease FILE | --release FILE --release-gpg FILE)"
               " [--repeat N] [--message-out FILE]\n";
  std::exit(2);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "openpgp_verdict: cannot read " << path << "\n";
    std::exit(2);
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

long long parse_integer(const std::string& text, const char* what) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0) usage(std::string("bad ") + what + ": " + text);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> keyrings, fingerprints;
  std::optional<long long> now;
  std::optional<std::string> inrelease, release, release_gpg, message_out;
  long long repeat = 1;

  // Options taking several values (--keyring A B, --fingerprint X Y) collect
  // every following argument until the next option.
  std::vector<std::string>* collecting = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* option) -> std::string {
      if (i + 1 >= argc) usage(std::string(option) + " needs a value");
      return argv[++i];
    };
    if (arg.rfind("--", 0) == 0) collecting = nullptr;
    if (arg == "--keyring") {
      keyrings.push_back(value("--keyring"));
      collecting = &keyrings;
    } else if (arg == "--fingerprint") {
      fingerprints.push_back(value("--fingerprint"));
      collecting = &fingerprints;
    } else if (arg == "--now") {
      now = parse_integer(value("--now"), "--now");
    } else if (arg == "--inrelease") {
      inrelease = value("--inrelease");
    } else if (arg == "--release") {
      release = value("--release");
    } else if (arg == "--release-gpg") {
      release_gpg = value("--release-gpg");
    } else if (arg == "--repeat") {
      repeat = parse_integer(value("--repeat"), "--repeat");
      if (repeat < 1) usage("--repeat must be at least 1");
    } else if (arg == "--message-out") {
      message_out = value("--message-out");
    } else if (arg == "--help" || arg == "-h") {
      usage("help");
    } else if (collecting != nullptr) {
      collecting->push_back(arg);
    } else {
      usage("unexpected argument: " + arg);
    }
  }
  if (keyrings.empty()) usage("--keyring is required");
  if (!now) usage("--now is required");
  if (inrelease.has_value() == (release.has_value() || release_gpg.has_value()))
    usage("give either --inrelease or --release with --release-gpg");
  if (release.has_value() != release_gpg.has_value())
    usage("--release and --release-gpg go together");

  pycheck::TrustedKeys keys;
  for (const auto& path : keyrings) keys.keyrings.push_back({path, read_file(path)});
  keys.fingerprints = fingerprints;
  const std::chrono::sys_seconds at{std::chrono::seconds{*now}};

  const std::string signed_file = read_file(inrelease ? *inrelease : *release);
  const std::string signature = release_gpg ? read_file(*release_gpg) : std::string();

  auto verify = [&] {
    return inrelease ? pycheck::verify_clearsigned(signed_file, keys, at)
                     : pycheck::verify_detached(signed_file, signature, keys, at);
  };
  const auto started = std::chrono::steady_clock::now();
  pycheck::SignatureCheck check = verify();
  for (long long i = 1; i < repeat; ++i) check = verify();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;

  if (message_out) {
    std::ofstream file(*message_out, std::ios::binary | std::ios::trunc);
    file << check.message;
    if (!file.flush()) {
      std::cerr << "openpgp_verdict: cannot write " << *message_out << "\n";
      return 2;
    }
  }
  nlohmann::json out = {
      {"verdict", std::string(pycheck::to_string(check.verdict))},
      {"ok", check.ok()},
      {"reason", check.reason},
      {"rule", check.rule},
      {"signer_fingerprint", check.signer_fingerprint},
      {"signing_key_fingerprint", check.signing_key_fingerprint},
      {"user_id", check.user_id},
      {"keyring", check.keyring},
      {"issuers", check.issuers},
      {"message_bytes", check.message.size()},
      {"file_bytes", signed_file.size()},
  };
  if (repeat > 1) {
    out["repeat"] = repeat;
    out["seconds_per_verification"] = elapsed.count() / static_cast<double>(repeat);
  }
  // Invalid UTF-8 in a user id must not abort the line.
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return 0;
}
