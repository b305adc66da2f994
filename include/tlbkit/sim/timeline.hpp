// What the simulated machine did, PE by PE and in simulated cycles, for a
// timeline viewer (tlbkit replay --timeline writes it as a Chrome /
// Perfetto trace-event file). Each PE has its own clock: the cycles of the
// maintenance it issued and of the translations it made (walks and L2
// hits; an L1 hit costs nothing). PEs are not synchronised with each
// other: the model has no global time.
#pragma once

#include <cstdint>
#include <string_view>

namespace tlbkit::sim {

enum class TimelineKind : std::uint8_t {
  plan,         // a maintenance plan, from its first op to its last (a span around its ops)
  tlbi,         // a TLBI issued (local or broadcast)
  dsb,          // a DSB (waiting for broadcast maintenance when it had some)
  barrier,      // an ISB
  cache,        // DC / IC
  walk,         // a translation past the L1: an L2 hit or a walk
  fault,        // an access that faulted (instant)
  operation,    // a table operation opened by the kernel (instant, at its start)
};

struct TimelineEvent {
  unsigned pe = 0;
  TimelineKind kind = TimelineKind::walk;
  std::uint64_t start = 0;     // the PE's clock, in cycles
  std::uint64_t duration = 0;  // 0 for instants
  std::string_view name;       // "tlbi vae1is", "walk", "translation fault", the operation's label
  std::uint64_t address = 0;   // walks and faults: the VA; TLBIs: the operand
};

// Receives the machine's events as they happen: per PE the starts never go
// back, except that a plan's span is sent after its ops (with the start it
// had before them). Not called at all when no sink is set.
class TimelineSink {
 public:
  virtual void event(const TimelineEvent& event) = 0;

 protected:
  ~TimelineSink() = default;
};

}  // namespace tlbkit::sim
