// A ChangeSink that keeps everything the engine reported, in order.
#pragma once

#include <cstdio>
#include <functional>
#include <sstream>
#include <ostream>
#include <string>
#include <vector>

#include "support/fake_memory.hpp"
#include "tlbkit/pt/change.hpp"

namespace tlbkit::test {

// One call of record() or invalidate_now().
struct SinkEvent {
  enum class Type { record, invalidate_now };
  Type type = Type::record;
  pt::Change change;
  friend bool operator==(const SinkEvent&, const SinkEvent&) = default;
};

inline std::ostream& operator<<(std::ostream& os, const pt::Change& c) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "{L%u va %#llx size %#llx %s %s%s%s out %#llx}", unsigned{c.level},
                static_cast<unsigned long long>(c.va), static_cast<unsigned long long>(c.size),
                c.entry == pt::EntryKind::table ? "table" : "leaf", arch::change_kind_name(c.kind),
                c.exec == arch::ExecGain::yes ? " +exec" : "",
                c.beneath == pt::Beneath::reported ? " beneath-reported" : "",
                static_cast<unsigned long long>(c.output));
  return os << buf;
}

inline std::ostream& operator<<(std::ostream& os, const SinkEvent& e) {
  return os << (e.type == SinkEvent::Type::record ? "record" : "invalidate_now") << e.change;
}

class RecordingSink final : public pt::ChangeSink {
 public:
  void record(const pt::Change& change) override {
    events_.push_back(SinkEvent{SinkEvent::Type::record, change});
  }
  void invalidate_now(const pt::Change& change) override {
    events_.push_back(SinkEvent{SinkEvent::Type::invalidate_now, change});
    if (on_invalidate_now_) on_invalidate_now_(change);
  }
  void retire_table(PhysAddr table, unsigned pages) override {
    retired_.push_back(Retired{table, pages});
  }

  // Called inside invalidate_now(), after the event was stored: the moment
  // the engine says the break is written and the maintenance runs.
  void set_invalidate_hook(std::function<void(const pt::Change&)> hook) {
    on_invalidate_now_ = std::move(hook);
  }

  const std::vector<SinkEvent>& events() const { return events_; }
  struct Retired {
    PhysAddr table = 0;
    unsigned pages = 1;
    friend bool operator==(const Retired&, const Retired&) = default;
  };
  const std::vector<Retired>& retired() const { return retired_; }
  bool empty() const { return events_.empty() && retired_.empty(); }

  // "The maintenance has executed": frees every retired table with the page
  // count the engine gave (FakeMemory reports a wrong count or address).
  void release_retired(FakeMemory& memory) {
    for (const Retired& r : retired_) memory.free(r.table, r.pages);
    retired_.clear();
  }
  // Forgets events (retired tables stay until released).
  void clear_events() { events_.clear(); }

  std::string describe() const {
    std::string out;
    for (const SinkEvent& e : events_) {
      std::ostringstream os;
      os << "\n    " << e;
      out += os.str();
    }
    for (const Retired& r : retired_) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "\n    retire %#llx (%u pages)",
                    static_cast<unsigned long long>(r.table), r.pages);
      out += buf;
    }
    return out;
  }

 private:
  std::vector<SinkEvent> events_;
  std::vector<Retired> retired_;
  std::function<void(const pt::Change&)> on_invalidate_now_;
};

}  // namespace tlbkit::test
