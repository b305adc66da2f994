#include "support/coverage_oracle.hpp"

#include <algorithm>
#include <cstdio>
#include <span>
#include <string>
#include <utility>

namespace tlbkit::test {
namespace {

using arch::Instr;
using arch::Op;

constexpr std::uint64_t kPage = 4096;

// What the oracle knows of each instruction, written out here on purpose.
enum class Family { va, va_all, asid, vmall, range, range_all, ipa, ipa_range, vmalls12, alle1, va2, range2, alle2,
                    barrier, cache };

struct Known {
  Family family;
  bool leaf;
  bool broadcast;
};

Known know(Instr i) {
  switch (i) {
    case Instr::vae1is: return {Family::va, false, true};
    case Instr::vale1is: return {Family::va, true, true};
    case Instr::vaae1is: return {Family::va_all, false, true};
    case Instr::vaale1is: return {Family::va_all, true, true};
    case Instr::aside1is: return {Family::asid, false, true};
    case Instr::vmalle1is: return {Family::vmall, false, true};
    case Instr::vae1: return {Family::va, false, false};
    case Instr::vale1: return {Family::va, true, false};
    case Instr::vaae1: return {Family::va_all, false, false};
    case Instr::vaale1: return {Family::va_all, true, false};
    case Instr::aside1: return {Family::asid, false, false};
    case Instr::vmalle1: return {Family::vmall, false, false};
    case Instr::rvae1is: return {Family::range, false, true};
    case Instr::rvale1is: return {Family::range, true, true};
    case Instr::rvaae1is: return {Family::range_all, false, true};
    case Instr::rvaale1is: return {Family::range_all, true, true};
    case Instr::rvae1: return {Family::range, false, false};
    case Instr::rvale1: return {Family::range, true, false};
    case Instr::rvaae1: return {Family::range_all, false, false};
    case Instr::rvaale1: return {Family::range_all, true, false};
    case Instr::ipas2e1is: return {Family::ipa, false, true};
    case Instr::ipas2le1is: return {Family::ipa, true, true};
    case Instr::ripas2e1is: return {Family::ipa_range, false, true};
    case Instr::ripas2le1is: return {Family::ipa_range, true, true};
    case Instr::vmalls12e1is: return {Family::vmalls12, false, true};
    case Instr::alle1is: return {Family::alle1, false, true};
    case Instr::ipas2e1: return {Family::ipa, false, false};
    case Instr::ipas2le1: return {Family::ipa, true, false};
    case Instr::ripas2e1: return {Family::ipa_range, false, false};
    case Instr::ripas2le1: return {Family::ipa_range, true, false};
    case Instr::vmalls12e1: return {Family::vmalls12, false, false};
    case Instr::alle1: return {Family::alle1, false, false};
    case Instr::vae2is: return {Family::va2, false, true};
    case Instr::vale2is: return {Family::va2, true, true};
    case Instr::rvae2is: return {Family::range2, false, true};
    case Instr::rvale2is: return {Family::range2, true, true};
    case Instr::alle2is: return {Family::alle2, false, true};
    case Instr::vae2: return {Family::va2, false, false};
    case Instr::vale2: return {Family::va2, true, false};
    case Instr::rvae2: return {Family::range2, false, false};
    case Instr::rvale2: return {Family::range2, true, false};
    case Instr::alle2: return {Family::alle2, false, false};
    case Instr::ic_iallu:
    case Instr::ic_ialluis:
    case Instr::ic_ivau:
    case Instr::dc_civac: return {Family::cache, false, false};
    default: return {Family::barrier, false, false};
  }
}

bool is_tlbi(Instr i) { return know(i).family != Family::barrier && know(i).family != Family::cache; }
bool is_range(Family f) { return f == Family::range || f == Family::range_all || f == Family::ipa_range || f == Family::range2; }
bool is_by_address(Family f) { return f == Family::va || f == Family::va_all || f == Family::ipa || f == Family::va2; }
bool completes(Instr i) { return i == Instr::dsb_ish || i == Instr::dsb_sy; }
bool orders_writes(Instr i) { return i == Instr::dsb_ishst || completes(i); }

// Whether only the issuing PE may hold the space's entries: then local
// TLBIs reach every entry there is, and a DSB NSH completes them.
bool issuer_only(const maint::AddressSpace& space) {
  return space.reach.holders == maint::Holders::issuing_pe_only;
}
bool reaches_every_holder(const Known& k, const maint::AddressSpace& space) {
  return k.broadcast || issuer_only(space);
}
bool completes_for(Instr i, const maint::AddressSpace& space) {
  return completes(i) || (issuer_only(space) && i == Instr::dsb_nsh);
}

// Operand fields, straight from the bit layouts.
struct Fields {
  std::uint64_t asid = 0;
  unsigned ttl_granule = 0;  // by address: TTL[3:2]
  unsigned ttl_level = 0;    // by address: TTL[1:0]; range: bits 38:37
  unsigned tg = 0;           // range
  std::uint64_t start = 0;   // first byte named
  std::uint64_t end = 0;     // one past the last byte named
};

Fields fields_of(const Op& op, Family f) {
  Fields x;
  const std::uint64_t v = op.operand;
  x.asid = v >> 48;
  if (is_by_address(f)) {
    const unsigned ttl = static_cast<unsigned>((v >> 44) & 0xf);
    x.ttl_granule = ttl >> 2;
    x.ttl_level = ttl & 3;
    const std::uint64_t bits = f == Family::ipa ? (v & 0xf'ffff'ffff) : (v & 0xfff'ffff'ffff);
    x.start = bits << 12;
    x.end = x.start + kPage;
  } else if (is_range(f)) {
    x.tg = static_cast<unsigned>((v >> 46) & 3);
    const unsigned scale = static_cast<unsigned>((v >> 44) & 3);
    const std::uint64_t num = (v >> 39) & 0x1f;
    x.ttl_level = static_cast<unsigned>((v >> 37) & 3);
    x.start = (v & ((std::uint64_t{1} << 37) - 1)) << 12;
    x.end = x.start + ((num + 1) << (5 * scale + 1)) * kPage;
  }
  return x;
}

std::uint64_t level_bytes(unsigned level) { return std::uint64_t{1} << (12 + 9 * (3 - level)); }

std::string hex(std::uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(v));
  return b;
}

// Whether the union of `spans` covers [lo, hi).
bool covered(std::vector<std::pair<std::uint64_t, std::uint64_t>> spans, std::uint64_t lo, std::uint64_t hi) {
  std::sort(spans.begin(), spans.end());
  std::uint64_t reach = lo;
  for (const auto& [a, b] : spans) {
    if (a > reach) break;
    reach = std::max(reach, b);
    if (reach >= hi) return true;
  }
  return reach >= hi;
}

struct Context {
  const std::vector<Op>& ops;
  const maint::Pending& pending;
  const maint::AddressSpace& space;
  const arch::CpuFeatures& features;
  std::vector<std::string>& problems;
};

// Families that remove stage-1-style entries of the space's regime by address.
bool regime_family(arch::Regime regime, Family f) {
  switch (regime) {
    case arch::Regime::el1_stage1: return f == Family::va || f == Family::va_all || f == Family::range || f == Family::range_all;
    case arch::Regime::el2_stage1: return f == Family::va2 || f == Family::range2;
    case arch::Regime::stage2: return f == Family::ipa || f == Family::ipa_range;
  }
  return false;
}

bool wide_for(const Context& c, Family f) {
  switch (c.space.regime) {
    case arch::Regime::el1_stage1:
      if (f == Family::vmall) return true;
      return f == Family::asid && c.space.global == maint::GlobalEntries::absent;
    case arch::Regime::el2_stage1: return f == Family::alle2;
    case arch::Regime::stage2: return f == Family::vmalls12 || f == Family::alle1;
  }
  return false;
}

// Spans of input addresses that op `i` removes entries of `entry` kind at
// `level` from (empty when it removes none of them).
void add_spans(const Context& c, std::size_t i, const maint::PendingRange& r,
               std::vector<std::pair<std::uint64_t, std::uint64_t>>& spans, bool& everything) {
  const unsigned level = r.level;
  const Op& op = c.ops[i];
  const Known k = know(op.instr);
  if (!is_tlbi(op.instr) || !reaches_every_holder(k, c.space)) return;
  if (wide_for(c, k.family)) {
    if (k.family == Family::asid && (op.operand >> 48) != c.space.asid) return;
    everything = true;
    return;
  }
  if (!regime_family(c.space.regime, k.family)) return;
  const Fields f = fields_of(op, k.family);
  if ((k.family == Family::va || k.family == Family::range) && f.asid != c.space.asid) return;
  if (r.entry == pt::EntryKind::table) {
    if (k.leaf) return;
    const bool hinted = is_range(k.family) ? f.ttl_level != 0 : (f.ttl_granule != 0 || f.ttl_level != 0);
    if (hinted) return;
    if (r.beneath == pt::Beneath::reported) {
      // Only the table descriptor's walk-cache entry is owed, and every
      // address of its slot uses it: any one retires the whole slot.
      const std::uint64_t size = level_bytes(level);
      spans.emplace_back(f.start & ~(size - 1), (f.end + size - 1) & ~(size - 1));
      return;
    }
    spans.emplace_back(f.start, f.end);
    return;
  }
  // A leaf entry at `level`: a TTL must name exactly that level (4K granule).
  if (is_range(k.family)) {
    if (f.ttl_level != 0 && f.ttl_level != level) return;
  } else if (f.ttl_granule != 0 || f.ttl_level != 0) {
    if (f.ttl_granule != 1 || f.ttl_level != level) return;
  }
  // Any address inside an entry retires it: widen to whole entries.
  const std::uint64_t size = level_bytes(level);
  spans.emplace_back(f.start & ~(size - 1), (f.end + size - 1) & ~(size - 1));
}

void check_ranges(const Context& c, std::size_t last_tlbi, std::span<const maint::PendingRange> ranges) {
  for (const maint::PendingRange& r : ranges) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
    bool everything = false;
    for (std::size_t i = 0; i <= last_tlbi && i < c.ops.size(); ++i) add_spans(c, i, r, spans, everything);
    if (!everything && !covered(spans, r.va, r.va + r.size)) {
      c.problems.push_back("changed " + std::string(r.entry == pt::EntryKind::table ? "table" : "leaf") +
                           " entries at level " + std::to_string(r.level) + " in [" + hex(r.va) + ", " +
                           hex(r.va + r.size) + ") are not all invalidated");
    }
  }
}

