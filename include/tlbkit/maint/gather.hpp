// Gather: collects the changes of one or more table operations on one
// address space, and when finished runs the maintenance they need and only
// then frees the tables they retired (Linux's mmu_gather, Zircon's
// consistency manager).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "tlbkit/plan/executor.hpp"
#include "tlbkit/core/fixed_list.hpp"
#include "tlbkit/maint/policy.hpp"
#include "tlbkit/pt/table_memory.hpp"

namespace tlbkit::maint {

// Takes back data pages a Gather held until the maintenance that removes
// every translation to them had completed (mmu_gather's page batch).
class PageSink {
 public:
  virtual void release(PhysAddr pa, std::uint64_t size) = 0;

 protected:
  ~PageSink() = default;
};

// Not thread-safe: one Gather per operation batch, used by one thread.
class Gather final : public ChangeSink {
 public:
  static constexpr std::size_t kMaxRanges = 32;
  static constexpr std::size_t kMaxRetired = 64;
  static constexpr std::size_t kMaxCleanRanges = 16;
  static constexpr std::size_t kMaxHeldPages = 32;

  // `pages` receives the data pages given to free_after_flush(); it may be
  // null when the caller frees none through the Gather.
  Gather(const AddressSpace& space, const arch::CpuFeatures& features, const Policy& policy,
         Executor& executor, pt::TableMemory& memory, PageSink* pages = nullptr);
  // The Gather keeps a reference to its policy: a temporary would dangle.
  Gather(const AddressSpace&, const arch::CpuFeatures&, const Policy&&, Executor&, pt::TableMemory&,
         PageSink* = nullptr) = delete;
  Gather(const Gather&) = delete;
  Gather& operator=(const Gather&) = delete;
  // Finishes what is pending. When that fails (see finish()), what the
  // Gather holds is never freed: leaked, not reused while reachable.
  ~Gather();

  // ChangeSink. A change needing invalidation joins the pending ranges
  // (merged with the last one when adjacent; when they are full, coverage
  // becomes "everything"). A map or relax needs none; it only notes
  // exec-gained. Memory needing data-cache maintenance joins the clean list;
  // when that is full the pending work is finished early (and when that
  // fails, the last clean range grows to cover the new one too: cleaning
  // more than needed is safe).
  // Inline: it runs once per changed run of descriptors.
  void record(const Change& change) override {
    // The common cases first, in few instructions: the change is of the
    // class of the last range opened (same level, entry kind, change kind
    // and what is owed beneath; no exec gained, no cache maintenance; see
    // open_head_), so it needs invalidation and nothing else: it continues
    // the open range, and only the range's end moves, or it opens a range of
    // the same class. The class is compared as two words read from the
    // record (see head_word()), not field by field. The change never
    // continues a range when none is open (open_end_ is then kNoOpenRange,
    // which no page address equals). The new end is computed from the
    // change, not as open_end_ + size: no chain of loads and stores of
    // open_end_ runs from call to call.
    if (head_word(change) == open_head_ && tail_word(change) == open_tail_) {
      if (change.va == open_end_) [[likely]] {
        open_end_ = change.va + change.size;
        return;
      }
      open_range(change);
      return;
    }
    record_slow(change);
  }
  // The whole address space is going away (call before Table::release()):
  // what is pending becomes the policy's space-wide invalidation, as a
  // teardown does everywhere (Linux's fullmm mmu_gather flushes the ASID once
  // tables are freed; KVM flushes the VMID before destroying stage 2) rather
  // than one op per page under every root entry. It holds until finish():
  // a flush made early (a full list of held pages, retired tables or
  // ranges to clean) invalidates the space whole and the next one does
  // again, so a table emptied after an early flush is never walked page by
  // page over its span.
  void cover_whole_space() {
    cover_until_flush();
    whole_space_ = WholeSpace::until_finish;
  }
  // Plans and executes the change's invalidation at once (break-before-make).
  // When no plan can be built, the change joins the pending ranges (a later
  // finish() invalidates it) and the next finish() reports the failure: the
  // engine writes the new descriptor after this call whatever happened.
  void invalidate_now(const Change& change) override;
  // Keeps the table until a finish() whose plan ran; when the list is full,
  // finishes early. When that early finish cannot run a plan, the table is
  // never freed (counted in tables_leaked()) and the next finish() reports
  // the failure: a leak, never a table freed while a walk cache may hold it.
  void retire_table(PhysAddr table, unsigned pages) override;

