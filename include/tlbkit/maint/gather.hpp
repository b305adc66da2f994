// Gather: collects the changes of one or more table operations on one
// address space, and when finished runs the maintenance they need and only
// then frees the tables they retired (Linux's mmu_gather, Zircon's
// consistency manager).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tlbkit/exec/executor.hpp"
#include "tlbkit/maint/fixed_list.hpp"
#include "tlbkit/maint/policy.hpp"
#include "tlbkit/pt/table_memory.hpp"

namespace tlbkit::maint {

// Not thread-safe: one Gather per operation batch, used by one thread.
class Gather final : public ChangeSink {
 public:
  static constexpr std::size_t kMaxRanges = 32;
  static constexpr std::size_t kMaxRetired = 64;
  static constexpr std::size_t kMaxCleanRanges = 16;

  Gather(const AddressSpace& space, const arch::CpuFeatures& features, const Policy& policy,
         exec::Executor& executor, pt::TableMemory& memory);
  Gather(const Gather&) = delete;
  Gather& operator=(const Gather&) = delete;
  // Finishes what is pending.
  ~Gather();

  // ChangeSink. A change needing invalidation joins the pending ranges
  // (merged with the last one when adjacent; when they are full, coverage
  // becomes "everything"). A map or relax needs none; it only notes
  // exec-gained. Memory needing data-cache maintenance joins the clean list;
  // when that is full the pending work is finished early.
  // Inline: it runs once per changed run of descriptors.
  void record(const Change& change) override {
    if (change.exec == ExecGain::yes) exec_ = ExecGain::yes;
    if (change.cmo == CacheMaintenance::clean_invalidate) [[unlikely]]
      note_clean(change.output, change.size);
    if (!arch::needs_invalidation(change.kind) || coverage_ == Coverage::everything) return;
    if (!ranges_.empty()) {
      PendingRange& last = ranges_.back();
      // Adjacency first: scattered changes fail it without loading the
      // byte fields the previous push_back just stored.
      if (last.va + last.size == change.va && last.level == change.level && last.entry == change.entry) {
        last.size += change.size;
        return;
      }
    }
    if (ranges_.full()) [[unlikely]] {
      coverage_ = Coverage::everything;
      return;
    }
    ranges_.push_back(PendingRange{change.va, change.size, change.level, change.entry});
  }
  // Plans and executes the change's invalidation at once (break-before-make).
  void invalidate_now(const Change& change) override;
  // Keeps the table until finish(); when the list is full, finishes early.
  void retire_table(PhysAddr table, unsigned pages) override;

  // Plans and executes the pending maintenance, then frees the retired
  // tables. Returns the policy's error (the plan could not be built: then
  // the address space is invalidated whole, so nothing is left stale).
  Status finish();

  // What is pending now.
  Pending pending() const;

  // Counters.
  std::size_t plans_executed() const { return plans_executed_; }
  std::size_t tables_freed() const { return tables_freed_; }

 private:
  void run(const Pending& pending);
  void note_clean(PhysAddr pa, std::uint64_t size);

  AddressSpace space_;
  arch::CpuFeatures features_;
  const Policy& policy_;
  exec::Executor& executor_;
  pt::TableMemory& memory_;

  FixedList<PendingRange, kMaxRanges> ranges_;
  Coverage coverage_ = Coverage::exact;
  ExecGain exec_ = ExecGain::no;
  FixedList<PhysRange, kMaxCleanRanges> clean_;

  struct Retired {
    PhysAddr table;
    unsigned pages;
  };
  FixedList<Retired, kMaxRetired> retired_;

  std::size_t plans_executed_ = 0;
  std::size_t tables_freed_ = 0;
};

}  // namespace tlbkit::maint
