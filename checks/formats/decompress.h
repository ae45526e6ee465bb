// Decompression of apt index files and feeds held in memory: gzip (zlib),
// xz (liblzma), lz4 frames (liblz4), zstd (libzstd), and raw zlib streams
// (the debsecan feed). Pure: bytes in, bytes out, no I/O, no exceptions.
//
// Every call takes an output cap: a result larger than the cap is an Error,
// not a truncated buffer, so a decompression bomb costs at most cap bytes.
// Truncated or corrupt input is an Error naming the format and what went
// wrong. Concatenated streams (several gzip members, xz streams, lz4 or zstd
// frames back to back) decompress to the concatenation of their contents, as
// the command-line tools do; anything else after the last stream is an Error.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace pycheck {

enum class Compression { none, gzip, xz, lz4, zstd, zlib, bzip2 };

// "none", "gzip", "xz", "lz4", "zstd", "zlib", "bzip2".
std::string_view to_string(Compression format);

// The format announced by the first bytes: gzip 1f 8b, xz fd '7zXZ' 00,
// lz4 frame 04 22 4d 18, zstd 28 b5 2f fd, bzip2 "BZh". Anything else
// (including a raw zlib stream, whose 2-byte header is too weak a signal) is
// `none`.
Compression detect_compression(std::string_view data);

// The format implied by an apt file name suffix: ".gz", ".xz", ".lz4",
// ".zst", ".bz2"; `none` for any other name (an uncompressed index).
Compression compression_from_file_name(std::string_view name);

// The file name suffix apt uses for a format ("" for none and zlib).
std::string_view file_suffix(Compression format);

// Decompresses `data` as `format` (none: a copy, still subject to the cap).
// bzip2 is recognised but not supported: an Error says so.
Result<std::string> decompress(std::string_view data, Compression format, std::size_t max_output);

// Decompresses by magic bytes (detect_compression); data without a known
// magic is returned as is.
Result<std::string> decompress_detected(std::string_view data, std::size_t max_output);

}  // namespace pycheck
