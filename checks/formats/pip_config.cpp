#include "checks/formats/pip_config.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "agent/core/text.h"

namespace pycheck {
namespace {

// pip's _normalize_name: lower-case, '_' -> '-', a leading "--" dropped.
std::string normalize_key(std::string_view key) {
  std::string out = lowercase(key);
  for (char& c : out)
    if (c == '_') c = '-';
  if (out.rfind("--", 0) == 0) out.erase(0, 2);
  return out;
}

// "pip", "Pip", "p_i.p" compare equal (PEP 503 name normalisation).
std::string normalize_project(std::string_view name) {
  std::string out;
  for (char c : lowercase(name)) {
    const bool sep = c == '-' || c == '_' || c == '.';
    if (sep && !out.empty() && out.back() == '-') continue;
    out += sep ? '-' : c;
  }
  return out;
}

std::string decode_entities(std::string_view s) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&lt;", '<'},    {"&gt;", '>'},  {"&amp;", '&'}, {"&quot;", '"'}, {"&#39;", '\''},
      {"&#x27;", '\''}, {"&#60;", '<'}, {"&#62;", '>'}, {"&#x3c;", '<'}, {"&#x3e;", '>'}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (s[i] == '&') {
      for (const auto& [name, c] : kEntities) {
        if (lowercase(s.substr(i, name.size())) == name) {
          out += c;
          i += name.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += s[i++];
  }
  return out;
}

std::vector<std::string> split_whitespace(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

}  // namespace

Result<PipConfigSections> parse_pip_config(std::string_view text) {
  PipConfigSections sections;
  std::string section;
  std::string* last_value = nullptr;  // for continuation lines
  std::size_t line_number = 0;
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view raw = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++line_number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    const std::string_view line = trim(raw);
    if (line.empty()) {
      last_value = nullptr;
      continue;
    }
    if (line.front() == '#' || line.front() == ';') continue;
    const bool indented = std::isspace(static_cast<unsigned char>(raw.front()));
    if (indented && last_value != nullptr) {
      *last_value += "\n" + std::string(line);
      continue;
    }
    const std::string where = "line " + std::to_string(line_number);
    if (line.front() == '[') {
      if (line.back() != ']') return Error{where + ": section header without ']'"};
      section = std::string(trim(line.substr(1, line.size() - 2)));
      sections[section];
      last_value = nullptr;
      continue;
    }
    const std::size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos || sep == 0) {
      return Error{where + ": expected \"key = value\""};
    }
    if (section.empty()) return Error{where + ": key outside any [section]"};
    std::string& value = sections[section][normalize_key(trim(line.substr(0, sep)))];
    value = std::string(trim(line.substr(sep + 1)));
    last_value = &value;
  }
  return sections;
}

PipConfigPlan pip_config_files(const Environment& env, std::string_view sys_prefix,
                               bool pip_config_file_exists) {
  PipConfigPlan plan;
  const auto env_file = env.get("PIP_CONFIG_FILE");
  if (env_file && *env_file == "/dev/null") {
    plan.config_disabled = true;
    return plan;
  }
  const auto nonempty = [&](std::string_view name) -> std::optional<std::string> {
    auto v = env.get(name);
    if (!v || v->empty()) return std::nullopt;
    return std::string(*v);
  };
  std::string xdg_dirs = nonempty("XDG_CONFIG_DIRS").value_or("/etc/xdg");
  std::size_t start = 0;
  while (start <= xdg_dirs.size()) {
    std::size_t colon = xdg_dirs.find(':', start);
    if (colon == std::string::npos) colon = xdg_dirs.size();
    std::string dir = xdg_dirs.substr(start, colon - start);
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (!dir.empty()) plan.files.push_back({dir + "/pip/pip.conf", "global"});
    start = colon + 1;
  }
  plan.files.push_back({"/etc/pip.conf", "global"});
  if (!(env_file && !env_file->empty() && pip_config_file_exists)) {
    std::string home = nonempty("HOME").value_or("/root");
    while (home.size() > 1 && home.back() == '/') home.pop_back();
    plan.files.push_back({home + "/.pip/pip.conf", "user"});
    const std::string config_home = nonempty("XDG_CONFIG_HOME").value_or(home + "/.config");
    plan.files.push_back({config_home + "/pip/pip.conf", "user"});
  }
  if (!sys_prefix.empty()) {
    std::string prefix(sys_prefix);
    while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    plan.files.push_back({(prefix == "/" ? "" : prefix) + "/pip.conf", "site"});
  }
  if (env_file && !env_file->empty()) {
    plan.files.push_back({std::string(*env_file), "PIP_CONFIG_FILE"});
  }
  return plan;
}

