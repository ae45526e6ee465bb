// Test helpers for certificates: real ones made with the openssl CLI (Debian
// package openssl), host files and commands. Header-only, tests only.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "fixture_root.h"
#include "host_tools.h"

namespace pycheck::test::certs {

using namespace host;  // read_host_file, run_status, run_command

// Makes self-signed certificates with chosen validity through `openssl ca`,
// the CLI's way to set explicit start and end dates.
class CertFactory {
 public:
  CertFactory() {
    work_
        .file("/ca.cnf",
              "[ca]\ndefault_ca = tca\n[tca]\ndatabase = index.txt\nnew_certs_dir = .\n"
              "serial = serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n"
              "[any]\ncommonName = supplied\n")
        .file("/index.txt", "")
        .file("/serial", "1000\n");
  }
  // Dates as YYYYMMDDHHMMSSZ.
  std::string make(const std::string& cn, const std::string& start, const std::string& end) {
    const std::string n = std::to_string(++count_);
    run_command("cd '" + work_.dir() +
                "' && openssl req -new -newkey ec -pkeyopt "
                "ec_paramgen_curve:P-256 -nodes -keyout k" +
                n + ".key -out r" + n + ".csr -subj '/CN=" + cn +
                "' 2>&1 && openssl ca -batch -config ca.cnf -selfsign "
                "-keyfile k" +
                n + ".key -in r" + n + ".csr -startdate " + start + " -enddate " + end +
                " -notext -out c" + n + ".pem 2>&1");
    return read_host_file(work_.host_path("/c" + n + ".pem"));
  }
  std::string ed25519(const std::string& cn) {
    run_command("cd '" + work_.dir() +
                "' && openssl req -x509 -newkey ed25519 -nodes -keyout "
                "ed.key -out ed.pem -days 3650 -subj '/CN=" +
                cn + "' 2>&1");
    return read_host_file(work_.host_path("/ed.pem"));
  }
  const FixtureRoot& dir() const { return work_; }

 private:
  FixtureRoot work_;
  int count_ = 0;
};

inline std::chrono::system_clock::time_point utc(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / day{d}};
}

// PEM certificate blocks that are not certificates.
inline const std::string kNotBase64 =
    "-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n";
inline const std::string kNotDer =
    "-----BEGIN CERTIFICATE-----\nQUJDREVGRw==\n-----END CERTIFICATE-----\n";

}  // namespace pycheck::test::certs
