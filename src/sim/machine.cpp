#include "tlbkit/sim/machine.hpp"

#include <algorithm>
#include <array>
#include <tuple>

#include <fmt/format.h>

namespace tlbkit::sim {

using arch::Instr;
using arch::Regime;

const char* violation_kind_name(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::stale_translation: return "stale-translation";
    case ViolationKind::break_before_make: return "break-before-make";
    case ViolationKind::use_after_free: return "use-after-free";
  }
  return "?";
}

namespace {

// The leaf lookup key of a context's accesses, input 0 (defined below).
LookupKey leaf_key_of(const PeContext& ctx);

constexpr std::uint64_t kPage = PhysicalMemory::kPageSize;

// The cached translation a refill replaces: same tags, same range.
using RefillKey = std::tuple<Regime, EntryStage, std::uint16_t, std::uint16_t, bool, VirtAddr, std::uint64_t>;
RefillKey refill_key(const TlbEntry& e) {
  return {e.regime, e.stage, e.vmid, e.global ? std::uint16_t{0} : e.asid, e.global, e.input, e.size};
}

// `all`, each translation once (the L1s hold copies of L2
// entries).
std::vector<TlbEntry> distinct(std::vector<TlbEntry> all) {
  std::vector<TlbEntry> out;
  for (const TlbEntry& e : all) {
    const bool seen = std::any_of(out.begin(), out.end(), [&](const TlbEntry& o) {
      return o.kind == e.kind && o.stage == e.stage && o.input == e.input && o.size == e.size &&
             o.output == e.output && o.asid == e.asid && o.vmid == e.vmid;
    });
    if (!seen) out.push_back(e);
  }
  return out;
}

std::string describe(const TlbEntry& e) {
  const char* what = e.stage == EntryStage::stage2 ? "stage-2 "
                     : e.stage == EntryStage::combined ? "combined "
                                                       : "";
  return fmt::format("{}{:#x}+{:#x} -> {:#x} (level {}, perms {:#x})", what, e.input, e.size, e.output, e.level,
                     e.permissions);
}

// A combined leaf: it also holds the stage-2 leaf of its output.
bool holds_stage2_leaf(const TlbEntry& e) {
  return e.stage == EntryStage::combined && e.kind == CachedKind::leaf;
}

// One descriptor an entry was filled from.
struct HeldDescriptor {
  Regime regime;
  unsigned level;
  Descriptor value;
  PhysAddr at;
};

// The descriptors `e` was filled from: its own, and a combined leaf's
// stage-2 leaf.
std::vector<HeldDescriptor> held_descriptors(const TlbEntry& e) {
  std::vector<HeldDescriptor> out{{e.regime, e.level, e.descriptor, e.descriptor_pa}};
  if (holds_stage2_leaf(e)) out.push_back({Regime::stage2, e.s2_level, e.s2_descriptor, e.s2_descriptor_pa});
  return out;
}

// The physical table page a walk entry points at (combined walk entries
// hold an IPA: the page it translated to when filled).
PhysAddr walk_table_pa(const TlbEntry& e) {
  return e.stage == EntryStage::combined ? e.table_pa : e.output;
}

// The permission an access needs.
std::uint8_t needed_permission(AccessKind kind, Privilege privilege) {
  using arch::Permission;
  const bool el0 = privilege == Privilege::el0;
  Permission p = Permission::el1_read;
  switch (kind) {
    case AccessKind::read: p = el0 ? Permission::el0_read : Permission::el1_read; break;
    case AccessKind::write: p = el0 ? Permission::el0_write : Permission::el1_write; break;
    case AccessKind::fetch: p = el0 ? Permission::el0_execute : Permission::el1_execute; break;
  }
  return static_cast<std::uint8_t>(p);
}

bool is_dsb(Instr i) { return i == Instr::dsb_ish || i == Instr::dsb_nsh || i == Instr::dsb_sy; }

}  // namespace

struct Machine::Translation {
  TlbEntry entry;
};

struct PendingTlbi {
  arch::DecodedOp op;
  bool broadcast = false;
  std::uint64_t issued_at = 0;
};

class Machine::PeExecutor final : public Executor {
 public:
  PeExecutor(Machine& machine, unsigned pe) : machine_(machine), pe_(pe) {}
  void execute(const Plan& plan) override { (void)machine_.execute(pe_, plan); }

 private:
  Machine& machine_;
  unsigned pe_;
};

struct Machine::Pe {
  explicit Pe(const Profile& p) : l1i(p.l1i), l1d(p.l1d), l2(p.l2) {}
  std::optional<PeContext> context;
  // The context's leaf lookup key, input 0: built once per set_context, so
  // the access path only sets the input (a key assembled field by field
  // just before Tlb::lookup reads it whole stalls store forwarding).
  LookupKey leaf_key;
  Tlb l1i;
  Tlb l1d;
  Tlb l2;
  std::vector<PendingTlbi> pending;
  // Leaf entries an invalidation removed, and whether they were stale.
  std::map<RefillKey, bool> removed;
  std::unique_ptr<PeExecutor> executor;
};

