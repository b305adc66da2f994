#include "pt/pt_harness.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace tlbkit::test {

using arch::Regime;

// ---------------------------------------------------------------- configs --

namespace {

arch::Geometry unwrap(Result<arch::Geometry> g, const std::string& what) {
  if (!g) throw std::runtime_error(what + ": geometry refused: " + g.error().message);
  return g.value();
}

}  // namespace

TreeConfig stage1_tree(Regime regime, unsigned va_bits) {
  const std::string name = std::string(arch::regime_name(regime)) + "-va" + std::to_string(va_bits);
  return TreeConfig{name, regime, unwrap(arch::Geometry::stage1(arch::Granule::k4K, va_bits), name),
                    WalkGeometry::stage1(va_bits)};
}

TreeConfig stage2_tree(unsigned ipa_bits, unsigned start_level) {
  const std::string name = "stage2-ipa" + std::to_string(ipa_bits) + "-sl" + std::to_string(start_level);
  return TreeConfig{name, Regime::stage2,
                    unwrap(arch::Geometry::stage2(arch::Granule::k4K, ipa_bits, start_level), name),
                    WalkGeometry::stage2(ipa_bits, start_level)};
}

TreeConfig stage2_tree_from_vtcr(std::uint64_t vtcr) {
  const std::string name = "stage2-vtcr-" + hex(vtcr);
  return TreeConfig{name, Regime::stage2, unwrap(arch::Geometry::from_vtcr(vtcr), name),
                    WalkGeometry::from_vtcr(vtcr)};
}

// ------------------------------------------------------------- attributes --

pt::LeafAttributes leaf_attributes(const AttrSet& attributes) {
  return std::visit(
      [](const auto& a) -> pt::LeafAttributes {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, RawAttributes>) {
          return pt::LeafAttributes::raw(a.regime, a.bits);
        } else {
          return pt::LeafAttributes(a);
        }
      },
      attributes);
}

ModelAttributes model_attributes(const AttrSet& attributes) {
  return std::visit(
      [](const auto& a) -> ModelAttributes {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, RawAttributes>) {
          return ModelAttributes{a.regime, a.bits, true};
        } else {
          Regime regime = Regime::el1_stage1;
          Result<Descriptor> bits = Error{Errc::invalid_argument, ""};
          if constexpr (std::is_same_v<T, arch::s1::Attributes>) {
            bits = arch::s1::encode(a);
          } else if constexpr (std::is_same_v<T, arch::el2::Attributes>) {
            regime = Regime::el2_stage1;
            bits = arch::el2::encode(a);
          } else {
            regime = Regime::stage2;
            bits = arch::s2::encode(a);
          }
          return ModelAttributes{regime, bits ? bits.value() : 0, bits.ok()};
        }
      },
      attributes);
}

// -------------------------------------------------------------------- ops --

Op Op::map(VirtAddr va, PhysAddr pa, std::uint64_t size, AttrSet attributes, pt::BlockMappings blocks) {
  Op op;
  op.kind = OpKind::map;
  op.va = va;
  op.pa = pa;
  op.size = size;
  op.attributes = attributes;
  op.blocks = blocks;
  return op;
}

Op Op::unmap(VirtAddr va, std::uint64_t size) {
  Op op;
  op.kind = OpKind::unmap;
  op.va = va;
  op.size = size;
  return op;
}

Op Op::protect(VirtAddr va, std::uint64_t size, Descriptor clear, Descriptor set) {
  Op op;
  op.kind = OpKind::protect;
  op.va = va;
  op.size = size;
  op.change = pt::AttributeChange{clear, set};
  return op;
}

Op Op::split(VirtAddr va, std::uint64_t size, unsigned level) {
  Op op;
  op.kind = OpKind::split;
  op.va = va;
  op.size = size;
  op.level = level;
  return op;
}

Op Op::promote(VirtAddr va, unsigned level) {
  Op op;
  op.kind = OpKind::promote;
  op.va = va;
  op.level = level;
  return op;
}

