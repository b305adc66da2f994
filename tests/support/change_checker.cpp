#include "support/change_checker.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace tlbkit::test {
namespace {

using arch::ChangeKind;
using pt::EntryKind;

bool valid(Descriptor d) { return (d & kWalkValid) != 0; }
bool table_desc(unsigned level, Descriptor d) { return level < 3 && valid(d) && (d & kWalkTypeBit) != 0; }
bool block_desc(unsigned level, Descriptor d) {
  return (level == 1 || level == 2) && valid(d) && (d & kWalkTypeBit) == 0;
}

constexpr std::uint8_t kExecBits = static_cast<std::uint8_t>(arch::Permission::el1_execute) |
                                   static_cast<std::uint8_t>(arch::Permission::el0_execute);

// Whether some address of [lo, hi) may be executed after but not before.
bool translation_gains_exec(const Snapshot& before, const Snapshot& after, VirtAddr lo, VirtAddr hi,
                            arch::Regime regime) {
  for (const Leaf& a : after.leaves_overlapping(lo, hi)) {
    const std::uint8_t exec_after = arch::permissions(regime, a.level, a.descriptor) & kExecBits;
    if (exec_after == 0) continue;
    const VirtAddr a_lo = std::max(lo, a.va);
    const VirtAddr a_hi = std::min(hi, a.va + a.size());
    VirtAddr at = a_lo;
    for (const Leaf& b : before.leaves_overlapping(a_lo, a_hi)) {
      if (b.va > at) return true;  // unmapped before
      const std::uint8_t exec_before = arch::permissions(regime, b.level, b.descriptor) & kExecBits;
      if ((exec_after & ~exec_before) != 0) return true;
      at = b.va + b.size();
    }
    if (at < a_hi) return true;
  }
  return false;
}

std::string slot_name(unsigned level, VirtAddr va) {
  return "L" + std::to_string(level) + " slot " + hex(va);
}

std::string event_name(std::size_t index, const SinkEvent& e) {
  std::ostringstream os;
  os << "event #" << index << " " << e;
  return os.str();
}

// Which snapshot(s) hold a slot.
struct SlotState {
  std::optional<Descriptor> live_before;  // set with live_after when the page is the same
  std::optional<Descriptor> live_after;
  std::optional<Descriptor> old_desc;     // in a table page reachable only before
  std::optional<Descriptor> new_desc;     // in a table page reachable only after
};

const TableImage* table_for(const Snapshot& s, unsigned level, VirtAddr va) {
  const WalkGeometry& g = s.geometry();
  if (level < g.start_level || level > 3 || va >= g.input_size()) return nullptr;
  const std::uint64_t span = g.table_span(level);
  const VirtAddr table_va = level == g.start_level ? 0 : va & ~(span - 1);
  auto it = s.tables().find(SlotKey{level, table_va});
  return it == s.tables().end() ? nullptr : &it->second;
}

Descriptor entry_of(const TableImage& t, VirtAddr va) {
  return t.entries.at(static_cast<std::size_t>((va - t.va) >> WalkGeometry::shift(t.level)));
}

SlotState state_of(const Snapshot& before, const Snapshot& after, unsigned level, VirtAddr va) {
  SlotState s;
  const TableImage* tb = table_for(before, level, va);
  const TableImage* ta = table_for(after, level, va);
  if (tb != nullptr && ta != nullptr && tb->pa == ta->pa) {
    s.live_before = entry_of(*tb, va);
    s.live_after = entry_of(*ta, va);
    return s;
  }
  if (tb != nullptr) s.old_desc = entry_of(*tb, va);
  if (ta != nullptr) s.new_desc = entry_of(*ta, va);
  return s;
}

class Checker {
 public:
  Checker(const Snapshot& before, const Snapshot& after, const std::vector<SinkEvent>& events,
          const ChangeRules& rules, std::vector<std::string>& problems)
      : before_(before), after_(after), events_(events), rules_(rules), problems_(problems),
        g_(before.geometry()) {}

  void run(const std::vector<RecordingSink::Retired>& retired) {
    expand_events();
    check_covered_slots();
    check_reported_tables();
    check_uncovered_changes();
    check_retired(retired);
    flush();
  }

 private:
  enum class Side { live, old_side, new_side };
  struct Key {
    unsigned level;
    VirtAddr va;
    Side side;
    friend auto operator<=>(const Key&, const Key&) = default;
  };

  void problem(std::string s) { problems_.push_back(std::move(s)); }