// Reads descriptors for one PE's walks: the live tables for the PE of the
// open operation (and for the truth), the published ones for the others.
class Machine::Reader final : public TableReader {
 public:
  Reader(Machine& machine, std::optional<unsigned> pe) : machine_(machine), pe_(pe) {}
  std::optional<Descriptor> read(PhysAddr table, unsigned index) override {
    const PhysAddr at = table + std::uint64_t{index} * sizeof(Descriptor);
    const PhysAddr page = at & ~(kPage - 1);
    const Descriptor* words = machine_.memory_.peek(page);
    if (words == nullptr) return std::nullopt;
    ++reads;
    const std::size_t slot = static_cast<std::size_t>((at - page) / sizeof(Descriptor));
    if (pe_ && machine_.writer_ && *pe_ != *machine_.writer_) {
      const auto it = machine_.published_.find(page);
      if (it != machine_.published_.end()) {
        if (it->second[slot] != words[slot]) read_unpublished = true;
        return it->second[slot];
      }
    }
    return words[slot];
  }
  std::uint64_t reads = 0;
  bool read_unpublished = false;  // some read saw an old value

 private:
  Machine& machine_;
  std::optional<unsigned> pe_;  // nullopt: the truth
};

Machine::Machine(PhysicalMemory& memory, const Profile& profile, MachineOptions options)
    : memory_(memory), profile_(profile), options_(options) {
  const unsigned count = options.pes == 0 ? profile.pes : options.pes;
  for (unsigned i = 0; i < count; ++i) {
    pes_.push_back(std::make_unique<Pe>(profile_));
    pes_.back()->executor = std::make_unique<PeExecutor>(*this, i);
  }
  memory_.set_observer(this);
  (void)memory_.take_touched();
}

Machine::~Machine() { memory_.set_observer(nullptr); }

Status Machine::set_context(unsigned pe, const PeContext& context) {
  if (pe >= pes()) return Error{Errc::out_of_range, "no such PE"};
  if (!context.stage1 && !context.stage2) return Error{Errc::invalid_argument, "a context needs stage 1 or stage 2"};
  if (context.regime == Regime::stage2) {
    return Error{Errc::invalid_argument, "the context regime is el1_stage1 or el2_stage1 (stage 2 is a stage)"};
  }
  if (context.stage1 && context.stage1->stage() != arch::Stage::stage1) {
    return Error{Errc::invalid_argument, "the stage-1 geometry is not a stage-1 geometry"};
  }
  if (context.stage2 && context.stage2->stage() != arch::Stage::stage2) {
    return Error{Errc::invalid_argument, "the stage-2 geometry is not a stage-2 geometry"};
  }
  if (context.stage2 && context.regime == Regime::el2_stage1) {
    return Error{Errc::invalid_argument, "the EL2 regime has no stage 2"};
  }
  if (context.stage1 && context.stage2) {
    if (context.stage1_root >= context.stage2->input_size()) {
      return Error{Errc::invalid_argument, "the stage-1 root IPA lies beyond the stage-2 input range"};
    }
    if (memory_.peek(context.stage2_root & ~(kPage - 1)) == nullptr) {
      return Error{Errc::unsupported,
                   "the stage-2 root is not a table page of the simulated memory (a walk there would be an "
                   "external abort, which is not modelled)"};
    }
  }
  pes_[pe]->context = context;
  pes_[pe]->leaf_key = leaf_key_of(context);
  truth_.clear();
  return ok_status();
}

Executor& Machine::executor(unsigned pe) { return *pes_[pe]->executor; }

std::vector<TlbEntry> Machine::entries(unsigned pe) const {
  std::vector<TlbEntry> out;
  const Pe& p = *pes_[pe];
  for (const Tlb* t : {&p.l1i, &p.l1d, &p.l2}) t->for_each([&](const TlbEntry& e) { out.push_back(e); });
  return out;
}

// ---- observing table writes -------------------------------------------------

void Machine::after_allocate(PhysAddr base, unsigned pages) {
  for (unsigned i = 0; i < pages; ++i) published_[base + i * kPage].assign(PhysicalMemory::kEntries, 0);
}

void Machine::before_free(PhysAddr base, unsigned pages) {
  sync();
  check_release(base, std::uint64_t{pages} * kPage, Released::table_page);
  for (unsigned i = 0; i < pages; ++i) {
    const PhysAddr page = base + i * kPage;
    published_.erase(page);
    watched_.erase(page);
    unpublished_.erase(page);
  }
}

