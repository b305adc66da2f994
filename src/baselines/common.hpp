// Building blocks shared by the baseline policies
// (tlbkit/baselines/policies.hpp). Internal to the baselines library.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "tlbkit/baselines/policies.hpp"
#include "tlbkit/maint/shapes.hpp"
#include "tlbkit/maint/tlbi_ops.hpp"

namespace tlbkit::baselines {

using arch::Instr;
using arch::Presence;
using arch::Regime;
using maint::Coverage;
using maint::GlobalEntries;
using maint::PendingRange;
using maint::Shape;
using maint::VirtAddr;

// The op builders every plan writer shares (tlbkit/maint/tlbi_ops.hpp).
using maint::by_va_instr;
using maint::by_va_op;
using maint::entry_bytes;
using maint::Form;
using maint::kPage;
using maint::leaf_ok;
using maint::loop_count;
using maint::range_instr;
using maint::range_op;
using maint::ttl_for;

// Ops of loops over all ranges of `p`: one per entry, or per 4 KiB page.
std::uint64_t loop_count(const Pending& p, bool pages_only);

// One by-address op every `stride` bytes over `r`.
Status append_loop(const PendingRange& r, std::uint64_t stride, const AddressSpace& space, Form form,
                   arch::Ttl ttl, Plan& plan);

// Linux's __flush_tlb_range_op with TLBIRANGE over [va, va + pages pages),
// pages <= 2^21: a single page by address; otherwise range pieces SCALE 3
// down to 0, then one by-address op for an odd last page (`single_ttl`).
Status append_range_exact(VirtAddr va, std::uint64_t pages, const AddressSpace& space, Form form,
                          unsigned ttl_level, arch::Ttl single_ttl, Plan& plan);

// Ops without operand (barriers, VMALLE1IS, VMALLS12E1IS, ALLE2IS, ...).
Status append_instrs(Plan& plan, std::initializer_list<Instr> instrs);

// The space-wide op: ASIDE1IS (VMALLE1IS with global entries or `full`),
// VMALLS12E1IS for stage 2, ALLE2IS for EL2.
Status append_wide_op(const AddressSpace& space, bool full, Plan& plan);

// Stage 2 by IPA leaves combined entries: DSB ISH; TLBI VMALLE1IS.
Status append_stage1_after_ipa(const AddressSpace& space, Plan& plan);

// Data-cache cleaning, then I-cache maintenance (maint::detail).
Status append_tail(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                   Plan& plan);

// Builds with `exact` in a copy of `plan`; when that runs out of room,
// builds with `wide` in the original instead.
template <class Exact, class Wide>
Status with_fallback(Plan& plan, Exact&& exact, Wide&& wide) {
  Plan attempt = plan;
  const Status s = exact(attempt);
  if (s.ok()) {
    plan = attempt;
    return s;
  }
  if (s.error().code != Errc::out_of_range) return s;
  return wide(plan);
}

}  // namespace tlbkit::baselines
