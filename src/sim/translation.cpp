// sim::Machine, translation: the access path (L1, L2, walk caches, walks),
// one-stage and two-stage (nested) walks and what they cache, and the truth
// (what the tables say now) with its cache for the visibility checker.
#include <algorithm>
#include <optional>

#include "machine_internal.hpp"

namespace tlbkit::sim {

using arch::Regime;
using detail::kPage;
using detail::key_of;
using detail::stage2_target;
using detail::target_of;
using detail::WalkTarget;

namespace {

// The permission an access needs: arch::Permission's bits are read, write,
// execute at EL1, then the same at EL0 — the order of AccessKind, three
// places up for EL0 (a shift, not a branch: this runs on every access).
static_assert(static_cast<unsigned>(AccessKind::write) == 1 && static_cast<unsigned>(AccessKind::fetch) == 2 &&
              static_cast<unsigned>(Privilege::el0) == 1);
static_assert(static_cast<unsigned>(arch::Permission::el1_read) == 1u << 0 &&
              static_cast<unsigned>(arch::Permission::el1_execute) == 1u << 2 &&
              static_cast<unsigned>(arch::Permission::el0_read) == 1u << 3 &&
              static_cast<unsigned>(arch::Permission::el0_execute) == 1u << 5);
constexpr std::uint8_t needed_permission(AccessKind kind, Privilege privilege) {
  return static_cast<std::uint8_t>(1u << (static_cast<unsigned>(kind) + 3 * static_cast<unsigned>(privilege)));
}

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

struct Machine::Translation {
  TlbEntry entry;
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
// its table descriptors as walk entries (only valid ones; none with the
// weakening walk_entries_never_cached) and, when it translated, its leaf,
// which it returns. Every entry is stamped with `event` and whether the
// walk read a not yet visible value.
std::optional<TlbEntry> cache_walk(Tlb& l2, std::uint64_t event, const PeContext& ctx, const WalkTarget& t,
                                   VirtAddr input, const Walk& w, bool unpublished, const Weakenings& weakenings) {
  const auto stamped = [&](TlbEntry e) {
    e.filled_at = event;
    e.from_unpublished = unpublished;
    return e;
  };
  const unsigned cached_steps = weakenings.has(Weakening::walk_entries_never_cached) ? 0 : w.step_count;
  for (unsigned i = 0; i < cached_steps; ++i) {
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
  const std::optional<TlbEntry> entry = cache_walk(pe.l2, event_, ctx, t, ipa, w, unpublished, options_.weakenings);
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
  const unsigned read_steps =
      options_.weakenings.has(Weakening::walk_entries_never_cached) ? 0 : nested.count;
  for (unsigned i = 0; i + 1 < read_steps; ++i) {
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
  const std::optional<TlbEntry> entry =
      cache_walk(pe.l2, event_, ctx, t, va, w, reader.read_unpublished, options_.weakenings);
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

Result<Access> Machine::access(unsigned pe, VirtAddr va, AccessKind kind, Privilege privilege) {
  // The verified hit that needs no fault (Pe::VerifiedHit), answered here;
  // anything else, its permission faults included, by access_in_full(),
  // which takes the same verified branch for those. Counters move only on
  // the path that answers.
  if (pe < pes()) [[likely]] {
    Pe& p = *pes_[pe];
    if (p.context && va < p.input_size && watched_.empty() && !memory_.any_touched()) [[likely]] {
      Tlb& l1 = p.l1_for(kind);
      const Pe::VerifiedHit& verified = p.verified_slot(kind, va);
      if (Pe::still_verified(verified, l1, va, memory_.generation()) &&
          (verified.permissions & needed_permission(kind, privilege)) != 0 &&
          (kind != AccessKind::fetch || verified.code_epoch == code_epoch_)) [[likely]] {
        ++event_;
        ++counters_.accesses;
        ++counters_.l1_hits;
        l1.touch(verified.slot);
        return Access{AccessOutcome::ok, ServedBy::l1, va + verified.pa_minus_va};
      }
    }
  }
  return access_in_full(pe, va, kind, privilege);
}

Result<Access> Machine::access_in_full(unsigned pe, VirtAddr va, AccessKind kind, Privilege privilege) {
  if (pe >= pes()) return Error{Errc::out_of_range, "no such PE"};
  Pe& p = *pes_[pe];
  if (!p.context) return Error{Errc::invalid_argument, "the PE has no translation context"};
  if (va >= p.input_size) return Error{Errc::out_of_range, "address beyond the input range"};
  // sync() returns at once when no table page was written or watched: say
  // so here, where the call would cost more than the test.
  if (!watched_.empty() || memory_.any_touched()) [[unlikely]] sync();
  ++event_;
  ++counters_.accesses;
  Tlb& l1 = p.l1_for(kind);
  // The verified-hit path (Pe::VerifiedHit): the same L1 hit as last time,
  // with the same verdict of the visibility checker.
  Pe::VerifiedHit& verified = p.verified_slot(kind, va);
  if (Pe::still_verified(verified, l1, va, memory_.generation())) [[likely]] {
    ++counters_.l1_hits;
    l1.touch(verified.slot);
    const PhysAddr pa = va + verified.pa_minus_va;
    if ((verified.permissions & needed_permission(kind, privilege)) == 0) [[unlikely]] {
      ++counters_.permission_faults;
      if (options_.timeline != nullptr) timeline_event(pe, TimelineKind::fault, 0, "permission fault", va);
      return Access{AccessOutcome::permission_fault, ServedBy::l1, pa};
    }
    if (kind == AccessKind::fetch && verified.code_epoch != code_epoch_) [[unlikely]] {
      if (p.icache_synced != code_epoch_) check_fetch(pe, va, pa);
      verified.code_epoch = code_epoch_;
    }
    return Access{AccessOutcome::ok, ServedBy::l1, pa};
  }
  // The hit path: the L1 entry is used in place. The Access is built whole
  // at the end (filled field by field on the stack, it was read back as one
  // vector before its stores could be forwarded).
  LookupKey key = p.leaf_key;
  key.input = va;
  const TlbEntry* used = l1.lookup(key);
  ServedBy served = ServedBy::l1;
  std::optional<Translation> below;
  if (used != nullptr) {
    ++counters_.l1_hits;
  } else {
    const std::uint64_t before = counters_.translation_cycles;
    below = translate_past_l1(pe, va, l1, key, served);
    if (options_.timeline != nullptr) [[unlikely]] {
      timeline_event(pe, TimelineKind::walk, counters_.translation_cycles - before,
                     served == ServedBy::l2 ? "l2 hit" : "walk", va);
      if (!below) timeline_event(pe, TimelineKind::fault, 0, "translation fault", va);
    }
    if (!below) {
      ++counters_.translation_faults;
      return Access{AccessOutcome::translation_fault, served, 0};
    }
    used = &below->entry;
  }
  const bool unchecked = options_.visibility == MachineOptions::Visibility::unchecked;
  if (!operation_open_ && !unchecked) {
    const std::size_t violations_before = violations_.size();
    check_visibility(pe, va, *used);
    // Verified (no violation): the next access of the page may skip this.
    if (served == ServedBy::l1 && violations_.size() == violations_before) {
      verified = Pe::VerifiedHit{va >> 12, l1.version(), memory_.generation(), used->output - used->input,
                                 l1.last_hit_slot(), used->permissions};
    }
  } else if (unchecked && served == ServedBy::l1) {
    verified = Pe::VerifiedHit{va >> 12, l1.version(), memory_.generation(), used->output - used->input,
                               l1.last_hit_slot(), used->permissions};
  }
  AccessOutcome outcome = AccessOutcome::ok;
  if ((used->permissions & needed_permission(kind, privilege)) == 0) {
    ++counters_.permission_faults;
    outcome = AccessOutcome::permission_fault;
    if (options_.timeline != nullptr) [[unlikely]] timeline_event(pe, TimelineKind::fault, 0, "permission fault", va);
  }
  const PhysAddr pa = used->output + (va - used->input);
  if (outcome == AccessOutcome::ok && kind == AccessKind::fetch) {
    if (p.icache_synced != code_epoch_) [[unlikely]] check_fetch(pe, va, pa);
    if (verified.page == va >> 12) verified.code_epoch = code_epoch_;
  }
  return Access{outcome, served, pa};
}

}  // namespace tlbkit::sim
