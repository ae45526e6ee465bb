// Text hygiene shared by the machine-readable renderers (junit, tap,
// prometheus): what the inspected system hands us (file names, file contents)
// is arbitrary bytes, and every one of those formats requires valid UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace pycheck {

// `text` as valid UTF-8: each ill-formed sequence (stray continuation byte,
// truncated sequence, overlong form, surrogate, beyond U+10FFFF) becomes
// U+FFFD; code points for which `keep` returns false are dropped.
std::string sanitize_utf8(std::string_view text, bool (*keep)(char32_t) = nullptr);

// True for the characters XML 1.0 allows (production [2] Char): tab, LF, CR,
// U+0020..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF.
bool is_xml_char(char32_t c);

// The escape of '\\', '"' or '\n' inside a double-quoted string, the same in
// Prometheus label values and YAML: \\, \", \n; null for any other character.
const char* quote_escape(char c);

// "1.5", "0.012", "1732800000.123": the shortest text that reads back as `v`
// (std::to_chars); "NaN", "+Inf", "-Inf" for the non-finite values.
std::string format_number(double v);

}  // namespace pycheck
