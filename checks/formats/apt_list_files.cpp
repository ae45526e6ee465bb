#include "checks/formats/apt_list_files.h"

#include <string>

namespace pycheck {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// C atoi() semantics (leading blanks, sign, digits) with apt's unsigned Port.
unsigned port_number(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r'))) ++i;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  unsigned value = 0;
  for (; i < text.size() && is_digit(text[i]); ++i) value = value * 10 + (text[i] - '0');
  return negative ? 0u - value : value;
}

// apt's URI::CopyFrom, keeping only what URItoFileName prints: host, port, path.
struct HostPath {
  std::string host;
  unsigned port = 0;
  std::string path;
};

HostPath split_uri(std::string_view u) {
  HostPath out;
  const std::size_t n = u.size();
  std::size_t first_colon = u.find(':');
  if (first_colon == std::string_view::npos) first_colon = n;

  // The '/' ending the authority, ignoring '/' inside [...] (IPv6 literals).
  std::size_t single_slash = first_colon;
  if (first_colon + 3 < n && u[first_colon + 1] == '/' && u[first_colon + 2] == '/') {
    single_slash += 3;
  }
  bool in_bracket = false;
  for (; single_slash < n && (u[single_slash] != '/' || in_bracket); ++single_slash) {
    if (u[single_slash] == '[') in_bracket = true;
    if (in_bracket && u[single_slash] == ']') in_bracket = false;
  }
  if (single_slash > n) single_slash = n;
  out.path = single_slash < n ? std::string(u.substr(single_slash)) : "/";

  std::size_t authority = first_colon;
  if (authority + 2 < n && u[authority + 1] == '/' && u[authority + 2] == '/') {
    authority += 3;
  } else {
    authority += 1;
  }
  if (authority >= n) return out;
  if (authority > single_slash) authority = single_slash;
  std::size_t search_from = authority + 1;
  if (search_from > single_slash) search_from = single_slash;
  // The last '@' before the path separates user:password from the host.
  std::size_t at = single_slash;
  for (std::size_t i = single_slash; i > search_from; --i) {
    if (u[i - 1] == '@') {
      at = i - 1;
      break;
    }
  }
  if (at == single_slash) {
    if (authority < single_slash)
      out.host = std::string(u.substr(authority, single_slash - authority));
  } else {
    out.host = std::string(u.substr(at + 1, single_slash - at - 1));
  }

  // Remove RFC 2732 brackets, remembering where the literal ended.
  std::size_t port_end = 0;
  in_bracket = false;
  for (std::size_t i = 0; i < out.host.size();) {
    if (out.host[i] == '[') {
      in_bracket = true;
      out.host.erase(i, 1);
      continue;
    }
    if (in_bracket && out.host[i] == ']') {
      in_bracket = false;
      out.host.erase(i, 1);
      port_end = i;
      continue;
    }
    ++i;
  }
  if (in_bracket) {
    out.host.clear();
    return out;
  }
  const std::size_t colon = out.host.rfind(':');
  if (colon == std::string::npos || colon < port_end) return out;
  out.port = port_number(std::string_view(out.host).substr(colon + 1));
  out.host.resize(colon);
  return out;
}

// apt's QuoteString with URItoFileName's list of bad characters.
void append_quoted(std::string& out, std::string_view text) {
  static constexpr std::string_view kBad = "\\|{}[]<>\"^~_=!@#$%^&*";
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (kBad.find(c) != std::string_view::npos || byte <= 0x20 || byte >= 0x7f) {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
}

std::string dists_directory(std::string_view uri, std::string_view suite) {
  if (suite == "/") return std::string(uri);
  if (!suite.empty() && suite.back() == '/') return std::string(uri) + std::string(suite);
  return std::string(uri) + "dists/" + std::string(suite) + "/";
}

}  // namespace

std::string uri_to_file_name(std::string_view uri) {
  const HostPath parts = split_uri(uri);
  std::string plain = parts.host;
  if (!parts.host.empty() && parts.port != 0) {
    plain.push_back(':');
    plain += std::to_string(parts.port);
  }
  if (parts.path.front() != '/') plain.push_back('/');
  plain += parts.path;
  std::string out;
  out.reserve(plain.size() + 8);
  append_quoted(out, plain);
  for (char& c : out) {
    if (c == '/') c = '_';
  }
  return out;
}

std::string release_file_uri(std::string_view uri, std::string_view suite, std::string_view name) {
  return dists_directory(uri, suite) + std::string(name);
}

std::string packages_index_uri(std::string_view uri, std::string_view suite,
                               std::string_view component, std::string_view architecture) {
  const bool flat = !suite.empty() && suite.back() == '/';
  if (flat) return dists_directory(uri, suite) + "Packages";
  return dists_directory(uri, suite) + std::string(component) + "/binary-" +
         std::string(architecture) + "/Packages";
}

std::string release_list_file(std::string_view uri, std::string_view suite, std::string_view name) {
  return uri_to_file_name(release_file_uri(uri, suite, name));
}

std::string packages_list_file(std::string_view uri, std::string_view suite,
                               std::string_view component, std::string_view architecture) {
  return uri_to_file_name(packages_index_uri(uri, suite, component, architecture));
}

std::vector<ListFileCandidate> packages_list_candidates(std::string_view uri,
                                                        std::string_view suite,
                                                        std::string_view component,
                                                        std::string_view architecture) {
  const std::string base = packages_list_file(uri, suite, component, architecture);
  std::vector<ListFileCandidate> out;
  for (Compression format : {Compression::none, Compression::lz4, Compression::zstd,
                             Compression::gzip, Compression::xz, Compression::bzip2}) {
    out.push_back({base + std::string(file_suffix(format)), format});
  }
  return out;
}

}  // namespace pycheck
