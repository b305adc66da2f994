#include "support/reference_walker.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace tlbkit::test {

std::string hex(std::uint64_t value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(value));
  return buf;
}

WalkGeometry WalkGeometry::stage1(unsigned va_bits) {
  // A table at level L resolves 9 bits above the 12 + 9 * (3 - L) bits its
  // entries map; start at the deepest level whose table spans va_bits.
  unsigned level = 3;
  while (level > 0 && shift(level) + 9 < va_bits) --level;
  return WalkGeometry{va_bits, level};
}

WalkGeometry WalkGeometry::stage2(unsigned ipa_bits, unsigned start_level) {
  return WalkGeometry{ipa_bits, start_level};
}

WalkGeometry WalkGeometry::from_vtcr(std::uint64_t vtcr) {
  const unsigned t0sz = static_cast<unsigned>(vtcr & 0x3f);
  const unsigned sl0 = static_cast<unsigned>((vtcr >> 6) & 3);
  // 4 KiB granule: SL0 0 -> level 2, 1 -> level 1, 2 -> level 0.
  return WalkGeometry{64 - t0sz, 2 - sl0};
}

std::ostream& operator<<(std::ostream& os, const Run& run) {
  return os << "{va " << hex(run.va) << " pa " << hex(run.pa) << " size " << hex(run.size)
            << " attrs " << hex(run.attributes) << "}";
}

std::string to_string(const std::vector<Run>& runs) {
  std::ostringstream os;
  os << runs.size() << " runs:";
  for (const Run& r : runs) os << "\n  " << r;
  return os.str();
}

namespace {

const char* level_name(unsigned level) {
  static const char* names[] = {"L0", "L1", "L2", "L3"};
  return level < 4 ? names[level] : "L?";
}

std::string where(unsigned level, VirtAddr va) {
  return std::string(level_name(level)) + " slot " + hex(va);
}

class Walk {
 public:
  Walk(const FakeMemory& memory, const WalkGeometry& g, const WalkRules& rules,
       std::map<SlotKey, TableImage>& tables, std::set<PhysAddr>& pages, std::vector<Leaf>& leaves,
       std::vector<std::string>& problems)
      : memory_(memory), g_(g), rules_(rules), tables_(tables), pages_(pages), leaves_(leaves),
        problems_(problems) {}

  void root(PhysAddr root) {
    const unsigned n_pages = g_.root_pages();
    const std::optional<unsigned> alloc = memory_.allocation_pages(root);
    if (!alloc) {
      problems_.push_back("root " + hex(root) + " is not the start of a live allocation");
      return;
    }
    if (*alloc != n_pages) {
      problems_.push_back("root " + hex(root) + " allocation has " + std::to_string(*alloc) +
                          " pages, the geometry needs " + std::to_string(n_pages));
      return;
    }
    if (root % (n_pages * FakeMemory::kPageSize) != 0) {
      problems_.push_back("root " + hex(root) + " not aligned to its " + std::to_string(n_pages) +
                          " concatenated pages");
    }
    TableImage image;
    image.level = g_.start_level;
    image.va = 0;
    image.pa = root;
    image.entries.resize(g_.root_entries());
    for (unsigned i = 0; i < g_.root_entries(); ++i) {
      const PhysAddr page = root + (i / 512) * FakeMemory::kPageSize;
      image.entries[i] = memory_.peek(page)[i % 512];
    }
    for (unsigned p = 0; p < n_pages; ++p) pages_.insert(root + p * FakeMemory::kPageSize);
    visit(image, /*is_root=*/true);
  }

 private:
  void table(unsigned level, VirtAddr va, PhysAddr pa, unsigned parent_level) {
    const std::string from = where(parent_level, va);
    if (pages_.count(pa) != 0) {
      problems_.push_back(from + ": table " + hex(pa) + " is reachable twice");
      return;
    }
    const std::optional<unsigned> alloc = memory_.allocation_pages(pa);
    if (!alloc) {
      problems_.push_back(from + ": table " + hex(pa) +
                          " is not the start of a live allocation (garbage or freed page?)");
      return;
    }
    if (*alloc != 1) {
      problems_.push_back(from + ": table " + hex(pa) + " is an allocation of " +
                          std::to_string(*alloc) + " pages");
    }
    pages_.insert(pa);
    TableImage image;
    image.level = level;
    image.va = va;
    image.pa = pa;
    const Descriptor* words = memory_.peek(pa);
    image.entries.assign(words, words + 512);
    visit(image, /*is_root=*/false);
  }

