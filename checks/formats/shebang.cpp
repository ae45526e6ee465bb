#include "checks/formats/shebang.h"

namespace pycheck {
namespace {

constexpr std::size_t kKernelLineLimit = 255;  // BINPRM_BUF_SIZE (256) minus the newline

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view skip_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view basename_of(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Splits the way a POSIX shell splits one simple line: blanks separate words,
// '...' is literal, "..." allows \" and \\ inside. Good enough for the lines
// distlib and pypa/installer write; nothing is expanded.
std::vector<std::string> shell_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (is_blank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      std::size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos) close = line.size();
      word.append(line.substr(i + 1, close - i - 1));
      i = close;
    } else if (c == '"') {
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\'))
          ++i;
        word += line[i];
      }
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

// From env's words (after its own name), picks the command and its arguments:
// NAME=VALUE assignments and env's options are skipped.
Result<Shebang> fill_env_command(Shebang shebang, const std::vector<std::string>& words) {
  std::size_t i = 0;
  while (i < words.size()) {
    const std::string& w = words[i];
    if (w == "-u" || w == "--unset" || w == "-C" || w == "--chdir") {
      i += 2;
      continue;
    }
    if (w.starts_with('-')) {
      ++i;
      continue;
    }
    std::size_t eq = w.find('=');
    if (eq != std::string::npos && eq > 0 && w.find('/') > eq) {
      ++i;
      continue;
    }
    break;
  }
  if (i >= words.size()) return Error{"env is given no command to run"};
  shebang.python = words[i];
  shebang.python_via_path = shebang.python.find('/') == std::string::npos;
  shebang.python_args.assign(words.begin() + static_cast<long>(i) + 1, words.end());
  return shebang;
}

// Line 2 of distlib's wrapper: '''exec' <python> [args] "$0" "$@"
Result<Shebang> parse_exec_line(Shebang shebang, std::string_view line) {
  std::vector<std::string> words = shell_words(line.substr(8));  // after "'''exec'"
  std::vector<std::string> before_script;
  for (std::string& w : words) {
    if (w == "$0") break;
    before_script.push_back(std::move(w));
  }
  if (before_script.empty()) return Error{"the '''exec' line names no program"};
  shebang.form = ShebangForm::sh_exec;
  if (basename_of(before_script.front()) == "env") {
    before_script.erase(before_script.begin());
    return fill_env_command(std::move(shebang), before_script);
  }
  shebang.python = before_script.front();
  shebang.python_args.assign(before_script.begin() + 1, before_script.end());
  return shebang;
}

}  // namespace

std::string_view to_string(ShebangForm form) {
  switch (form) {
    case ShebangForm::direct:
      return "direct";
    case ShebangForm::env:
      return "env";
    case ShebangForm::sh_exec:
      return "sh-exec";
  }
  return "direct";
}

Result<Shebang> parse_shebang(std::string_view head) {
  if (!head.starts_with("#!")) return Error{"no \"#!\" line"};
  std::size_t newline = head.find('\n');
  std::string_view line = head.substr(0, newline);
  std::string_view rest =
      newline == std::string_view::npos ? std::string_view() : head.substr(newline + 1);
  Shebang shebang;
  shebang.too_long = line.size() > kKernelLineLimit;
  if (line.ends_with('\r')) {
    shebang.carriage_return = true;
    line.remove_suffix(1);
  }
  if (line.find('\0') != std::string_view::npos) return Error{"NUL byte in the \"#!\" line"};
  std::string_view body = skip_blanks(line.substr(2));
  std::size_t end = 0;
  while (end < body.size() && !is_blank(body[end])) ++end;
  if (end == 0) return Error{"\"#!\" names no interpreter"};
  shebang.interpreter = std::string(body.substr(0, end));
  std::string_view argument = skip_blanks(body.substr(end));
  while (!argument.empty() && is_blank(argument.back())) argument.remove_suffix(1);
  shebang.argument = std::string(argument);

  const std::string_view program = basename_of(shebang.interpreter);
  if (program == "env") {
    shebang.form = ShebangForm::env;
    if (argument.empty()) return Error{"env is given no command to run"};
    // Linux passes everything after the interpreter as ONE argument: only `env -S`
    // splits it; otherwise env looks for a program literally named "python3 -u".
    std::vector<std::string> words;
    if (argument.starts_with("-S")) {
      words = shell_words(argument.substr(2));
    } else {
      words.emplace_back(argument);
    }
    return fill_env_command(std::move(shebang), words);
  }
  if (program == "sh" && argument.empty() && rest.starts_with("'''exec'")) {
    std::string_view line2 = rest.substr(0, rest.find('\n'));
    if (line2.ends_with('\r')) line2.remove_suffix(1);
    return parse_exec_line(std::move(shebang), line2);
  }
  shebang.form = ShebangForm::direct;
  shebang.python = shebang.interpreter;
  if (!argument.empty()) shebang.python_args.push_back(shebang.argument);
  return shebang;
}

}  // namespace pycheck