PipIndexSetting resolve_pip_index(const Environment& env, const std::vector<LoadedPipConfig>& files,
                                  std::string_view default_index) {
  PipIndexSetting setting;
  // Lowest priority first; each later match overwrites.
  for (const char* section : {"global", "install"}) {
    for (const LoadedPipConfig& loaded : files) {
      auto sec = loaded.sections.find(section);
      if (sec == loaded.sections.end()) continue;
      const std::string origin = loaded.file.path + " [" + section + "]";
      if (auto it = sec->second.find("index-url"); it != sec->second.end()) {
        setting.index_url = it->second;
        setting.source = origin;
      }
      if (auto it = sec->second.find("extra-index-url"); it != sec->second.end()) {
        setting.extra_index_urls = split_whitespace(it->second);
        setting.extra_source = origin;
      }
    }
  }
  if (auto v = env.get("PIP_INDEX_URL"); v && !v->empty()) {
    setting.index_url = std::string(trim(*v));
    setting.source = "PIP_INDEX_URL";
  }
  if (auto v = env.get("PIP_EXTRA_INDEX_URL"); v && !v->empty()) {
    setting.extra_index_urls = split_whitespace(*v);
    setting.extra_source = "PIP_EXTRA_INDEX_URL";
  }
  if (setting.source.empty()) {
    setting.index_url = std::string(default_index);
    setting.source = std::string(kPipDefaultIndexSource);
  }
  return setting;
}

Result<std::vector<IndexFile>> parse_simple_index_json(std::string_view body) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    return Error{std::string("not JSON: ") + e.what()};
  }
  if (!doc.is_object() || !doc.contains("files") || !doc["files"].is_array()) {
    return Error{"JSON without a \"files\" array (not a PEP 691 project page)"};
  }
  std::vector<IndexFile> files;
  for (const auto& f : doc["files"]) {
    if (!f.is_object() || !f.contains("filename") || !f["filename"].is_string()) {
      return Error{"a \"files\" entry without a \"filename\" string"};
    }
    IndexFile file;
    file.filename = f["filename"].get<std::string>();
    if (auto y = f.find("yanked"); y != f.end()) {
      // PEP 691: a bool, or the reason as a string; like pip, "" counts as not yanked.
      file.yanked =
          (y->is_string() && !y->get<std::string>().empty()) || (y->is_boolean() && y->get<bool>());
    }
    if (auto r = f.find("requires-python"); r != f.end() && r->is_string()) {
      file.requires_python = r->get<std::string>();
    }
    files.push_back(std::move(file));
  }
  return files;
}

Result<std::vector<IndexFile>> parse_simple_index_html(std::string_view body) {
  std::vector<IndexFile> files;
  const std::string low = lowercase(body);
  std::size_t pos = 0;
  while ((pos = low.find("<a", pos)) != std::string::npos) {
    std::size_t i = pos + 2;
    if (i >= low.size() || !(std::isspace(static_cast<unsigned char>(low[i])) || low[i] == '>')) {
      pos = i;
      continue;
    }
    std::map<std::string, std::optional<std::string>> attributes;
    while (i < low.size() && low[i] != '>') {
      if (std::isspace(static_cast<unsigned char>(low[i])) || low[i] == '/') {
        ++i;
        continue;
      }
      const std::size_t name_start = i;
      while (i < low.size() && !std::isspace(static_cast<unsigned char>(low[i])) && low[i] != '=' &&
             low[i] != '>') {
        ++i;
      }
      std::string name = low.substr(name_start, i - name_start);
      while (i < low.size() && std::isspace(static_cast<unsigned char>(low[i]))) ++i;
      std::optional<std::string> value;
      if (i < low.size() && low[i] == '=') {
        ++i;
        while (i < low.size() && std::isspace(static_cast<unsigned char>(low[i]))) ++i;
        if (i < low.size() && (low[i] == '"' || low[i] == '\'')) {
          const std::size_t close = low.find(low[i], i + 1);
          if (close == std::string::npos) return Error{"unterminated attribute value in <a>"};
          value = decode_entities(body.substr(i + 1, close - i - 1));
          i = close + 1;
        } else {
          const std::size_t start = i;
          while (i < low.size() && !std::isspace(static_cast<unsigned char>(low[i])) &&
                 low[i] != '>') {
            ++i;
          }
          value = decode_entities(body.substr(start, i - start));
        }
      }
      attributes[name] = value;
    }
    if (i >= low.size()) return Error{"unterminated <a> tag"};
    const std::size_t text_start = i + 1;
    const std::size_t text_end = low.find("</a", text_start);
    if (text_end == std::string::npos) return Error{"<a> without </a>"};
    IndexFile file;
    file.filename = decode_entities(trim(body.substr(text_start, text_end - text_start)));
    if (file.filename.empty() && attributes.count("href") && attributes["href"]) {
      std::string href = *attributes["href"];
      href = href.substr(0, href.find_first_of("#?"));
      file.filename = href.substr(href.rfind('/') + 1);
    }
    // PEP 592: the attribute's presence marks the file yanked, whatever its value.
    file.yanked = attributes.count("data-yanked") > 0;
    if (auto it = attributes.find("data-requires-python"); it != attributes.end() && it->second) {
      file.requires_python = *it->second;
    }
    if (!file.filename.empty()) files.push_back(std::move(file));
    pos = text_end + 3;
  }
  return files;
}

