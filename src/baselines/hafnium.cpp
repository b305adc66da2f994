// Hafnium TLB maintenance. Behaviour modelled (facts from
// src/arch/aarch64/mm.c: arch_mm_invalidate_stage1_range,
// arch_mm_invalidate_stage2_range, MAX_TLBI_OPS = 512): see HafniumPolicy in
// tlbkit/baselines/policies.hpp.
#include "common.hpp"
#include "tlbkit/baselines/policies.hpp"

namespace tlbkit::baselines {
namespace {


// The wide op: VMALLE1IS (stage 1 EL1), ALLE2IS (EL2), VMALLS12E1IS (stage 2).
Status append_wide_call(const AddressSpace& space, Plan& plan) {
  return append_space_flush(space, true, {Instr::dsb_ish, Instr::isb}, plan);
}

// One invalidate call for one range: a non-leaf op per 4 KiB page, no TTL.
Status append_call(const PendingRange& r, const AddressSpace& space, Plan& plan) {
  if (loop_count(r, kPage) > HafniumPolicy::kMaxTlbiOps) return append_wide_call(space, plan);
  Status s = append_instrs(plan, {Instr::dsb_ishst});
  if (!s.ok()) return s;
  s = append_loop(r, kPage, space, Form{}, arch::kNoTtl, plan);
  if (!s.ok()) return s;
  s = append_stage1_after_ipa(space, plan);
  if (!s.ok()) return s;
  return append_instrs(plan, {Instr::dsb_ish, Instr::isb});
}

}  // namespace

Status HafniumPolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                           Plan& plan) const {
  return plan_first_fitting(
      pending, plan, common_tail(pending, space, features),
      [&](Plan& out) {
        if (pending.coverage == Coverage::everything) return append_wide_call(space, out);
        for (const PendingRange& r : pending.ranges) {
          const Status s = append_call(r, space, out);
          if (!s.ok()) return s;
        }
        return ok_status();
      },
      [&](Plan& out) { return append_wide_call(space, out); });
}

}  // namespace tlbkit::baselines
