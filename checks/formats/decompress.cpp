#include "checks/formats/decompress.h"

#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
// ZSTD_findDecompressedSize is in the static-linking section; pycheck links
// libzstd.a, always of the version it was built against.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <memory>

namespace pycheck {
namespace {

constexpr std::uint64_t kXzMemoryLimit = 256u << 20;  // xz -9 needs 65 MiB; more is hostile

bool starts_with_bytes(std::string_view data, std::string_view magic) {
  return data.substr(0, magic.size()) == magic;
}

const std::string_view kGzipMagic("\x1f\x8b", 2);
const std::string_view kXzMagic(
    "\xfd"
    "7zXZ\x00",
    6);
const std::string_view kLz4Magic("\x04\x22\x4d\x18", 4);
const std::string_view kZstdMagic("\x28\xb5\x2f\xfd", 4);

// lz4 and zstd skippable frames: magic 0x184D2A50..5F, little endian.
bool starts_with_skippable_frame(std::string_view data) {
  return data.size() >= 4 && (static_cast<unsigned char>(data[0]) & 0xf0) == 0x50 &&
         data.substr(1, 3) == std::string_view("\x2a\x4d\x18", 3);
}

// A growing output string that never holds more than cap + 1 bytes: the extra
// byte is how "more than cap" is noticed without decompressing further.
class Output {
 public:
  Output(std::size_t cap, std::size_t hint) : cap_(cap), limit_(cap == SIZE_MAX ? cap : cap + 1) {
    buffer_.resize(std::min(limit_, std::max<std::size_t>(hint, 64 << 10)));
  }
  // Free space after the produced bytes, growing the buffer when full. Empty
  // only when the limit is reached.
  char* space(std::size_t& available) {
    if (size_ == buffer_.size() && buffer_.size() < limit_) {
      buffer_.resize(buffer_.size() > limit_ / 2 ? limit_ : buffer_.size() * 2);
    }
    available = buffer_.size() - size_;
    return buffer_.data() + size_;
  }
  void commit(std::size_t produced) { size_ += produced; }
  bool over_cap() const { return size_ > cap_; }
  std::size_t size() const { return size_; }
  std::string take() {
    buffer_.resize(size_);
    return std::move(buffer_);
  }

