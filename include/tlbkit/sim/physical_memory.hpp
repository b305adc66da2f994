// Simulated physical memory: 4 KiB pages at made-up physical addresses,
// handed out as translation-table pages (it is a pt::TableMemory) and later
// read by the simulator's walkers. Deterministic: the same calls give the
// same addresses on any machine.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tlbkit/pt/table_memory.hpp"

namespace tlbkit::sim {

using arch::Descriptor;
using arch::PhysAddr;

// A misuse of the memory. It is recorded, never acted on: the call that made
// it changes nothing (a bad free frees nothing, a bad access reads a
// scratch page).
enum class MisuseKind : std::uint8_t {
  bad_page_count,  // allocate(n) / free(n) with n not a power of two 1..max, or free(n) of an allocation of another size
  double_free,     // free of an allocation already freed (and not reallocated since)
  unknown_free,    // free of an address where no allocation starts
  bad_access,      // descriptors() of a page that is not live
};

const char* misuse_kind_name(MisuseKind kind);

struct Misuse {
  MisuseKind kind;
  PhysAddr address;
  unsigned pages;  // the page count given (0 for bad_access)
  friend bool operator==(const Misuse&, const Misuse&) = default;
};

// "double free of 0x80001000 (1 page)" and the like.
std::string describe(const Misuse& misuse);

// Allocation and occupancy counters, all in 4 KiB pages except the call counts.
struct MemoryCounters {
  std::uint64_t allocations = 0;         // successful allocate() calls
  std::uint64_t failed_allocations = 0;  // allocate() calls refused (no room, bad count)
  std::uint64_t frees = 0;               // successful free() calls
  std::uint64_t allocated_pages = 0;     // pages handed out, cumulative
  std::uint64_t freed_pages = 0;         // pages returned, cumulative
  std::uint64_t live_pages = 0;          // allocated_pages - freed_pages
  std::uint64_t peak_live_pages = 0;     // highest live_pages seen
  friend bool operator==(const MemoryCounters&, const MemoryCounters&) = default;
};

// Told what happens to table memory (the simulator's machine watches it).
class MemoryObserver {
 public:
  // `pages` pages from `base` are about to be freed (still readable now).
  virtual void before_free(PhysAddr base, unsigned pages) = 0;
  // `pages` fresh (zeroed) pages from `base` were handed out.
  virtual void after_allocate(PhysAddr base, unsigned pages) = 0;

 protected:
  ~MemoryObserver() = default;
};

class PhysicalMemory final : public pt::TableMemory {
 public:
  static constexpr std::uint64_t kPageSize = 4096;
  static constexpr unsigned kEntries = 512;
  static constexpr PhysAddr kDefaultBase = 0x8000'0000;
  static constexpr std::uint64_t kDefaultPages = 4096;  // 16 MiB

  // Memory of `pages` pages from `base`.
  // Precondition: base 4 KiB aligned; pages > 0; base + pages * 4 KiB below 2^48.
  explicit PhysicalMemory(PhysAddr base = kDefaultBase, std::uint64_t pages = kDefaultPages);
  PhysicalMemory(const PhysicalMemory&) = delete;
  PhysicalMemory& operator=(const PhysicalMemory&) = delete;
  ~PhysicalMemory() = default;

  // TableMemory.
  // `pages` contiguous pages aligned to pages * 4 KiB: the lowest such free
  // run (freed pages are reused). Fresh pages read as zero (invalid
  // descriptors).
  // # Errors
  // - no_memory: no free run of that size and alignment is left.
  // - invalid_argument: pages is 0 or not a power of two (recorded as a
  //   bad_page_count misuse).
  Result<PhysAddr> allocate(unsigned pages) override;
  // Frees the allocation starting at `table`, which must have `pages` pages.
  // Anything else is recorded as a misuse and frees nothing.
  void free(PhysAddr table, unsigned pages) override;
  // The 512 descriptors of the live page `table` (any page of an
  // allocation). A page that is not live is a bad_access misuse and gives a
  // zeroed scratch page, so a wild writer corrupts nothing live.
  Descriptor* descriptors(PhysAddr table) override;

  // Watching: `observer` (may be null) is told of every successful free and
  // allocation from now on; it must outlive its registration.
  void set_observer(MemoryObserver* observer) { observer_ = observer; }
  // Pages handed out by descriptors() (so possibly written) since the last
  // call, in address order; the list is emptied.
  std::vector<PhysAddr> take_touched();
  // Whether take_touched() would return any page.
  bool any_touched() const { return !touched_.empty(); }
  // Grows at every descriptors(), allocation and free: while it stands
  // still, no table content can have changed.
  std::uint64_t generation() const { return generation_; }

  // Inspection: no misuse is recorded, nothing changes.
  // The 512 descriptors of a live page, or nullptr.
  const Descriptor* peek(PhysAddr page) const;
  bool is_live(PhysAddr page) const { return peek(page) != nullptr; }
  // The page count of the live allocation starting at `base`, if any.
  std::optional<unsigned> allocation_pages(PhysAddr base) const;

  PhysAddr base() const { return base_; }
  std::uint64_t capacity_pages() const { return capacity_pages_; }
  const MemoryCounters& counters() const { return counters_; }
  // Every misuse so far, oldest first.
  const std::vector<Misuse>& misuses() const { return misuses_; }

 private:
  struct Allocation {
    unsigned pages = 0;
    std::vector<Descriptor> words;  // pages * 512
  };

  // The live allocation of `self` holding `page` (nullptr if none) and the
  // page's word offset in it; const or not as `self` is.
  template <class Self>
  static auto* find(Self& self, PhysAddr page, std::size_t& offset);
  std::optional<PhysAddr> lowest_free_run(std::uint64_t bytes) const;
  void note(MisuseKind kind, PhysAddr address, unsigned pages);

  PhysAddr base_;
  std::uint64_t capacity_pages_;
  std::map<PhysAddr, Allocation> live_;       // by first page
  std::map<PhysAddr, unsigned> freed_;        // freed and not reallocated, for double-free reports
  std::vector<Descriptor> scratch_ = std::vector<Descriptor>(kEntries, 0);
  std::vector<Misuse> misuses_;
  MemoryCounters counters_;
  MemoryObserver* observer_ = nullptr;
  std::vector<PhysAddr> touched_;  // unsorted, may repeat
  std::uint64_t generation_ = 0;
};

}  // namespace tlbkit::sim