  void visit(const TableImage& image_in, bool is_root) {
    const auto [it, inserted] = tables_.emplace(SlotKey{image_in.level, image_in.va}, image_in);
    if (!inserted) {
      problems_.push_back(where(image_in.level, image_in.va) + ": two tables for the same range");
      return;
    }
    const TableImage& image = it->second;
    const unsigned level = image.level;
    const std::uint64_t size = WalkGeometry::level_size(level);
    bool any_valid = false;
    for (std::size_t i = 0; i < image.entries.size(); ++i) {
      const Descriptor d = image.entries[i];
      const VirtAddr va = image.va + i * size;
      if ((d & kWalkValid) == 0) {
        if (rules_.invalid_must_be_zero && d != 0) {
          problems_.push_back(where(level, va) + ": invalid descriptor with stray bits " + hex(d));
        }
        continue;
      }
      any_valid = true;
      const bool type = (d & kWalkTypeBit) != 0;
      if (level < 3 && type) {
        const Descriptor extra = d & ~(kWalkOaMask | kWalkValid | kWalkTypeBit);
        if (extra != 0) {
          problems_.push_back(where(level, va) + ": table descriptor with extra bits " + hex(extra));
        }
        table(level + 1, va, d & kWalkOaMask, level);
        continue;
      }
      if (level == 0) {
        problems_.push_back(where(level, va) + ": block descriptor at level 0 " + hex(d));
        continue;
      }
      if (level == 3 && !type) {
        problems_.push_back(where(level, va) + ": reserved descriptor (0b01) at level 3 " + hex(d));
        continue;
      }
      // A block (levels 1, 2) or a page (level 3).
      const PhysAddr oa = d & kWalkOaMask;
      if (oa % size != 0) {
        problems_.push_back(where(level, va) + ": leaf output " + hex(oa) +
                            " not aligned to its size " + hex(size));
      }
      if ((d & kWalkRes0Mask) != 0) {
        problems_.push_back(where(level, va) + ": RES0 bits [49:48] set in " + hex(d));
      }
      const Descriptor attrs = d & kWalkLeafAttrMask;
      if ((attrs & ~rules_.leaf_attribute_mask) != 0) {
        problems_.push_back(where(level, va) + ": leaf attribute bits outside the regime's fields " +
                            hex(attrs & ~rules_.leaf_attribute_mask));
      }
      if ((d & kWalkContiguousBit) != 0) {
        problems_.push_back(where(level, va) + ": contiguous hint set (the engine does not manage it)");
      }
      leaves_.push_back(Leaf{level, va, d});
    }
    if (!is_root && !any_valid) {
      problems_.push_back(where(level, image.va) + ": reachable table " + hex(image.pa) +
                          " holds no valid entry");
    }
  }

  const FakeMemory& memory_;
  const WalkGeometry& g_;
  const WalkRules& rules_;
  std::map<SlotKey, TableImage>& tables_;
  std::set<PhysAddr>& pages_;
  std::vector<Leaf>& leaves_;
  std::vector<std::string>& problems_;
};

}  // namespace

Snapshot take_snapshot(const FakeMemory& memory, PhysAddr root, const WalkGeometry& geometry,
                       const WalkRules& rules) {
  Snapshot s;
  s.geometry_ = geometry;
  s.root_ = root;
  Walk walk(memory, s.geometry_, rules, s.tables_, s.table_pages_, s.leaves_, s.problems_);
  walk.root(root);
  return s;
}

std::optional<Descriptor> Snapshot::slot(unsigned level, VirtAddr va) const {
  if (level < geometry_.start_level || level > 3 || va >= geometry_.input_size()) return std::nullopt;
  const std::uint64_t span = geometry_.table_span(level);
  const VirtAddr table_va = level == geometry_.start_level ? 0 : va & ~(span - 1);
  auto it = tables_.find(SlotKey{level, table_va});
  if (it == tables_.end()) return std::nullopt;
  const std::size_t index = static_cast<std::size_t>((va - table_va) >> WalkGeometry::shift(level));
  return it->second.entries.at(index);
}