std::string describe(const Op& op) {
  std::ostringstream os;
  switch (op.kind) {
    case OpKind::map: {
      const ModelAttributes m = model_attributes(op.attributes);
      os << "map(va " << hex(op.va) << ", pa " << hex(op.pa) << ", size " << hex(op.size) << ", "
         << arch::regime_name(m.regime) << (std::holds_alternative<RawAttributes>(op.attributes) ? " raw " : " ")
         << (m.encodable ? hex(m.bits) : std::string("<unencodable>"))
         << (op.blocks == pt::BlockMappings::forbidden ? ", pages only)" : ")");
      break;
    }
    case OpKind::unmap: os << "unmap(va " << hex(op.va) << ", size " << hex(op.size) << ")"; break;
    case OpKind::protect:
      os << "protect(va " << hex(op.va) << ", size " << hex(op.size) << ", clear " << hex(op.change.clear)
         << ", set " << hex(op.change.set) << ")";
      break;
    case OpKind::split:
      os << "split(va " << hex(op.va) << ", size " << hex(op.size) << ", level " << op.level << ")";
      break;
    case OpKind::promote: os << "promote(va " << hex(op.va) << ", level " << op.level << ")"; break;
  }
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Op& op) { return os << describe(op); }

std::string join(const std::vector<std::string>& problems, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < problems.size() && i < max; ++i) out += "\n  - " + problems[i];
  if (problems.size() > max) out += "\n  ... " + std::to_string(problems.size() - max) + " more";
  return out;
}

// ---------------------------------------------------------------- harness --

HarnessStats& HarnessStats::operator+=(const HarnessStats& o) {
  ops += o.ops;
  succeeded += o.succeeded;
  for (std::size_t i = 0; i < 8; ++i) errors[i] += o.errors[i];
  promotions += o.promotions;
  with_l1_block += o.with_l1_block;
  with_l2_block += o.with_l2_block;
  block_splits += o.block_splits;
  invalidate_now += o.invalidate_now;
  retired_tables += o.retired_tables;
  return *this;
}

std::string HarnessStats::to_string() const {
  std::ostringstream os;
  os << ops << " ops, " << succeeded << " ok, errors:";
  for (unsigned c = 0; c <= static_cast<unsigned>(Errc::no_memory); ++c) {
    os << " " << errc_name(static_cast<Errc>(c)) << "=" << errors[c];
  }
  os << "; promotions " << promotions << ", ops leaving 1G blocks " << with_l1_block << ", 2M blocks "
     << with_l2_block << ", block splits " << block_splits << ", invalidate_now " << invalidate_now
     << ", retired " << retired_tables;
  return os.str();
}

Harness::Harness(const TreeConfig& config)
    : config_(config),
      memory_(std::make_unique<FakeMemory>()),
      model_(ModelConfig{config.regime, config.walk.input_bits, arch::attribute_mask(config.regime)}) {
  rules_.leaf_attribute_mask = arch::attribute_mask(config.regime);
  table_ = std::make_unique<Result<pt::Table>>(
      pt::Table::create(config.regime, config.geometry, *memory_, pt::TableOptions{config.bbm}));
  if (!*table_) {
    throw std::runtime_error(config.name + ": Table::create failed: " + table_->error().message);
  }
  sink_.set_invalidate_hook([this](const pt::Change& change) {
    check_break_written(*memory_, table().root(), config_.walk, change, hook_problems_);
  });
  snapshot_ = take();
  std::vector<std::string> problems = snapshot_.problems();
  if (memory_->live_pages() != snapshot_.table_pages()) {
    problems.push_back("after create, live pages are not exactly the root pages");
  }
  for (const auto& [key, t] : snapshot_.tables()) {
    for (const Descriptor d : t.entries) {
      if (d != 0) {
        problems.push_back("create: root entry not zero: " + hex(d));
        break;
      }
    }
  }
  if (!problems.empty()) throw std::runtime_error(config.name + ": bad empty tree:" + join(problems));
}

Snapshot Harness::take() const { return take_snapshot(*memory_, table().root(), config_.walk, rules_); }

Status Harness::run_engine(const Op& op) {
  pt::Table& t = table();
  switch (op.kind) {
    case OpKind::map:
      return t.map(op.va, op.pa, op.size, leaf_attributes(op.attributes), sink_, pt::MapOptions{op.blocks});
    case OpKind::unmap: return t.unmap(op.va, op.size, sink_);
    case OpKind::protect: return t.protect(op.va, op.size, op.change, sink_);
    case OpKind::split: return t.split(op.va, op.size, op.level, sink_);
    case OpKind::promote: return t.promote(op.va, op.level, sink_);
  }
  return Error{Errc::invalid_argument, "bad op"};
}

