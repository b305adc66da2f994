// A timeline of a replay (sim::TimelineSink) written as a Chrome / Perfetto
// trace-event JSON file, which ui.perfetto.dev and chrome://tracing open:
// one track per PE, spans ("ph": "X") for plans, TLBIs, DSBs, ISBs, cache
// ops and walks, instants ("ph": "i") for faults and table operations. One
// simulated cycle is shown as one nanosecond (a nominal 1 GHz clock):
// "ts" and "dur" are in microseconds, cycles / 1000.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tlbkit/sim/timeline.hpp"
#include "tlbkit/trace/output.hpp"

namespace tlbkit::report {

class TimelineJson final : public sim::TimelineSink {
 public:
  // Writes to a temporary beside `path` (trace::OutputFile: plain, .gz or
  // .zst by name), renamed over it by finish(). `limit`: events kept at
  // most; later ones are counted and dropped (a run of millions of walks
  // makes a file no viewer opens). Returns nullptr and sets `error` when
  // the temporary cannot be created.
  static std::unique_ptr<TimelineJson> open(const std::string& path, unsigned pes, std::uint64_t limit,
                                            std::string& error);

  void event(const sim::TimelineEvent& event) override;

  // Closes the JSON (with the events dropped past the limit, in
  // "otherData") and renames the file over its target. Returns "" or what
  // went wrong (the target is then left as it was).
  std::string finish();

  std::uint64_t written() const { return written_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  TimelineJson(std::unique_ptr<trace::OutputFile> out, std::uint64_t limit) : out_(std::move(out)), limit_(limit) {}
  void put(std::string_view text);

  std::unique_ptr<trace::OutputFile> out_;
  std::uint64_t limit_;
  std::uint64_t written_ = 0;
  std::uint64_t dropped_ = 0;
  std::string error_;
  std::string buffer_;
};

}  // namespace tlbkit::report
