// sim::Machine, Execution::bound: the cache-aware lower bound. At each
// maintenance point every PE removes, with one local TLBI and one local
// DSB, exactly the entries it holds that the tables no longer justify; no
// other entry goes (docs/SIMULATOR.md, "The cache-aware lower bound").
#include "machine_internal.hpp"

namespace tlbkit::sim {

using arch::Instr;
using arch::Regime;
using detail::stage2_target;
using detail::target_of;
using detail::WalkTarget;

namespace {

// Whether walk `w` read `e`'s descriptor where `e` says it lives: at the
// entry's level for a walk entry, as the leaf for a leaf. `pas`: the PA of
// each step's descriptor.
bool walk_holds(const Walk& w, const TlbEntry& e, const std::array<PhysAddr, 4>& pas) {
  if (e.kind == CachedKind::walk) {
    for (unsigned i = 0; i < w.step_count; ++i) {
      if (w.steps[i].level == e.level) return w.steps[i].descriptor == e.descriptor && pas[i] == e.descriptor_pa;
    }
    return false;
  }
  return w.outcome == WalkOutcome::translated && w.step_count > 0 && w.leaf == e.descriptor &&
         pas[w.step_count - 1] == e.descriptor_pa;
}

std::array<PhysAddr, 4> step_pas(const Walk& w) {
  std::array<PhysAddr, 4> pas{};
  for (unsigned i = 0; i < w.step_count; ++i) {
    pas[i] = w.steps[i].table + std::uint64_t{w.steps[i].index} * sizeof(Descriptor);
  }
  return pas;
}

bool is_broadcast_tlbi(const arch::Op& op) {
  const arch::InstrInfo& info = arch::info(op.instr);
  return info.category == arch::Category::tlbi && info.scope == arch::Scope::inner_shareable;
}

}  // namespace

bool Machine::reproduces(const PeContext& ctx, const TlbEntry& e) {
  Reader reader(*this, std::nullopt);
  if (e.stage == EntryStage::stage2) {
    if (!ctx.stage2) return false;
    const WalkTarget t = stage2_target(ctx);
    if (e.input >= t.geometry->input_size()) return false;
    const Walk w = walk(t.regime, *t.geometry, e.input, WalkStart{t.geometry->start_level(), t.root}, reader);
    return walk_holds(w, e, step_pas(w));
  }
  if (!ctx.stage1) return false;
  const WalkTarget t = target_of(ctx);
  if (t.stage != e.stage || e.input >= t.geometry->input_size()) return false;
  const WalkStart root{t.geometry->start_level(), t.root};
  if (e.stage == EntryStage::combined) {
    NestedReader nested(*this, ctx, reader, std::nullopt, nullptr);
    const Walk s1 = walk(t.regime, *t.geometry, e.input, root, nested);
    if (!walk_holds(s1, e, nested.pas)) return false;
    if (e.kind == CachedKind::walk) return true;
    const std::optional<TlbEntry> s2 = stage2_truth(ctx, s1.output + (e.input - s1.input), reader);
    return s2 && s2->descriptor == e.s2_descriptor && s2->descriptor_pa == e.s2_descriptor_pa;
  }
  const Walk w = walk(t.regime, *t.geometry, e.input, root, reader);
  return walk_holds(w, e, step_pas(w));
}

bool Machine::still_justified(const TlbEntry& e) {
  if (e.stage == EntryStage::stage2) {
    // Stage 2 belongs to the VM: any context of its VMID reaches it.
    for (const auto& [key, ctx] : contexts_) {
      if (std::get<0>(key) == Regime::el1_stage1 && std::get<1>(key) == e.vmid && ctx.stage2) return reproduces(ctx, e);
    }
    return false;
  }
  if (e.regime == Regime::el2_stage1) {
    const auto it = contexts_.find({Regime::el2_stage1, std::uint16_t{0}, std::uint16_t{0}});
    return it != contexts_.end() && reproduces(it->second, e);
  }
  if (!e.global) {
    const auto it = contexts_.find({Regime::el1_stage1, e.vmid, e.asid});
    return it != contexts_.end() && reproduces(it->second, e);
  }
  // A global entry: any context of its VMID whose tables still hold it.
  for (const auto& [key, ctx] : contexts_) {
    if (std::get<0>(key) == Regime::el1_stage1 && std::get<1>(key) == e.vmid && reproduces(ctx, e)) return true;
  }
  return false;
}

Status Machine::execute_bound(unsigned pe, const Plan& plan) {
  bool broadcast = false;
  for (const arch::Op& op : plan.ops()) broadcast = broadcast || is_broadcast_tlbi(op);
  if (!broadcast) {
    // A local flush the kernel model decided (the same under every
    // policy): as written.
    for (const arch::Op& op : plan.ops()) {
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
      tlb->remove_if([&](const TlbEntry& e) { return !still_justified(e); }, removed);
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
  // The plan's cache maintenance, as written.
  for (const arch::Op& op : plan.ops()) {
    if (arch::info(op.instr).category != arch::Category::cache) continue;
    s = options_.timeline == nullptr ? issue_synced(pe, op) : issue_timed(pe, op);
    if (!s.ok()) return s;
  }
  return ok_status();
}

}  // namespace tlbkit::sim
