// Linux arm64 stage-1 TLB maintenance. Behaviour modelled (facts from
// arch/arm64/include/asm/tlbflush.h: __flush_tlb_range, MAX_DVM_OPS,
// __flush_tlb_range_op, flush_tlb_mm, flush_tlb_kernel_range,
// flush_tlb_all): see LinuxPolicy in tlbkit/baselines/policies.hpp.
#include "common.hpp"
#include "tlbkit/baselines/policies.hpp"

namespace tlbkit::baselines {
namespace {


// flush_tlb_mm: DSB ISHST; ASIDE1IS; DSB ISH.
// flush_tlb_all (kernel): DSB ISHST; VMALLE1IS; DSB ISH; ISB.
Status append_flush_space(const AddressSpace& space, Plan& plan) {
  if (space.global == GlobalEntries::present) {
    return append_space_flush(space, false, {Instr::dsb_ish, Instr::isb}, plan);
  }
  return append_space_flush(space, false, {Instr::dsb_ish}, plan);
}

// One __flush_tlb_range (user) or flush_tlb_kernel_range (global) call.
Status append_one_range(const Pending& p, const PendingRange& r, bool use_range, const AddressSpace& space,
                        const arch::CpuFeatures& features, Plan& plan) {
  const bool kernel = space.global == GlobalEntries::present;
  const bool leaf = leaf_ok(p);
  // The kernel flush steps by PAGE_SIZE with no level hint; the user flush by
  // the entry size with the level as TTL (leaves only).
  const std::uint64_t stride = kernel ? kPage : entry_bytes(r);
  const Form form{leaf, kernel};
  const bool hint = leaf && !kernel;
  const arch::Ttl ttl = ttl_for(features, hint, r.level);
  const unsigned range_ttl = ttl ? r.level : 0;
  const std::uint64_t ops = loop_count(r, stride);
  const std::uint64_t pages = ops * stride / kPage;
  const bool excess = use_range ? pages > arch::kMaxRangePages : ops >= LinuxPolicy::kMaxDvmOps;
  if (excess) return append_flush_space(space, plan);
  Status s = append_instrs(plan, {Instr::dsb_ishst});
  if (!s.ok()) return s;
  const VirtAddr start = r.va & ~(stride - 1);
  s = use_range ? append_range_exact(start, pages, space, form, range_ttl, ttl, plan)
                : append_loop(r, stride, space, form, ttl, plan);
  if (!s.ok()) return s;
  if (kernel) return append_instrs(plan, {Instr::dsb_ish, Instr::isb});
  return append_instrs(plan, {Instr::dsb_ish});
}

}  // namespace

Status LinuxPolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                         Plan& plan) const {
  const bool use_range = range_ == RangeOps::when_present && features.tlbi_range == Presence::present;
  if (space.regime != Regime::el1_stage1) {
    // Linux's stage 2 and hyp tables are KVM's.
    const KvmPolicy kvm{use_range ? KvmPolicy::Deferral::range_with_fwb : KvmPolicy::Deferral::never};
    return kvm.plan(pending, space, features, plan);
  }
  return plan_first_fitting(
      pending, plan, common_tail(pending, space, features),
      [&](Plan& out) {
        if (pending.coverage == Coverage::everything) return append_flush_space(space, out);
        for (const PendingRange& r : pending.ranges) {
          const Status s = append_one_range(pending, r, use_range, space, features, out);
          if (!s.ok()) return s;
        }
        return ok_status();
      },
      [&](Plan& out) { return append_flush_space(space, out); });
}

}  // namespace tlbkit::baselines
