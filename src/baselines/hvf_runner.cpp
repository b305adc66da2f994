// The HVF Linux-binary runner's guest TLB maintenance, before (v1) and after
// (v2) its selective-TLBI change. Behaviour modelled (facts from the
// description of that change, the sysprog21/elfuse pull request "selective
// TLBI, per-vCPU slot", summarised in docs/ARCHITECTURE-FACTS.md section 5:
// X8 protocol, 16-page VAE1IS loop, bounding box, shim tail DSB ISH +
// IC IALLU + DSB + ISB): see HvfRunnerV1Policy / HvfRunnerV2Policy in
// tlbkit/baselines/policies.hpp.
#include "tlbkit/maint/plan_tail.hpp"
#include "common.hpp"
#include "tlbkit/baselines/policies.hpp"

namespace tlbkit::baselines {
namespace {


// After the TLBIs: DSB ISH, data-cache cleaning, then the shim's I-cache
// tail. The shim's IC IALLU is local; with exec gained the IS form is needed.
Status append_shim_tail(const Pending& p, const AddressSpace& space, const arch::CpuFeatures& features,
                        Plan& plan) {
  Status s = append_instrs(plan, {Instr::dsb_ish});
  if (!s.ok()) return s;
  s = maint::append_clean(p, space, features, plan);
  if (!s.ok()) return s;
  const Instr ic = p.exec == ExecGain::yes ? Instr::ic_ialluis : Instr::ic_iallu;
  return append_instrs(plan, {ic, Instr::dsb_ish, Instr::isb});
}

// DSB ISHST; the broadcast flush of everything the regime holds.
Status append_broadcast(const AddressSpace& space, Plan& plan) {
  return append_space_flush(space, true, {}, plan);
}

// The bounding box of every pending range, in 4 KiB pages.
struct Box {
  VirtAddr lo = 0;
  std::uint64_t pages = 0;
};

Box bounding_box(const Pending& p) {
  VirtAddr lo = ~VirtAddr{0};
  VirtAddr last = 0;  // last byte (no overflow at the top of TTBR1)
  for (const PendingRange& r : p.ranges) {
    if (r.size == 0) continue;
    if (r.va < lo) lo = r.va;
    if (r.va + (r.size - 1) > last) last = r.va + (r.size - 1);
  }
  if (last == 0 && lo == ~VirtAddr{0}) return Box{};
  lo &= ~(kPage - 1);
  return Box{lo, (last - lo) / kPage + 1};
}

Status append_v2(const Pending& p, const AddressSpace& space, const arch::CpuFeatures& features, Plan& plan) {
  const Box box = bounding_box(p);
  if (p.coverage == Coverage::everything || box.pages > HvfRunnerV2Policy::kMaxRangePages ||
      (box.pages > HvfRunnerV2Policy::kMaxLoopPages && features.tlbi_range != Presence::present)) {
    return append_broadcast(space, plan);
  }
  Status s = append_instrs(plan, {Instr::dsb_ishst});
  if (!s.ok()) return s;
  if (box.pages <= HvfRunnerV2Policy::kMaxLoopPages) {
    const Result<arch::Op> op = by_va_op(space, Form{}, box.lo, arch::kNoTtl);
    if (!op.ok()) return op.error();
    s = plan.append_repeated(*op, static_cast<std::uint32_t>(box.pages), 1);
  } else {
    // One SCALE-0 op: NUM + 1 = ceil(pages / 2) pairs of pages.
    const arch::RangePiece piece{0, static_cast<unsigned>((box.pages + 1) / 2 - 1)};
    const Result<arch::Op> op = range_op(space, Form{}, box.lo, piece, 0);
    // Rounding up past the end of the VA range: the broadcast instead.
    s = op.ok() ? plan.append(*op) : append_wide_op(space, true, plan);
  }
  if (!s.ok()) return s;
  return append_stage1_after_ipa(space, plan);
}

// X8 = 0 (nothing to invalidate): the shim does no flush and no tail at
// all; what remains is the common cache maintenance. Otherwise `tlbi`, or
// when it does not fit the broadcast, then the shim's tail.
template <class Tlbi>
Status plan_with(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features, Plan& plan,
                 Tlbi tlbi) {
  const auto tail = [&](Plan& out) {
    return pending.needs_invalidation() ? append_shim_tail(pending, space, features, out)
                                        : append_tail(pending, space, features, out);
  };
  return plan_first_fitting(pending, plan, tail, tlbi, [&](Plan& out) { return append_broadcast(space, out); });
}

}  // namespace

Status HvfRunnerV1Policy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                               Plan& plan) const {
  return plan_with(pending, space, features, plan, [&](Plan& out) { return append_broadcast(space, out); });
}

Status HvfRunnerV2Policy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                               Plan& plan) const {
  return plan_with(pending, space, features, plan,
                   [&](Plan& out) { return append_v2(pending, space, features, out); });
}

}  // namespace tlbkit::baselines
