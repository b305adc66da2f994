#include "tlbkit/maint/simple_policy.hpp"

#include "plan_tail.hpp"
#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::maint {
namespace {

using arch::Instr;
using arch::Regime;

constexpr std::uint64_t kPage = 4096;

// Bytes one per-VA op retires for `range`: one op per leaf entry; every page
// under a changed table entry (leaves of any size may be cached below it).
std::uint64_t stride(const PendingRange& range) {
  return range.entry == EntryKind::leaf ? std::uint64_t{1} << (12 + 9 * (3 - range.level)) : kPage;
}

std::uint64_t per_va_ops(const Pending& pending) {
  std::uint64_t ops = 0;
  for (const PendingRange& r : pending.ranges) ops += (r.size + stride(r) - 1) / stride(r);
  return ops;
}

Instr per_va_instr(Regime regime, EntryKind scope) {
  const bool leaf = scope == EntryKind::leaf;
  switch (regime) {
    case Regime::el1_stage1: return leaf ? Instr::vale1is : Instr::vae1is;
    case Regime::el2_stage1: return leaf ? Instr::vale2is : Instr::vae2is;
    case Regime::stage2: return leaf ? Instr::ipas2le1is : Instr::ipas2e1is;
  }
  return Instr::vae1is;
}

Result<arch::Op> per_va_op(Instr instr, const AddressSpace& space, VirtAddr va, arch::Ttl ttl) {
  switch (space.regime) {
    case Regime::el1_stage1: return arch::encode_va(instr, arch::Asid{space.asid}, va, ttl);
    case Regime::el2_stage1: return arch::encode_va_all_asid(instr, va, ttl);
    case Regime::stage2: return arch::encode_ipa(instr, va, ttl);
  }
  return Error{Errc::invalid_argument, "unknown regime"};
}

Status append_wide(const AddressSpace& space, Plan& plan) {
  switch (space.regime) {
    case Regime::el1_stage1:
      if (space.global == GlobalEntries::present) return plan.append(arch::make_op(Instr::vmalle1is));
      return plan.append(arch::encode_asid(Instr::aside1is, arch::Asid{space.asid}));
    case Regime::el2_stage1: return plan.append(arch::make_op(Instr::alle2is));
    case Regime::stage2: return plan.append(arch::make_op(Instr::vmalls12e1is));
  }
  return Error{Errc::invalid_argument, "unknown regime"};
}

Status append_per_va(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                     Plan& plan) {
  // Freed or replaced tables may sit in walk caches: non-leaf ops, no TTL
  // (a TTL naming the leaf level would spare the table entry).
  const EntryKind scope = pending.tables_changed() ? EntryKind::table : EntryKind::leaf;
  const Instr instr = per_va_instr(space.regime, scope);
  for (const PendingRange& r : pending.ranges) {
    arch::Ttl ttl = arch::kNoTtl;
    if (scope == EntryKind::leaf && features.ttl == arch::Presence::present) {
      ttl = arch::TtlHint{arch::Granule::k4K, r.level};
    }
    const std::uint64_t step = stride(r);
    const VirtAddr first = r.va & ~(step - 1);
    // Count rather than compare addresses: a TTBR1 range may end at 2^64.
    const std::uint64_t count = (r.va - first + r.size + step - 1) / step;
    const Result<arch::Op> op = per_va_op(instr, space, first, ttl);
    if (!op.ok()) return op.error();
    // The operand holds VA >> 12: one entry further is step >> 12 further.
    const Status s = plan.append_repeated(*op, static_cast<std::uint32_t>(count), step >> 12);
    if (!s.ok()) return s;
  }
  if (space.regime == Regime::stage2) {
    // IPA ops spare combined stage 1+2 entries.
    Status s = plan.append(arch::make_op(Instr::dsb_ish));
    if (!s.ok()) return s;
    s = plan.append(arch::make_op(Instr::vmalle1is));
    if (!s.ok()) return s;
  }
  return ok_status();
}

}  // namespace

Status SimplePolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                          Plan& plan) const {
  if (pending.needs_invalidation()) {
    Status s = plan.append(arch::make_op(Instr::dsb_ishst));
    if (!s.ok()) return s;
    const bool wide = pending.coverage == Coverage::everything || per_va_ops(pending) > threshold_;
    s = wide ? append_wide(space, plan) : append_per_va(pending, space, features, plan);
    if (!s.ok()) return s;
    s = plan.append(arch::make_op(Instr::dsb_ish));
    if (!s.ok()) return s;
  }
  const Status cleaned = detail::append_clean(pending, space, features, plan);
  if (!cleaned.ok()) return cleaned;
  return detail::append_icache(pending, plan);
}

}  // namespace tlbkit::maint