  // Holds the data memory [pa, pa + size) (an unmapped page, or a block)
  // until the pending maintenance has run, then hands it to the PageSink.
  // Call it after the unmap that stopped translating to the memory was
  // recorded. When the list is full the pending work is finished early.
  // # Errors
  // invalid_argument: no PageSink was given, or size is 0 or not a whole
  // number of 4 KiB pages, or pa is not page-aligned. The policy's error:
  // the list was full and the early finish could not run a plan. Nothing is
  // held on error: the memory stays the caller's, still possibly reachable
  // through a TLB, so the caller must not reuse it.
  Status free_after_flush(PhysAddr pa, std::uint64_t size);

  // Plans and executes the pending maintenance, then frees the retired
  // tables and releases the held pages. When the policy cannot build the
  // plan for the pending ranges (it does not fit), the address space is
  // invalidated whole instead.
  // # Errors
  // The policy's error when it could build neither plan. Then nothing ran
  // and nothing is freed or released: the pending work, the retired tables
  // and the held pages stay held by the Gather, and a later finish() tries
  // again (the destructor's finish() included: if that one fails too, they
  // are never freed). Also, once, the error of an earlier failure that a
  // retry cannot undo: a break-before-make invalidation that could not be
  // planned, or a table leaked by a failed early finish.
  Status finish();

  // The kernel call the changes recorded from now on belong to (one VMA's
  // part of it for a per-VMA policy). When the batch already holds another
  // call's changes, the batch's call becomes unknown; the same call again
  // (a further piece) widens the span, and so does any further reclaim
  // call in a reclaim batch (CallKind::reclaim: its ranges need not
  // touch). Forgotten at each flush.
  void note_call(const CallSpan& call);
  // Where the space's translations may be cached from now on: every plan
  // the Gather runs after this call (early ones included) is made for this
  // reach. The kernel calls it when a PE loads the space while changes are
  // pending: that PE may cache a translation a pending change removes.
  void set_reach(const Reach& reach) { space_.reach = reach; }

  // What is pending now.
  Pending pending() const;

  // Counters.
  std::size_t plans_executed() const { return plans_executed_; }
  std::size_t tables_freed() const { return tables_freed_; }
  std::size_t pages_released() const { return pages_released_; }
  std::size_t tables_leaked() const { return tables_leaked_; }

 private:
  // Plans `pending` (or, when that does not fit, the whole space) and
  // executes the plan. # Errors: the policy's, when neither plan could be
  // built; nothing was executed then.
  Status run(const Pending& pending);
  // What is pending becomes the space-wide invalidation, until the next
  // flush (a full range list: the ranges recorded so far stay).
  void cover_until_flush() {
    close_open_range();
    open_end_ = kNoOpenRange;
    coverage_ = Coverage::everything;
  }
  // finish() without reporting a deferred error: runs the pending work,
  // then frees and releases what was held. # Errors: run()'s; nothing is
  // freed, released or forgotten then.
  Status flush();
  void note_clean(PhysAddr pa, std::uint64_t size);
  // Remembers the first failure that a later finish() must report.
  void defer_error(Error error) {
    if (deferred_error_.ok()) deferred_error_ = error;
  }

  AddressSpace space_;
  arch::CpuFeatures features_;
  const Policy& policy_;
  Executor& executor_;
  pt::TableMemory& memory_;
  PageSink* page_sink_;

