// Lines from plain, gzip or zstd files (told apart by their first bytes)
// and from memory, streamed through fixed buffers: a byte stream (the file,
// or its decompressor) fills one 64 KiB buffer that lines are cut from.
#include "tlbkit/trace/input.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <vector>

#include <fmt/format.h>

namespace tlbkit::trace {

namespace {

constexpr std::size_t kChunk = 64 * 1024;

// A source of bytes. read() returns how many it put in `buf` (0: the end),
// or -1 on an error, which error() then describes.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  virtual long read(char* buf, std::size_t size) = 0;
  const std::string& error() const { return error_; }

 protected:
  long fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return -1;
  }
  std::string error_;
};

// A file descriptor, preceded by the bytes already read from it to tell
// its compression.
class FileBytes {
 public:
  FileBytes(int fd, bool owned, std::string name) : fd_(fd), owned_(owned), name_(std::move(name)) {}
  ~FileBytes() {
    if (owned_) ::close(fd_);
  }
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;

  // Reads the first bytes (up to `size`, at least 4 unless the file is
  // shorter) and keeps them to be read again.
  bool peek(std::size_t size, std::string& error) {
    prefix_.resize(size);
    std::size_t have = 0;
    while (have < 4) {
      const long n = raw_read(prefix_.data() + have, size - have, error);
      if (n < 0) return false;
      if (n == 0) break;
      have += static_cast<std::size_t>(n);
    }
    prefix_.resize(have);
    return true;
  }
  const std::vector<char>& prefix() const { return prefix_; }

  long read(char* buf, std::size_t size, std::string& error) {
    if (prefix_at_ < prefix_.size()) {
      const std::size_t n = std::min(size, prefix_.size() - prefix_at_);
      std::memcpy(buf, prefix_.data() + prefix_at_, n);
      prefix_at_ += n;
      if (prefix_at_ == prefix_.size()) {
        prefix_.clear();
        prefix_.shrink_to_fit();
        prefix_at_ = 0;
      }
      return static_cast<long>(n);
    }
    return raw_read(buf, size, error);
  }

  const std::string& name() const { return name_; }

 private:
  long raw_read(char* buf, std::size_t size, std::string& error) {
    for (;;) {
      const ssize_t n = ::read(fd_, buf, size);
      if (n >= 0) return static_cast<long>(n);
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      return -1;
    }
  }

  int fd_;
  bool owned_;
  std::string name_;
  std::vector<char> prefix_;
  std::size_t prefix_at_ = 0;
};

class PlainBytes final : public ByteStream {
 public:
  explicit PlainBytes(std::unique_ptr<FileBytes> file) : file_(std::move(file)) {}
  long read(char* buf, std::size_t size) override {
    std::string error;
    const long n = file_->read(buf, size, error);
    return n < 0 ? fail("read error: " + error) : n;
  }

 private:
  std::unique_ptr<FileBytes> file_;
};

// gzip members, one after the other (what `cat a.gz b.gz` makes).
class GzipBytes final : public ByteStream {
 public:
  explicit GzipBytes(std::unique_ptr<FileBytes> file) : file_(std::move(file)), in_(kChunk) {
    ok_ = inflateInit2(&z_, 15 + 32) == Z_OK;  // gzip or zlib header
  }
  ~GzipBytes() override {
    if (ok_) inflateEnd(&z_);
  }

  long read(char* buf, std::size_t size) override {
    if (!ok_) return fail("gzip decoder cannot start");
    if (!error_.empty()) return -1;
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = static_cast<uInt>(std::min<std::size_t>(size, kChunk));
    const uInt room = z_.avail_out;
    for (;;) {
      if (member_done_) {
        // Another member, or the end.
        if (z_.avail_in == 0) {
          const long n = refill();
          if (n < 0) return -1;
          if (n == 0) return 0;
        }
        if (inflateReset(&z_) != Z_OK) return fail(corrupt("cannot restart"));
        member_done_ = false;
      } else if (z_.avail_in == 0 && !output_full_) {
        const long n = refill();
        if (n < 0) return -1;
        if (n == 0) return fail("truncated gzip data");
      }
      const int ret = inflate(&z_, Z_NO_FLUSH);
      if (ret == Z_STREAM_END) {
        member_done_ = true;
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        return fail(corrupt(z_.msg != nullptr ? z_.msg : "bad data"));
      }
      output_full_ = !member_done_ && z_.avail_out == 0;
      const uInt produced = room - z_.avail_out;
      if (produced > 0) return static_cast<long>(produced);
    }
  }

 private:
  long refill() {
    std::string error;
    const long n = file_->read(in_.data(), in_.size(), error);
    if (n < 0) return fail("read error: " + error);
    z_.next_in = reinterpret_cast<Bytef*>(in_.data());
    z_.avail_in = static_cast<uInt>(n);
    return n;
  }
  static std::string corrupt(const char* why) { return fmt::format("corrupt gzip data: {}", why); }

  std::unique_ptr<FileBytes> file_;
  std::vector<char> in_;
  z_stream z_{};
  bool ok_ = false;
  bool member_done_ = false;
  bool output_full_ = false;  // the decoder may hold more output without more input
};

// zstd frames, one after the other.
class ZstdBytes final : public ByteStream {
 public:
  explicit ZstdBytes(std::unique_ptr<FileBytes> file)
      : file_(std::move(file)), in_(ZSTD_DStreamInSize()), dctx_(ZSTD_createDCtx()) {}
  ~ZstdBytes() override { ZSTD_freeDCtx(dctx_); }

