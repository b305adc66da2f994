// All-or-nothing output files: bytes are buffered, compressed by the
// target's name (.gz, .zst) and written to a temporary beside the target,
// renamed over it by commit(); abandoned, the temporary is removed.
#include "tlbkit/trace/output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include <fmt/format.h>

namespace tlbkit::trace {

namespace {

constexpr std::size_t kChunk = 64 * 1024;

// Writes whole buffers to a file descriptor.
struct Fd {
  int fd = -1;
  std::string name;  // for messages: the target's path

  std::string write_all(const char* data, std::size_t size) const {
    while (size > 0) {
      const ssize_t n = ::write(fd, data, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fmt::format("cannot write {}: {}", name, std::strerror(errno));
      }
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return {};
  }
};

// Turns bytes into the file's encoding and writes them.
class Encoder {
 public:
  virtual ~Encoder() = default;
  // Encodes `bytes`; with `finish`, ends the stream too.
  virtual std::string encode(std::string_view bytes, bool finish, const Fd& out) = 0;
};

class PlainEncoder final : public Encoder {
 public:
  std::string encode(std::string_view bytes, bool, const Fd& out) override {
    return out.write_all(bytes.data(), bytes.size());
  }
};

class GzipEncoder final : public Encoder {
 public:
  GzipEncoder() : buf_(kChunk) {
    // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
    ok_ = deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~GzipEncoder() override {
    if (ok_) deflateEnd(&z_);
  }

  std::string encode(std::string_view bytes, bool finish, const Fd& out) override {
    if (!ok_) return fmt::format("cannot write {}: gzip encoder cannot start", out.name);
    for (;;) {
      const std::size_t part = std::min<std::size_t>(bytes.size(), 1u << 30);
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
      z_.avail_in = static_cast<uInt>(part);
      const bool last = part == bytes.size();
      const int flush = last && finish ? Z_FINISH : Z_NO_FLUSH;
      int ret;
      do {
        z_.next_out = reinterpret_cast<Bytef*>(buf_.data());
        z_.avail_out = static_cast<uInt>(buf_.size());
        ret = deflate(&z_, flush);
        if (ret == Z_STREAM_ERROR) return fmt::format("cannot write {}: gzip encoder failed", out.name);
        const std::size_t produced = buf_.size() - z_.avail_out;
        if (std::string e = out.write_all(buf_.data(), produced); !e.empty()) return e;
      } while (z_.avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
      bytes.remove_prefix(part);
      if (last) return {};
    }
  }

 private:
  z_stream z_{};
  bool ok_ = false;
  std::vector<char> buf_;
};

class ZstdEncoder final : public Encoder {
 public:
  ZstdEncoder() : cctx_(ZSTD_createCCtx()), buf_(ZSTD_CStreamOutSize()) {
    if (cctx_ != nullptr) ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, 3);
  }
  ~ZstdEncoder() override { ZSTD_freeCCtx(cctx_); }

  std::string encode(std::string_view bytes, bool finish, const Fd& out) override {
    if (cctx_ == nullptr) return fmt::format("cannot write {}: zstd encoder cannot start", out.name);
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    const ZSTD_EndDirective mode = finish ? ZSTD_e_end : ZSTD_e_continue;
    for (;;) {
      ZSTD_outBuffer o{buf_.data(), buf_.size(), 0};
      const std::size_t left = ZSTD_compressStream2(cctx_, &o, &in, mode);
      if (ZSTD_isError(left)) {
        return fmt::format("cannot write {}: zstd encoder failed: {}", out.name, ZSTD_getErrorName(left));
      }
      if (std::string e = out.write_all(buf_.data(), o.pos); !e.empty()) return e;
      // Done when the input is taken and (ending) the frame is flushed whole.
      if (finish ? left == 0 : in.pos == in.size) return {};
    }
  }

 private:
  ZSTD_CCtx* cctx_;
  std::vector<char> buf_;
};

bool ends_with(const std::string& s, std::string_view suffix) { return std::string_view(s).ends_with(suffix); }

// The process's umask, without changing it (umask() sets while it reads).
mode_t current_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Umask:")) return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8) & 0777);
  }
  return 022;
}

// Writes through a 64 KiB buffer into an encoder.
class BufferedOutput : public OutputFile {
 public:
  BufferedOutput(Fd fd, std::unique_ptr<Encoder> encoder, std::string path)
      : fd_(std::move(fd)), encoder_(std::move(encoder)), path_(std::move(path)) {
    buffer_.reserve(kChunk);
  }

