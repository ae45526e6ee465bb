// The scan for a person: the verdict first (one line), then one line per
// container (status, name, runtime and short id, the checks that failed or
// the reason it was not checked), then what else the scan met.
#include <algorithm>

#include "agent/core/text.h"
#include "agent/scan/scan_report.h"

namespace pycheck {
namespace {

std::string short_id(const std::string& id) { return id.substr(0, 12); }

// "namespace/pod/container", else the container's name, else its short id.
std::string display_name(const ContainerIdentity& id) {
  if (!id.pod.empty()) {
    std::string name = id.namespace_name.empty() ? id.pod : id.namespace_name + "/" + id.pod;
    return id.container.empty() ? name : name + "/" + id.container;
  }
  if (!id.container.empty()) return id.container;
  return short_id(id.container_id);
}

// The report's verdict for a checked (or stale) container, else its state.
std::string status_word(const ScannedContainer& c) {
  std::string word(c.report ? to_string(c.report->overall) : to_string(c.state));
  for (char& ch : word) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return word;
}

const char* color_of(const std::string& word) {
  if (word == "FAIL" || word == "ERROR" || word == "DENIED" || word == "UNSUPPORTED" ||
      word == "NOT-CHECKED")
    return "\033[31m";
  if (word == "WARN") return "\033[33m";
  if (word == "PASS") return "\033[32m";
  return "\033[2m";
}

// What follows the name: the checks that need attention, else the reason.
std::string remark(const ScannedContainer& c) {
  std::string text;
  if (c.report) {
    std::vector<std::string> ids = failing_checks(*c.report);
    if (ids.empty()) ids = checks_with(*c.report, CheckStatus::warn);
    text = join(ids, ", ");
  }
  if (!c.reason.empty()) text += (text.empty() ? "" : "; ") + c.reason;
  return text;
}

}  // namespace

std::string scan_verdict_line(const ScanReport& scan) {
  const ScanTotals t = scan.totals();
  std::string verdict = !scan.scanner_error.empty() ? "ERROR"
                        : scan.exit_code() != 0     ? "FAIL"
                                                    : "PASS";
  std::vector<std::string> parts;
  parts.push_back(std::to_string(t.checked + t.stale) + " checked (" + std::to_string(t.failing) +
                  " failing)");
  const auto add = [&](int n, std::string_view what) {
    if (n > 0) parts.push_back(std::to_string(n) + " " + std::string(what));
  };
  add(t.no_python, "without Python");
  add(t.sandboxes, t.sandboxes == 1 ? "sandbox" : "sandboxes");
  add(t.denied, "denied");
  add(t.unsupported, "unsupported");
  add(t.vanished, "gone before their check");
  add(t.not_checked, "not checked");
  std::string line = "pycheck scan: " + verdict + " — " + std::to_string(t.containers) +
                     (t.containers == 1 ? " container: " : " containers: ") + join(parts, ", ");
  if (!scan.scanner_error.empty()) line += " — " + scan.scanner_error;
  return line;
}

std::string render_scan_text(const ScanReport& scan, bool color) {
  std::string out = scan_verdict_line(scan) + "\n";
  std::size_t status_width = 0, name_width = 0;
  for (const ScannedContainer& c : scan.containers) {
    status_width = std::max(status_width, status_word(c).size());
    name_width = std::max(name_width, display_name(c.identity).size());
  }
  for (const ScannedContainer& c : scan.containers) {
    const std::string word = status_word(c);
    const std::string name = display_name(c.identity);
    std::string line = "  ";
    line += color ? std::string(color_of(word)) + word + "\033[0m" : word;
    line += std::string(status_width - word.size() + 2, ' ') + name +
            std::string(name_width - name.size() + 2, ' ');
    line += std::string(to_string(c.identity.runtime)) + " " + short_id(c.identity.container_id);
    if (c.state == ContainerState::stale) line += " (stale)";
    if (std::string more = remark(c); !more.empty()) line += "  " + more;
    out += line + "\n";
  }
  const ScanTotals t = scan.totals();
  std::vector<std::string> notes;
  const auto count = [](int n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
  };
  if (t.other_namespaces > 0)
    notes.push_back(count(t.other_namespaces, "other mount namespace", "other mount namespaces") +
                    " (no container)");
  if (t.processes_vanished > 0)
    notes.push_back(count(t.processes_vanished, "process", "processes") + " exited while read");
  if (t.processes_denied > 0)
    notes.push_back(count(t.processes_denied, "process", "processes") + " pycheck may not read");
  char took[32];
  std::snprintf(took, sizeof took, "%.0f ms", scan.duration_ms);
  notes.push_back(std::string("scan took ") + took + " with " + std::to_string(scan.jobs) +
                  (scan.jobs == 1 ? " job" : " jobs"));
  out += "  " + join(notes, "; ") + "\n";
  return out;
}

}  // namespace pycheck
