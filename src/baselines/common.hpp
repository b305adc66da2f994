// Building blocks shared by the baseline policies
// (tlbkit/baselines/policies.hpp). Internal to the baselines library.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "tlbkit/baselines/policies.hpp"
#include "tlbkit/maint/plan_tail.hpp"
#include "tlbkit/maint/shapes.hpp"
#include "tlbkit/maint/tlbi_ops.hpp"

namespace tlbkit::baselines {

using arch::Instr;
using maint::AddressSpace;
using maint::Pending;
using maint::Policy;
using arch::Presence;
using arch::Regime;
using maint::Coverage;
using maint::EntryKind;
using maint::ExecGain;
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
using maint::append_tail;  // tlbkit/maint/plan_tail.hpp

// Ops of loops over all ranges of `p`: one per entry, or per 4 KiB page.
std::uint64_t loop_count(const Pending& p, bool pages_only);

// The bytes freed tables add to a bounding box when each counts one page
// at its address (for its walk-cache entry): tables of `span` bytes each,
// over `size` bytes from the first table's address, reach from there to one
// page past the last table's address. Linux's mmu_gather (pte_free_tlb and
// friends) and elfuse's host accumulator both count a freed table so.
std::uint64_t one_page_per_table(std::uint64_t size, std::uint64_t span);

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

// The barrier-wrapped space-wide flush every system has: DSB ISHST; the
// space-wide op (append_wide_op with `full`); then the `close` barriers.
Status append_space_flush(const AddressSpace& space, bool full, std::initializer_list<Instr> close, Plan& plan);

// Stage 2 by IPA leaves combined entries: DSB ISH; TLBI VMALLE1IS.
Status append_stage1_after_ipa(const AddressSpace& space, Plan& plan);

// The skeleton every baseline's plan() shares. When `pending` needs
// invalidating, the system's TLBIs are written by the first of `tlbis`
// whose plan fits (each is `Status(Plan&)`: the precise form first, then
// the system's own fallbacks, the last its space-wide flush); after them,
// and alone when nothing needs invalidating, `tail` (`Status(Plan&)`:
// usually append_tail's cache maintenance). Each attempt is written into a
// copy of `plan`, which takes it only when it fits; an error other than
// out_of_range (the plan is full) ends the search.
// # Errors
// The last attempt's error, or the first that is not out_of_range; `plan`
// is then unchanged.
template <class Tail, class... Tlbis>
Status plan_first_fitting(const Pending& pending, Plan& plan, Tail&& tail, Tlbis&&... tlbis) {
  static_assert(sizeof...(Tlbis) > 0, "a baseline needs at least one way to write its TLBIs");
  const bool invalidate = pending.needs_invalidation();
  Status result = ok_status();
  const auto attempt = [&](auto& tlbi) {
    Plan out = plan;
    Status s = invalidate ? tlbi(out) : ok_status();
    if (s.ok()) s = tail(out);
    if (s.ok()) plan = out;
    result = s;
    // Go on with the next attempt only when this one ran out of room.
    return !s.ok() && s.error().code == Errc::out_of_range;
  };
  // Each attempt runs only while those before it ran out of room.
  [[maybe_unused]] const bool all_out_of_room = (attempt(tlbis) && ...);
  return result;
}

// The usual tail of plan_first_fitting: append_tail for `pending`.
inline auto common_tail(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features) {
  return [&pending, &space, &features](Plan& out) { return append_tail(pending, space, features, out); };
}

}  // namespace tlbkit::baselines
