// Building blocks shared by the baseline policies (tlbkit/maint/baselines.hpp).
// Engine-internal.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/maint/policy.hpp"

namespace tlbkit::maint::baselines {

using arch::Instr;
using arch::Presence;
using arch::Regime;

inline constexpr std::uint64_t kPage = 4096;

// Bytes one per-entry op retires: the entry size of a leaf range; a page
// under a changed table entry (leaves of any size may be cached below it).
std::uint64_t entry_bytes(const PendingRange& r);

// Ops of a loop over `r` at `stride` bytes (start rounded down to stride).
std::uint64_t loop_count(const PendingRange& r, std::uint64_t stride);
std::uint64_t loop_count(const Pending& p, bool pages_only);  // all ranges: entries, or 4 KiB pages

// Which by-address form: leaf-only ("L") or not, all ASIDs or the space's.
struct Form {
  bool leaf = false;
  bool all_asid = false;
};

// Leaf-only forms are legal only when no table entry changed.
inline bool leaf_ok(const Pending& p) { return !p.tables_changed(); }

Instr by_va_instr(Regime regime, Form form);
Instr range_instr(Regime regime, Form form);

// The TTL hint for an entry at `level`, when FEAT_TTL is there and `hint`.
arch::Ttl ttl_for(const arch::CpuFeatures& features, bool hint, unsigned level);

Result<arch::Op> by_va_op(const AddressSpace& space, Form form, VirtAddr va, arch::Ttl ttl);
Result<arch::Op> range_op(const AddressSpace& space, Form form, VirtAddr base, arch::RangePiece piece,
                          unsigned ttl_level);

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

}  // namespace tlbkit::maint::baselines