void Machine::sync() {
  // The common case on the access path: no table page written or watched.
  if (watched_.empty() && !memory_.any_touched()) return;
  for (const PhysAddr page : memory_.take_touched()) watched_.insert(page);
  std::vector<DescriptorWrite> writes;  // in address order: watched_ is ordered
  for (const PhysAddr page : watched_) {
    const Descriptor* live = memory_.peek(page);
    auto it = published_.find(page);
    if (live == nullptr || it == published_.end()) continue;
    std::vector<Descriptor>& seen = it->second;
    bool differs = false;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      if (live[i] == seen[i]) continue;
      differs = true;
      writes.push_back(DescriptorWrite{page + i * sizeof(Descriptor), seen[i], live[i]});
    }
    if (!differs) continue;
    if (writer_) {
      unpublished_.insert(page);
    } else {
      seen.assign(live, live + seen.size());
    }
  }
  // Outside an operation every write is published at once: nothing to watch.
  if (!writer_) watched_.clear();
  if (!writes.empty()) check_descriptor_changes(writes);
}

void Machine::publish() {
  for (const PhysAddr page : unpublished_) {
    const Descriptor* live = memory_.peek(page);
    if (live != nullptr) published_[page].assign(live, live + PhysicalMemory::kEntries);
  }
  unpublished_.clear();
}

void Machine::begin_operation(unsigned pe, std::string label) {
  sync();
  writer_ = pe;
  operation_ = std::move(label);
  operation_open_ = true;
}

void Machine::end_operation() {
  sync();
  publish();  // stores become visible eventually; the operation is over
  writer_.reset();
  operation_open_ = false;
  operation_.assign(1, '-');
  watched_.clear();
}

void Machine::check_descriptor_changes(const std::vector<DescriptorWrite>& writes) {
  const auto write_at = [&](PhysAddr at) -> const DescriptorWrite* {
    const auto it = std::lower_bound(writes.begin(), writes.end(), at,
                                     [](const DescriptorWrite& w, PhysAddr a) { return w.at < a; });
    return it != writes.end() && it->at == at ? &*it : nullptr;
  };
  // A write of an invalid descriptor is the break: nothing is wrong yet.
  const auto valid_write_at = [&](PhysAddr at) -> const DescriptorWrite* {
    const DescriptorWrite* w = write_at(at);
    return w != nullptr && (w->new_value & arch::kValidBit) != 0 ? w : nullptr;
  };
  for (unsigned pe = 0; pe < pes(); ++pe) {
    std::vector<TlbEntry> rewritten;
    const Pe& p = *pes_[pe];
    for (const Tlb* t : {&p.l1i, &p.l1d, &p.l2}) {
      t->for_each([&](const TlbEntry& e) {
        if (valid_write_at(e.descriptor_pa) != nullptr ||
            (holds_stage2_leaf(e) && valid_write_at(e.s2_descriptor_pa) != nullptr)) {
          rewritten.push_back(e);
        }
      });
    }
    for (const TlbEntry& e : distinct(std::move(rewritten))) {
      for (const HeldDescriptor& held : held_descriptors(e)) {
        const DescriptorWrite* w = valid_write_at(held.at);
        if (w == nullptr || arch::update_rule(held.regime, held.level, held.value, w->new_value) !=
                                arch::UpdateRule::break_before_make) {
          continue;
        }
        const bool size_only = arch::is_table(held.value, held.level) != arch::is_table(w->new_value, held.level);
        if (size_only && options_.bbm == arch::BbmLevel::level2) continue;
        report(ViolationKind::break_before_make, pe, e.input, e, std::nullopt,
               fmt::format("{} descriptor at {:#x} rewritten {:#x} -> {:#x} without break-before-make while PE {} "
                           "holds {}",
                           held.regime == Regime::stage2 ? "stage-2" : "stage-1", w->at, w->old_value, w->new_value,
                           pe, describe(e)));
        break;  // one report per entry
      }
    }
  }
}

void Machine::check_release(PhysAddr base, std::uint64_t size, Released released) {
  const char* what = released == Released::table_page ? "table page" : "data page";
  for (unsigned pe = 0; pe < pes(); ++pe) {
    std::vector<TlbEntry> into_it;
    const Pe& p = *pes_[pe];
    for (const Tlb* t : {&p.l1i, &p.l1d, &p.l2}) {
      t->for_each([&](const TlbEntry& e) {
        bool hit = false;
        if (e.kind == CachedKind::walk) {
          hit = walk_table_pa(e) - base < size;
        } else if (released == Released::data_page || e.stage == EntryStage::stage1) {
          // A guest's table page is guest memory: stage 2 (and the guest's
          // own combined mappings) may map it before and after the guest
          // frees it as a table. Only walk entries make that free unsafe.
          hit = e.output < base + size && base < e.output + e.size;
        }
        if (hit) into_it.push_back(e);
      });
    }
    for (const TlbEntry& e : distinct(std::move(into_it))) {
      report(ViolationKind::use_after_free, pe, e.input, e, std::nullopt,
             fmt::format("{} {:#x}+{:#x} released while PE {} still holds {} ({})", what, base, size, pe,
                         describe(e), e.kind == CachedKind::walk ? "walk-cache entry" : "translation"));
    }
  }
}