  // record() for every change of another class than the last range
  // opened. A branch, not an OR into exec_: exec_ lives in memory, and a
  // read-modify-write there every call chains the calls through store
  // forwarding.
  void record_slow(const Change& change) {
    if (change.exec == ExecGain::yes) [[unlikely]] exec_ = ExecGain::yes;
    if (change.cmo == CacheMaintenance::clean_invalidate) [[unlikely]]
      note_clean(change.output, change.size);
    // With coverage "everything" no range is open (open_end_ is
    // kNoOpenRange), so nothing below could merge either.
    if (!arch::needs_invalidation(change.kind)) return;
    if (coverage_ == Coverage::everything) {
      extend_overflow(change);
      return;
    }
    // Changes of other kinds that need invalidation merge too: the same
    // level, entry kind and what is owed beneath is enough. The test reads
    // scalars of their own, not the range just stored (a load spanning
    // several smaller stores cannot be forwarded).
    if (change.va == open_end_ && ((head_word(change) ^ open_head_) & kRangeHeadMask) == 0 &&
        (tail_word(change) & kTailClassMask) == open_tail_) {
      open_end_ = change.va + change.size;
      return;
    }
    open_head_ = head_word(change) & kHeadClassMask;
    open_tail_ = tail_word(change) & kTailClassMask;
    open_range(change);
  }

  // A change needing invalidation that does not continue the open range:
  // it opens a range after it, or with coverage "everything" (nothing is
  // open then) it is covered already. When the ranges are full, coverage
  // becomes "everything".
  void open_range(const Change& change) {
    if (coverage_ == Coverage::everything) {
      extend_overflow(change);
      return;
    }
    if (ranges_.full()) [[unlikely]] {
      start_overflow();
      cover_until_flush();
      extend_overflow(change);
      return;
    }
    close_open_range();
    // Its size is written when it is closed (close_open_range()).
    ranges_.push_back(PendingRange{change.va, 0, change.level, change.entry, change.beneath});
    open_end_ = change.va + change.size;
  }

  // The ranges overflowed: overflow_ starts as their extent.
  void start_overflow();
  // Whether `call` is a further piece of the batch's noted call (note_call).
  bool continues_call(const CallSpan& call) const;
  // A change covered by an overflow (or a whole-space teardown) widens the
  // extent: a branch per change only once the list is full.
  void extend_overflow(const Change& change) {
    if (overflow_.empty()) {
      overflow_.start = change.va;
      overflow_.end = change.va + change.size;
    } else {
      overflow_.start = change.va < overflow_.start ? change.va : overflow_.start;
      overflow_.end = change.va + change.size > overflow_.end ? change.va + change.size : overflow_.end;
    }
    const std::uint8_t bit = static_cast<std::uint8_t>(1u << change.level);
    if (change.entry == EntryKind::table) {
      overflow_.table_levels |= bit;
    } else {
      overflow_.leaf_levels |= bit;
    }
  }
  // open_end_ when no range is open (odd: never a page address).
  static constexpr VirtAddr kNoOpenRange = ~VirtAddr{0};

