// One generic allocator for ASIDs and VMIDs, after the Linux arm64 ASID
// allocator (arch/arm64/mm/context.c; KVM's VMID allocator reuses the same
// scheme), with FreeBSD's idea of one id set type serving both kinds. The
// context id below is FreeBSD's (id, epoch) cookie packed in one word.
// Not supported: KPTI's paired (even/odd) ASIDs and pinned ASIDs.
//
// - An address space's id is a 64-bit context id: generation << bits | id,
//   bits = 8 or 16. Id 0 is never handed out (it means "no id" in the
//   per-CPU active slots; Linux keeps ASID 0 for the reserved TTBR0).
// - Ids are handed out next-fit from a bitmap. When none is left the
//   generation rolls over: the bitmap is cleared except for the id each CPU
//   is running (kept reserved for it), and every CPU is marked to flush its
//   own TLB of all ids at its next switch. No broadcast at rollover.
// - An id is never given to another address space before a rollover, and
//   after one every CPU flushes locally before it runs any new-generation
//   id. So a dead address space needs no TLBI at all: release() only forgets
//   its id (docs/ARCHITECTURE-FACTS.md section 6).
// - switch_to(): a lock-free fast path when the context id is of the
//   current generation; otherwise a slow path under a spinlock.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tlbkit/core/error.hpp"
#include "tlbkit/arch/ops.hpp"
#include "tlbkit/plan/plan.hpp"
#include "tlbkit/core/spin_lock.hpp"

namespace tlbkit::percpu {

// Width of the id field (ID_AA64MMFR0_EL1.ASIDBits, ID_AA64MMFR1_EL1.VMIDBits).
enum class IdWidth : std::uint8_t { bits8 = 8, bits16 = 16 };

// What the ids tag: stage-1 EL1&0 entries (ASID, in TTBRn_EL1) or EL1&0
// guest entries of both stages (VMID, in VTTBR_EL2). Decides the local flush.
enum class IdKind : std::uint8_t { asid, vmid };

// Maintenance due on the switching CPU before it runs the returned id.
enum class LocalFlush : std::uint8_t {
  none,
  // A rollover happened since this CPU's last switch: entries of old
  // generations may be cached under ids that now belong to other address
  // spaces. Run local_flush_ops(kind) on this CPU, then program the id.
  all_ids,
};

// The ops of LocalFlush::all_ids, run on the switching CPU only:
//   asid: DSB NSH; TLBI VMALLE1; DSB NSH; ISB
//         (every ASID of the current VMID at EL1&0: no single op removes
//         "all stale ASIDs", so all of them go, as Linux's
//         local_flush_tlb_all() at rollover; the leading DSB orders earlier
//         table writes of this PE, the trailing one completes the local
//         TLBI; ISB before translating with the new id)
//   vmid: DSB NSH; TLBI ALLE1; DSB NSH; ISB
//         (every EL1&0 entry of every VMID: VMALLS12E1 would only reach
//         the VMID currently loaded. KVM instead broadcasts one flush at
//         VMID rollover; here VMIDs follow the ASID scheme, local flushes
//         on each CPU's next switch, and no broadcast.)
std::span<const arch::Op> local_flush_ops(IdKind kind);

// Appends local_flush_ops(kind) to `plan`.
// # Errors
// out_of_range: not enough room; the plan may hold part of the ops.
Status append_local_flush(IdKind kind, Plan& plan);

// An address space's id as the allocator keeps it: generation << bits | id,
// 0 before the first switch_to() and after release().
// Thread safety: read by any CPU (relaxed, in switch_to's fast path);
// written only by the allocator under its lock, and by release().
struct IdContext {
  std::atomic<std::uint64_t> value{0};
};

// What switch_to() returns. Thread safety: a value.
struct SwitchResult {
  std::uint16_t id = 0;           // program into TTBR0_EL1.ASID / VTTBR_EL2.VMID
  std::uint64_t context_id = 0;   // generation << bits | id, as stored in the IdContext
  LocalFlush flush = LocalFlush::none;
};

// One CPU's allocator state; one per CPU in caller or IdAllocator storage.
// Own cache line: the active slot is written on every slow-path switch.
// Thread safety: only through IdAllocatorCore (fields say which need the
// lock); never touched by the caller after construction.
struct alignas(64) PerCpuIds {
  std::atomic<std::uint64_t> active{0};  // context id running here; 0 after a rollover
  std::uint64_t reserved = 0;            // under the lock: id kept for this CPU at rollover
  bool flush_pending = false;            // under the lock: local flush due at next switch
};

// The allocator over caller-provided per-CPU storage.
// Thread safety: switch_to(cpu, ..) runs on CPU `cpu` only (with preemption
// off), concurrently with switch_to() on other CPUs and with release() of
// other contexts. release(context) must not race with switch_to(.., context).
// generation() may be read anywhere.
class IdAllocatorCore {
 public:
  // `cpus`: one entry per CPU, all zero (default-constructed). The largest
  // supported count leaves at least one free id after every CPU reserved
  // one: cpus.size() < 2^bits - 1.
  IdAllocatorCore(IdWidth width, IdKind kind, std::span<PerCpuIds> cpus);
  IdAllocatorCore(const IdAllocatorCore&) = delete;
  IdAllocatorCore& operator=(const IdAllocatorCore&) = delete;