  // Per-slot findings are aggregated: one line per (event, reason) with the
  // first slot and the number of slots.
  void slot_problem(const std::string& subject, unsigned level, VirtAddr va, const std::string& reason) {
    Aggregate& a = aggregated_[subject + ": " + reason];
    if (a.count++ == 0) {
      a.first = slot_name(level, va);
      order_.push_back(subject + ": " + reason);
    }
  }
  void flush() {
    for (const std::string& key : order_) {
      const Aggregate& a = aggregated_[key];
      problem(key + " (at " + a.first + (a.count > 1 ? " and " + std::to_string(a.count - 1) + " more slots" : "") +
              ")");
    }
  }

  void expand_events() {
    const std::uint64_t bound = before_.slot_count() + after_.slot_count();
    for (std::size_t i = 0; i < events_.size(); ++i) {
      const SinkEvent& e = events_[i];
      const pt::Change& c = e.change;
      if (e.type == SinkEvent::Type::invalidate_now && c.kind != ChangeKind::replace) {
        problem(event_name(i, e) + ": invalidate_now() for a change that is not a replace");
      }
      if (c.level < g_.start_level || c.level > 3) {
        problem(event_name(i, e) + ": level outside the tree");
        continue;
      }
      const std::uint64_t ls = WalkGeometry::level_size(c.level);
      if (c.size == 0 || c.size % ls != 0 || c.va % ls != 0) {
        problem(event_name(i, e) + ": va/size not whole slots of its level");
        continue;
      }
      if (c.va >= g_.input_size() || c.size > g_.input_size() - c.va) {
        problem(event_name(i, e) + ": range outside the input space");
        continue;
      }
      if (c.size / ls > bound) {
        problem(event_name(i, e) + ": covers more slots than both trees hold");
        continue;
      }
      for (VirtAddr va = c.va; va < c.va + c.size; va += ls) {
        const SlotState s = state_of(before_, after_, c.level, va);
        Side side = Side::live;
        if (!s.live_before) {
          // Not live: a map record can only describe a new slot, anything
          // else only an old one.
          side = c.kind == ChangeKind::map ? Side::new_side : Side::old_side;
        }
        cover_[Key{c.level, va, side}].push_back(i);
      }
    }
  }

