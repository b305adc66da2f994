// FreeBSD arm64 TLB maintenance. Behaviour modelled (facts from
// sys/arm64/arm64/pmap.c: pmap_s1_invalidate_range / _all, the per-run
// calls of pmap_remove, pmap_s2_invalidate_range and bhyve's EL2 callback,
// FreeBSD review D37254; docs/ARCHITECTURE-FACTS.md section 5): see FreeBsdPolicy in
// tlbkit/baselines/policies.hpp.
#include "common.hpp"
#include "tlbkit/baselines/policies.hpp"

namespace tlbkit::baselines {
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
  return append_space_flush(space, false, {Instr::dsb_ish, Instr::isb}, plan);
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
  const auto ranges = [&](bool one_call) {
    return [&, one_call](Plan& out) {
      if (pending.coverage == Coverage::everything) return append_all(space, out);
      return append_ranges(pending, space, one_call, out);
    };
  };
  return plan_first_fitting(pending, plan, common_tail(pending, space, features), ranges(false), ranges(true),
                            [&](Plan& out) { return append_all(space, out); });
}

}  // namespace tlbkit::baselines