ErrcSet Harness::predict(const Op& op) {
  switch (op.kind) {
    case OpKind::map: return model_.map(op.va, op.pa, op.size, model_attributes(op.attributes));
    case OpKind::unmap: return model_.unmap(op.va, op.size);
    case OpKind::protect: return model_.protect(op.va, op.size, op.change.clear, op.change.set);
    case OpKind::split: return model_.split(op.va, op.size, op.level);
    case OpKind::promote: {
      ErrcSet e = model_.promote_arguments(op.va, op.level);
      if (!e.empty()) return e;
      if (op.level < config_.walk.start_level) {
        // No slot exists at that level in this tree.
        return ErrcSet{Errc::not_mapped, Errc::unsupported};
      }
      const std::uint64_t size = WalkGeometry::level_size(op.level);
      const VirtAddr slot_va = op.va & ~(size - 1);
      switch (model_.uniformity(slot_va, size)) {
        case ReferenceModel::Uniformity::empty: return ErrcSet{Errc::not_mapped};
        case ReferenceModel::Uniformity::non_uniform: return ErrcSet{Errc::invalid_argument};
        case ReferenceModel::Uniformity::uniform: {
          // Uniform translations: the outcome depends on the shape, which the
          // independent walker knows: a table there is promoted; a block (or
          // a larger block above) means there is no table to promote.
          const std::optional<Descriptor> d = snapshot_.slot(op.level, slot_va);
          const bool table = d && (*d & kWalkValid) != 0 && (*d & kWalkTypeBit) != 0;
          return table ? ErrcSet{} : ErrcSet{Errc::not_mapped};
        }
      }
    }
  }
  return {};
}

std::vector<std::string> Harness::apply(const Op& op, bool* failed_no_memory) {
  std::vector<std::string> problems;
  const Snapshot before = snapshot_;
  const std::set<PhysAddr> live_before = memory_->live_pages();
  const std::uint64_t hash_before = memory_->contents_hash();
  const std::size_t frees_before = memory_->freed().size();
  const std::size_t memory_problems_before = memory_->problems().size();
  sink_.clear_events();
  hook_problems_.clear();

  const ReferenceModel model_before = model_;
  if (failed_no_memory != nullptr) *failed_no_memory = false;
  const ErrcSet expected = predict(op);
  const Status status = run_engine(op);
  const Snapshot after = take();
  ++stats_.ops;
  if (status) {
    ++stats_.succeeded;
    if (op.kind == OpKind::promote) ++stats_.promotions;
    bool l1 = false;
    bool l2 = false;
    for (const Leaf& l : after.leaves()) {
      l1 = l1 || l.level == 1;
      l2 = l2 || l.level == 2;
    }
    stats_.with_l1_block += l1 ? 1 : 0;
    stats_.with_l2_block += l2 ? 1 : 0;
    for (const SinkEvent& e : sink_.events()) {
      if (e.type == SinkEvent::Type::invalidate_now) ++stats_.invalidate_now;
      if (e.change.entry == pt::EntryKind::leaf && e.change.kind == arch::ChangeKind::replace &&
          e.change.level < 3) {
        const std::optional<Descriptor> now = after.slot(e.change.level, e.change.va);
        if (now && (*now & kWalkValid) != 0 && (*now & kWalkTypeBit) != 0) ++stats_.block_splits;
      }
    }
    stats_.retired_tables += sink_.retired().size();
  } else {
    ++stats_.errors[static_cast<unsigned>(status.error().code) & 7];
  }

  if (!status) {
    const Error e = status.error();
    if (failed_no_memory != nullptr && e.code == Errc::no_memory && expected.empty()) {
      *failed_no_memory = true;
      model_ = model_before;
    } else if (expected.empty()) {
      problems.push_back(describe(op) + " failed with " + errc_name(e.code) + " (\"" +
                         (e.message ? e.message : "") + "\"); the model expected success");
    } else if (!expected.contains(e.code)) {
      problems.push_back(describe(op) + " failed with " + errc_name(e.code) + "; expected one of " +
                         expected.to_string());
    }
    if (e.message == nullptr || std::strlen(e.message) == 0) problems.push_back("error without a message");
    check_unchanged(after, live_before, hash_before, problems);
  } else {
    if (!expected.empty()) {
      problems.push_back(describe(op) + " succeeded; the model expected " + expected.to_string());
    }
    check_success(op, before, after, live_before, frees_before, problems);
  }
  const std::vector<std::string> mem = memory_->problems();
  for (std::size_t i = memory_problems_before; i < mem.size(); ++i) problems.push_back("memory: " + mem[i]);
  if (!problems.empty()) {
    problems.insert(problems.begin(), "after " + describe(op) + ":");
    problems.push_back("events:" + sink_.describe());
  }
  snapshot_ = take();
  return problems;
}