std::optional<Leaf> Snapshot::leaf_at(VirtAddr va) const {
  for (unsigned level = geometry_.start_level; level <= 3; ++level) {
    const std::optional<Descriptor> d = slot(level, va);
    if (!d || (*d & kWalkValid) == 0) return std::nullopt;
    const bool table = level < 3 && (*d & kWalkTypeBit) != 0;
    if (table) continue;
    if (level == 0 || (level == 3 && (*d & kWalkTypeBit) == 0)) return std::nullopt;
    return Leaf{level, va & ~(WalkGeometry::level_size(level) - 1), *d};
  }
  return std::nullopt;
}

std::vector<Leaf> Snapshot::leaves_overlapping(VirtAddr lo, VirtAddr hi) const {
  std::vector<Leaf> out;
  auto it = std::upper_bound(leaves_.begin(), leaves_.end(), lo,
                             [](VirtAddr v, const Leaf& l) { return v < l.va; });
  if (it != leaves_.begin() && std::prev(it)->va + std::prev(it)->size() > lo) --it;
  for (; it != leaves_.end() && it->va < hi; ++it) out.push_back(*it);
  return out;
}

std::vector<Run> Snapshot::runs() const {
  std::vector<Run> out;
  for (const Leaf& leaf : leaves_) {
    const Descriptor attrs = leaf.descriptor & kWalkLeafAttrMask;
    if (!out.empty()) {
      Run& last = out.back();
      if (last.va + last.size == leaf.va && last.pa + last.size == leaf.output() &&
          last.attributes == attrs) {
        last.size += leaf.size();
        continue;
      }
    }
    out.push_back(Run{leaf.va, leaf.output(), attrs, leaf.size()});
  }
  return out;
}

std::map<SlotKey, Descriptor> Snapshot::slots() const {
  std::map<SlotKey, Descriptor> out;
  for (const auto& [key, t] : tables_) {
    for (std::size_t i = 0; i < t.entries.size(); ++i) {
      out.emplace(SlotKey{t.level, t.va + i * WalkGeometry::level_size(t.level)}, t.entries[i]);
    }
  }
  return out;
}

std::uint64_t Snapshot::slot_count() const {
  std::uint64_t n = 0;
  for (const auto& entry : tables_) n += entry.second.entries.size();
  return n;
}

std::string Snapshot::diff(const Snapshot& other, std::size_t max_lines) const {
  std::ostringstream os;
  std::size_t lines = 0;
  auto line = [&](const std::string& s) {
    if (lines++ < max_lines) os << "\n  " << s;
  };
  if (root_ != other.root_) line("root " + hex(root_) + " -> " + hex(other.root_));
  for (const auto& [key, t] : tables_) {
    auto it = other.tables_.find(key);
    if (it == other.tables_.end()) {
      line("table " + where(key.first, key.second) + " at " + hex(t.pa) + " gone");
      continue;
    }
    if (it->second.pa != t.pa) {
      line("table " + where(key.first, key.second) + " moved " + hex(t.pa) + " -> " + hex(it->second.pa));
    }
    for (std::size_t i = 0; i < t.entries.size() && i < it->second.entries.size(); ++i) {
      if (t.entries[i] != it->second.entries[i]) {
        line(where(key.first, t.va + i * WalkGeometry::level_size(key.first)) + ": " +
             hex(t.entries[i]) + " -> " + hex(it->second.entries[i]));
      }
    }
  }
  for (const auto& [key, t] : other.tables_) {
    if (tables_.count(key) == 0) line("table " + where(key.first, key.second) + " at " + hex(t.pa) + " new");
  }
  if (lines > max_lines) os << "\n  ... " << (lines - max_lines) << " more";
  return os.str();
}

std::optional<Descriptor> read_slot(const FakeMemory& memory, PhysAddr root,
                                    const WalkGeometry& g, unsigned level, VirtAddr va) {
  if (level < g.start_level || level > 3 || va >= g.input_size()) return std::nullopt;
  PhysAddr table = root;
  for (unsigned l = g.start_level;; ++l) {
    std::uint64_t index = va >> WalkGeometry::shift(l);
    if (l == g.start_level) {
      index &= g.root_entries() - 1;
      table += (index / 512) * FakeMemory::kPageSize;
    }
    index &= 511;
    const Descriptor* words = memory.peek(table);
    if (words == nullptr) return std::nullopt;
    const Descriptor d = words[index];
    if (l == level) return d;
    if ((d & kWalkValid) == 0 || (d & kWalkTypeBit) == 0) return std::nullopt;
    table = d & kWalkOaMask;
  }
}

}  // namespace tlbkit::test
