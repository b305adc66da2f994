// sim::Machine: construction, translation contexts, observing table
// writes (sync, publish, operations) and reporting violations. The rest
// is split by job behind machine_internal.hpp: translation.cpp (the access
// path and walks), checkers.cpp, maintenance.cpp.
#include "tlbkit/sim/machine.hpp"

#include <memory>
#include <string>
#include <vector>

#include "machine_internal.hpp"

namespace tlbkit::sim {

using arch::Regime;
using detail::kPage;
using detail::leaf_key_of;

const char* violation_kind_name(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::stale_translation: return "stale-translation";
    case ViolationKind::break_before_make: return "break-before-make";
    case ViolationKind::use_after_free: return "use-after-free";
    case ViolationKind::stale_instruction: return "stale-instruction";
  }
  return "?";
}

Machine::Machine(PhysicalMemory& memory, const Profile& profile, MachineOptions options)
    : memory_(memory), profile_(profile), options_(options) {
  if (options_.drop.every == 0) options_.drop.every = 1;  // "every 0th" read as every one
  const unsigned count = options.pes == 0 ? profile.pes : options.pes;
  for (unsigned i = 0; i < count; ++i) {
    pes_.push_back(std::make_unique<Pe>(profile_));
    pes_.back()->executor = std::make_unique<PeExecutor>(*this, i);
  }
  memory_.set_observer(this);
  // Forgets the pages handed out before this machine watched the memory:
  // it compares only pages allocated from now on (after_allocate), so no
  // write to them can be one it has to see. take_touched() returns that
  // list, not a Status: nothing here can fail.
  (void)memory_.take_touched();
}

Machine::~Machine() { memory_.set_observer(nullptr); }

Status Machine::set_context(unsigned pe, const PeContext& context) {
  if (pe >= pes()) return Error{Errc::out_of_range, "no such PE"};
  if (!context.stage1 && !context.stage2) return Error{Errc::invalid_argument, "a context needs stage 1 or stage 2"};
  if (context.regime == Regime::stage2) {
    return Error{Errc::invalid_argument, "the context regime is el1_stage1 or el2_stage1 (stage 2 is a stage)"};
  }
  if (context.stage1 && context.stage1->stage() != arch::Stage::stage1) {
    return Error{Errc::invalid_argument, "the stage-1 geometry is not a stage-1 geometry"};
  }
  if (context.stage2 && context.stage2->stage() != arch::Stage::stage2) {
    return Error{Errc::invalid_argument, "the stage-2 geometry is not a stage-2 geometry"};
  }
  if (context.stage2 && context.regime == Regime::el2_stage1) {
    return Error{Errc::invalid_argument, "the EL2 regime has no stage 2"};
  }
  if (context.stage1 && context.stage2) {
    if (context.stage1_root >= context.stage2->input_size()) {
      return Error{Errc::invalid_argument, "the stage-1 root IPA lies beyond the stage-2 input range"};
    }
    if (memory_.peek(context.stage2_root & ~(kPage - 1)) == nullptr) {
      return Error{Errc::unsupported,
                   "the stage-2 root is not a table page of the simulated memory (a walk there would be an "
                   "external abort, which is not modelled)"};
    }
  }
  pes_[pe]->context = context;
  pes_[pe]->leaf_key = leaf_key_of(context);
  pes_[pe]->input_size = detail::target_of(context).geometry->input_size();
  pes_[pe]->verified_d.fill(Pe::VerifiedHit{});
  pes_[pe]->verified_i.fill(Pe::VerifiedHit{});
  if (options_.execution == Execution::bound) {
    contexts_[{context.regime, context.regime == Regime::el2_stage1 ? std::uint16_t{0} : context.vmid,
               context.regime == Regime::el1_stage1 ? context.asid : std::uint16_t{0}}] = context;
  }
  truth_.clear();
  return ok_status();
}

Executor& Machine::executor(unsigned pe) { return *pes_[pe]->executor; }

std::vector<TlbEntry> Machine::entries(unsigned pe) const {
  std::vector<TlbEntry> out;
  const Pe& p = *pes_[pe];
  for (const Tlb* t : {&p.l1i, &p.l1d, &p.l2}) t->for_each([&](const TlbEntry& e) { out.push_back(e); });
  return out;
}

// ---- observing table writes -------------------------------------------------

void Machine::after_allocate(PhysAddr base, unsigned pages) {
  for (unsigned i = 0; i < pages; ++i) published_[base + i * kPage].assign(PhysicalMemory::kEntries, 0);
}

void Machine::sync() {
  // The common case on the access path: no table page written or watched.
  if (watched_.empty() && !memory_.any_touched()) return;
  for (const PhysAddr page : memory_.take_touched()) watched_.insert(page);
  std::vector<DescriptorWrite> writes;  // in address order: watched_ is ordered
  for (const PhysAddr page : watched_) {
    const Descriptor* live = memory_.peek(page);
    auto it = published_.find(page);
    if (live == nullptr || it == published_.end()) continue;
    std::vector<Descriptor>& seen = it->second;
    bool differs = false;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      if (live[i] == seen[i]) continue;
      differs = true;
      writes.push_back(DescriptorWrite{page + i * sizeof(Descriptor), seen[i], live[i]});
    }
    if (!differs) continue;
    if (writer_ && !options_.weakenings.has(Weakening::table_writes_visible_before_dsb)) {
      unpublished_.insert(page);
    } else {
      seen.assign(live, live + seen.size());
    }
  }
  // Outside an operation every write is published at once: nothing to watch.
  if (!writer_) watched_.clear();
  if (!writes.empty()) check_descriptor_changes(writes);
}

void Machine::publish() {
  for (const PhysAddr page : unpublished_) {
    const Descriptor* live = memory_.peek(page);
    if (live != nullptr) published_[page].assign(live, live + PhysicalMemory::kEntries);
  }
  unpublished_.clear();
}

void Machine::begin_operation(unsigned pe, std::string label) {
  sync();
  if (options_.timeline != nullptr && pe < pes()) timeline_event(pe, TimelineKind::operation, 0, label, 0);
  writer_ = pe;
  operation_ = std::move(label);
  operation_open_ = true;
}

void Machine::end_operation() {
  sync();
  publish();  // stores become visible eventually; the operation is over
  writer_.reset();
  operation_open_ = false;
  operation_.assign(1, '-');
  watched_.clear();
}

void Machine::report(ViolationKind kind, unsigned pe, VirtAddr va, std::optional<TlbEntry> stale,
                     std::optional<TlbEntry> current, std::string message) {
  violations_.push_back(Violation{kind, pe, va, stale, current, operation_, event_, std::move(message)});
}

}  // namespace tlbkit::sim