std::vector<std::string> Harness::apply_expecting_error(const Op& op, Errc code) {
  std::vector<std::string> problems;
  const std::set<PhysAddr> live_before = memory_->live_pages();
  const std::uint64_t hash_before = memory_->contents_hash();
  const std::size_t memory_problems_before = memory_->problems().size();
  sink_.clear_events();
  hook_problems_.clear();
  const Status status = run_engine(op);
  const Snapshot after = take();
  if (status) {
    problems.push_back(describe(op) + " succeeded; expected " + errc_name(code));
  } else {
    if (status.error().code != code) {
      problems.push_back(describe(op) + " failed with " + errc_name(status.error().code) + "; expected " +
                         errc_name(code));
    }
    if (status.error().message == nullptr || std::strlen(status.error().message) == 0) {
      problems.push_back(describe(op) + ": error without a message");
    }
  }
  check_unchanged(after, live_before, hash_before, problems);
  const std::vector<std::string> mem = memory_->problems();
  for (std::size_t i = memory_problems_before; i < mem.size(); ++i) problems.push_back("memory: " + mem[i]);
  snapshot_ = after;
  return problems;
}

void Harness::check_unchanged(const Snapshot& after, const std::set<PhysAddr>& live_before,
                              std::uint64_t hash_before, std::vector<std::string>& problems) const {
  if (!(after == snapshot_)) problems.push_back("a failed operation changed the tree:" + snapshot_.diff(after));
  if (!sink_.events().empty()) problems.push_back("a failed operation emitted records:" + sink_.describe());
  if (!sink_.retired().empty()) problems.push_back("a failed operation retired tables");
  if (memory_->live_pages() != live_before) {
    problems.push_back("a failed operation changed the live table pages (leak or free): " +
                       std::to_string(live_before.size()) + " -> " +
                       std::to_string(memory_->live_pages().size()));
  } else if (memory_->contents_hash() != hash_before) {
    problems.push_back("a failed operation wrote to table memory");
  }
  for (const std::string& p : hook_problems_) problems.push_back(p);
}

void Harness::check_success(const Op& op, const Snapshot& before, const Snapshot& after,
                            const std::set<PhysAddr>& live_before, std::size_t frees_before,
                            std::vector<std::string>& problems) {
  for (const std::string& p : after.problems()) problems.push_back("structure: " + p);
  const std::vector<Run> got = after.runs();
  const std::vector<Run> want = model_.runs();
  if (got != want) {
    problems.push_back("translation differs from the model\n tree " + to_string(got) + "\n model " +
                       to_string(want));
  }
  const ChangeRules change_rules{config_.regime, config_.bbm, false};
  for (const std::string& p : check_changes(before, after, sink_.events(), sink_.retired(), change_rules)) {
    problems.push_back("records: " + p);
  }
  for (const std::string& p : hook_problems_) problems.push_back("break-before-make: " + p);

  // The engine frees nothing itself on success: unhooked tables are retired
  // (freed by the caller after the maintenance), and it reserves exactly
  // the tables it publishes.
  const std::vector<PhysAddr>& freed = memory_->freed();
  for (std::size_t i = frees_before; i < freed.size(); ++i) {
    problems.push_back("the engine freed " + hex(freed[i]) +
                       (live_before.count(freed[i]) != 0 ? " (a live table: must be retired instead)"
                                                         : " (allocated during the operation and never used)"));
  }
  // Every live page is reachable or retired (awaiting release): no leak.
  std::set<PhysAddr> retired_pages;
  for (const RecordingSink::Retired& r : sink_.retired()) {
    for (unsigned p = 0; p < r.pages; ++p) retired_pages.insert(r.table + p * FakeMemory::kPageSize);
  }
  for (const PhysAddr p : memory_->live_pages()) {
    if (after.table_pages().count(p) == 0 && retired_pages.count(p) == 0) {
      problems.push_back("leaked table page " + hex(p) + " (live, unreachable, not retired)");
    }
  }
  sink_.release_retired(*memory_);
  if (memory_->live_pages() != after.table_pages()) {
    problems.push_back("after releasing retired tables, live pages != reachable tables");
  }
  check_shape(op, before, after, problems);
}