void Machine::release(PhysAddr pa, std::uint64_t size) {
  sync();
  check_release(pa, size, Released::data_page);
}

void Machine::report(ViolationKind kind, unsigned pe, VirtAddr va, std::optional<TlbEntry> stale,
                     std::optional<TlbEntry> current, std::string message) {
  violations_.push_back(Violation{kind, pe, va, stale, current, operation_, event_, std::move(message)});
}

// ---- translation ------------------------------------------------------------

namespace {

struct WalkTarget {
  Regime regime;
  EntryStage stage;
  const arch::Geometry* geometry;
  PhysAddr root;
};

// What a PE's accesses look up and walk first: stage 1 (combined entries
// when stage 2 is on too), or stage 2 alone.
WalkTarget target_of(const PeContext& ctx) {
  if (ctx.stage1) {
    return {ctx.regime, ctx.stage2 ? EntryStage::combined : EntryStage::stage1, &*ctx.stage1, ctx.stage1_root};
  }
  return {Regime::stage2, EntryStage::stage2, &*ctx.stage2, ctx.stage2_root};
}

WalkTarget stage2_target(const PeContext& ctx) {
  return {Regime::stage2, EntryStage::stage2, &*ctx.stage2, ctx.stage2_root};
}

LookupKey key_of(const PeContext& ctx, const WalkTarget& t, CachedKind kind, VirtAddr input, unsigned level) {
  LookupKey k;
  k.regime = t.regime;
  k.stage = t.stage;
  k.kind = kind;
  k.vmid = t.regime == Regime::el2_stage1 ? 0 : ctx.vmid;
  k.asid = t.regime == Regime::el1_stage1 ? ctx.asid : 0;
  k.input = input;
  k.level = static_cast<std::uint8_t>(level);
  return k;
}

LookupKey leaf_key_of(const PeContext& ctx) { return key_of(ctx, target_of(ctx), CachedKind::leaf, 0, 0); }

// The leaf entry of one-stage walk `w` (stage 1 alone, or stage 2).
TlbEntry entry_of(const PeContext& ctx, const WalkTarget& t, const Walk& w) {
  TlbEntry e;
  e.regime = t.regime;
  e.stage = t.stage;
  e.kind = CachedKind::leaf;
  e.level = static_cast<std::uint8_t>(w.level);
  e.vmid = t.regime == Regime::el2_stage1 ? 0 : ctx.vmid;
  e.global = t.regime != Regime::el1_stage1 || w.global;
  e.asid = e.global ? 0 : ctx.asid;
  e.input = w.input;
  e.size = w.size;
  e.output = w.output;
  e.descriptor = w.leaf;
  const WalkStep& last = w.steps[w.step_count - 1];
  e.descriptor_pa = last.table + std::uint64_t{last.index} * sizeof(Descriptor);
  e.permissions = w.permissions;
  return e;
}

// The walk-cache entry of the table descriptor `s` a walk of `t` read for
// `input` (its next table at `output`, the descriptor at `descriptor_pa`).
TlbEntry walk_entry_of(const PeContext& ctx, const WalkTarget& t, VirtAddr input, const WalkStep& s,
                       PhysAddr descriptor_pa) {
  TlbEntry e;
  e.regime = t.regime;
  e.stage = t.stage;
  e.kind = CachedKind::walk;
  e.level = static_cast<std::uint8_t>(s.level);
  e.vmid = t.regime == Regime::el2_stage1 ? 0 : ctx.vmid;
  e.global = false;
  e.asid = t.regime == Regime::el1_stage1 ? ctx.asid : 0;
  e.size = t.geometry->level_size(s.level);
  e.input = input & ~(e.size - 1);
  e.output = arch::output_address(s.descriptor);
  e.descriptor = s.descriptor;
  e.descriptor_pa = descriptor_pa;
  e.table_pa = e.output;
  return e;
}

// The combined leaf for `va`: stage-1 walk `s1` (its leaf descriptor at
// PA `s1_leaf_pa`) whose output IPA for `va` stage-2 leaf `s2` translates.
// Size: the smaller leaf's; permissions: what both stages grant.
TlbEntry combine(const PeContext& ctx, VirtAddr va, const Walk& s1, PhysAddr s1_leaf_pa, const TlbEntry& s2) {
  TlbEntry e;
  e.regime = Regime::el1_stage1;
  e.stage = EntryStage::combined;
  e.kind = CachedKind::leaf;
  e.level = static_cast<std::uint8_t>(s1.level);
  e.vmid = ctx.vmid;
  e.global = s1.global;
  e.asid = e.global ? 0 : ctx.asid;
  e.size = std::min(s1.size, s2.size);
  e.input = va & ~(e.size - 1);
  const VirtAddr ipa = s1.output + (e.input - s1.input);
  e.output = s2.output + (ipa - s2.input);
  e.descriptor = s1.leaf;
  e.descriptor_pa = s1_leaf_pa;
  e.permissions = static_cast<std::uint8_t>(s1.permissions & s2.permissions);
  e.s2_level = s2.level;
  e.s2_descriptor = s2.descriptor;
  e.s2_descriptor_pa = s2.descriptor_pa;
  return e;
}

}  // namespace

