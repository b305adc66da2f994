// sim::Machine, the checkers: visibility (an access served by a stale
// translation), break-before-make (a descriptor rewritten while an entry
// filled from it is held), use-after-free (a table or data page released
// while an entry still references it).
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "machine_internal.hpp"

namespace tlbkit::sim {

using arch::Regime;
using detail::holds_stage2_leaf;
using detail::kPage;

namespace {

// `all`, each translation once (the L1s hold copies of L2
// entries).
std::vector<TlbEntry> distinct(std::vector<TlbEntry> all) {
  std::vector<TlbEntry> out;
  for (const TlbEntry& e : all) {
    const bool seen = std::any_of(out.begin(), out.end(), [&](const TlbEntry& o) {
      return o.kind == e.kind && o.stage == e.stage && o.input == e.input && o.size == e.size &&
             o.output == e.output && o.asid == e.asid && o.vmid == e.vmid;
    });
    if (!seen) out.push_back(e);
  }
  return out;
}

std::string describe(const TlbEntry& e) {
  const char* what = e.stage == EntryStage::stage2 ? "stage-2 "
                     : e.stage == EntryStage::combined ? "combined "
                                                       : "";
  return fmt::format("{}{:#x}+{:#x} -> {:#x} (level {}, perms {:#x})", what, e.input, e.size, e.output, e.level,
                     e.permissions);
}

// One descriptor an entry was filled from.
struct HeldDescriptor {
  Regime regime;
  unsigned level;
  Descriptor value;
  PhysAddr at;
};

// The descriptors `e` was filled from: its own, and a combined leaf's
// stage-2 leaf.
std::vector<HeldDescriptor> held_descriptors(const TlbEntry& e) {
  std::vector<HeldDescriptor> out{{e.regime, e.level, e.descriptor, e.descriptor_pa}};
  if (holds_stage2_leaf(e)) out.push_back({Regime::stage2, e.s2_level, e.s2_descriptor, e.s2_descriptor_pa});
  return out;
}

// The physical table page a walk entry points at (combined walk entries
// hold an IPA: the page it translated to when filled).
PhysAddr walk_table_pa(const TlbEntry& e) {
  return e.stage == EntryStage::combined ? e.table_pa : e.output;
}

}  // namespace

void Machine::before_free(PhysAddr base, unsigned pages) {
  sync();
  check_release(base, std::uint64_t{pages} * kPage, Released::table_page);
  for (unsigned i = 0; i < pages; ++i) {
    const PhysAddr page = base + i * kPage;
    published_.erase(page);
    watched_.erase(page);
    unpublished_.erase(page);
  }
}

void Machine::check_visibility(unsigned pe, VirtAddr va, const TlbEntry& used) {
  const std::optional<TlbEntry>& now = current_truth(*pes_[pe]->context, va);
  if (!now) {
    report(ViolationKind::stale_translation, pe, va, used, std::nullopt,
           fmt::format("PE {} used {} for {:#x}, which the tables no longer map", pe, describe(used), va));
    return;
  }
  if (!detail::stale_use(used, va, now)) return;
  report(ViolationKind::stale_translation, pe, va, used, *now,
         fmt::format("PE {} used {} for {:#x}; the tables say {}", pe, describe(used), va, describe(*now)));
}

void Machine::check_descriptor_changes(const std::vector<DescriptorWrite>& writes) {
  const auto write_at = [&](PhysAddr at) -> const DescriptorWrite* {
    const auto it = std::lower_bound(writes.begin(), writes.end(), at,
                                     [](const DescriptorWrite& w, PhysAddr a) { return w.at < a; });
    return it != writes.end() && it->at == at ? &*it : nullptr;
  };
  // A write of an invalid descriptor is the break: nothing is wrong yet.
  const auto valid_write_at = [&](PhysAddr at) -> const DescriptorWrite* {
    const DescriptorWrite* w = write_at(at);
    return w != nullptr && (w->new_value & arch::kValidBit) != 0 ? w : nullptr;
  };
  for (unsigned pe = 0; pe < pes(); ++pe) {
    std::vector<TlbEntry> rewritten;
    const Pe& p = *pes_[pe];
    for (const Tlb* t : {&p.l1i, &p.l1d, &p.l2}) {
      t->for_each([&](const TlbEntry& e) {
        if (valid_write_at(e.descriptor_pa) != nullptr ||
            (holds_stage2_leaf(e) && valid_write_at(e.s2_descriptor_pa) != nullptr)) {
          rewritten.push_back(e);
        }
      });
    }
    for (const TlbEntry& e : distinct(std::move(rewritten))) {
      for (const HeldDescriptor& held : held_descriptors(e)) {
        const DescriptorWrite* w = valid_write_at(held.at);
        if (w == nullptr || arch::update_rule(held.regime, held.level, held.value, w->new_value) !=
                                arch::UpdateRule::break_before_make) {
          continue;
        }
        const bool size_only = arch::is_table(held.value, held.level) != arch::is_table(w->new_value, held.level);
        if (size_only && options_.bbm == arch::BbmLevel::level2) continue;
        report(ViolationKind::break_before_make, pe, e.input, e, std::nullopt,
               fmt::format("{} descriptor at {:#x} rewritten {:#x} -> {:#x} without break-before-make while PE {} "
                           "holds {}",
                           held.regime == Regime::stage2 ? "stage-2" : "stage-1", w->at, w->old_value, w->new_value,
                           pe, describe(e)));
        break;  // one report per entry
      }
    }
  }
}

void Machine::check_release(PhysAddr base, std::uint64_t size, Released released) {
  const char* what = released == Released::table_page ? "table page" : "data page";
  for (unsigned pe = 0; pe < pes(); ++pe) {
    std::vector<TlbEntry> into_it;
    const Pe& p = *pes_[pe];
    for (const Tlb* t : {&p.l1i, &p.l1d, &p.l2}) {
      t->for_each([&](const TlbEntry& e) {
        bool hit = false;
        if (e.kind == CachedKind::walk) {
          hit = walk_table_pa(e) - base < size;
        } else if (released == Released::data_page || e.stage == EntryStage::stage1) {
          // A guest's table page is guest memory: stage 2 (and the guest's
          // own combined mappings) may map it before and after the guest
          // frees it as a table. Only walk entries make that free unsafe.
          hit = e.output < base + size && base < e.output + e.size;
        }
        if (hit) into_it.push_back(e);
      });
    }
    for (const TlbEntry& e : distinct(std::move(into_it))) {
      report(ViolationKind::use_after_free, pe, e.input, e, std::nullopt,
             fmt::format("{} {:#x}+{:#x} released while PE {} still holds {} ({})", what, base, size, pe,
                         describe(e), e.kind == CachedKind::walk ? "walk-cache entry" : "translation"));
    }
  }
}

void Machine::release(PhysAddr pa, std::uint64_t size) {
  sync();
  check_release(pa, size, Released::data_page);
}

}  // namespace tlbkit::sim