 private:
  std::size_t cap_;
  std::size_t limit_;
  std::string buffer_;
  std::size_t size_ = 0;
};

Error too_large(Compression format, std::size_t cap) {
  return Error{std::string(to_string(format)) + ": decompressed data exceeds the limit of " +
               std::to_string(cap) + " bytes"};
}
Error failure(Compression format, std::string_view what) {
  return Error{std::string(to_string(format)) + ": " + std::string(what)};
}

Result<std::string> inflate_all(std::string_view data, Compression format, std::size_t cap) {
  z_stream stream{};
  // 15+16: gzip wrapper only; 15: zlib wrapper only.
  const int window_bits = format == Compression::gzip ? 15 + 16 : 15;
  if (inflateInit2(&stream, window_bits) != Z_OK) return failure(format, "cannot initialise zlib");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, inflateEnd);
  Output out(cap, data.size() * 4);
  std::string_view input = data;  // not yet handed to zlib
  while (true) {
    if (stream.avail_in == 0 && !input.empty()) {
      const std::size_t chunk = std::min<std::size_t>(input.size(), UINT_MAX);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
      stream.avail_in = static_cast<uInt>(chunk);
      input.remove_prefix(chunk);
    }
    std::size_t available = 0;
    char* space = out.space(available);
    const uInt offered = static_cast<uInt>(std::min<std::size_t>(available, UINT_MAX));
    stream.next_out = reinterpret_cast<Bytef*>(space);
    stream.avail_out = offered;
    const int rc = inflate(&stream, Z_NO_FLUSH);
    out.commit(offered - stream.avail_out);
    if (out.over_cap()) return too_large(format, cap);
    if (rc == Z_STREAM_END) {
      // What zlib has not consumed: its pending input plus what was never handed over.
      const std::string_view rest = data.substr(data.size() - input.size() - stream.avail_in);
      if (rest.empty()) break;
      if (format != Compression::gzip || !starts_with_bytes(rest, kGzipMagic)) {
        return failure(format, "unexpected data after the end of the compressed stream");
      }
      inflateReset(&stream);  // another gzip member follows
      continue;
    }
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
      return failure(format, std::string("corrupt data (") +
                                 (stream.msg != nullptr ? stream.msg : "invalid stream") + ")");
    }
    if (rc == Z_MEM_ERROR) return failure(format, "out of memory");
    const bool no_input_left = stream.avail_in == 0 && input.empty();
    if ((rc == Z_BUF_ERROR || rc == Z_OK) && no_input_left && stream.avail_out != 0) {
      return failure(format, "truncated input (the compressed stream ends early)");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return failure(format, "zlib error " + std::to_string(rc));
  }
  return out.take();
}

Result<std::string> unxz_all(std::string_view data, std::size_t cap) {
  lzma_stream stream = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&stream, kXzMemoryLimit, LZMA_CONCATENATED) != LZMA_OK) {
    return failure(Compression::xz, "cannot initialise liblzma");
  }
  std::unique_ptr<lzma_stream, void (*)(lzma_stream*)> guard(&stream, lzma_end);
  stream.next_in = reinterpret_cast<const std::uint8_t*>(data.data());
  stream.avail_in = data.size();
  Output out(cap, data.size() * 6);
  while (true) {
    std::size_t available = 0;
    char* space = out.space(available);
    stream.next_out = reinterpret_cast<std::uint8_t*>(space);
    stream.avail_out = available;
    // All input is present from the start, so LZMA_FINISH (which
    // LZMA_CONCATENATED needs to know where the input ends) is right at once.
    const lzma_ret rc = lzma_code(&stream, LZMA_FINISH);
    out.commit(available - stream.avail_out);
    if (out.over_cap()) return too_large(Compression::xz, cap);
    switch (rc) {
      case LZMA_OK:
        continue;
      case LZMA_STREAM_END:
        return out.take();
      case LZMA_BUF_ERROR:
        return failure(Compression::xz, "truncated input (the compressed stream ends early)");
      case LZMA_FORMAT_ERROR:
        return failure(Compression::xz, "not xz data (bad stream header)");
      case LZMA_OPTIONS_ERROR:
        return failure(Compression::xz, "unsupported stream options");
      case LZMA_DATA_ERROR:
        return failure(Compression::xz, "corrupt data");
      case LZMA_MEMLIMIT_ERROR:
        return failure(Compression::xz, "stream needs more than 256 MiB of memory");
      case LZMA_MEM_ERROR:
        return failure(Compression::xz, "out of memory");
      default:
        return failure(Compression::xz, "liblzma error " + std::to_string(rc));
    }
  }
}

Result<std::string> unlz4_all(std::string_view data, std::size_t cap) {
  LZ4F_dctx* context = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION))) {
    return failure(Compression::lz4, "cannot initialise liblz4");
  }
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> guard(context,
                                                                     LZ4F_freeDecompressionContext);
  Output out(cap, data.size() * 4);
  std::string_view input = data;
  std::size_t hint = 1;  // 0 once a frame is complete
  while (true) {
    if (input.empty()) {
      if (hint != 0) {
        return failure(Compression::lz4, "truncated input (the compressed stream ends early)");
      }
      return out.take();
    }
    if (hint == 0 && !starts_with_bytes(input, kLz4Magic) && !starts_with_skippable_frame(input)) {
      return failure(Compression::lz4, "unexpected data after the end of the compressed stream");
    }
    std::size_t available = 0;
    char* space = out.space(available);
    std::size_t consumed = input.size();
    std::size_t produced = available;
    hint = LZ4F_decompress(context, space, &produced, input.data(), &consumed, nullptr);
    if (LZ4F_isError(hint)) {
      return failure(Compression::lz4,
                     std::string("corrupt data (") + LZ4F_getErrorName(hint) + ")");
    }
    out.commit(produced);
    input.remove_prefix(consumed);
    if (out.over_cap()) return too_large(Compression::lz4, cap);
    if (consumed == 0 && produced == 0 && available != 0) {
      return failure(Compression::lz4, "corrupt data (decoder made no progress)");
    }
  }
}

