// Helpers for the hand-derived pt::Table vector tests (map, unmap, protect,
// split/promote): a sink that logs every call in order, with what the tree
// looked like at the moment of each invalidate_now(), and a few readers.
// Expected values live in the tests, as literals; nothing here computes one.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <compare>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "support/fake_memory.hpp"
#include "tlbkit/arch/attributes.hpp"
#include "tlbkit/arch/regime.hpp"
#include "tlbkit/pt/change.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::vectors {

using arch::ChangeKind;
using arch::Descriptor;
using arch::ExecGain;
using arch::PhysAddr;
using arch::Regime;
using arch::VirtAddr;
using pt::Change;
using pt::EntryKind;
using test::FakeMemory;

inline constexpr std::uint64_t k4K = 0x1000;
inline constexpr std::uint64_t k2M = 0x20'0000;
inline constexpr std::uint64_t k1G = 0x4000'0000;

// How a change reached the sink.
enum class Via : std::uint8_t { record, invalidate_now };

struct Event {
  Via via;
  Change change;
  friend bool operator==(const Event&, const Event&) = default;
};

struct Retired {
  PhysAddr table;
  unsigned pages;
  friend bool operator==(const Retired&, const Retired&) = default;
  friend auto operator<=>(const Retired&, const Retired&) = default;
};

inline std::string describe(const Change& c) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "{L%u va %#llx size %#llx %s %s%s%s out %#llx}", unsigned{c.level},
                static_cast<unsigned long long>(c.va), static_cast<unsigned long long>(c.size),
                c.entry == EntryKind::table ? "table" : "leaf", arch::change_kind_name(c.kind),
                c.exec == ExecGain::yes ? " +exec" : "", c.beneath == pt::Beneath::reported ? " beneath-reported" : "",
                static_cast<unsigned long long>(c.output));
  return buf;
}

inline std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << (e.via == Via::record ? "record" : "invalidate_now") << describe(e.change);
}

inline std::ostream& operator<<(std::ostream& os, const Retired& r) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "retire{%#llx x%u}", static_cast<unsigned long long>(r.table), r.pages);
  return os << buf;
}

// Logs every sink call. During invalidate_now() it also queries the table
// (when attached) at the first and last page of the change, so tests can
// check that the slot really read invalid while the old entry was being
// invalidated, and it notes how many pages the memory had freed so far.
class Recorder final : public pt::ChangeSink {
 public:
  explicit Recorder(const FakeMemory* memory = nullptr) : memory_(memory) {}

  void attach(const pt::Table& table) { table_ = &table; }

  void record(const Change& change) override { events_.push_back(Event{Via::record, change}); }

  void invalidate_now(const Change& change) override {
    events_.push_back(Event{Via::invalidate_now, change});
    BreakSnapshot snap;
    if (table_ != nullptr) {
      const auto first = table_->query(change.va);
      const auto last = table_->query(change.va + change.size - k4K);
      snap.first_unmapped = !first.ok() && first.error().code == Errc::not_mapped;
      snap.last_unmapped = !last.ok() && last.error().code == Errc::not_mapped;
      snap.checked = true;
    }
    breaks_.push_back(snap);
  }

  void retire_table(PhysAddr table, unsigned pages) override {
    retired_.push_back(Retired{table, pages});
    retire_positions_.push_back(events_.size());
    if (memory_ != nullptr && memory_->frees() != 0) freed_before_retire_ = true;
  }

  struct BreakSnapshot {
    bool checked = false;
    bool first_unmapped = false;
    bool last_unmapped = false;
  };

  const std::vector<Event>& events() const { return events_; }
  const std::vector<BreakSnapshot>& breaks() const { return breaks_; }
  const std::vector<Retired>& retired() const { return retired_; }
  // For each retired table: how many events had been reported before it.
  const std::vector<std::size_t>& retire_positions() const { return retire_positions_; }
  std::vector<Retired> retired_sorted() const {
    std::vector<Retired> out = retired_;
    std::sort(out.begin(), out.end());
    return out;
  }
  bool freed_before_retire() const { return freed_before_retire_; }

  std::size_t count(Via via) const {
    return static_cast<std::size_t>(
        std::count_if(events_.begin(), events_.end(), [via](const Event& e) { return e.via == via; }));
  }
  std::vector<Event> only(Via via) const {
    std::vector<Event> out;
    for (const Event& e : events_) {
      if (e.via == via) out.push_back(e);
    }
    return out;
  }

  void clear() {
    events_.clear();
    breaks_.clear();
    retired_.clear();
    retire_positions_.clear();
  }

  std::string dump() const {
    std::string out;
    for (const Event& e : events_) {
      out += "\n  ";
      out += e.via == Via::record ? "record" : "invalidate_now";
      out += describe(e.change);
    }
    for (const Retired& r : retired_) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "\n  retire %#llx x%u", static_cast<unsigned long long>(r.table),
                    r.pages);
      out += buf;
    }
    return out;
  }

 private:
  const FakeMemory* memory_;
  const pt::Table* table_ = nullptr;
  std::vector<Event> events_;
  std::vector<BreakSnapshot> breaks_;
  std::vector<Retired> retired_;
  std::vector<std::size_t> retire_positions_;
  bool freed_before_retire_ = false;
};

// A change record as the tests write it. For table entries the output is
// the table page's address, which the fake memory chooses: `kAnyTable`
// means "not compared".
inline constexpr PhysAddr kAnyTable = ~PhysAddr{0};