namespace {

struct LeafShape {
  unsigned level;
  VirtAddr va;
  friend bool operator==(const LeafShape&, const LeafShape&) = default;
};

std::string shapes(const std::vector<LeafShape>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < 8; ++i) s += " L" + std::to_string(v[i].level) + "@" + hex(v[i].va);
  if (v.size() > 8) s += " ... (" + std::to_string(v.size()) + ")";
  return s;
}

bool overlaps(VirtAddr a, std::uint64_t a_size, VirtAddr b, std::uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

}  // namespace

void Harness::check_shape(const Op& op, const Snapshot& before, const Snapshot& after,
                          std::vector<std::string>& problems) const {
  const unsigned start = config_.walk.start_level;
  // The region whose leaves may change: the op's range, widened to the
  // before-leaves crossing its edges.
  VirtAddr lo = op.va;
  VirtAddr hi = op.va + op.size;
  if (op.kind == OpKind::promote) {
    const std::uint64_t size = WalkGeometry::level_size(op.level);
    lo = op.va & ~(size - 1);
    hi = lo + size;
  }
  const VirtAddr range_lo = lo;
  const VirtAddr range_hi = hi;
  for (const Leaf& l : before.leaves()) {
    if (overlaps(l.va, l.size(), range_lo, range_hi - range_lo)) {
      lo = std::min(lo, l.va);
      hi = std::max(hi, l.va + l.size());
    }
  }
  // Outside the region, leaves are untouched.
  std::map<VirtAddr, Leaf> outside_before;
  std::map<VirtAddr, Leaf> outside_after;
  for (const Leaf& l : before.leaves()) {
    if (!overlaps(l.va, l.size(), lo, hi - lo)) outside_before.emplace(l.va, l);
  }
  for (const Leaf& l : after.leaves()) {
    if (!overlaps(l.va, l.size(), lo, hi - lo)) outside_after.emplace(l.va, l);
  }
  for (const auto& [va, l] : outside_before) {
    auto it = outside_after.find(va);
    if (it == outside_after.end() || it->second.level != l.level || it->second.descriptor != l.descriptor) {
      problems.push_back("shape: leaf L" + std::to_string(l.level) + "@" + hex(va) +
                         " outside the operation's range changed");
    }
  }
  if (outside_after.size() != outside_before.size()) {
    problems.push_back("shape: leaves appeared outside the operation's range");
  }

  std::vector<LeafShape> got;
  for (const Leaf& l : after.leaves()) {
    if (overlaps(l.va, l.size(), lo, hi - lo)) got.push_back(LeafShape{l.level, l.va});
  }
  auto inside = [&](VirtAddr a, std::uint64_t s) { return a >= range_lo && a + s <= range_hi; };
  auto disjoint = [&](VirtAddr a, std::uint64_t s) { return !overlaps(a, s, range_lo, range_hi - range_lo); };

  std::vector<LeafShape> want;
  switch (op.kind) {
    case OpKind::map: {
      // Largest blocks alignment allows.
      VirtAddr a = op.va;
      while (a < op.va + op.size) {
        const PhysAddr pa = op.pa + (a - op.va);
        unsigned level = 3;
        if (op.blocks == pt::BlockMappings::allowed) {
          for (unsigned l = std::max(1u, start); l <= 2; ++l) {
            const std::uint64_t s = WalkGeometry::level_size(l);
            if (a % s == 0 && pa % s == 0 && a + s <= op.va + op.size) {
              level = l;
              break;
            }
          }
        }
        want.push_back(LeafShape{level, a});
        a += WalkGeometry::level_size(level);
      }
      break;
    }
    case OpKind::unmap:
    case OpKind::protect:
    case OpKind::split: {
      // Each before-leaf in the region is split only as far as needed.
      for (const Leaf& b : before.leaves()) {
        if (!overlaps(b.va, b.size(), range_lo, range_hi - range_lo)) continue;
        std::vector<LeafShape> pieces;
        for (VirtAddr a = b.va; a < b.va + b.size();) {
          unsigned level = b.level;
          for (; level < 3; ++level) {
            const std::uint64_t s = WalkGeometry::level_size(level);
            if (a % s != 0) continue;
            const bool ok = op.kind == OpKind::split ? (disjoint(a, s) || level >= op.level)
                                                     : (disjoint(a, s) || inside(a, s));
            if (ok) break;
          }
          const std::uint64_t s = WalkGeometry::level_size(level);
          if (!(op.kind == OpKind::unmap && inside(a, s))) pieces.push_back(LeafShape{level, a});
          a += s;
        }
        if (op.kind == OpKind::protect && pieces.size() > 1) {
          // A crossing leaf the change leaves as it is may stay whole.
          const Descriptor attrs = b.descriptor & kWalkLeafAttrMask;
          if (((attrs & ~op.change.clear) | op.change.set) == attrs) {
            const LeafShape whole{b.level, b.va};
            const bool kept = std::find(got.begin(), got.end(), whole) != got.end();
            if (kept) pieces = {whole};
          }
        }
        want.insert(want.end(), pieces.begin(), pieces.end());
      }
      break;
    }
    case OpKind::promote: want.push_back(LeafShape{op.level, range_lo}); break;
  }
  if (got != want) {
    problems.push_back("shape: leaves in [" + hex(lo) + ", " + hex(hi) + ") are" + shapes(got) +
                       "; expected" + shapes(want));
  }
}

