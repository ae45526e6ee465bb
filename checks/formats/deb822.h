// A fast, allocation-light reader of RFC822/deb822 stanzas ("control" data):
// dpkg's status file, apt's Packages and Release indexes, deb822 *.sources.
//
//   Field: value            field names compare ASCII-case-insensitively
//    continuation           a line starting with a space or a tab
//    .                      (in multi-line values) stands for an empty line
//   # comment               a line starting with '#' (deb822 sources files)
//                           blank lines (only spaces, tabs, CR) end a stanza
//
// Everything returned is a std::string_view into the caller's text: nothing
// of the input is copied, so the text must outlive the stanzas. Lines may end
// in "\n" or "\r\n". Line numbers are 1-based. Malformed lines never stop the
// reader: they become problems of the stanza they sit in. The reader is a
// loop over lines (no recursion, no regex), linear in the input.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pycheck {

// ASCII case-insensitive equality, the rule for deb822 field names.
bool deb822_name_equals(std::string_view a, std::string_view b);

// The lines of a field value after its first line, comments skipped. Each line
// is returned as written minus its line ending (so it still starts with its
// space or tab).
struct Deb822Line {
  std::string_view text;
  std::size_t line = 0;
};

struct Deb822Field {
  std::string_view name;   // as written (before the ':', blanks trimmed)
  std::string_view value;  // the first line's text after the ':', blanks trimmed
  // The raw continuation block: every line after the first that belongs to
  // this field (continuations and interleaved comment lines), line endings
  // included except the last. Empty for a one-line field.
  std::string_view continuation;
  std::size_t line = 0;  // of the "Name:" line

  bool multiline() const { return !continuation.empty(); }
  // Continuation lines in order, comment lines skipped.
  std::vector<Deb822Line> continuation_lines() const;
  // All lines joined by single spaces, each trimmed, empty ones dropped:
  // the value of a folded field (Depends, Provides, URIs, Components).
  std::string folded() const;
  // The value of a multi-line field (Description, an inline Signed-By key):
  // the first line, then each continuation line without its first blank, with
  // "." lines turned into empty lines, joined by '\n'.
  std::string multiline_text() const;
};

struct Deb822Problem {
  std::size_t line = 0;
  std::string message;
};

struct Deb822Stanza {
  std::size_t line = 0;  // first line of the stanza (its first field, or its first bad line)
  std::vector<Deb822Field> fields;
  std::vector<Deb822Problem> problems;

  // The first field named `name` (case-insensitive), or nullptr.
  const Deb822Field* find(std::string_view name) const;
  // The first line of that field's value, or nullopt when the field is absent.
  std::optional<std::string_view> value(std::string_view name) const;
};

struct Deb822Options {
  // '#' at the start of a line makes it a comment (apt's SUPPORT_COMMENTS,
  // used for sources files). When false such a line is a field or a problem.
  bool comments = true;
};

// Pull reader: `while (reader.next(stanza)) { ... }`. A stanza is a run of
// non-blank lines holding at least one field or one bad line; runs made only
// of comments are skipped. Problems: a line without ':' or with a bad field
// name ("not a 'Field: value' line"), a continuation line with no field
// before it in the stanza.
class Deb822Reader {
 public:
  explicit Deb822Reader(std::string_view text, Deb822Options options = {})
      : text_(text), options_(options) {}

  // Fills `stanza` (its vectors are cleared, their capacity reused) with the
  // next stanza; false at the end of the input.
  bool next(Deb822Stanza& stanza);
  // 1-based number of the next line to read.
  std::size_t line() const { return line_; }

 private:
  std::string_view text_;
  Deb822Options options_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

// Convenience: every stanza of `text`.
std::vector<Deb822Stanza> parse_deb822(std::string_view text, Deb822Options options = {});

// apt's StringToBool: 1/yes/true/with/on/enable, 0/no/false/without/off/disable
// (words case-insensitive); nullopt for anything else.
std::optional<bool> parse_apt_bool(std::string_view text);

// Splits on blanks (space, tab, CR, LF) and, when `commas` is set, on commas
// too; empty pieces dropped.
std::vector<std::string_view> split_words(std::string_view text, bool commas = false);

}  // namespace pycheck