// Per nested walk: the reads of stage-2 walks already counted as refills
// of their own (not counted again for the combined entry).
struct Machine::WalkTally {
  std::uint64_t refilled_reads = 0;
};

// Reads stage-1 tables under stage 2: each descriptor's IPA goes through
// stage 2 first (the PE's stage-2 entries and walks, or for the truth the
// tables alone), then `base` reads it at its PA. Records the PA of every
// descriptor read, in order: pas[i] is where walk step i was read.
class Machine::NestedReader final : public TableReader {
 public:
  NestedReader(Machine& machine, const PeContext& ctx, Reader& base, std::optional<unsigned> pe, WalkTally* tally)
      : machine_(machine), ctx_(ctx), base_(base), pe_(pe), tally_(tally) {}

  std::optional<Descriptor> read(PhysAddr table, unsigned index) override {
    if (count == pas.size()) return std::nullopt;  // never: a walk reads at most 4
    const VirtAddr ipa = table + std::uint64_t{index} * sizeof(Descriptor);
    const std::optional<TlbEntry> s2 = pe_ ? machine_.stage2_for_walk(*pe_, ctx_, ipa, base_, *tally_)
                                           : machine_.stage2_truth(ctx_, ipa, base_);
    if (!s2) return std::nullopt;
    const PhysAddr pa = s2->output + (ipa - s2->input);
    const std::optional<Descriptor> d = base_.read(pa, 0);
    if (d) pas[count++] = pa;
    return d;
  }

  std::array<PhysAddr, 4> pas{};
  unsigned count = 0;

 private:
  Machine& machine_;
  const PeContext& ctx_;
  Reader& base_;
  std::optional<unsigned> pe_;  // nullopt: the truth
  WalkTally* tally_;
};

std::optional<TlbEntry> Machine::stage2_truth(const PeContext& ctx, VirtAddr ipa, Reader& reader) {
  const WalkTarget t = stage2_target(ctx);
  if (ipa >= t.geometry->input_size()) return std::nullopt;
  const Walk w = walk(t.regime, *t.geometry, ipa, WalkStart{t.geometry->start_level(), t.root}, reader);
  if (w.outcome != WalkOutcome::translated) return std::nullopt;
  return entry_of(ctx, t, w);
}

std::optional<Machine::Translation> Machine::translate_truth(const PeContext& ctx, VirtAddr va) {
  const WalkTarget t = target_of(ctx);
  Reader reader(*this, std::nullopt);
  if (t.stage == EntryStage::combined) {
    NestedReader nested(*this, ctx, reader, std::nullopt, nullptr);
    const Walk s1 = walk(t.regime, *t.geometry, va, WalkStart{t.geometry->start_level(), t.root}, nested);
    if (s1.outcome != WalkOutcome::translated) return std::nullopt;
    const std::optional<TlbEntry> s2 = stage2_truth(ctx, s1.output + (va - s1.input), reader);
    if (!s2) return std::nullopt;
    return Translation{combine(ctx, va, s1, nested.pas[s1.step_count - 1], *s2)};
  }
  const Walk w = walk(t.regime, *t.geometry, va, WalkStart{t.geometry->start_level(), t.root}, reader);
  if (w.outcome != WalkOutcome::translated) return std::nullopt;
  return Translation{entry_of(ctx, t, w)};
}

namespace {

// Where a walk of `t` for `input` starts: below the deepest walk-cache
// entry `l2` holds for it, else at the root. Counts a walk-cache hit.
WalkStart walk_start(Tlb& l2, const PeContext& ctx, const WalkTarget& t, VirtAddr input, SimCounters& counters) {
  for (int level = 2; level >= static_cast<int>(t.geometry->start_level()); --level) {
    const auto l = static_cast<unsigned>(level);
    if (const TlbEntry* w = l2.lookup(key_of(ctx, t, CachedKind::walk, input, l))) {
      ++counters.walk_cache_hits;
      return WalkStart{l + 1, w->output};
    }
  }
  return WalkStart{t.geometry->start_level(), t.root};
}

// Caches in `l2` what one-stage walk `w` of `t` for `input` went through:
// its table descriptors as walk entries (only valid ones) and, when it
// translated, its leaf, which it returns. Every entry is stamped with
// `event` and whether the walk read a not yet visible value.
std::optional<TlbEntry> cache_walk(Tlb& l2, std::uint64_t event, const PeContext& ctx, const WalkTarget& t,
                                   VirtAddr input, const Walk& w, bool unpublished) {
  const auto stamped = [&](TlbEntry e) {
    e.filled_at = event;
    e.from_unpublished = unpublished;
    return e;
  };
  for (unsigned i = 0; i < w.step_count; ++i) {
    const WalkStep& s = w.steps[i];
    if (!arch::is_table(s.descriptor, s.level)) continue;
    l2.insert(stamped(walk_entry_of(ctx, t, input, s, s.table + std::uint64_t{s.index} * sizeof(Descriptor))));
  }
  if (w.outcome != WalkOutcome::translated) return std::nullopt;
  const TlbEntry leaf = stamped(entry_of(ctx, t, w));
  l2.insert(leaf);
  return leaf;
}

}  // namespace