void check_everything(const Context& c) {
  bool wide = false;
  for (const Op& op : c.ops) {
    const Known k = know(op.instr);
    if (is_tlbi(op.instr) && reaches_every_holder(k, c.space) && wide_for(c, k.family) &&
        !(k.family == Family::asid && (op.operand >> 48) != c.space.asid)) {
      wide = true;
    }
  }
  if (!wide) c.problems.push_back("the changes overflowed: only a space-wide invalidation covers them");
}

void check_combined_stage2(const Context& c) {
  std::size_t last_ipa = 0;
  bool any_ipa = false;
  bool combined_by_wide = false;
  for (std::size_t i = 0; i < c.ops.size(); ++i) {
    const Known k = know(c.ops[i].instr);
    if (k.family == Family::ipa || k.family == Family::ipa_range) {
      last_ipa = i;
      any_ipa = true;
    }
    if (reaches_every_holder(k, c.space) && (k.family == Family::vmalls12 || k.family == Family::alle1)) {
      combined_by_wide = true;
    }
  }
  if (combined_by_wide || !any_ipa) return;
  bool dsb_after_ipa = false;
  for (std::size_t i = last_ipa + 1; i < c.ops.size(); ++i) {
    if (completes_for(c.ops[i].instr, c.space)) dsb_after_ipa = true;
    const Known k = know(c.ops[i].instr);
    if (k.family == Family::vmall && reaches_every_holder(k, c.space) && dsb_after_ipa) return;
  }
  c.problems.push_back("stage-2 IPA invalidation is not followed by DSB ISH; TLBI VMALLE1IS for combined entries");
}

