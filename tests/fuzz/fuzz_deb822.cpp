// The deb822 stanza reader under every reader of control data (dpkg status,
// Packages, Release, *.sources), with and without comment support, and the
// value helpers built on it.
#include "checks/formats/deb822.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void read_all(std::string_view in, bool comments) {
  pycheck::Deb822Reader reader(in, pycheck::Deb822Options{comments});
  pycheck::Deb822Stanza stanza;
  std::size_t last_line = 0;
  while (reader.next(stanza)) {
    FUZZ_CHECK(stanza.line > last_line);
    last_line = stanza.line;
    FUZZ_CHECK(!stanza.fields.empty() || !stanza.problems.empty());
    for (const pycheck::Deb822Field& f : stanza.fields) {
      // Views point into the caller's text, never into copies.
      FUZZ_CHECK(inside(f.name, in) && inside(f.value, in) && inside(f.continuation, in));
      FUZZ_CHECK(!f.name.empty());
      FUZZ_CHECK(stanza.find(f.name) != nullptr);
      for (const pycheck::Deb822Line& l : f.continuation_lines()) FUZZ_CHECK(l.line > f.line);
      (void)f.folded();
      (void)f.multiline_text();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  read_all(in, true);
  read_all(in, false);
  std::string_view head = in.substr(0, 256);
  (void)pycheck::parse_apt_bool(head);
  for (std::string_view w : pycheck::split_words(head, true)) FUZZ_CHECK(!w.empty());
  return 0;
}