std::optional<std::string> release_version_of(std::string_view filename, std::string_view project) {
  const std::string wanted = normalize_project(project);
  if (auto wheel = parse_wheel_file_name(filename)) {
    if (normalize_project(wheel->name) == wanted && parse_pep440(wheel->version)) {
      return wheel->version;
    }
    return std::nullopt;
  }
  constexpr std::string_view kSdist = ".tar.gz";
  if (filename.size() <= kSdist.size() ||
      lowercase(filename.substr(filename.size() - kSdist.size())) != kSdist) {
    return std::nullopt;
  }
  const std::string_view stem = filename.substr(0, filename.size() - kSdist.size());
  const std::size_t dash = stem.rfind('-');
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  if (normalize_project(stem.substr(0, dash)) != wanted) return std::nullopt;
  const std::string version(stem.substr(dash + 1));
  if (!parse_pep440(version)) return std::nullopt;
  return version;
}

std::optional<bool> requires_python_allows(std::string_view specifier,
                                           const Pep440Version& python_version) {
  std::string_view rest = specifier;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view clause = trim(rest.substr(0, comma));
    if (!clause.empty()) {
      std::size_t op_len = 0;
      for (std::string_view op : {"===", "~=", "==", "!=", "<=", ">=", "<", ">"}) {
        if (clause.substr(0, op.size()) == op) {
          op_len = op.size();
          break;
        }
      }
      if (op_len == 0 || clause.substr(0, 3) == "===") return std::nullopt;
      const std::string_view op = clause.substr(0, op_len);
      std::string_view text = trim(clause.substr(op_len));
      const bool wildcard = text.size() > 2 && text.substr(text.size() - 2) == ".*";
      if (wildcard) {
        if (op != "==" && op != "!=") return std::nullopt;
        text.remove_suffix(2);
      }
      const auto bound = parse_pep440(text);
      if (!bound) return std::nullopt;
      bool ok = false;
      if (wildcard || op == "~=") {
        // Prefix match on the release numbers ("==3.9.*"; "~=3.9.1" is ">=3.9.1, ==3.9.*").
        std::vector<long> prefix = bound->release;
        if (op == "~=") {
          if (prefix.size() < 2) return std::nullopt;
          prefix.pop_back();
        }
        bool match = true;
        for (std::size_t k = 0; k < prefix.size(); ++k) {
          const long have = k < python_version.release.size() ? python_version.release[k] : 0;
          if (have != prefix[k]) match = false;
        }
        ok = op == "!="
                 ? !match
                 : (op == "~=" ? match && compare_pep440(python_version, *bound) >= 0 : match);
      } else {
        const int c = compare_pep440(python_version, *bound);
        ok = op == "=="   ? c == 0
             : op == "!=" ? c != 0
             : op == "<=" ? c <= 0
             : op == ">=" ? c >= 0
             : op == "<"  ? c < 0
                          : c > 0;
      }
      if (!ok) return false;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return true;
}

}  // namespace pycheck