Result<std::string> unzstd_all(std::string_view data, std::size_t cap) {
  ZSTD_DCtx* context = ZSTD_createDCtx();
  if (context == nullptr) return failure(Compression::zstd, "cannot initialise libzstd");
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> guard(context, ZSTD_freeDCtx);
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  Output out(cap, data.size() * 6);
  while (true) {
    std::size_t available = 0;
    char* space = out.space(available);
    ZSTD_outBuffer buffer{space, available, 0};
    const std::size_t rc = ZSTD_decompressStream(context, &buffer, &in);
    if (ZSTD_isError(rc)) {
      return failure(Compression::zstd,
                     std::string("corrupt data (") + ZSTD_getErrorName(rc) + ")");
    }
    out.commit(buffer.pos);
    if (out.over_cap()) return too_large(Compression::zstd, cap);
    if (in.pos == in.size) {
      if (rc == 0) {  // last frame complete and flushed
        // libzstd's streaming decoder checks a frame's declared content size
        // only on some paths (it depends on the output buffer's size): check
        // it here, so a corrupt index never reads as a shorter valid one.
        const unsigned long long declared = ZSTD_findDecompressedSize(data.data(), data.size());
        if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR &&
            declared != out.size()) {
          return failure(Compression::zstd,
                         "corrupt data (" + std::to_string(out.size()) +
                             " bytes decompressed, the frame header declares " +
                             std::to_string(declared) + ")");
        }
        return out.take();
      }
      // Output space left over means the decoder is waiting for input that never comes.
      if (buffer.pos < buffer.size) {
        return failure(Compression::zstd, "truncated input (the compressed stream ends early)");
      }
    }
  }
}

}  // namespace

std::string_view to_string(Compression format) {
  switch (format) {
    case Compression::none:
      return "none";
    case Compression::gzip:
      return "gzip";
    case Compression::xz:
      return "xz";
    case Compression::lz4:
      return "lz4";
    case Compression::zstd:
      return "zstd";
    case Compression::zlib:
      return "zlib";
    case Compression::bzip2:
      return "bzip2";
  }
  return "none";
}

Compression detect_compression(std::string_view data) {
  if (starts_with_bytes(data, kGzipMagic)) return Compression::gzip;
  if (starts_with_bytes(data, kXzMagic)) return Compression::xz;
  if (starts_with_bytes(data, kLz4Magic)) return Compression::lz4;
  if (starts_with_bytes(data, kZstdMagic)) return Compression::zstd;
  if (data.size() >= 4 && starts_with_bytes(data, "BZh") && data[3] >= '1' && data[3] <= '9') {
    return Compression::bzip2;
  }
  return Compression::none;
}

Compression compression_from_file_name(std::string_view name) {
  if (name.ends_with(".gz")) return Compression::gzip;
  if (name.ends_with(".xz")) return Compression::xz;
  if (name.ends_with(".lz4")) return Compression::lz4;
  if (name.ends_with(".zst")) return Compression::zstd;
  if (name.ends_with(".bz2")) return Compression::bzip2;
  return Compression::none;
}

std::string_view file_suffix(Compression format) {
  switch (format) {
    case Compression::gzip:
      return ".gz";
    case Compression::xz:
      return ".xz";
    case Compression::lz4:
      return ".lz4";
    case Compression::zstd:
      return ".zst";
    case Compression::bzip2:
      return ".bz2";
    case Compression::none:
    case Compression::zlib:
      return "";
  }
  return "";
}

Result<std::string> decompress(std::string_view data, Compression format, std::size_t max_output) {
  switch (format) {
    case Compression::none:
      if (data.size() > max_output) return too_large(format, max_output);
      return std::string(data);
    case Compression::gzip:
    case Compression::zlib:
      return inflate_all(data, format, max_output);
    case Compression::xz:
      return unxz_all(data, max_output);
    case Compression::lz4:
      return unlz4_all(data, max_output);
    case Compression::zstd:
      return unzstd_all(data, max_output);
    case Compression::bzip2:
      return failure(format, "bzip2 data is not supported");
  }
  return failure(format, "unknown format");
}

Result<std::string> decompress_detected(std::string_view data, std::size_t max_output) {
  return decompress(data, detect_compression(data), max_output);
}

}  // namespace pycheck