std::optional<TlbEntry> Machine::stage2_for_walk(unsigned pe_index, const PeContext& ctx, VirtAddr ipa,
                                                 Reader& reader, WalkTally& tally) {
  Pe& pe = *pes_[pe_index];
  const WalkTarget t = stage2_target(ctx);
  if (ipa >= t.geometry->input_size()) return std::nullopt;  // a stage-2 fault: nothing to cache
  if (const TlbEntry* hit = pe.l2.lookup(key_of(ctx, t, CachedKind::leaf, ipa, 0))) {
    // A stage-2 entry filled from a not yet visible old value passes that
    // on to what the walk fills with it.
    if (hit->from_unpublished) reader.read_unpublished = true;
    return *hit;
  }
  ++counters_.walks;
  const WalkStart start = walk_start(pe.l2, ctx, t, ipa, counters_);
  const std::uint64_t reads_before = reader.reads;
  const bool unpublished_before = reader.read_unpublished;
  reader.read_unpublished = false;
  const Walk w = walk(t.regime, *t.geometry, ipa, start, reader);
  const bool unpublished = reader.read_unpublished;
  reader.read_unpublished = unpublished_before || unpublished;
  const std::uint64_t reads = reader.reads - reads_before;
  const std::optional<TlbEntry> entry = cache_walk(pe.l2, event_, ctx, t, ipa, w, unpublished);
  if (entry && note_fill(pe_index, *entry, reads * profile_.descriptor_read)) tally.refilled_reads += reads;
  return entry;
}

std::optional<Machine::Translation> Machine::walk_two_stages(unsigned pe_index, const PeContext& ctx, VirtAddr va,
                                                             Tlb& l1) {
  Pe& pe = *pes_[pe_index];
  const WalkTarget t = target_of(ctx);
  ++counters_.walks;
  // The deepest stage-1 walk entry holds the next table's IPA.
  const WalkStart start = walk_start(pe.l2, ctx, t, va, counters_);
  Reader reader(*this, pe_index);
  WalkTally tally;
  NestedReader nested(*this, ctx, reader, pe_index, &tally);
  const Walk s1 = walk(t.regime, *t.geometry, va, start, nested);
  // Stage-1 table descriptors whose next table could be read (nested.pas
  // has its PA); one whose table stage 2 does not map ended the walk.
  for (unsigned i = 0; i + 1 < nested.count; ++i) {
    const WalkStep& s = s1.steps[i];
    if (!arch::is_table(s.descriptor, s.level)) continue;
    TlbEntry e = walk_entry_of(ctx, t, va, s, nested.pas[i]);
    e.table_pa = nested.pas[i + 1] & ~(kPage - 1);
    e.filled_at = event_;
    e.from_unpublished = reader.read_unpublished;
    pe.l2.insert(e);
  }
  std::optional<TlbEntry> s2;
  if (s1.outcome == WalkOutcome::translated) {
    s2 = stage2_for_walk(pe_index, ctx, s1.output + (va - s1.input), reader, tally);
  }
  counters_.descriptor_reads += reader.reads;
  const std::uint64_t walk_cycles = reader.reads * profile_.descriptor_read;
  counters_.translation_cycles += walk_cycles;
  if (!s2) return std::nullopt;
  TlbEntry entry = combine(ctx, va, s1, nested.pas[s1.step_count - 1], *s2);
  entry.filled_at = event_;
  entry.from_unpublished = reader.read_unpublished;
  pe.l2.insert(entry);
  l1.insert(entry);
  note_fill(pe_index, entry, (reader.reads - tally.refilled_reads) * profile_.descriptor_read);
  return Translation{entry};
}

std::optional<Machine::Translation> Machine::translate_past_l1(unsigned pe_index, VirtAddr va, Tlb& l1,
                                                               const LookupKey& key, ServedBy& served) {
  Pe& pe = *pes_[pe_index];
  const PeContext& ctx = *pe.context;
  const WalkTarget t = target_of(ctx);
  if (const TlbEntry* hit = pe.l2.lookup(key)) {
    served = ServedBy::l2;
    ++counters_.l2_hits;
    counters_.translation_cycles += profile_.l2_hit;
    const TlbEntry entry = *hit;
    l1.insert(entry);
    return Translation{entry};
  }
  served = ServedBy::walk;
  if (t.stage == EntryStage::combined) return walk_two_stages(pe_index, ctx, va, l1);
  ++counters_.walks;
  // Start from the deepest walk-cache entry for `va`.
  const WalkStart start = walk_start(pe.l2, ctx, t, va, counters_);
  Reader reader(*this, pe_index);
  const Walk w = walk(t.regime, *t.geometry, va, start, reader);
  counters_.descriptor_reads += reader.reads;
  const std::uint64_t walk_cycles = reader.reads * profile_.descriptor_read;
  counters_.translation_cycles += walk_cycles;
  const std::optional<TlbEntry> entry = cache_walk(pe.l2, event_, ctx, t, va, w, reader.read_unpublished);
  if (!entry) return std::nullopt;
  l1.insert(*entry);
  note_fill(pe_index, *entry, walk_cycles);
  return Translation{*entry};
}