std::vector<std::string> Harness::check_queries(const std::vector<VirtAddr>& addresses) const {
  std::vector<std::string> problems;
  for (const VirtAddr va : addresses) {
    const Result<pt::Translation> t = table().query(va);
    if (va >= config_.walk.input_size()) {
      if (t || t.error().code != Errc::out_of_range) problems.push_back("query(" + hex(va) + ") should be out_of_range");
      continue;
    }
    const std::optional<Leaf> leaf = snapshot_.leaf_at(va);
    if (!leaf) {
      if (t || t.error().code != Errc::not_mapped) problems.push_back("query(" + hex(va) + ") should be not_mapped");
      continue;
    }
    if (!t) {
      problems.push_back("query(" + hex(va) + ") failed: " + errc_name(t.error().code));
      continue;
    }
    const pt::Translation& x = t.value();
    if (x.output != leaf->output() + (va - leaf->va) || x.level != leaf->level ||
        x.descriptor != leaf->descriptor || x.leaf_va != leaf->va || x.leaf_size != leaf->size()) {
      problems.push_back("query(" + hex(va) + ") = {output " + hex(x.output) + ", L" + std::to_string(x.level) +
                         ", desc " + hex(x.descriptor) + ", leaf " + hex(x.leaf_va) + "+" + hex(x.leaf_size) +
                         "}; walker: {output " + hex(leaf->output() + (va - leaf->va)) + ", L" +
                         std::to_string(leaf->level) + ", desc " + hex(leaf->descriptor) + ", leaf " +
                         hex(leaf->va) + "+" + hex(leaf->size()) + "}");
    }
  }
  return problems;
}

