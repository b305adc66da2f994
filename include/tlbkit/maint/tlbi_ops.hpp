// The by-address TLBI operations every plan writer builds (the planner's
// shapes, SimplePolicy and the baseline policies): which instruction for a
// regime and form, and its encoded operand. For every policy that writes plans.
#pragma once

#include <cstdint>

#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/maint/policy.hpp"

namespace tlbkit::maint {

inline constexpr std::uint64_t kPage = 4096;

// Which by-address form: leaf-only ("L") or not, all ASIDs ("AA", EL1&0
// only) or the space's ASID.
struct Form {
  bool leaf = false;
  bool all_asid = false;
};

// Leaf-only forms and TTL hints are legal only when no table entry changed:
// a freed table may sit in a walk cache (known bugs 6, 7, 10 in docs/KNOWN-BUGS.md).
inline bool leaf_ok(const Pending& p) { return !p.tables_changed(); }

// Inline, as are needed_pages() and loop_count(): the planner sums them
// over every pending range of a batch.
namespace detail {
inline std::uint64_t level_bytes(unsigned level) { return std::uint64_t{1} << (12 + 9 * (3 - level)); }
inline bool walk_only(const PendingRange& r) {
  return r.entry == EntryKind::table && r.beneath == Beneath::reported;
}
}  // namespace detail

// Ops of a loop over `r` at `stride` bytes (the start rounded down to it).
inline std::uint64_t loop_count(const PendingRange& r, std::uint64_t stride) {
  const VirtAddr first = r.va & ~(stride - 1);
  // Count rather than compare addresses: a TTBR1 range may end at 2^64.
  return (r.va - first + r.size + stride - 1) / stride;
}

// Bytes one per-entry op retires: the entry size of a leaf range; a page
// under a changed table entry (leaves of any size may be cached below it),
// or the table entry's whole span when only its walk-cache entry is owed
// (Beneath::reported: one non-leaf op per table).
inline std::uint64_t entry_bytes(const PendingRange& r) {
  return r.entry == EntryKind::leaf || detail::walk_only(r) ? detail::level_bytes(r.level) : kPage;
}

// Pages whose cached entries `r` requires removed: its pages, or one per
// table entry when only walk-cache entries are owed (nothing else under an
// emptied table's span translates any more).
inline std::uint64_t needed_pages(const PendingRange& r) {
  return detail::walk_only(r) ? loop_count(r, detail::level_bytes(r.level)) : r.size / kPage;
}

arch::Instr by_va_instr(arch::Regime regime, Form form);
arch::Instr range_instr(arch::Regime regime, Form form);

// The TTL hint for an entry at `level`: none unless `hint`, FEAT_TTL is
// present and the level is 1..3.
arch::Ttl ttl_for(const arch::CpuFeatures& features, bool hint, unsigned level);

// The by-VA (EL1&0, EL2) or by-IPA (stage 2) op for `va` in `space`.
Result<arch::Op> by_va_op(const AddressSpace& space, Form form, VirtAddr va, arch::Ttl ttl);
// The range op of `piece` from `base` in `space`; ttl_level 0: no hint.
Result<arch::Op> range_op(const AddressSpace& space, Form form, VirtAddr base, arch::RangePiece piece,
                          unsigned ttl_level);

// The smallest single range op covering at least `pages` (<= 2^21) pages.
arch::RangePiece rounded_piece(std::uint64_t pages);

}  // namespace tlbkit::maint