inline Change change(VirtAddr va, std::uint64_t size, unsigned level, EntryKind entry, ChangeKind kind,
                     ExecGain exec, PhysAddr output) {
  Change c;
  c.va = va;
  c.size = size;
  c.level = static_cast<std::uint8_t>(level);
  c.entry = entry;
  c.kind = kind;
  c.exec = exec;
  c.output = output;
  return c;
}

// Events with table-entry outputs blanked where the expectation says
// kAnyTable, so the two lists compare field by field.
inline std::vector<Event> blank_table_outputs(std::vector<Event> actual, const std::vector<Event>& expected) {
  for (std::size_t i = 0; i < actual.size() && i < expected.size(); ++i) {
    if (expected[i].change.output == kAnyTable && actual[i].change.entry == EntryKind::table) {
      actual[i].change.output = kAnyTable;
    }
  }
  return actual;
}

// Sorts by (via, level, va) and merges runs that continue each other (same
// via, level, entry, kind, exec; adjacent input; for leaves also adjacent
// output). Lets a test state *what* was reported without fixing the order
// in which the engine walked or how finely it cut its runs.
inline std::vector<Event> normalized(std::vector<Event> events) {
  for (Event& e : events) {
    if (e.change.entry == EntryKind::table) e.change.output = kAnyTable;
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return std::tuple(a.via, a.change.level, a.change.entry, a.change.kind, a.change.exec, a.change.va) <
           std::tuple(b.via, b.change.level, b.change.entry, b.change.kind, b.change.exec, b.change.va);
  });
  std::vector<Event> out;
  for (const Event& e : events) {
    if (!out.empty()) {
      Event& last = out.back();
      const Change& p = last.change;
      const Change& c = e.change;
      const bool same = last.via == e.via && p.level == c.level && p.entry == c.entry && p.kind == c.kind &&
                        p.exec == c.exec && p.beneath == c.beneath && p.va + p.size == c.va &&
                        (c.entry == EntryKind::table || p.output + p.size == c.output);
      if (same) {
        last.change.size += c.size;
        continue;
      }
    }
    out.push_back(e);
  }
  return out;
}

// The events sorted as normalized() sorts them, but neither merged nor with
// table outputs blanked: for short lists whose every field is known.
inline std::vector<Event> sorted(std::vector<Event> events) {
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return std::tuple(a.via, a.change.level, a.change.entry, a.change.kind, a.change.exec, a.change.va) <
           std::tuple(b.via, b.change.level, b.change.entry, b.change.kind, b.change.exec, b.change.va);
  });
  return events;
}

// Counts the valid leaves per level in a range, through the public walk().
class LeafCounter final : public pt::WalkVisitor {
 public:
  void table(unsigned level, VirtAddr, Descriptor) override { ++tables[level]; }
  void leaf(unsigned level, VirtAddr, Descriptor) override { ++leaves[level]; }
  unsigned leaves[4] = {0, 0, 0, 0};
  unsigned tables[4] = {0, 0, 0, 0};
};

inline LeafCounter count_leaves(const pt::Table& table, VirtAddr va, std::uint64_t size) {
  LeafCounter counter;
  const Status s = table.walk(va, size, counter);
  EXPECT_TRUE(s.ok());
  return counter;
}

inline arch::Geometry geometry_s1(unsigned bits) { return *arch::Geometry::stage1(arch::Granule::k4K, bits); }
inline arch::Geometry geometry_s2(unsigned bits, unsigned level) {
  return *arch::Geometry::stage2(arch::Granule::k4K, bits, level);
}

// Kernel data: AttrIndx 0, inner shareable, AP 00 (EL1 RW), AF, PXN, UXN,
// global = 0x0060'0000'0000'0700 (see tests/arch/attributes_test.cpp).
inline arch::s1::Attributes kernel_data() { return arch::s1::Attributes{}; }
inline constexpr Descriptor kKernelDataBits = 0x0060'0000'0000'0700;

// AP 10 (EL1 RO) replaces AP 00: clear AP, set 0x080.
inline pt::AttributeChange make_read_only_s1() { return pt::AttributeChange{0xc0, 0x80}; }

// Creates a table or aborts the test binary (nothing else can be checked).
inline pt::Table make_table(Regime regime, const arch::Geometry& geometry, FakeMemory& memory,
                            pt::TableOptions options = {}) {
  auto created = pt::Table::create(regime, geometry, memory, options);
  if (!created.ok()) {
    std::fprintf(stderr, "Table::create failed: %s\n", created.error().message);
    std::abort();
  }
  return std::move(created).value();
}

// Entry `index` of the live table page `table`, read straight from memory.
inline Descriptor entry_at(const FakeMemory& memory, PhysAddr table, unsigned index) {
  const Descriptor* page = memory.peek(table);
  EXPECT_NE(page, nullptr) << "not a live table page";
  return page != nullptr ? page[index] : Descriptor{0xdead'dead'dead'dead};
}

// The next-level table a table descriptor points at (OA[47:12]).
inline PhysAddr table_of(Descriptor d) {
  EXPECT_EQ(d & 3u, 3u) << "not a table descriptor";
  return d & 0x0000'ffff'ffff'f000;
}

// "ok" or the error code's name, so failures print words, not bytes.
template <class T>
std::string code(const Result<T>& r) {
  return r.ok() ? "ok" : errc_name(r.error().code);
}

}  // namespace tlbkit::vectors