namespace {

struct WalkCall {
  bool table;
  unsigned level;
  VirtAddr va;
  Descriptor descriptor;
  friend bool operator==(const WalkCall&, const WalkCall&) = default;
};

std::string calls_text(const std::vector<WalkCall>& v, std::size_t from) {
  std::string s;
  for (std::size_t i = from; i < v.size() && i < from + 4; ++i) {
    s += std::string(" ") + (v[i].table ? "table" : "leaf") + " L" + std::to_string(v[i].level) + "@" +
         hex(v[i].va) + "=" + hex(v[i].descriptor);
  }
  return s;
}

class CollectingVisitor final : public pt::WalkVisitor {
 public:
  void table(unsigned level, VirtAddr va, Descriptor d) override { calls.push_back({true, level, va, d}); }
  void leaf(unsigned level, VirtAddr va, Descriptor d) override { calls.push_back({false, level, va, d}); }
  std::vector<WalkCall> calls;
};

void expected_walk(const Snapshot& s, unsigned level, VirtAddr table_va, VirtAddr lo, VirtAddr hi,
                   std::vector<WalkCall>& out) {
  auto it = s.tables().find(SlotKey{level, table_va});
  if (it == s.tables().end()) return;
  const TableImage& t = it->second;
  const std::uint64_t ls = WalkGeometry::level_size(level);
  for (std::size_t i = 0; i < t.entries.size(); ++i) {
    const VirtAddr va = t.va + i * ls;
    if (va + ls <= lo || va >= hi) continue;
    const Descriptor d = t.entries[i];
    if ((d & kWalkValid) == 0) continue;
    if (level < 3 && (d & kWalkTypeBit) != 0) {
      out.push_back({true, level, va, d});
      expected_walk(s, level + 1, va, lo, hi, out);
    } else {
      out.push_back({false, level, va, d});
    }
  }
}

}  // namespace

std::vector<std::string> Harness::check_walk(VirtAddr va, std::uint64_t size) const {
  std::vector<std::string> problems;
  CollectingVisitor visitor;
  const Status status = table().walk(va, size, visitor);
  if (!status) {
    problems.push_back("walk(" + hex(va) + ", " + hex(size) + ") failed: " + errc_name(status.error().code));
    return problems;
  }
  std::vector<WalkCall> want;
  expected_walk(snapshot_, config_.walk.start_level, 0, va, va + size, want);
  if (visitor.calls != want) {
    std::size_t i = 0;
    while (i < want.size() && i < visitor.calls.size() && want[i] == visitor.calls[i]) ++i;
    problems.push_back("walk(" + hex(va) + ", " + hex(size) + "): " + std::to_string(visitor.calls.size()) +
                       " calls, expected " + std::to_string(want.size()) + "; first difference at #" +
                       std::to_string(i) + ": got" + calls_text(visitor.calls, i) + " | expected" +
                       calls_text(want, i));
  }
  return problems;
}

std::vector<std::string> Harness::release_all() {
  std::vector<std::string> problems;
  const Snapshot before = take();
  const std::size_t frees_before = memory_->frees();
  const std::size_t memory_problems_before = memory_->problems().size();
  sink_.clear_events();
  hook_problems_.clear();
  table().release(sink_);
  for (const SinkEvent& e : sink_.events()) {
    if (e.type != SinkEvent::Type::record || e.change.kind != arch::ChangeKind::unmap) {
      std::ostringstream os;
      os << "release: unexpected event " << e;
      problems.push_back(os.str());
    }
  }
  const ChangeRules change_rules{config_.regime, config_.bbm, true};
  for (const std::string& p :
       check_changes(before, Snapshot::empty(config_.walk), sink_.events(), sink_.retired(), change_rules)) {
    problems.push_back("release records: " + p);
  }
  bool root_retired = false;
  for (const RecordingSink::Retired& r : sink_.retired()) {
    if (r.table == before.root()) {
      root_retired = true;
      if (r.pages != config_.walk.root_pages()) {
        problems.push_back("release: root retired with " + std::to_string(r.pages) + " pages, expected " +
                           std::to_string(config_.walk.root_pages()));
      }
    }
  }
  if (!root_retired) problems.push_back("release: root not retired");
  if (memory_->frees() != frees_before) problems.push_back("release: the engine freed pages itself");
  sink_.release_retired(*memory_);
  if (memory_->live_page_count() != 0) {
    problems.push_back("release: " + std::to_string(memory_->live_page_count()) + " pages left live");
  }
  const std::vector<std::string> mem = memory_->problems();
  for (std::size_t i = memory_problems_before; i < mem.size(); ++i) problems.push_back("memory: " + mem[i]);
  return problems;
}

}  // namespace tlbkit::test