  // head_word(), tail_word(): a Change's class as two words, straight from
  // the record: the head {level, entry, kind, exec} and the tail {cmo,
  // beneath}, each a run of adjacent one-byte fields (checked below), so one
  // load each.
  static_assert(offsetof(Change, entry) == offsetof(Change, level) + 1 &&
                    offsetof(Change, kind) == offsetof(Change, level) + 2 &&
                    offsetof(Change, exec) == offsetof(Change, level) + 3 &&
                    offsetof(Change, beneath) == offsetof(Change, cmo) + 1,
                "Gather::record reads a Change's class fields as two words");
  static_assert(sizeof(Change::level) == 1 && sizeof(EntryKind) == 1 && sizeof(ChangeKind) == 1 &&
                    sizeof(ExecGain) == 1 && sizeof(CacheMaintenance) == 1 && sizeof(Beneath) == 1,
                "Gather::record reads a Change's class fields as two words");
  static std::uint32_t head_word(const Change& c) {
    std::uint32_t w;
    __builtin_memcpy(&w, reinterpret_cast<const unsigned char*>(&c) + offsetof(Change, level), sizeof w);
    return w;
  }
  static std::uint16_t tail_word(const Change& c) {
    std::uint16_t w;
    __builtin_memcpy(&w, reinterpret_cast<const unsigned char*>(&c) + offsetof(Change, cmo), sizeof w);
    return w;
  }
  // The words with the exec byte (head) and the cmo byte (tail) cleared:
  // ExecGain::no and CacheMaintenance::none are 0, so a change matches them
  // only when it gains no exec and needs no cleaning (record() must then do
  // nothing but merge).
  static_assert(static_cast<unsigned>(ExecGain::no) == 0 && static_cast<unsigned>(CacheMaintenance::none) == 0);
  static constexpr bool kLittleEndian = std::endian::native == std::endian::little;
  static constexpr std::uint32_t kHeadClassMask = kLittleEndian ? 0x00ff'ffffu : 0xffff'ff00u;
  static constexpr std::uint16_t kTailClassMask = kLittleEndian ? 0xff00u : 0x00ffu;
  // The head's bytes that decide a merge besides the tail's beneath: level and entry kind.
  static constexpr std::uint32_t kRangeHeadMask = kLittleEndian ? 0x0000'ffffu : 0xffff'0000u;
  // head_word() and tail_word(), exec and cmo cleared, of a change of this class.
  static constexpr std::uint32_t class_head(std::uint8_t level, EntryKind entry, ChangeKind kind) {
    const std::uint32_t bytes[4] = {level, static_cast<std::uint32_t>(entry), static_cast<std::uint32_t>(kind), 0};
    std::uint32_t w = 0;
    for (unsigned i = 0; i < 4; ++i) w |= bytes[i] << (8 * (kLittleEndian ? i : 3 - i));
    return w;
  }
  static constexpr std::uint16_t class_tail(Beneath beneath) {
    return static_cast<std::uint16_t>(static_cast<unsigned>(beneath) << (kLittleEndian ? 8 : 0));
  }

  // Writes the open range's size into ranges_.back().
  void close_open_range() const {
    if (open_end_ != kNoOpenRange) ranges_.back().size = open_end_ - ranges_.back().va;
  }

  // The last range is open: while changes continue it only open_end_ moves
  // (a scalar of its own); its size in ranges_ is written when it is
  // closed, by the next range or by pending().
  mutable FixedList<PendingRange, kMaxRanges> ranges_;
  VirtAddr open_end_ = kNoOpenRange;  // end of the open range
  // head_word() and tail_word(), exec and cmo cleared, of the last change
  // that needed a range of its own (record_slow(); not reset by a flush,
  // nor when the ranges were full); at first those of a leaf page unmap.
  // Always a class that needs invalidation, so that a change of this class
  // needs nothing else.
  std::uint32_t open_head_ = class_head(3, EntryKind::leaf, ChangeKind::unmap);
  std::uint16_t open_tail_ = class_tail(Beneath::unseen);
  Coverage coverage_ = Coverage::exact;
  Extent overflow_;
  CallSpan call_;
  bool call_noted_ = false;
  // Until finish() after cover_whole_space(); else until the next flush.
  enum class WholeSpace : std::uint8_t { until_flush, until_finish } whole_space_ = WholeSpace::until_flush;
  ExecGain exec_ = ExecGain::no;
  FixedList<PhysRange, kMaxCleanRanges> clean_;

  struct Retired {
    PhysAddr table;
    unsigned pages;
  };
  FixedList<Retired, kMaxRetired> retired_;

  FixedList<PhysRange, kMaxHeldPages> held_;

  std::size_t plans_executed_ = 0;
  std::size_t tables_freed_ = 0;
  std::size_t pages_released_ = 0;
  std::size_t tables_leaked_ = 0;
  // A failure finish() has yet to report (ok: none).
  Status deferred_error_;
};

}  // namespace tlbkit::maint
