// Deferred flush with generations: an unmapper may return before the TLBIs
// for its change have completed (batched unmap for reclaim), and a
// per-address-space generation says when they have. Pages the change
// stopped translating to are freed only then.
//
// The protocol follows x86 Linux's per-mm TLB generation (tlb_gen) and its
// lazy-TLB rule (a CPU that was not running the mm compares generations when
// it switches back and flushes if it fell behind), with arm64 broadcast
// TLBIs doing the flush. The flush is address-space wide: a reclaim batch
// unmaps scattered pages, and one ASIDE1IS (or the regime's equivalent)
// costs one broadcast where per-page ops cost one each; Linux and FreeBSD
// make the same choice for large or whole-space invalidations
// (docs/ARCHITECTURE-FACTS.md section 5). Callers wanting per-range invalidation use Gather instead.
//
//   unmapper       write tables; ticket = defer(); keep the page on a
//                  DeferredFreeList with the ticket
//   flusher        flush(cpu) on its own PE: snapshot the requested
//                  generation g, TLBI the whole address space, DSB on that
//                  PE, then publish g as completed
//   any CPU        activate(cpu) before it translates with the space:
//                  catches up with a local flush if generations passed
//                  since it last did; deactivate(cpu) after it stopped
//   reclaimer      release_completed(): frees pages whose ticket completed
//
// The races this is built to be free of (docs/KNOWN-BUGS.md):
// - bug 4, lost flush: a flusher that clears a "flush required" flag after
//   flushing loses a request made between the flush and the clear.
//   Generations cannot be lost: a flush publishes only the generation it
//   snapshotted before issuing its TLBIs; later requests stay pending.
// - bug 5, missing barrier: defer() bumps the generation and then reads the
//   set of active CPUs; activate() sets its bit and then reads the
//   generation. Both are seq_cst (see deferred_flush.cpp) so at least one
//   side sees the other.
// - bug 8, another PE's DSB taken as completion: a TLBI completes only with
//   a DSB executed by the PE that issued it (docs/ARCHITECTURE-FACTS.md section 3).
//   finish_flush() on another PE than start_flush() re-issues the TLBIs on
//   the PE it runs on before that PE's DSB.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tlbkit/core/error.hpp"
#include "tlbkit/plan/executor.hpp"
#include "tlbkit/maint/policy.hpp"

namespace tlbkit::percpu {

using maint::AddressSpace;
using maint::PhysAddr;

// CPUs one DeferredFlush tracks (one bit each in an 8-byte atomic mask).
inline constexpr unsigned kMaxFlushCpus = 64;

// What a deferred change waits for: the generation whose completion covers
// it. Generation 0 is complete from the start (nothing to wait for).
// Thread safety: a value; copy it anywhere.
struct FlushTicket {
  std::uint64_t generation = 0;
  friend constexpr bool operator==(const FlushTicket&, const FlushTicket&) = default;
};

// Whether a started flush issued TLBIs that still need their DSB.
enum class FlushReach : std::uint8_t {
  none,             // nothing to invalidate: no new generation, or no CPU active
  inner_shareable,  // broadcast TLBIs issued on `issuer`, not yet completed
};

// A flush between start_flush() and finish_flush().
// Thread safety: a value, held by the flushing thread.
struct FlushInProgress {
  std::uint64_t generation = 0;  // completed by finish_flush()
  unsigned issuer = 0;           // the PE that issued the TLBIs
  FlushReach reach = FlushReach::none;
};

// What activate() did for the CPU.
enum class CatchUp : std::uint8_t {
  none,         // the CPU's TLB holds nothing older than the requested generation
  local_flush,  // generations passed since its last catch-up: it flushed the space locally
};

// Generations of one address space.
// Thread safety: every member may be called concurrently from any CPU,
// with these rules: activate(cpu)/deactivate(cpu)/start_flush(cpu)/
// finish_flush(.., cpu, ..) run on CPU `cpu` itself with the executor that
// runs ops on that PE; a CPU's activate/deactivate calls do not overlap each
// other. defer() and is_complete() may run anywhere.
class DeferredFlush {
 public:
  DeferredFlush() = default;
  DeferredFlush(const DeferredFlush&) = delete;
  DeferredFlush& operator=(const DeferredFlush&) = delete;

  // CPU `cpu` is about to translate with the space (context switch in).
  // Marks it active; when a generation was requested since its last
  // catch-up, its TLB may hold entries that no flush reached (it was
  // inactive), so it runs on `executor`:
  //   DSB ISH; TLBI <whole space, local>; DSB NSH; ISB
  // where the local op is ASIDE1 (VMALLE1 with global entries), ALLE2 or
  // VMALLS12E1 by regime. Call before the first access with the space.
  // # Errors
  // out_of_range: cpu >= kMaxFlushCpus; nothing changed.
  Result<CatchUp> activate(unsigned cpu, const AddressSpace& space, Executor& executor);

