// Zircon arm64 at e04da11: ConsistencyManager::FlushEntry / Flush and the
// flushes they call (tlbkit/baselines/zircon.hpp, docs/baselines/zircon.md).
#include "tlbkit/baselines/zircon.hpp"

#include "common.hpp"

namespace tlbkit::baselines {
namespace {

constexpr std::uint64_t kBatch = ZirconPolicy::kMaxPendingTlbs;

// ArmAspaceType, as the space's regime and entries say it.
enum class Aspace : std::uint8_t { user, kernel, guest, hypervisor };

Aspace aspace_of(const AddressSpace& space) {
  switch (space.regime) {
    case Regime::el2_stage1: return Aspace::hypervisor;
    case Regime::stage2: return Aspace::guest;
    case Regime::el1_stage1: break;
  }
  return space.global == GlobalEntries::present ? Aspace::kernel : Aspace::user;
}

// FlushEntry at the limit: an aspace whose ASID (a guest's: its VMID) is
// not the global one only counts further entries; the global one flushes
// what it queued and goes on.
bool flushes_every_batch(Aspace a, const AddressSpace& space) {
  return a == Aspace::kernel || (a == Aspace::guest && space.vmid == ZirconPolicy::kGlobalAsid);
}

// The FlushEntry calls of one pending range: `count` entries from `va`,
// `stride` apart, terminal (a page or block) or not (a table).
struct Run {
  VirtAddr va;
  std::uint64_t count;
  std::uint64_t stride;
  bool terminal;
};

Run run_of(const PendingRange& r) {
  const std::uint64_t stride = entry_bytes(r);
  return Run{r.va & ~(stride - 1), loop_count(r, stride), stride, r.entry == EntryKind::leaf};
}

// num_pending_tlbs_ after the whole batch (saturating: only "more than 16"
// matters).
std::uint64_t queued_entries(const Pending& p) {
  std::uint64_t n = 0;
  for (const PendingRange& r : p.ranges) {
    const std::uint64_t c = run_of(r).count;
    n = c > ~std::uint64_t{0} - n ? ~std::uint64_t{0} : n + c;
  }
  return n;
}

// FlushAsid (FlushAllAsids has no tlbkit aspace: no shared aspaces). The
// EL2 calls are shown from the HVC handler's first op to its last; the
// VTTBR_EL2 writes around them and their ISBs have no Plan op.
Status append_flush_asid(Aspace a, const AddressSpace& space, ZirconPolicy::El2Flush el2, Plan& plan) {
  switch (a) {
    case Aspace::user: {
      const Status s = plan.append(arch::encode_asid(Instr::aside1is, arch::Asid{space.asid}));
      if (!s.ok()) return s;
      return append_instrs(plan, {Instr::isb});
    }
    case Aspace::kernel:
      // Zircon panics here (it never gets here); tlbkit's stand-in.
      return append_instrs(plan, {Instr::vmalle1is, Instr::isb});
    case Aspace::guest:  // arm64_el2_tlbi_vmid -> el2_hvc_tlbi_vmid
      return append_instrs(plan, {Instr::dsb_ishst, Instr::vmalls12e1is, Instr::dsb_ish, Instr::isb});
    case Aspace::hypervisor:  // arm64_el2_tlbi_el2 -> el2_hvc_tlbi_el2: not broadcast as read
      return append_instrs(plan, {el2 == ZirconPolicy::El2Flush::broadcast ? Instr::alle2is : Instr::alle2,
                                  Instr::dsb_sy, Instr::isb});
  }
  return Error{Errc::invalid_argument, "unknown aspace"};
}

// Flush()'s closing barriers: DSB ISH, and for the kernel aspace an ISB.
Status append_close(Aspace a, Plan& plan) {
  if (a == Aspace::kernel) return append_instrs(plan, {Instr::dsb_ish, Instr::isb});
  return append_instrs(plan, {Instr::dsb_ish});
}

// Flush() on its wide path (more than 16 queued, the hypervisor aspace, an
// overflowed batch), or Destroy() for a whole-space teardown.
Status append_wide(const Pending& p, Aspace a, const AddressSpace& space, ZirconPolicy::El2Flush el2,
                   Plan& plan) {
  const bool teardown = p.coverage == Coverage::everything && p.overflowed.empty();
  Status s = append_instrs(plan, {teardown ? Instr::dsb_ish : Instr::dsb_ishst});
  if (!s.ok()) return s;
  s = append_flush_asid(a, space, el2, plan);
  if (!s.ok()) return s;
  if (teardown) return append_instrs(plan, {Instr::dsb_ish});
  return append_close(a, plan);
}

// FlushTLBEntry for `count` entries of `run` from `va`: per entry the TLBI
// and the ISB of ARM64_TLBI (EL1), or the EL2 call arm64_el2_tlbi_ipa
// (guest), as one loop body.
Status append_entries(const Run& run, VirtAddr va, std::uint64_t count, Aspace a, const AddressSpace& space,
                      Plan& plan) {
  if (count == 0) return ok_status();
  if (count > UINT32_MAX) return Error{Errc::out_of_range, "too many entries for one plan step"};
  const Result<arch::Op> op = by_va_op(space, Form{run.terminal, a == Aspace::kernel}, va, arch::kNoTtl);
  if (!op.ok()) return op.error();
  const std::size_t before = plan.steps().size();
  Status s = ok_status();
  if (a == Aspace::guest) {
    s = append_instrs(plan, {Instr::dsb_ishst});
    if (s.ok()) s = plan.append(*op);
    if (s.ok()) s = append_instrs(plan, {Instr::dsb_ish, Instr::vmalle1is, Instr::dsb_ish, Instr::isb});
  } else {
    s = plan.append(*op);
    if (s.ok()) s = append_instrs(plan, {Instr::isb});
  }
  if (!s.ok()) return s;
  return plan.repeat_last(plan.steps().size() - before, static_cast<std::uint32_t>(count), run.stride >> 12);
}

// The queue of one ConsistencyManager and its Flush() calls.
Status append_batch(const Pending& p, const AddressSpace& space, ZirconPolicy::El2Flush el2, Plan& plan) {
  const Aspace a = aspace_of(space);
  if (a == Aspace::hypervisor || p.coverage == Coverage::everything) return append_wide(p, a, space, el2, plan);
  const bool every_batch = flushes_every_batch(a, space);
  if (!every_batch && queued_entries(p) > kBatch) return append_wide(p, a, space, el2, plan);
  // At most 16 entries, or the global ASID's Flush() every 16.
  Status s = append_instrs(plan, {Instr::dsb_ishst});
  std::uint64_t queued = 0;
  for (const PendingRange& r : p.ranges) {
    const Run run = run_of(r);
    VirtAddr va = run.va;
    std::uint64_t left = run.count;
    while (s.ok() && left > 0) {
      if (queued == kBatch) {
        s = append_close(a, plan);
        if (s.ok()) s = append_instrs(plan, {Instr::dsb_ishst});
        if (!s.ok()) return s;
        queued = 0;
      }
      const std::uint64_t n = every_batch && left > kBatch - queued ? kBatch - queued : left;
      s = append_entries(run, va, n, a, space, plan);
      va += n * run.stride;
      left -= n;
      queued += n;
    }
    if (!s.ok()) return s;
  }
  return append_close(a, plan);
}

}  // namespace

Status ZirconPolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                          Plan& plan) const {
  return plan_first_fitting(
      pending, plan, common_tail(pending, space, features),
      [&](Plan& out) { return append_batch(pending, space, el2_, out); },
      // Too big for a Plan (tlbkit's limit): the aspace's wide flush.
      [&](Plan& out) { return append_wide(pending, aspace_of(space), space, el2_, out); });
}

}  // namespace tlbkit::baselines
