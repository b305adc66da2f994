// A simulated physical memory of 4 KiB table pages for tests of the table
// engine. It hands out made-up physical addresses, fills fresh pages with a
// garbage pattern (every garbage word has the valid bit set, so an entry the
// engine forgot to initialise shows up as a bogus mapping or table), keeps
// every allocation in its own storage followed by a guard page, records every
// misuse (double free, unknown page, wrong page count, access to a page that
// is not live, guard overwritten) instead of crashing, and fails allocations
// on demand.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tlbkit/pt/table_memory.hpp"

namespace tlbkit::test {

using arch::Descriptor;
using arch::PhysAddr;

class FakeMemory final : public pt::TableMemory {
 public:
  static constexpr PhysAddr kBase = 0x8000'0000;
  static constexpr std::uint64_t kPageSize = 4096;
  static constexpr unsigned kEntries = 512;
  static constexpr unsigned kMaxPages = 16;

  FakeMemory() = default;
  FakeMemory(const FakeMemory&) = delete;
  FakeMemory& operator=(const FakeMemory&) = delete;
  ~FakeMemory() = default;

  // TableMemory.
  Result<PhysAddr> allocate(unsigned pages) override;
  void free(PhysAddr table, unsigned pages) override;
  Descriptor* descriptors(PhysAddr table) override;

  // Failure injection: after `n` more successful allocations, every
  // allocation fails with no_memory (so fail_after(0) fails the next one)
  // until never_fail().
  void fail_after(std::uint64_t n) { successes_left_ = n; }
  void never_fail() { successes_left_.reset(); }

  // Inspection. None of these records an error or has any side effect.
  // The 512 words of a live page (any page of a live allocation), or nullptr.
  const Descriptor* peek(PhysAddr page) const;
  bool is_live_page(PhysAddr page) const { return peek(page) != nullptr; }
  // Page count of the live allocation starting at `base`; nullopt when no
  // live allocation starts there.
  std::optional<unsigned> allocation_pages(PhysAddr base) const;
  // Every live page (each page of a multi-page allocation separately).
  std::set<PhysAddr> live_pages() const;
  // A hash of the contents of every live page together with its address.
  std::uint64_t contents_hash() const;

  std::uint64_t allocations() const { return allocations_; }  // successful ones
  std::uint64_t failed_allocations() const { return failed_allocations_; }
  std::uint64_t frees() const { return frees_; }
  std::uint64_t live_page_count() const;
  // Pages freed so far, in order (bases of the freed allocations).
  const std::vector<PhysAddr>& freed() const { return freed_log_; }

  // Every misuse seen so far, plus guard pages found overwritten now.
  std::vector<std::string> problems() const;
  void clear_problems() { errors_.clear(); }

  // The garbage word a fresh page holds at `index`: valid bit always set,
  // the rest pseudo-random (table-, block- and page-shaped words appear).
  static Descriptor garbage(PhysAddr page, unsigned index);

 private:
  static constexpr Descriptor kGuardWord = 0x6a09'e667'f3bc'c909;

  struct Allocation {
    unsigned pages = 0;
    std::vector<Descriptor> words;  // (pages + 1) * 512: the last page is a guard
  };

  // The live allocation containing `page` and the word offset of that page.
  const Allocation* find(PhysAddr page, std::size_t* offset) const;

  std::map<PhysAddr, Allocation> live_;
  std::set<PhysAddr> freed_bases_;
  std::vector<PhysAddr> freed_log_;
  std::vector<std::string> errors_;
  std::vector<Descriptor> scratch_ = std::vector<Descriptor>(kEntries, 0);
  std::optional<std::uint64_t> successes_left_;
  PhysAddr next_ = kBase;
  std::uint64_t allocations_ = 0;
  std::uint64_t failed_allocations_ = 0;
  std::uint64_t frees_ = 0;
};

}  // namespace tlbkit::test