  // CPU `cpu` stopped translating with the space (its TTBR or VTTBR points
  // elsewhere). Its TLB may keep entries; the next activate() catches up.
  // # Errors
  // out_of_range: cpu >= kMaxFlushCpus.
  Status deactivate(unsigned cpu);

  // Called after the tables were written: requests a new generation and
  // returns the ticket that completes with it. When no CPU is active the
  // change needs no TLBI at all (every CPU catches up at activate()) and
  // the ticket is generation 0, already complete.
  FlushTicket defer();

  // Starts a flush on CPU `cpu`: snapshots the requested generation and,
  // when some CPU is active and that generation is not yet complete, issues
  //   DSB ISHST; TLBI <whole space, broadcast>
  // on `executor` (ASIDE1IS, VMALLE1IS with global entries, ALLE2IS or
  // VMALLS12E1IS by regime). Nothing is complete until finish_flush().
  // # Errors
  // out_of_range: cpu >= kMaxFlushCpus; nothing issued.
  Result<FlushInProgress> start_flush(unsigned cpu, const AddressSpace& space,
                                      Executor& executor);

  // Completes `started` on CPU `cpu` and publishes its generation. On the
  // issuing PE: DSB ISH. On any other PE (the thread migrated): the same
  // TLBIs again, then DSB ISH, because a DSB completes only the TLBIs of
  // the PE that executes it.
  // # Errors
  // out_of_range: cpu >= kMaxFlushCpus; nothing published.
  Status finish_flush(const FlushInProgress& started, unsigned cpu, const AddressSpace& space,
                      Executor& executor);

  // start_flush() and finish_flush() on the same PE.
  // # Errors
  // As start_flush().
  Status flush(unsigned cpu, const AddressSpace& space, Executor& executor);

  // Whether the invalidation `ticket` waits for has completed on every PE
  // that may use the space. Acquire: a caller that sees true may reuse the
  // page.
  bool is_complete(FlushTicket ticket) const {
    return ticket.generation <= completed_.load(std::memory_order_acquire);
  }

  std::uint64_t requested_generation() const { return requested_.load(std::memory_order_acquire); }
  std::uint64_t completed_generation() const { return completed_.load(std::memory_order_acquire); }
  // Bit n set: CPU n is active.
  std::uint64_t active_cpus() const { return active_cpus_.load(std::memory_order_acquire); }

 private:
  void publish(std::uint64_t generation);

  alignas(64) std::atomic<std::uint64_t> requested_{0};
  alignas(64) std::atomic<std::uint64_t> completed_{0};
  alignas(64) std::atomic<std::uint64_t> active_cpus_{0};
  // Per CPU: the requested generation at its last local catch-up (its TLB
  // holds nothing older). Written and read only by that CPU.
  alignas(64) std::array<std::atomic<std::uint64_t>, kMaxFlushCpus> caught_up_{};
};

// A page waiting for its ticket. Thread safety: a value.
struct RetiredPage {
  FlushTicket ticket;
  arch::PhysAddr page = 0;
};

// Where release_completed() hands pages whose flush completed.
// Thread safety: called on the thread that calls release_completed().
class PageReleaser {
 public:
  virtual void release(arch::PhysAddr page) = 0;

 protected:
  ~PageReleaser() = default;
};

// Pages kept until their flush completed, in caller storage (a fixed-size
// queue: the core has no heap).
// Thread safety: none; one list per reclaiming thread, or under the
// caller's lock. The DeferredFlush it consults may be used concurrently.
class DeferredFreeList {
 public:
  explicit DeferredFreeList(std::span<RetiredPage> storage) : storage_(storage) {}

  // Keeps `page` until `ticket` completes.
  // # Errors
  // no_memory: the list is full; nothing kept. Flush, release_completed(),
  // then retry.
  Status retire(FlushTicket ticket, arch::PhysAddr page);

  // Hands every page whose ticket is complete to `releaser`, oldest first;
  // keeps the others in order. Returns how many were released.
  std::size_t release_completed(const DeferredFlush& flush, PageReleaser& releaser);

  std::size_t size() const { return count_; }
  std::size_t capacity() const { return storage_.size(); }

 private:
  std::span<RetiredPage> storage_;
  std::size_t count_ = 0;
};

}  // namespace tlbkit::percpu
