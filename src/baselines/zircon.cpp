// Zircon arm64 TLB maintenance. Behaviour modelled (facts from
// zircon/kernel/arch/arm64/mmu.cc: ConsistencyManager::FlushEntry / Flush,
// kMaxPendingTlbs = 16, FlushTLBEntry, FlushAsid): see ZirconPolicy in
// tlbkit/baselines/policies.hpp.
#include "common.hpp"
#include "tlbkit/baselines/policies.hpp"

namespace tlbkit::baselines {
namespace {


constexpr std::uint64_t kBatch = ZirconPolicy::kMaxPendingTlbs;

bool kernel_aspace(const AddressSpace& space) {
  return space.regime == Regime::el1_stage1 && space.global == GlobalEntries::present;
}

// Flush() of a batch that went over 16 entries: FlushAsid. The hypervisor
// aspace always takes this path (FlushTLBEntry is unsupported there).
Status append_flush_asid(const AddressSpace& space, Plan& plan) {
  return append_space_flush(space, false, {Instr::dsb_ish}, plan);
}

// Flush() of at most 16 entries: DSB ISHST; FlushTLBEntry each; [guest:
// DSB ISH; VMALLE1IS]; DSB ISH; [kernel: ISB].
Status append_close(const AddressSpace& space, Plan& plan) {
  Status s = append_stage1_after_ipa(space, plan);
  if (!s.ok()) return s;
  s = append_instrs(plan, {Instr::dsb_ish});
  if (!s.ok() || !kernel_aspace(space)) return s;
  return append_instrs(plan, {Instr::isb});
}

// Per-entry flushes. The kernel aspace cannot flush its (global) ASID, so it
// flushes every 16 queued entries and goes on; `batch` entries per Flush().
Status append_entries(const Pending& p, const AddressSpace& space, std::uint64_t batch, Plan& plan) {
  const Form form{leaf_ok(p), kernel_aspace(space)};
  std::uint64_t queued = 0;
  Status s = append_instrs(plan, {Instr::dsb_ishst});
  if (!s.ok()) return s;
  for (const PendingRange& r : p.ranges) {
    const std::uint64_t stride = entry_bytes(r);
    VirtAddr va = r.va & ~(stride - 1);
    std::uint64_t left = loop_count(r, stride);
    while (left > 0) {
      if (queued == batch) {
        s = append_close(space, plan);
        if (!s.ok()) return s;
        s = append_instrs(plan, {Instr::dsb_ishst});
        if (!s.ok()) return s;
        queued = 0;
      }
      const std::uint64_t n = left < batch - queued ? left : batch - queued;
      const Result<arch::Op> op = by_va_op(space, form, va, arch::kNoTtl);
      if (!op.ok()) return op.error();
      s = plan.append_repeated(*op, static_cast<std::uint32_t>(n), stride >> 12);
      if (!s.ok()) return s;
      va += n * stride;
      left -= n;
      queued += n;
    }
  }
  return append_close(space, plan);
}

Status append_batch(const Pending& p, const AddressSpace& space, std::uint64_t kernel_batch, Plan& plan) {
  const bool over = loop_count(p, false) > kBatch;
  if (space.regime == Regime::el2_stage1 || p.coverage == Coverage::everything) {
    return append_flush_asid(space, plan);
  }
  if (kernel_aspace(space)) return append_entries(p, space, kernel_batch, plan);
  if (over) return append_flush_asid(space, plan);
  return append_entries(p, space, kBatch, plan);
}

}  // namespace

Status ZirconPolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                          Plan& plan) const {
  const auto batch = [&](std::uint64_t kernel_batch) {
    return [&, kernel_batch](Plan& out) { return append_batch(pending, space, kernel_batch, out); };
  };
  // Fallbacks when the plan is full (kernel aspace only): every entry under
  // one barrier pair, then VMALLE1IS.
  const auto wide = [&](Plan& out) {
    const Status s = append_space_flush(space, false, {}, out);
    if (!s.ok()) return s;
    return append_close(space, out);
  };
  return plan_first_fitting(pending, plan, common_tail(pending, space, features), batch(kBatch),
                            batch(~std::uint64_t{0} >> 1), wide);
}

}  // namespace tlbkit::baselines
