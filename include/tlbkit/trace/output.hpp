// A file written whole or not at all: bytes go to a temporary beside the
// target, renamed over it by commit(); destroyed without commit() (an
// error, an exception), the temporary is removed and the target is left as
// it was. Compressed by name: ".gz" gzip, ".zst" zstd, else plain.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace tlbkit::trace {

class OutputFile {
 public:
  // Opens a temporary for `path` ("-": standard output, written directly).
  // Returns nullptr and sets `error` when the temporary cannot be created.
  static std::unique_ptr<OutputFile> open(const std::string& path, std::string& error);

  virtual ~OutputFile() = default;
  // Appends `bytes`. Returns an empty string or what went wrong (then
  // nothing more is written and commit() fails).
  virtual std::string write(std::string_view bytes) = 0;
  // Finishes compression, flushes, closes and renames over the target.
  // Returns an empty string or what went wrong (then the target is untouched).
  virtual std::string commit() = 0;
  virtual const std::string& path() const = 0;
};

}  // namespace tlbkit::trace