namespace tlbkit::sim {

// ---- the instruction-cache checker -------------------------------------------

using arch::Instr;

void Machine::contents_written(PhysAddr pa, std::uint64_t size) {
  if (size == 0) return;
  ++code_epoch_;
  for (PhysAddr page = pa & ~(kPage - 1); page < pa + size; page += kPage) code_written_[page] = code_epoch_;
}

void Machine::check_fetch(unsigned pe, VirtAddr va, PhysAddr pa) {
  Pe& p = *pes_[pe];
  const PhysAddr page = pa & ~(kPage - 1);
  const auto written = code_written_.find(page);
  if (written == code_written_.end() || written->second <= p.icache_synced) return;
  std::uint64_t& reported = p.icache_reported[page];
  if (reported == written->second) return;
  reported = written->second;
  report(ViolationKind::stale_instruction, pe, va, std::nullopt, std::nullopt,
         fmt::format("PE {} fetched from {:#x} (page {:#x}), whose contents the kernel rewrote after PE {}'s "
                     "instruction cache was last invalidated",
                     pe, va, page, pe));
}

void Machine::note_icache_invalidate(unsigned pe, const arch::Op& op) {
  switch (op.instr) {
    case Instr::ic_iallu: pes_[pe]->icache_synced = code_epoch_; return;
    case Instr::ic_ialluis:
      for (auto& p : pes_) p->icache_synced = code_epoch_;
      return;
    case Instr::ic_ivau: {
      // By VA, to the Point of Unification, Inner Shareable: the page the
      // issuing PE's current translation gives, on every PE.
      const Pe& p = *pes_[pe];
      if (!p.context) return;
      const std::optional<TlbEntry>& t = current_truth(*p.context, op.operand);
      if (!t) return;
      code_written_.erase((t->output + (op.operand - t->input)) & ~(kPage - 1));
      return;
    }
    default: return;
  }
}

}  // namespace tlbkit::sim
