// KVM arm64 stage-2 (and hyp stage-1) TLB maintenance. Behaviour modelled
// (facts from arch/arm64/kvm/hyp/pgtable.c, hyp/nvhe/tlb.c, mmu.c and the
// 2023 range-deferral review on the kvmarm list; docs/ARCHITECTURE-FACTS.md
// section 5): see KvmPolicy in
// tlbkit/baselines/policies.hpp.
#include "tlbkit/maint/shapes.hpp"
#include "common.hpp"
#include "tlbkit/baselines/linux.hpp"
#include "tlbkit/baselines/policies.hpp"

namespace tlbkit::baselines {
namespace {


bool is_table(const PendingRange& r) { return r.entry == EntryKind::table; }
bool any_range(const PendingRange&) { return true; }

// Per-entry __kvm_tlb_flush_vmid_ipa for the ranges `pick` selects, each
// range one loop whose body is the whole sequence
//   DSB ISHST; IPAS2E1IS; DSB ISH; VMALLE1IS; DSB ISH; ISB
// (a Plan step group). KVM's op is IPAS2E1IS (non-leaf) with the entry's
// level as TTL; no TTL for a table (and every page under it).
template <class Pick>
Status append_per_entry(const Pending& p, Pick pick, const AddressSpace& space,
                        const arch::CpuFeatures& features, Plan& plan) {
  for (const PendingRange& r : p.ranges) {
    if (!pick(r)) continue;
    const std::uint64_t stride = entry_bytes(r);
    const std::uint64_t n = loop_count(r, stride);
    if (n > UINT32_MAX) return Error{Errc::out_of_range, "loop too long for one plan group"};
    const arch::Ttl ttl = ttl_for(features, leaf_ok(p), r.level);
    const std::size_t before = plan.steps().size();
    Status s = append_instrs(plan, {Instr::dsb_ishst});
    if (!s.ok()) return s;
    s = plan.append(by_va_op(space, Form{}, r.va & ~(stride - 1), ttl));
    if (!s.ok()) return s;
    s = append_instrs(plan, {Instr::dsb_ish, Instr::vmalle1is, Instr::dsb_ish, Instr::isb});
    if (!s.ok()) return s;
    // The operand holds IPA >> 12: one entry further is stride >> 12 further.
    s = plan.repeat_last(plan.steps().size() - before, static_cast<std::uint32_t>(n), stride >> 12);
    if (!s.ok()) return s;
  }
  return ok_status();
}

// kvm_tlb_flush_vmid_range for one unmap call (TLBIRANGE present): chunks of
// at most 2^21 pages, each DSB ISHST; RIPAS2E1IS pieces (no TTL), odd last
// page IPAS2E1IS; DSB ISH; VMALLE1IS; DSB ISH; ISB.
Status append_vmid_range(const PendingRange& r, const AddressSpace& space, Plan& plan) {
  VirtAddr va = r.va & ~(kPage - 1);
  std::uint64_t pages = loop_count(r, kPage);
  while (pages > 0) {
    const std::uint64_t chunk = pages < arch::kMaxRangePages ? pages : arch::kMaxRangePages;
    Status s = append_instrs(plan, {Instr::dsb_ishst});
    if (!s.ok()) return s;
    s = append_range_exact(va, chunk, space, Form{}, 0, arch::kNoTtl, plan);
    if (!s.ok()) return s;
    s = append_instrs(plan, {Instr::dsb_ish, Instr::vmalle1is, Instr::dsb_ish, Instr::isb});
    if (!s.ok()) return s;
    va += chunk * kPage;
    pages -= chunk;
  }
  return ok_status();
}

// __kvm_tlb_flush_vmid (stage 2) / the hyp's ALLE2IS / flush of the ASID.
Status append_flush_all(const AddressSpace& space, Plan& plan) {
  return append_space_flush(space, false, {Instr::dsb_ish, Instr::isb}, plan);
}

Status append_stage2(bool defer, const Pending& p, const AddressSpace& space, const arch::CpuFeatures& features,
                     Plan& plan) {
  if (p.coverage == Coverage::everything) return append_flush_all(space, plan);
  if (!defer) return append_per_entry(p, any_range, space, features, plan);
  // Table entries are flushed during the walk, never deferred.
  Status s = append_per_entry(p, is_table, space, features, plan);
  if (!s.ok()) return s;
  for (const PendingRange& r : p.ranges) {
    if (is_table(r)) continue;
    s = append_vmid_range(r, space, plan);
    if (!s.ok()) return s;
  }
  return ok_status();
}

// kvm_pgtable_hyp_unmap: VAE2IS per entry (level hint for leaves), then
// DSB ISH; ISB.
Status append_el2(const Pending& p, const AddressSpace& space, const arch::CpuFeatures& features, Plan& plan) {
  if (p.coverage == Coverage::everything) return append_flush_all(space, plan);
  Status s = append_instrs(plan, {Instr::dsb_ishst});
  if (!s.ok()) return s;
  for (const PendingRange& r : p.ranges) {
    s = append_loop(r, entry_bytes(r), space, Form{}, ttl_for(features, leaf_ok(p), r.level), plan);
    if (!s.ok()) return s;
  }
  return append_instrs(plan, {Instr::dsb_ish, Instr::isb});
}

// Guest stage 1 (not KVM's): Linux-style per VA below MAX_DVM_OPS.
Status append_el1(const Pending& p, const AddressSpace& space, const arch::CpuFeatures& features, Plan& plan) {
  const bool global = space.global == GlobalEntries::present;
  Shape shape = global ? Shape::full : Shape::space_wide;
  if (p.coverage == Coverage::exact && maint::pending_entries(p) < LinuxPolicy::kMaxDvmOps) shape = Shape::per_va;
  return maint::append_shape(shape, p, space, features, plan);
}

}  // namespace

Status KvmPolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                       Plan& plan) const {
  const bool defer = deferral_ == Deferral::range_with_fwb && features.tlbi_range == Presence::present &&
                     features.fwb == Presence::present;
  return plan_first_fitting(
      pending, plan, common_tail(pending, space, features),
      [&](Plan& out) {
        switch (space.regime) {
          case Regime::stage2: return append_stage2(defer, pending, space, features, out);
          case Regime::el2_stage1: return append_el2(pending, space, features, out);
          case Regime::el1_stage1: return append_el1(pending, space, features, out);
        }
        return Status{Error{Errc::invalid_argument, "unknown regime"}};
      },
      [&](Plan& out) { return append_flush_all(space, out); });
}

}  // namespace tlbkit::baselines