void check_clean(const Context& c, std::size_t tlbi_done) {
  const std::uint64_t line = c.features.dcache_line == 0 ? 64 : c.features.dcache_line;
  std::size_t last_dc = 0;
  for (const maint::PhysRange& r : c.pending.clean) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
    for (std::size_t i = tlbi_done; i < c.ops.size(); ++i) {
      if (c.ops[i].instr != Instr::dc_civac) continue;
      const std::uint64_t va = c.ops[i].operand & ~(line - 1);
      spans.emplace_back(va, va + line);
      last_dc = std::max(last_dc, i);
    }
    const std::uint64_t lo = r.pa + c.space.linear_map_offset;
    if (!covered(spans, lo, lo + r.size)) {
      c.problems.push_back("memory [" + hex(r.pa) + ", " + hex(r.pa + r.size) +
                           ") is not cleaned after the invalidation completed");
    }
  }
  if (c.pending.clean.empty()) return;
  bool dsb = false;
  for (std::size_t i = last_dc + 1; i < c.ops.size(); ++i) dsb = dsb || completes(c.ops[i].instr);
  if (!dsb) c.problems.push_back("no DSB ISH after the data-cache maintenance");
}

void check_icache(const Context& c) {
  if (c.pending.exec != maint::ExecGain::yes) return;
  int state = 0;  // 0: want IC IALLUIS, 1: want DSB, 2: want ISB, 3: done
  for (const Op& op : c.ops) {
    if (state == 0 && op.instr == Instr::ic_ialluis) state = 1;
    else if (state == 1 && completes(op.instr)) state = 2;
    else if (state == 2 && op.instr == Instr::isb) state = 3;
  }
  if (state != 3) c.problems.push_back("execute permission gained without IC IALLUIS; DSB ISH; ISB");
}

}  // namespace