std::size_t Machine::TruthHash::operator()(const TruthKey& k) const {
  constexpr std::uint64_t kMul = 0x9E37'79B9'7F4A'7C15;
  std::uint64_t h = k.page * kMul;
  h = (h ^ k.stage1_root) * kMul;
  h = (h ^ k.stage2_root) * kMul;
  h ^= std::uint64_t{k.asid} << 32 | std::uint64_t{k.vmid} << 16 | std::uint64_t{k.stages} << 8 |
       static_cast<std::uint8_t>(k.regime);
  return static_cast<std::size_t>(h * kMul >> 16);
}

const std::optional<TlbEntry>& Machine::current_truth(const PeContext& ctx, VirtAddr va) {
  if (memory_.generation() != truth_generation_) {
    truth_.clear();
    truth_generation_ = memory_.generation();
  }
  TruthKey key;
  key.stage1_root = ctx.stage1 ? ctx.stage1_root : 0;
  key.stage2_root = ctx.stage2 ? ctx.stage2_root : 0;
  key.page = va >> 12;
  key.asid = ctx.asid;
  key.vmid = ctx.vmid;
  key.stages = static_cast<std::uint8_t>((ctx.stage1 ? 1 : 0) | (ctx.stage2 ? 2 : 0));
  key.regime = ctx.regime;
  const auto it = truth_.find(key);
  if (it != truth_.end()) return it->second;
  const std::optional<Translation> now = translate_truth(ctx, va);
  return truth_.emplace(key, now ? std::optional<TlbEntry>(now->entry) : std::nullopt).first->second;
}

void Machine::check_visibility(unsigned pe, VirtAddr va, const TlbEntry& used) {
  const std::optional<TlbEntry>& now = current_truth(*pes_[pe]->context, va);
  if (!now) {
    report(ViolationKind::stale_translation, pe, va, used, std::nullopt,
           fmt::format("PE {} used {} for {:#x}, which the tables no longer map", pe, describe(used), va));
    return;
  }
  const PhysAddr used_pa = used.output + (va - used.input);
  const PhysAddr now_pa = now->output + (va - now->input);
  const bool more_access = (used.permissions & ~now->permissions) != 0;
  if (used_pa == now_pa && !more_access) return;
  report(ViolationKind::stale_translation, pe, va, used, *now,
         fmt::format("PE {} used {} for {:#x}; the tables say {}", pe, describe(used), va, describe(*now)));
}

Result<Access> Machine::access(unsigned pe, VirtAddr va, AccessKind kind, Privilege privilege) {
  if (pe >= pes()) return Error{Errc::out_of_range, "no such PE"};
  if (!pes_[pe]->context) return Error{Errc::invalid_argument, "the PE has no translation context"};
  const WalkTarget t = target_of(*pes_[pe]->context);
  if (va >= t.geometry->input_size()) return Error{Errc::out_of_range, "address beyond the input range"};
  sync();
  ++event_;
  ++counters_.accesses;
  // The hit path: the L1 entry is used in place. The Access is built whole
  // at the end (filled field by field on the stack, it was read back as one
  // vector before its stores could be forwarded).
  Pe& p = *pes_[pe];
  LookupKey key = p.leaf_key;
  key.input = va;
  Tlb& l1 = kind == AccessKind::fetch ? p.l1i : p.l1d;
  const TlbEntry* used = l1.lookup(key);
  ServedBy served = ServedBy::l1;
  std::optional<Translation> below;
  if (used != nullptr) {
    ++counters_.l1_hits;
  } else {
    below = translate_past_l1(pe, va, l1, key, served);
    if (!below) {
      ++counters_.translation_faults;
      return Access{AccessOutcome::translation_fault, served, 0};
    }
    used = &below->entry;
  }
  if (!operation_open_ && options_.visibility == MachineOptions::Visibility::checked) {
    check_visibility(pe, va, *used);
  }
  AccessOutcome outcome = AccessOutcome::ok;
  if ((used->permissions & needed_permission(kind, privilege)) == 0) {
    ++counters_.permission_faults;
    outcome = AccessOutcome::permission_fault;
  }
  return Access{outcome, served, used->output + (va - used->input)};
}

// ---- refills ----------------------------------------------------------------

