// sim::Machine, Execution::bound: the cache-aware lower bound. At each
// maintenance point every PE removes, with one local TLBI and one local
// DSB, exactly the entries it holds that no correct policy may leave: those
// whose use the checkers would flag (checker 1's verdict, stale_use, for a
// leaf; a walk entry no longer leading to its table). Entries the tables
// let linger (stricter permissions after a relax: a spurious fault at
// worst) stay (docs/SIMULATOR.md, "The cache-aware lower bound").
#include "machine_internal.hpp"

namespace tlbkit::sim {

using arch::Instr;
using arch::Regime;
using detail::stage2_target;
using detail::target_of;
using detail::WalkTarget;

namespace {

// Whether walk `w` still reads, at walk entry `e`'s level, a table
// descriptor leading to the table `e` leads to (e.output). A table whose
// descriptor changed only in attributes is the same table: walks continue
// from a walk entry by its output alone, and the leaf gives the permissions.
bool leads_to_same_table(const Walk& w, const TlbEntry& e) {
  for (unsigned i = 0; i < w.step_count; ++i) {
    const WalkStep& s = w.steps[i];
    if (s.level != e.level) continue;
    return arch::is_table(s.descriptor, s.level) && arch::output_address(s.descriptor) == e.output;
  }
  return false;
}

// Whether checker 1 would pass every use of leaf `e`: at each address of
// its range, `truth(va)` (what the tables map `va` to, nullopt: nothing) is
// not stale_use. Visits each leaf of the tables over the range once.
template <typename Truth>
bool every_use_allowed(const TlbEntry& e, Truth&& truth) {
  for (VirtAddr va = e.input; va - e.input < e.size;) {
    const std::optional<TlbEntry> now = truth(va);
    if (detail::stale_use(e, va, now)) return false;
    va = now->input + now->size;  // the next leaf of the tables
  }
  return true;
}

bool is_broadcast_tlbi(const arch::Op& op) {
  const arch::InstrInfo& info = arch::info(op.instr);
  return info.category == arch::Category::tlbi && info.scope == arch::Scope::inner_shareable;
}

}  // namespace

bool Machine::may_stay_in(const PeContext& ctx, const TlbEntry& e) {
  Reader reader(*this, std::nullopt);
  if (e.stage == EntryStage::stage2) {
    if (!ctx.stage2) return false;
    const WalkTarget t = stage2_target(ctx);
    if (e.input >= t.geometry->input_size()) return false;
    if (e.kind == CachedKind::leaf) {
      return every_use_allowed(e, [&](VirtAddr ipa) { return stage2_truth(ctx, ipa, reader); });
    }
    const Walk w = walk(t.regime, *t.geometry, e.input, WalkStart{t.geometry->start_level(), t.root}, reader);
    return leads_to_same_table(w, e);
  }
  if (!ctx.stage1) return false;
  const WalkTarget t = target_of(ctx);
  if (t.stage != e.stage || e.input >= t.geometry->input_size()) return false;
  if (e.kind == CachedKind::leaf) {
    return every_use_allowed(e, [&](VirtAddr va) { return current_truth(ctx, va); });
  }
  const WalkStart root{t.geometry->start_level(), t.root};
  if (e.stage == EntryStage::stage1) return leads_to_same_table(walk(t.regime, *t.geometry, e.input, root, reader), e);
  // A combined walk entry holds its next table's IPA: stage 2 must still
  // put that table where it was (a walk entry into a page released since
  // is a use-after-free).
  NestedReader nested(*this, ctx, reader, std::nullopt, nullptr);
  if (!leads_to_same_table(walk(t.regime, *t.geometry, e.input, root, nested), e)) return false;
  const std::optional<TlbEntry> table = stage2_truth(ctx, e.output, reader);
  return table && table->output + (e.output - table->input) == e.table_pa;
}

bool Machine::may_stay(const TlbEntry& e) {
  if (e.stage == EntryStage::stage2) {
    // Stage 2 belongs to the VM: any context of its VMID reaches it.
    for (const auto& [key, ctx] : contexts_) {
      if (std::get<0>(key) == Regime::el1_stage1 && std::get<1>(key) == e.vmid && ctx.stage2) {
        return may_stay_in(ctx, e);
      }
    }
    return false;
  }
  if (e.regime == Regime::el2_stage1) {
    const auto it = contexts_.find({Regime::el2_stage1, std::uint16_t{0}, std::uint16_t{0}});
    return it != contexts_.end() && may_stay_in(it->second, e);
  }
  if (!e.global) {
    const auto it = contexts_.find({Regime::el1_stage1, e.vmid, e.asid});
    return it != contexts_.end() && may_stay_in(it->second, e);
  }
  // A global entry: any context of its VMID whose tables still allow it.
  for (const auto& [key, ctx] : contexts_) {
    if (std::get<0>(key) == Regime::el1_stage1 && std::get<1>(key) == e.vmid && may_stay_in(ctx, e)) return true;
  }
  return false;
}

namespace {

bool is_icache_op(const arch::Op& op) {
  return op.instr == Instr::ic_iallu || op.instr == Instr::ic_ialluis || op.instr == Instr::ic_ivau;
}

}  // namespace

void Machine::make_icaches_current() {
  for (auto& p : pes_) p->icache_synced = code_epoch_;
}

Status Machine::execute_bound(unsigned pe, const Plan& plan) {
  bool broadcast = false;
  for (const arch::Op& op : plan.ops()) broadcast = broadcast || is_broadcast_tlbi(op);
  if (!broadcast) {
    // A local flush the kernel model decided (the same under every
    // policy): as written.
    for (const arch::Op& op : plan.ops()) {
      if (is_icache_op(op)) {
        make_icaches_current();
        continue;
      }
      const Status s = options_.timeline == nullptr ? issue_synced(pe, op) : issue_timed(pe, op);
      if (!s.ok()) return s;
    }
    return ok_status();
  }
  // The issuer's table writes must be seen before anything is refilled.
  const arch::Op publish{Instr::dsb_ishst, 0};
  Status s = options_.timeline == nullptr ? issue_synced(pe, publish) : issue_timed(pe, publish);
  if (!s.ok()) return s;
  for (unsigned q = 0; q < pes(); ++q) {
    Pe& p = *pes_[q];
    std::vector<TlbEntry> removed;
    for (Tlb* tlb : {&p.l1i, &p.l1d, &p.l2}) {
      tlb->remove_if([&](const TlbEntry& e) { return !may_stay(e); }, removed);
    }
    if (removed.empty()) continue;
    for (const TlbEntry& e : removed) note_removed(q, e, Removed::unjustified);
    ++counters_.tlbi_local;
    ++counters_.dsb;
    counters_.maintenance_cycles += profile_.tlbi_local + profile_.dsb_local;
    if (options_.timeline != nullptr) {
      timeline_event(q, TimelineKind::tlbi, profile_.tlbi_local, "bound: local removal", 0);
      timeline_event(q, TimelineKind::dsb, profile_.dsb_local, "bound: dsb nsh", 0);
    }
  }
  // The plan's data-cache maintenance, as written. Its instruction-cache
  // maintenance is free: every PE's instruction cache is made current at no
  // cost, below what any policy pays (a local IC IALLU that happens to
  // suffice included; only hindsight of which PE fetches what would say
  // what a correct policy must pay).
  for (const arch::Op& op : plan.ops()) {
    if (arch::info(op.instr).category != arch::Category::cache) continue;
    if (is_icache_op(op)) {
      make_icaches_current();
      continue;
    }
    s = options_.timeline == nullptr ? issue_synced(pe, op) : issue_timed(pe, op);
    if (!s.ok()) return s;
  }
  return ok_status();
}

}  // namespace tlbkit::sim
