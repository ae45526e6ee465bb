#include "checks/formats/clearsigned.h"

namespace pycheck {
namespace {

// The lines of a text without "\n" and, as apt's _strrstrip does, without
// trailing blanks (space, tab, "\r").
class StrippedLines {
 public:
  explicit StrippedLines(std::string_view text) : text_(text) {}
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line = text_.substr(pos_, end - pos_);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    pos_ = end + 1;
    ++number_;
    return true;
  }
  std::size_t number() const { return number_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t number_ = 0;
};

Error clearsign_error(std::string_view what, std::size_t line = 0) {
  std::string message = "clearsigned message: " + std::string(what);
  if (line != 0) message += " (line " + std::to_string(line) + ")";
  return Error{message};
}

}  // namespace

bool starts_clearsigned(std::string_view text) {
  StrippedLines lines(text);
  std::string_view first;
  return lines.next(first) && first == kPgpBeginSignedMessage;
}

Result<ClearsignedParts> split_clearsigned(std::string_view text) {
  StrippedLines lines(text);
  std::string_view line;
  if (!lines.next(line) || line != kPgpBeginSignedMessage) {
    return clearsign_error("does not start with '" + std::string(kPgpBeginSignedMessage) + "'");
  }
  // Armor headers up to an empty line. apt refuses only a line starting with
  // '-' and drops the rest unread ("Hash:", "Comment:", even a line without a
  // colon), so gpgv and sqv never see them: both accept such files
  // (tests/integration/openpgp_oracle.py checks this against apt's methods).
  while (true) {
    if (!lines.next(line)) return clearsign_error("truncated in the armor headers");
    if (line.empty()) break;
    if (line.front() == '-') {
      return clearsign_error("unexpected line starting with a dash in the armor headers",
                             lines.number());
    }
  }
  ClearsignedParts parts;
  parts.lines_before_body = lines.number();
  while (true) {
    if (!lines.next(line)) return clearsign_error("no signature block (truncated file?)");
    if (line.find_first_of(std::string_view("\r\0", 2)) != std::string_view::npos) {
      return clearsign_error("a bare CR or a NUL byte in the message", lines.number());
    }
    if (!line.empty() && line.front() == '-') {
      if (line == kPgpBeginSignature) break;
      if (!line.starts_with("- ")) {
        return clearsign_error("unexpected line starting with a dash in the message",
                               lines.number());
      }
      line.remove_prefix(2);
    }
    parts.message.append(line);
    parts.message.push_back('\n');
  }
  parts.signature_blocks.emplace_back();
  bool open_signature = true;
  while (lines.next(line)) {
    if (open_signature) {
      if (line == kPgpEndSignature) {
        open_signature = false;
      } else if (!line.empty() && line.front() == '-') {
        return clearsign_error("unexpected line starting with a dash in the signature",
                               lines.number());
      } else {
        parts.signature_blocks.back().push_back(line);
      }
    } else if (line == kPgpBeginSignature) {
      open_signature = true;
      parts.signature_blocks.emplace_back();
    } else if (!line.empty()) {
      return clearsign_error("unsigned lines after the signature", lines.number());
    }
  }
  if (open_signature) return clearsign_error("signature block not closed (truncated file?)");
  return parts;
}

std::string canonical_cleartext(std::string_view message) {
  if (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  std::string out;
  out.reserve(message.size() + message.size() / 16);
  std::size_t pos = 0;
  while (true) {
    const std::size_t end = message.find('\n', pos);
    if (end == std::string_view::npos) {
      out.append(message.substr(pos));
      return out;
    }
    out.append(message.substr(pos, end - pos)).append("\r\n");
    pos = end + 1;
  }
}

}  // namespace pycheck