  bool ancestor_has_table_record(unsigned level, VirtAddr va) const {
    if (rules_.whole_tree_released && level == g_.start_level) return true;
    for (unsigned l = g_.start_level; l < level; ++l) {
      const VirtAddr slot_va = va & ~(WalkGeometry::level_size(l) - 1);
      for (const Side side : {Side::live, Side::old_side}) {
        auto it = cover_.find(Key{l, slot_va, side});
        if (it == cover_.end()) continue;
        for (const std::size_t i : it->second) {
          const pt::Change& c = events_[i].change;
          if (c.entry == EntryKind::table &&
              (c.kind == ChangeKind::unmap || c.kind == ChangeKind::replace)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  void expect_fields(std::size_t i, unsigned level, VirtAddr va, ChangeKind kind, bool table_entry,
                     arch::ExecGain exec, PhysAddr output) {
    const SinkEvent& e = events_[i];
    const pt::Change& c = e.change;
    const std::string ev = event_name(i, e);
    if (c.kind != kind) slot_problem(ev, level, va, std::string("kind should be ") + arch::change_kind_name(kind));
    if ((c.entry == EntryKind::table) != table_entry) {
      slot_problem(ev, level, va, std::string("entry should be ") + (table_entry ? "table" : "leaf"));
    }
    if (c.exec != exec) {
      slot_problem(ev, level, va, std::string("exec should be ") + (exec == arch::ExecGain::yes ? "yes" : "no"));
    }
    if (va == c.va && c.output != output) slot_problem(ev, level, va, "output should be " + hex(output));
  }

  void check_covered_slots() {
    for (const auto& [key, idx] : cover_) {
      const unsigned level = key.level;
      const VirtAddr va = key.va;
      if (idx.size() > 1) {
        std::string s = "slots covered by " + std::to_string(idx.size()) + " records:";
        for (const std::size_t i : idx) s += " #" + std::to_string(i);
        slot_problem(s, level, va, "a slot must be reported once");
      }
      const std::size_t i = idx.front();
      const std::string at = event_name(i, events_[i]);
      const SlotState s = state_of(before_, after_, level, va);
      switch (key.side) {
        case Side::live: {
          const Descriptor b = *s.live_before;
          const Descriptor a = *s.live_after;
          if (a == b) {
            slot_problem(at, level, va, "covers a slot that did not change");
            break;
          }
          const std::optional<ChangeKind> kind = arch::classify(rules_.regime, level, b, a);
          if (!kind) {
            slot_problem(at, level, va, "covers a slot whose change (" + hex(b) + " -> " + hex(a) +
                                        ") is invisible to a walker");
            break;
          }
          const bool uses_old = *kind != ChangeKind::map && *kind != ChangeKind::relax &&
                                *kind != ChangeKind::restrict;
          expect_fields(i, level, va, *kind,
                        *kind == ChangeKind::map ? table_desc(level, a) : table_desc(level, b),
                        *kind == ChangeKind::map && table_desc(level, a) ? arch::ExecGain::no : exec_over(level, va),
                        (uses_old ? b : a) & kWalkOaMask);
          break;
        }
        case Side::old_side: {
          if (!s.old_desc && s.new_desc) {
            slot_problem(at, level, va,
                         std::string("reports a slot of a new table as ") +
                             arch::change_kind_name(events_[i].change.kind) +
                             " (a new slot is reported once, as map, with its final value)");
            break;
          }
          if (!s.old_desc) {
            slot_problem(at, level, va, "covers a slot reachable in neither tree");
            break;
          }
          const Descriptor b = *s.old_desc;
          if (!valid(b)) {
            slot_problem(at, level, va, "covers a slot of a retired table that was already invalid");
            break;
          }
          expect_fields(i, level, va, ChangeKind::unmap, table_desc(level, b), arch::ExecGain::no,
                        b & kWalkOaMask);
          if (!ancestor_has_table_record(level, va)) {
            slot_problem(at, level, va, "slot of a retired table without an ancestor table record");
          }
          break;
        }
        case Side::new_side: {
          if (!s.new_desc) {
            slot_problem(at, level, va,
                         s.old_desc ? "map record for a slot of a retired table" : "map record for a slot reachable in neither tree");
            break;
          }
          const Descriptor a = *s.new_desc;
          if (!valid(a)) {
            slot_problem(at, level, va, "covers an invalid slot of a new table");
            break;
          }
          expect_fields(i, level, va, ChangeKind::map, table_desc(level, a),
                        table_desc(level, a) ? arch::ExecGain::no : exec_over(level, va), a & kWalkOaMask);
          break;
        }
      }
    }
  }

  // Rule 7: a table record saying Beneath::reported is an unmap of table
  // entries, and every entry that was valid in each table it removed has a
  // record of its own.
  void check_reported_tables() {
    for (std::size_t i = 0; i < events_.size(); ++i) {
      const pt::Change& c = events_[i].change;
      if (c.beneath != pt::Beneath::reported) continue;
      const std::string ev = event_name(i, events_[i]);
      if (c.entry != EntryKind::table || c.kind != ChangeKind::unmap) {
        problem(ev + ": says every entry beneath was reported, but is not the unmap of a table entry");
        continue;
      }
      if (c.level >= 3 || c.level < g_.start_level) continue;  // reported by expand_events()
      const std::uint64_t ls = WalkGeometry::level_size(c.level);
      const std::uint64_t child = WalkGeometry::level_size(c.level + 1);
      for (VirtAddr va = c.va; va - c.va < c.size; va += ls) {
        const TableImage* below = table_for(before_, c.level + 1, va);
        if (below == nullptr) continue;  // not a table before: reported by rule 1/3
        for (std::size_t k = 0; k < below->entries.size(); ++k) {
          const VirtAddr slot = below->va + k * child;
          if (!valid(below->entries[k])) continue;
          if (coverage(c.level + 1, slot, Side::old_side) + coverage(c.level + 1, slot, Side::live) == 0) {
            slot_problem(ev, c.level + 1, slot,
                         "says every entry beneath was reported, but this valid entry has no record");
          }
        }
      }
    }
  }

  arch::ExecGain exec_over(unsigned level, VirtAddr va) const {
    return translation_gains_exec(before_, after_, va, va + WalkGeometry::level_size(level), rules_.regime)
               ? arch::ExecGain::yes
               : arch::ExecGain::no;
  }

  std::size_t coverage(unsigned level, VirtAddr va, Side side) const {
    auto it = cover_.find(Key{level, va, side});
    return it == cover_.end() ? 0 : it->second.size();
  }

  void check_uncovered_changes() {
    for (const auto& [key, ta] : after_.tables()) {
      auto it = before_.tables().find(key);
      const TableImage* tb = it == before_.tables().end() ? nullptr : &it->second;
      const bool live = tb != nullptr && tb->pa == ta.pa;
      const unsigned level = ta.level;
      const std::uint64_t ls = WalkGeometry::level_size(level);
      for (std::size_t k = 0; k < ta.entries.size(); ++k) {
        const VirtAddr va = ta.va + k * ls;
        const Descriptor a = ta.entries[k];
        if (live) {
          const Descriptor b = tb->entries[k];
          if (a == b) continue;
          const std::optional<ChangeKind> kind = arch::classify(rules_.regime, level, b, a);
          if (!kind) continue;
          if (coverage(level, va, Side::live) == 0) {
            slot_problem("live slot changed", level, va,
                         std::string(arch::change_kind_name(*kind)) + " without a record (first " + hex(b) +
                             " -> " + hex(a) + ")");
            continue;
          }
          if (*kind == ChangeKind::replace && !invalidated_now(level, va)) {
            const bool size_only = (table_desc(level, b) && block_desc(level, a)) ||
                                   (block_desc(level, b) && table_desc(level, a));
            if (!(rules_.bbm == arch::BbmLevel::level2 && size_only)) {
              slot_problem("live slot replaced", level, va,
                           "without break-before-make (no invalidate_now; first " + hex(b) + " -> " + hex(a) + ")");
            }
          }
        } else if (valid(a) && coverage(level, va, Side::new_side) == 0) {
          slot_problem("new valid slot", level, va, "without a map record");
        }
      }
    }
  }

  bool invalidated_now(unsigned level, VirtAddr va) const {
    auto it = cover_.find(Key{level, va, Side::live});
    if (it == cover_.end()) return false;
    for (const std::size_t i : it->second) {
      if (events_[i].type == SinkEvent::Type::invalidate_now) return true;
    }
    return false;
  }

  void check_retired(const std::vector<RecordingSink::Retired>& retired) {
    std::set<PhysAddr> seen;
    for (const RecordingSink::Retired& r : retired) {
      if (r.pages == 0 || r.pages > 16) {
        problem("table " + hex(r.table) + " retired with " + std::to_string(r.pages) + " pages");
        continue;
      }
      for (unsigned p = 0; p < r.pages; ++p) {
        const PhysAddr t = r.table + p * FakeMemory::kPageSize;
        if (!seen.insert(t).second) problem("table page " + hex(t) + " retired twice");
      }
    }
    for (const PhysAddr t : seen) {
      if (before_.table_pages().count(t) == 0) {
        problem("retired " + hex(t) + " which was not a reachable table before");
      } else if (after_.table_pages().count(t) != 0) {
        problem("retired " + hex(t) + " which is still reachable");
      }
    }
    for (const PhysAddr t : before_.table_pages()) {
      if (after_.table_pages().count(t) == 0 && seen.count(t) == 0) {
        problem("table " + hex(t) + " unhooked but not retired (leak)");
      }
    }
  }

  const Snapshot& before_;
  const Snapshot& after_;
  const std::vector<SinkEvent>& events_;
  const ChangeRules& rules_;
  std::vector<std::string>& problems_;
  const WalkGeometry& g_;
  std::map<Key, std::vector<std::size_t>> cover_;
  struct Aggregate {
    std::string first;
    std::size_t count = 0;
  };
  std::map<std::string, Aggregate> aggregated_;
  std::vector<std::string> order_;
};

}  // namespace

std::vector<std::string> check_changes(const Snapshot& before, const Snapshot& after,
                                       const std::vector<SinkEvent>& events,
                                       const std::vector<RecordingSink::Retired>& retired,
                                       const ChangeRules& rules) {
  std::vector<std::string> problems;
  Checker(before, after, events, rules, problems).run(retired);
  return problems;
}

void check_break_written(const FakeMemory& memory, PhysAddr root, const WalkGeometry& geometry,
                         const pt::Change& change, std::vector<std::string>& problems) {
  if (change.level < geometry.start_level || change.level > 3) return;  // check_changes reports it
  const std::uint64_t ls = WalkGeometry::level_size(change.level);
  if (change.size == 0 || change.size % ls != 0 || change.size / ls > 4096) return;
  for (VirtAddr va = change.va; va < change.va + change.size; va += ls) {
    const std::optional<Descriptor> d = read_slot(memory, root, geometry, change.level, va);
    if (!d) {
      problems.push_back("invalidate_now at " + slot_name(change.level, va) +
                         ": the slot is not reachable from the root (not a live slot)");
    } else if (valid(*d)) {
      problems.push_back("invalidate_now at " + slot_name(change.level, va) + ": slot still reads " +
                         hex(*d) + " (break not written before the maintenance)");
    }
  }
}

}  // namespace tlbkit::test