  // CPU `cpu` switches to the address space of `context`: returns the id
  // to program, allocating one (and rolling over) when the context's id is
  // of an older generation, and says whether a local flush is due first.
  // # Errors
  // out_of_range: cpu beyond the storage; nothing changed.
  // unsupported: more CPUs than the width leaves ids for (see constructor).
  Result<SwitchResult> switch_to(unsigned cpu, IdContext& context);

  // The address space of `context` is dead: no CPU will switch to it again.
  // No TLBI: its id stays taken until the next rollover, and every CPU
  // flushes locally after a rollover before it runs a reused id.
  void release(IdContext& context) { context.value.store(0, std::memory_order_relaxed); }

  // Current generation number (1 at start, +1 per rollover).
  std::uint64_t generation() const {
    return generation_.load(std::memory_order_relaxed) >> bits();
  }
  unsigned bits() const { return static_cast<unsigned>(width_); }
  IdKind kind() const { return kind_; }
  // Ids an address space can get: 2^bits - 1 (id 0 is never handed out).
  std::uint32_t usable_ids() const { return (std::uint32_t{1} << bits()) - 1; }
  std::size_t cpus() const { return cpus_.size(); }

  // Generation and id fields of a context id.
  std::uint64_t generation_of(std::uint64_t context_id) const { return context_id >> bits(); }
  std::uint16_t id_of(std::uint64_t context_id) const {
    return static_cast<std::uint16_t>(context_id & usable_ids());
  }

 private:
  static constexpr std::size_t kMapWords = (std::size_t{1} << 16) / 64;
  static constexpr std::uint32_t kNoId = 0;

  bool same_generation(std::uint64_t context_id, std::uint64_t generation_bits) const {
    return ((context_id ^ generation_bits) >> bits()) == 0;
  }
  SwitchResult switch_slow(PerCpuIds& me, IdContext& context);
  std::uint64_t new_context_id(std::uint64_t old_context_id);
  bool update_reserved(std::uint64_t old_context_id, std::uint64_t new_context_id);
  std::uint64_t roll_over();
  std::uint32_t find_free_from(std::uint32_t first) const;
  bool test_and_set(std::uint32_t id);
  void set(std::uint32_t id);

  IdWidth width_;
  IdKind kind_;
  std::span<PerCpuIds> cpus_;
  // generation << bits. Written under the lock (relaxed RMW), read anywhere.
  std::atomic<std::uint64_t> generation_;
  SpinLock lock_;
  // Under the lock: ids taken in the current generation; bit 0 always set.
  std::array<std::uint64_t, kMapWords> taken_{};
  std::uint32_t next_search_ = 1;  // under the lock: next-fit cursor
};

// An allocator for kCpus CPUs with its own per-CPU storage.
// Thread safety: as IdAllocatorCore.
template <std::size_t kCpus>
class IdAllocator {
  static_assert(kCpus > 0 && kCpus < 255,
                "8-bit ids must leave a free id after each CPU reserved one");

 public:
  IdAllocator(IdWidth width, IdKind kind) : core_(width, kind, storage_) {}

  // See IdAllocatorCore::switch_to.
  Result<SwitchResult> switch_to(unsigned cpu, IdContext& context) {
    return core_.switch_to(cpu, context);
  }
  // See IdAllocatorCore::release.
  void release(IdContext& context) { core_.release(context); }

  const IdAllocatorCore& core() const { return core_; }
  std::uint64_t generation() const { return core_.generation(); }

 private:
  std::array<PerCpuIds, kCpus> storage_{};
  IdAllocatorCore core_;  // after storage_: constructed with it in place
};

}  // namespace tlbkit::percpu