std::vector<arch::Op> expand(const Plan& plan) { return {plan.ops().begin(), plan.ops().end()}; }

std::vector<std::string> plan_problems(const std::vector<arch::Op>& ops, const maint::Pending& pending,
                                       const maint::AddressSpace& space, const arch::CpuFeatures& features) {
  std::vector<std::string> problems;
  const Context c{ops, pending, space, features, problems};
  std::size_t first_tlbi = ops.size();
  std::size_t last_tlbi = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Known k = know(ops[i].instr);
    if (!is_tlbi(ops[i].instr)) continue;
    first_tlbi = std::min(first_tlbi, i);
    last_tlbi = i;
    if (!reaches_every_holder(k, space)) {
      problems.push_back("op " + std::to_string(i) + " is a local TLBI: other PEs keep stale entries");
    }
    const Fields f = fields_of(ops[i], k.family);
    if (is_range(k.family)) {
      if (features.tlbi_range != arch::Presence::present) {
        problems.push_back("op " + std::to_string(i) + " is a range TLBI without FEAT_TLBIRANGE");
      }
      if (f.tg != 1) problems.push_back("op " + std::to_string(i) + " has TG other than 4K");
      // The range operand's TTL field (38:37) belongs to FEAT_TLBIRANGE, not
      // FEAT_TTL (docs/ARCHITECTURE-FACTS.md section 1): Linux sets it
      // whatever FEAT_TTL says.
    } else if (is_by_address(k.family) && (f.ttl_granule != 0 || f.ttl_level != 0) &&
               features.ttl != arch::Presence::present) {
      problems.push_back("op " + std::to_string(i) + " has a TTL hint without FEAT_TTL");
    }
  }
  const bool needs = pending.needs_invalidation();
  if (needs && first_tlbi == ops.size()) {
    problems.push_back("no TLBI at all");
    return problems;
  }
  std::size_t tlbi_done = ops.size();
  if (first_tlbi < ops.size()) {
    bool ordered = false;
    for (std::size_t i = 0; i < first_tlbi; ++i) ordered = ordered || orders_writes(ops[i].instr);
    if (!ordered) problems.push_back("no DSB ISHST before the first TLBI: a walker may refill the old entry");
    for (std::size_t i = last_tlbi + 1; i < ops.size() && tlbi_done == ops.size(); ++i) {
      if (completes_for(ops[i].instr, space)) tlbi_done = i;
    }
    if (tlbi_done == ops.size()) problems.push_back("no DSB ISH after the last TLBI: it may not have completed");
  } else {
    tlbi_done = 0;
  }
  if (pending.coverage == maint::Coverage::everything && !pending.overflowed.empty()) {
    // An overflow with its extent: every change lies in it, at the levels
    // it names; a table among them may have had anything below it.
    const maint::Extent& x = pending.overflowed;
    std::vector<maint::PendingRange> owed;
    for (std::uint8_t level = 0; level <= 3; ++level) {
      if ((x.leaf_levels & (1u << level)) != 0) {
        owed.push_back(maint::PendingRange{x.start, x.end - x.start, level, pt::EntryKind::leaf});
      }
      if ((x.table_levels & (1u << level)) != 0) {
        owed.push_back(maint::PendingRange{x.start, x.end - x.start, level, pt::EntryKind::table});
      }
    }
    check_ranges(c, last_tlbi, owed);
  } else if (pending.coverage == maint::Coverage::everything) {
    check_everything(c);
  } else if (needs) {
    check_ranges(c, last_tlbi, c.pending.ranges);
  }
  if (needs && space.regime == arch::Regime::stage2) check_combined_stage2(c);
  check_clean(c, tlbi_done);
  check_icache(c);
  return problems;
}

}  // namespace tlbkit::test
