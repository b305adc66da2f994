// FreeBSD arm64 TLB maintenance. Behaviour modelled (facts from
// sys/arm64/arm64/pmap.c: pmap_s1_invalidate_range / _all, the per-run
// calls of pmap_remove, pmap_s2_invalidate_range and bhyve's EL2 callback,
// review D37254 in shared/background): see FreeBsdPolicy in
// tlbkit/maint/baselines.hpp.
#include "common.hpp"
#include "tlbkit/baselines/policies.hpp"

namespace tlbkit::baselines {

using maint::AddressSpace;
using maint::Pending;
using maint::PendingRange;
using maint::Coverage;
using maint::GlobalEntries;
namespace {


// final_only selects the "L" forms; the kernel pmap uses the all-ASID forms.
Form form_for(const Pending& p, const AddressSpace& space) {
  return Form{leaf_ok(p), space.regime == Regime::el1_stage1 && space.global == GlobalEntries::present};
}

Status append_close(const AddressSpace& space, Plan& plan) {
  const Status s = append_stage1_after_ipa(space, plan);
  if (!s.ok()) return s;
  return append_instrs(plan, {Instr::dsb_ish, Instr::isb});
}

// pmap_*_invalidate_all: ASIDE1IS (VMALLE1IS for the kernel pmap),
// VMALLS12E1IS for stage 2.
Status append_all(const AddressSpace& space, Plan& plan) {
  Status s = append_instrs(plan, {Instr::dsb_ishst});
  if (!s.ok()) return s;
  s = append_wide_op(space, false, plan);
  if (!s.ok()) return s;
  return append_instrs(plan, {Instr::dsb_ish, Instr::isb});
}

// One invalidate_range call per range (barriers each), or, with
// `one_call`, every loop under one barrier pair.
Status append_ranges(const Pending& p, const AddressSpace& space, bool one_call, Plan& plan) {
  const Form form = form_for(p, space);
  Status s = ok_status();
  for (std::size_t i = 0; i < p.ranges.size(); ++i) {
    const PendingRange& r = p.ranges[i];
    if (!one_call || i == 0) s = append_instrs(plan, {Instr::dsb_ishst});
    if (!s.ok()) return s;
    s = append_loop(r, entry_bytes(r), space, form, arch::kNoTtl, plan);
    if (!s.ok()) return s;
    if (!one_call || i + 1 == p.ranges.size()) s = append_close(space, plan);
    if (!s.ok()) return s;
  }
  return ok_status();
}

}  // namespace

Status FreeBsdPolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                           Plan& plan) const {
  const auto build = [&](auto&& tlbi) {
    return [&, tlbi](Plan& out) {
      if (pending.needs_invalidation()) {
        const Status s = pending.coverage == Coverage::everything ? append_all(space, out) : tlbi(out);
        if (!s.ok()) return s;
      }
      return append_tail(pending, space, features, out);
    };
  };
  const auto per_call = build([&](Plan& out) { return append_ranges(pending, space, false, out); });
  const auto one_call = build([&](Plan& out) { return append_ranges(pending, space, true, out); });
  const auto all = build([&](Plan& out) { return append_all(space, out); });
  return with_fallback(plan, per_call, [&](Plan& out) { return with_fallback(out, one_call, all); });
}

}  // namespace tlbkit::baselines
