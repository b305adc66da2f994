// Shows that reading a trace streams: `trace_memory_probe write N FILE`
// writes a trace of N events (compressed by FILE's name);
// `trace_memory_probe read FILE` reads it through trace::open_lines and
// trace::read_trace and prints "events MAXRSS_KIB". tests: the peak of
// reading a trace 20 times longer is no larger (trace_memory_test.py).
#include <sys/resource.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "tlbkit/trace/format.hpp"
#include "tlbkit/trace/input.hpp"
#include "tlbkit/trace/output.hpp"
#include "tlbkit/trace/reader.hpp"

namespace {

using namespace tlbkit;

class CountingSink final : public trace::Sink {
 public:
  std::string put(const trace::Event&) override {
    ++events;
    return {};
  }
  std::uint64_t events = 0;
};

int write(std::uint64_t n, const std::string& path) {
  std::string error;
  std::unique_ptr<trace::OutputFile> out = trace::OutputFile::open(path, error);
  if (!out) {
    fmt::print(stderr, "{}\n", error);
    return 1;
  }
  trace::TraceWriter writer(*out);
  writer.put(trace::SpaceCreate{1, trace::SpaceKind::process, 0});
  writer.put(trace::ThreadStart{1, 1, 0});
  constexpr std::uint64_t kBase = 0x7f00'0000'0000;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t page = (i * 2654435761u) % (1u << 20);
    if (i % 64 == 0) {
      writer.put(trace::Mmap{1, kBase + page * 0x1000, 0x4000, trace::Prot::read | trace::Prot::write,
                             trace::MapFlags::anonymous});
    } else {
      writer.put(trace::Access{1, kBase + page * 0x1000, trace::AccessKind::write});
    }
  }
  if (std::string e = out->commit(); !e.empty()) {
    fmt::print(stderr, "{}\n", e);
    return 1;
  }
  return 0;
}

int read(const std::string& path) {
  std::string error;
  std::unique_ptr<trace::LineSource> in = trace::open_lines(path, error);
  if (!in) {
    fmt::print(stderr, "{}\n", error);
    return 1;
  }
  CountingSink sink;
  if (const auto bad = trace::read_trace(*in, sink)) {
    fmt::print(stderr, "{}\n", bad->describe());
    return 1;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  fmt::print("{} {}\n", sink.events, usage.ru_maxrss);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "write" && argc == 4) return write(std::strtoull(argv[2], nullptr, 10), argv[3]);
  if (mode == "read" && argc == 3) return read(argv[2]);
  fmt::print(stderr, "usage: trace_memory_probe write N FILE | read FILE\n");
  return 2;
}