void Machine::note_removed(unsigned pe, const TlbEntry& e) {
  ++counters_.entries_invalidated;
  if (e.kind != CachedKind::leaf) return;
  const auto changed = [&](PhysAddr at, Descriptor value) {
    const Descriptor* words = memory_.peek(at & ~(kPage - 1));
    return words == nullptr || words[(at & (kPage - 1)) / sizeof(Descriptor)] != value;
  };
  const bool stale = changed(e.descriptor_pa, e.descriptor) ||
                     (holds_stage2_leaf(e) && changed(e.s2_descriptor_pa, e.s2_descriptor));
  pes_[pe]->removed[refill_key(e)] = stale;
}

bool Machine::note_fill(unsigned pe, const TlbEntry& e, std::uint64_t walk_cycles) {
  auto& removed = pes_[pe]->removed;
  const auto it = removed.find(refill_key(e));
  if (it == removed.end()) return false;
  if (it->second) {
    ++counters_.refills_needed;
    counters_.refill_cycles_needed += walk_cycles;
  } else {
    ++counters_.refills_collateral;
    counters_.refill_cycles_collateral += walk_cycles;
  }
  removed.erase(it);
  return true;
}

// ---- maintenance ------------------------------------------------------------

Status Machine::issue(unsigned pe_index, const arch::Op& op) {
  if (pe_index >= pes()) return Error{Errc::out_of_range, "no such PE"};
  sync();
  ++event_;
  Pe& pe = *pes_[pe_index];
  const arch::InstrInfo& info = arch::info(op.instr);
  switch (info.category) {
    case arch::Category::tlbi: {
      const bool broadcast = info.scope == arch::Scope::inner_shareable;
      pe.pending.push_back(PendingTlbi{arch::decode(op), broadcast, event_});
      if (broadcast) {
        counters_.tlbi_broadcast += profile_.tlbi_repeat;
        counters_.maintenance_cycles += profile_.tlbi_broadcast * profile_.tlbi_repeat;
      } else {
        ++counters_.tlbi_local;
        counters_.maintenance_cycles += profile_.tlbi_local;
      }
      return ok_status();
    }
    case arch::Category::barrier: {
      if (op.instr == Instr::isb) {
        ++counters_.isb;
        counters_.maintenance_cycles += profile_.isb;
        return ok_status();
      }
      ++counters_.dsb;
      if (writer_ && *writer_ == pe_index) publish();
      if (!is_dsb(op.instr)) {  // DSB ISHST orders stores; it completes no TLBI
        counters_.maintenance_cycles += profile_.dsb_local;
        return ok_status();
      }
      // A DSB completes this PE's TLBIs (DSB NSH only its local ones): each
      // removes, on its target PEs, what it matches — except entries a walk
      // refilled after the TLBI from a table write that was not yet
      // visible (no DSB ISHST before the TLBI: known bug 13).
      bool waited_broadcast = false;
      std::vector<PendingTlbi> still;
      const TlbiContext context{pe.context ? pe.context->vmid : std::uint16_t{0}};
      for (const PendingTlbi& t : pe.pending) {
        if (t.broadcast && op.instr == Instr::dsb_nsh) {
          still.push_back(t);
          continue;
        }
        waited_broadcast = waited_broadcast || t.broadcast;
        for (unsigned target = 0; target < pes(); ++target) {
          if (!t.broadcast && target != pe_index) continue;
          Pe& victim = *pes_[target];
          for (Tlb* tlb : {&victim.l1i, &victim.l1d, &victim.l2}) {
            std::vector<TlbEntry> removed;
            tlb->invalidate(t.op, context, &removed);
            for (const TlbEntry& e : removed) {
              if (e.filled_at > t.issued_at && e.from_unpublished) {
                tlb->insert(e);
                continue;
              }
              note_removed(target, e);
            }
          }
        }
      }
      pe.pending = std::move(still);
      if (waited_broadcast) {
        ++counters_.dsb_broadcast_waits;
        counters_.maintenance_cycles += profile_.dsb_broadcast(pes()) * profile_.tlbi_repeat;
      } else {
        counters_.maintenance_cycles += profile_.dsb_local;
      }
      return ok_status();
    }
    case arch::Category::cache:
      if (op.instr == Instr::dc_civac) {
        ++counters_.dc;
        counters_.maintenance_cycles += profile_.dc_line;
      } else {
        ++counters_.ic;
        counters_.maintenance_cycles +=
            info.scope == arch::Scope::inner_shareable ? profile_.ic_broadcast : profile_.tlbi_local;
      }
      return ok_status();
  }
  return ok_status();
}

Status Machine::execute(unsigned pe, const Plan& plan) {
  if (pe >= pes()) return Error{Errc::out_of_range, "no such PE"};
  ++counters_.plans;
  counters_.maintenance_cycles += profile_.request_round_trip;
  for (const arch::Op& op : plan.ops()) {
    const Status s = issue(pe, op);
    if (!s.ok()) return s;
  }
  return ok_status();
}

}  // namespace tlbkit::sim
