// KVM arm64 stage-2 and hyp stage-1 TLB maintenance at 6.5 and 6.12: the
// behaviour, the sources read and what is left out are in
// tlbkit/baselines/kvm.hpp and docs/baselines/kvm.md.
#include "tlbkit/baselines/kvm.hpp"

#include "common.hpp"
#include "tlbkit/baselines/linux.hpp"

namespace tlbkit::baselines {
namespace {

using Version = KvmPolicy::Version;
using TableHint = KvmPolicy::TableHint;
using maint::Beneath;
using maint::CallKind;

// stage2_apply_range cuts a request at kvm_granule_size(KVM_PGTABLE_MIN_BLOCK_LEVEL):
// 1 GiB with 4 KiB pages, each piece its own kvm_pgtable_stage2_unmap.
constexpr std::uint64_t kApplyChunk = std::uint64_t{1} << 30;

std::uint64_t level_bytes(unsigned level) { return std::uint64_t{1} << (12 + 9 * (3 - level)); }

// What a plan of one batch depends on.
struct Model {
  Version version;
  TableHint hint;
  const Pending& pending;
  const AddressSpace& space;
  const arch::CpuFeatures& features;

  bool range_ops() const { return features.tlbi_range == Presence::present; }
  // stage2_unmap_defer_tlb_flush (6.12): FEAT_TLBIRANGE and FWB.
  bool defer_unmap() const {
    return version == Version::v6_12 && range_ops() && features.fwb == Presence::present;
  }
  // The barrier ahead of a hyp TLBI call: DSB ISHST before the VMID switch
  // (6.5), DSB ISH inside enter_vmid_context (6.12).
  Instr lead() const { return version == Version::v6_5 ? Instr::dsb_ishst : Instr::dsb_ish; }
  // The TTL of a flushed table entry: none, except 6.5 as released (its own
  // level: known bug 10).
  arch::Ttl table_ttl(unsigned level) const {
    const bool hinted = version == Version::v6_5 && hint == TableHint::as_released;
    return ttl_for(features, hinted, level);
  }
};

// Makes the steps from `before` on a loop body run `times` times, operands
// (IPA or VA >> 12) `stride` bytes further each time.
Status repeat_from(Plan& plan, std::size_t before, std::uint64_t times, std::uint64_t stride) {
  if (times > UINT32_MAX) return Error{Errc::out_of_range, "loop too long for one plan group"};
  return plan.repeat_last(plan.steps().size() - before, static_cast<std::uint32_t>(times), stride >> 12);
}

// __kvm_tlb_flush_vmid_ipa for `count` entries from `ipa`, `stride` apart:
// DSB lead; IPAS2E1IS ipa>>12|ttl; DSB ISH; VMALLE1IS; DSB ISH; ISB per entry.
Status append_vmid_ipa(const Model& m, VirtAddr ipa, std::uint64_t count, std::uint64_t stride, arch::Ttl ttl,
                       Plan& plan) {
  if (count == 0) return ok_status();
  const std::size_t before = plan.steps().size();
  Status s = append_instrs(plan, {m.lead()});
  if (!s.ok()) return s;
  s = plan.append(by_va_op(m.space, Form{}, ipa, ttl));
  if (!s.ok()) return s;
  s = append_instrs(plan, {Instr::dsb_ish, Instr::vmalle1is, Instr::dsb_ish, Instr::isb});
  if (!s.ok()) return s;
  return repeat_from(plan, before, count, stride);
}

// __kvm_tlb_flush_vmid: DSB lead; VMALLS12E1IS; DSB ISH; ISB.
Status append_vmid(const Model& m, Plan& plan) {
  return append_instrs(plan, {m.lead(), Instr::vmalls12e1is, Instr::dsb_ish, Instr::isb});
}

// __kvm_tlb_flush_vmid_range (6.12) over `pages` (<= 2^21) pages from `ipa`:
// DSB ISH; __flush_s2_tlb_range_op with TLBI_TTL_UNKNOWN; DSB ISH;
// VMALLE1IS; DSB ISH; ISB.
Status append_vmid_range_call(const Model& m, VirtAddr ipa, std::uint64_t pages, Plan& plan) {
  Status s = append_instrs(plan, {m.lead()});
  if (!s.ok()) return s;
  s = append_range_exact(ipa, pages, m.space, Form{}, 0, arch::kNoTtl, plan);
  if (!s.ok()) return s;
  return append_instrs(plan, {Instr::dsb_ish, Instr::vmalle1is, Instr::dsb_ish, Instr::isb});
}

// kvm_tlb_flush_vmid_range (6.12): without TLBIRANGE one __kvm_tlb_flush_vmid;
// with it one hyp call per chunk of at most MAX_TLBI_RANGE_PAGES pages.
Status append_kvm_tlb_flush_vmid_range(const Model& m, VirtAddr ipa, std::uint64_t size, Plan& plan) {
  if (!m.range_ops()) return append_vmid(m, plan);
  std::uint64_t pages = size / kPage;
  while (pages > 0) {
    const std::uint64_t chunk = pages < arch::kMaxRangePages ? pages : arch::kMaxRangePages;
    const Status s = append_vmid_range_call(m, ipa, chunk, plan);
    if (!s.ok()) return s;
    ipa += chunk * kPage;
    pages -= chunk;
  }
  return ok_status();
}

// Calls `flush(start, end)` for each input range the system flushes as one
// request: the span of the call the kernel noted, when it is of `kind` and
// holds every pending range; else each run of adjacent pending ranges.
template <class Flush>
Status for_each_request(const Model& m, CallKind kind, Flush flush) {
  const maint::CallSpan& call = m.pending.call;
  const VirtAddr call_start = call.start & ~(kPage - 1);
  const VirtAddr call_end = (call.end + kPage - 1) & ~(kPage - 1);
  bool call_holds_all = call.kind == kind && call_start < call_end;
  for (const PendingRange& r : m.pending.ranges) {
    if (r.va < call_start || r.va + r.size > call_end) call_holds_all = false;
  }
  if (call_holds_all) return flush(call_start, call_end);
  bool open = false;
  VirtAddr start = 0;
  VirtAddr end = 0;
  for (const PendingRange& r : m.pending.ranges) {
    const VirtAddr lo = r.va & ~(kPage - 1);
    const VirtAddr hi = (r.va + r.size + kPage - 1) & ~(kPage - 1);
    if (open && lo == end) {
      end = hi;
      continue;
    }
    if (open) {
      const Status s = flush(start, end);
      if (!s.ok()) return s;
    }
    open = true;
    start = lo;
    end = hi;
  }
  return open ? flush(start, end) : ok_status();
}

// The unmap walker (stage2_put_pte at 6.5, stage2_unmap_put_pte at 6.12),
// then 6.12's deferred flush after the walk.
Status append_unmap_walk(const Model& m, Plan& plan) {
  const bool defer = m.defer_unmap();
  for (const PendingRange& r : m.pending.ranges) {
    const std::uint64_t entry = level_bytes(r.level);
    if (r.entry == EntryKind::leaf) {
      if (defer) continue;
      const Status s = append_vmid_ipa(m, r.va & ~(entry - 1), loop_count(r, entry), entry,
                                       ttl_for(m.features, true, r.level), plan);
      if (!s.ok()) return s;
      continue;
    }
    // A table unhooked whole: the leaves KVM's walker flushes below it
    // (levels unknown here: every page, no hint), unless deferred.
    if (r.beneath == Beneath::unseen && !defer) {
      const Status s = append_vmid_ipa(m, r.va & ~(kPage - 1), loop_count(r, kPage), kPage, arch::kNoTtl, plan);
      if (!s.ok()) return s;
    }
    // The table entries themselves: never deferred.
    const Status s = append_vmid_ipa(m, r.va & ~(entry - 1), loop_count(r, entry), entry, m.table_ttl(r.level), plan);
    if (!s.ok()) return s;
  }
  if (!defer) return ok_status();
  // kvm_pgtable_stage2_unmap's kvm_tlb_flush_vmid_range over the requested
  // range, once per stage2_apply_range piece.
  return for_each_request(m, CallKind::unmap, [&](VirtAddr start, VirtAddr end) {
    while (start < end) {
      const VirtAddr piece_end = (start & ~(kApplyChunk - 1)) + kApplyChunk;
      const VirtAddr stop = piece_end < end ? piece_end : end;
      const Status s = append_kvm_tlb_flush_vmid_range(m, start, stop - start, plan);
      if (!s.ok()) return s;
      start = stop;
    }
    return ok_status();
  });
}

// Write-protect in place (no TLBI in the walker), then the memslot flush:
// kvm_flush_remote_tlbs (6.5) or kvm_flush_remote_tlbs_memslot (6.12).
Status append_write_protect(const Model& m, Plan& plan) {
  if (m.version == Version::v6_5 || !m.range_ops()) return append_vmid(m, plan);
  return for_each_request(m, CallKind::protect, [&](VirtAddr start, VirtAddr end) {
    return append_kvm_tlb_flush_vmid_range(m, start, end - start, plan);
  });
}

Status append_stage2(const Model& m, Plan& plan) {
  if (m.pending.coverage == Coverage::everything) return append_vmid(m, plan);
  if (m.pending.call.kind == CallKind::protect) return append_write_protect(m, plan);
  return append_unmap_walk(m, plan);
}

// hyp_unmap_walker for `count` entries from `va`, `stride` apart:
// DSB ISHST; `instr` va>>12|ttl; DSB ISH; ISB per entry.
Status append_hyp_entries(const Model& m, bool leaf, VirtAddr va, std::uint64_t count, std::uint64_t stride,
                          arch::Ttl ttl, Plan& plan) {
  if (count == 0) return ok_status();
  const std::size_t before = plan.steps().size();
  Status s = append_instrs(plan, {Instr::dsb_ishst});
  if (!s.ok()) return s;
  s = plan.append(by_va_op(m.space, Form{leaf, false}, va, ttl));
  if (!s.ok()) return s;
  s = append_instrs(plan, {Instr::dsb_ish, Instr::isb});
  if (!s.ok()) return s;
  return repeat_from(plan, before, count, stride);
}

Status append_hyp_flush_all(Plan& plan) {
  return append_instrs(plan, {Instr::dsb_ishst, Instr::alle2is, Instr::dsb_ish, Instr::isb});
}

// kvm_pgtable_hyp_unmap: VALE2IS per leaf (TTL its level), VAE2IS per
// emptied table (6.12: no TTL).
Status append_el2(const Model& m, Plan& plan) {
  if (m.pending.coverage == Coverage::everything) return append_hyp_flush_all(plan);
  for (const PendingRange& r : m.pending.ranges) {
    const std::uint64_t entry = level_bytes(r.level);
    Status s = ok_status();
    if (r.entry == EntryKind::leaf) {
      s = append_hyp_entries(m, true, r.va & ~(entry - 1), loop_count(r, entry), entry,
                             ttl_for(m.features, true, r.level), plan);
    } else {
      if (r.beneath == Beneath::unseen) {
        s = append_hyp_entries(m, false, r.va & ~(kPage - 1), loop_count(r, kPage), kPage, arch::kNoTtl, plan);
      }
      if (s.ok()) {
        s = append_hyp_entries(m, false, r.va & ~(entry - 1), loop_count(r, entry), entry, m.table_ttl(r.level),
                               plan);
      }
    }
    if (!s.ok()) return s;
  }
  return ok_status();
}

// The guest's own stage 1 (not KVM's): Linux-style per VA below
// MAX_DVM_OPS, else the ASID (VMALLE1IS with global entries).
Status append_el1(const Model& m, Plan& plan) {
  const bool global = m.space.global == GlobalEntries::present;
  Shape shape = global ? Shape::full : Shape::space_wide;
  if (m.pending.coverage == Coverage::exact && maint::pending_entries(m.pending) < LinuxPolicy::kMaxDvmOps) {
    shape = Shape::per_va;
  }
  return maint::append_shape(shape, m.pending, m.space, m.features, plan);
}

// Stage 2's cache maintenance after the TLBIs: dcache_clean_inval_poc of
// the unmapped memory (DC CIVAC per line, then DSB SY), then the I-cache
// for exec gained (IC IALLUIS; DSB ISH; ISB).
Status append_stage2_tail(const Model& m, Plan& plan) {
  if (!m.pending.clean.empty()) {
    const std::uint64_t line = m.features.dcache_line == 0 ? 64 : m.features.dcache_line;
    for (const maint::PhysRange& r : m.pending.clean) {
      const Result<arch::Op> op = arch::encode_address(Instr::dc_civac, r.pa + m.space.linear_map_offset);
      if (!op.ok()) return op.error();
      const std::uint64_t lines = (r.size + line - 1) / line;
      if (lines > UINT32_MAX) return Error{Errc::out_of_range, "too many lines for one plan step"};
      const Status s = plan.append_repeated(*op, static_cast<std::uint32_t>(lines), line);
      if (!s.ok()) return s;
    }
    const Status s = append_instrs(plan, {Instr::dsb_sy});
    if (!s.ok()) return s;
  }
  return maint::append_icache(m.pending, plan);
}

}  // namespace

Status KvmPolicy::plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                       Plan& plan) const {
  const Model m{version_, table_hint_, pending, space, features};
  const auto tail = [&](Plan& out) {
    if (space.regime == Regime::stage2) return append_stage2_tail(m, out);
    return append_tail(pending, space, features, out);
  };
  return plan_first_fitting(
      pending, plan, tail,
      [&](Plan& out) {
        switch (space.regime) {
          case Regime::stage2: return append_stage2(m, out);
          case Regime::el2_stage1: return append_el2(m, out);
          case Regime::el1_stage1: return append_el1(m, out);
        }
        return Status{Error{Errc::invalid_argument, "unknown regime"}};
      },
      [&](Plan& out) {
        switch (space.regime) {
          case Regime::stage2: return append_vmid(m, out);
          case Regime::el2_stage1: return append_hyp_flush_all(out);
          case Regime::el1_stage1: return append_space_flush(space, false, {Instr::dsb_ish, Instr::isb}, out);
        }
        return Status{Error{Errc::invalid_argument, "unknown regime"}};
      });
}

}  // namespace tlbkit::baselines