  long read(char* buf, std::size_t size) override {
    if (dctx_ == nullptr) return fail("zstd decoder cannot start");
    if (!error_.empty()) return -1;
    ZSTD_outBuffer out{buf, size, 0};
    for (;;) {
      if (input_.pos == input_.size && !output_full_) {
        std::string error;
        const long n = file_->read(in_.data(), in_.size(), error);
        if (n < 0) return fail("read error: " + error);
        if (n == 0) {
          if (frame_done_) return 0;
          return fail("truncated zstd data");
        }
        input_ = ZSTD_inBuffer{in_.data(), static_cast<std::size_t>(n), 0};
      }
      const std::size_t ret = ZSTD_decompressStream(dctx_, &out, &input_);
      if (ZSTD_isError(ret)) {
        return fail(fmt::format("corrupt zstd data: {}", ZSTD_getErrorName(ret)));
      }
      frame_done_ = ret == 0;
      // A finished frame is flushed whole; else a full output may leave
      // decoded bytes inside the decoder, to be had without more input.
      output_full_ = ret != 0 && out.pos == out.size;
      if (out.pos > 0) return static_cast<long>(out.pos);
    }
  }

 private:
  std::unique_ptr<FileBytes> file_;
  std::vector<char> in_;
  ZSTD_DCtx* dctx_;
  ZSTD_inBuffer input_{nullptr, 0, 0};
  bool frame_done_ = false;
  bool output_full_ = false;
};

class MemoryBytes final : public ByteStream {
 public:
  explicit MemoryBytes(std::string text) : text_(std::move(text)) {}
  long read(char* buf, std::size_t size) override {
    const std::size_t n = std::min(size, text_.size() - at_);
    std::memcpy(buf, text_.data() + at_, n);
    at_ += n;
    return static_cast<long>(n);
  }

 private:
  std::string text_;
  std::size_t at_ = 0;
};

// Cuts lines from a byte stream: one buffer, lines up to kMaxLine.
class StreamLines final : public LineSource {
 public:
  StreamLines(std::unique_ptr<ByteStream> bytes, std::string name)
      : bytes_(std::move(bytes)), name_(std::move(name)), buf_(kChunk) {}

  bool next(std::string& line) override {
    line.clear();
    if (!error_.empty() || done_) return false;
    for (;;) {
      const char* start = buf_.data() + at_;
      const std::size_t avail = end_ - at_;
      const void* newline = std::memchr(start, '\n', avail);
      const std::size_t take =
          newline != nullptr ? static_cast<std::size_t>(static_cast<const char*>(newline) - start) : avail;
      if (std::memchr(start, '\0', take) != nullptr) return fail("binary data (NUL byte)");
      // One byte over kMaxLine may be the '\r' of "\r\n".
      if (line.size() + take > kMaxLine + 1) return fail(too_long());
      line.append(start, take);
      if (newline != nullptr) {
        at_ += take + 1;
        return finish_line(line);
      }
      at_ = end_ = 0;
      const long n = bytes_->read(buf_.data(), buf_.size());
      if (n < 0) return fail(bytes_->error());
      if (n == 0) {
        done_ = true;
        if (line.empty()) return false;
        return finish_line(line);  // the last line, without "\n"
      }
      end_ = static_cast<std::size_t>(n);
    }
  }

  const std::string& error() const override { return error_; }
  const std::string& name() const override { return name_; }
  std::uint64_t line_number() const override { return line_number_; }

 private:
  bool finish_line(std::string& line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > kMaxLine) return fail(too_long());
    ++line_number_;
    return true;
  }
  static std::string too_long() { return fmt::format("line longer than {} bytes", kMaxLine); }
  bool fail(const std::string& message) {
    error_ = message;
    return false;
  }

  std::unique_ptr<ByteStream> bytes_;
  std::string name_;
  std::vector<char> buf_;
  std::size_t at_ = 0;
  std::size_t end_ = 0;
  bool done_ = false;
  std::string error_;
  std::uint64_t line_number_ = 0;
};

bool starts_with(const std::vector<char>& bytes, std::initializer_list<unsigned char> magic) {
  if (bytes.size() < magic.size()) return false;
  std::size_t i = 0;
  for (const unsigned char m : magic) {
    if (static_cast<unsigned char>(bytes[i++]) != m) return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<LineSource> open_lines(const std::string& path, std::string& error) {
  error.clear();
  std::unique_ptr<FileBytes> file;
  if (path == "-") {
    file = std::make_unique<FileBytes>(STDIN_FILENO, false, "<stdin>");
  } else {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error = fmt::format("cannot open {}: {}", path, std::strerror(errno));
      return nullptr;
    }
    file = std::make_unique<FileBytes>(fd, true, path);
  }
  if (std::string reason; !file->peek(kChunk, reason)) {
    error = fmt::format("cannot read {}: {}", path, reason);
    return nullptr;
  }
  std::string name = file->name();
  std::unique_ptr<ByteStream> bytes;
  if (starts_with(file->prefix(), {0x1f, 0x8b})) {
    bytes = std::make_unique<GzipBytes>(std::move(file));
  } else if (starts_with(file->prefix(), {0x28, 0xb5, 0x2f, 0xfd})) {
    bytes = std::make_unique<ZstdBytes>(std::move(file));
  } else {
    bytes = std::make_unique<PlainBytes>(std::move(file));
  }
  return std::make_unique<StreamLines>(std::move(bytes), std::move(name));
}

std::unique_ptr<LineSource> lines_of(std::string text, std::string name) {
  return std::make_unique<StreamLines>(std::make_unique<MemoryBytes>(std::move(text)), std::move(name));
}

}  // namespace tlbkit::trace