  std::string write(std::string_view bytes) override {
    if (!error_.empty()) return error_;
    if (finished_) return error_ = fmt::format("cannot write {}: already committed", path_);
    if (buffer_.size() + bytes.size() > kChunk) {
      if (!drain()) return error_;
      if (bytes.size() >= kChunk) {
        if (std::string e = encoder_->encode(bytes, false, fd_); !e.empty()) return error_ = e;
        return {};
      }
    }
    buffer_.append(bytes);
    return {};
  }

  const std::string& path() const override { return path_; }

 protected:
  // Encodes what is buffered (and with `finish`, ends the encoding).
  bool drain(bool finish = false) {
    if (std::string e = encoder_->encode(buffer_, finish, fd_); !e.empty()) {
      error_ = e;
      return false;
    }
    buffer_.clear();
    return true;
  }

  Fd fd_;
  std::unique_ptr<Encoder> encoder_;
  std::string path_;
  std::string buffer_;
  std::string error_;
  bool finished_ = false;
};

// A temporary "PATH.tmp.XXXXXX", renamed over PATH by commit().
class TemporaryFile final : public BufferedOutput {
 public:
  TemporaryFile(Fd fd, std::unique_ptr<Encoder> encoder, std::string path, std::string temporary)
      : BufferedOutput(std::move(fd), std::move(encoder), std::move(path)), temporary_(std::move(temporary)) {}

  ~TemporaryFile() override {
    if (fd_.fd >= 0) ::close(fd_.fd);
    if (!committed_) ::unlink(temporary_.c_str());
  }

  std::string commit() override {
    if (committed_) return fmt::format("cannot commit {}: already committed", path_);
    if (!error_.empty()) return error_;
    finished_ = true;
    if (!drain(true)) return error_;
    const int fd = fd_.fd;
    fd_.fd = -1;
    if (::close(fd) != 0) return error_ = fmt::format("cannot write {}: {}", path_, std::strerror(errno));
    if (::rename(temporary_.c_str(), path_.c_str()) != 0) {
      return error_ = fmt::format("cannot rename {} to {}: {}", temporary_, path_, std::strerror(errno));
    }
    committed_ = true;
    return {};
  }

 private:
  std::string temporary_;
  bool committed_ = false;
};

// Standard output, written as it comes; commit() flushes.
class StandardOutput final : public BufferedOutput {
 public:
  StandardOutput() : BufferedOutput(Fd{STDOUT_FILENO, "<stdout>"}, std::make_unique<PlainEncoder>(), "-") {}

  std::string commit() override {
    if (finished_) return fmt::format("cannot commit {}: already committed", path_);
    if (!error_.empty()) return error_;
    finished_ = true;
    if (!drain(true)) return error_;
    return {};
  }
};

}  // namespace

std::unique_ptr<OutputFile> OutputFile::open(const std::string& path, std::string& error) {
  error.clear();
  if (path == "-") return std::make_unique<StandardOutput>();
  std::unique_ptr<Encoder> encoder;
  if (ends_with(path, ".gz")) {
    encoder = std::make_unique<GzipEncoder>();
  } else if (ends_with(path, ".zst")) {
    encoder = std::make_unique<ZstdEncoder>();
  } else {
    encoder = std::make_unique<PlainEncoder>();
  }
  std::string temporary = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("cannot create temporary for {}: {}", path, std::strerror(errno));
    return nullptr;
  }
  // mkstemp makes the file 0600; the target gets what open(2) would give it.
  ::fchmod(fd, 0666 & ~current_umask());
  return std::make_unique<TemporaryFile>(Fd{fd, path}, std::move(encoder), path, std::move(temporary));
}

}  // namespace tlbkit::trace
