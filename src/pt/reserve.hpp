// Table pages allocated before an operation commits, so that the commit
// cannot fail (prepare/commit). Engine-internal.
#pragma once

#include "tlbkit/pt/table_memory.hpp"

namespace tlbkit::pt::detail {

// Holds private, not yet published table pages, linked through their own
// first entry (nobody can walk them yet). Frees what is left on destruction.
class Reserve {
 public:
  explicit Reserve(TableMemory& memory) : memory_(memory) {}
  Reserve(const Reserve&) = delete;
  Reserve& operator=(const Reserve&) = delete;
  ~Reserve() { release(); }

  // Allocates `count` pages. On failure frees what it got and returns the
  // allocator's error: all or nothing.
  Status fill(unsigned count) {
    for (unsigned i = 0; i < count; ++i) {
      Result<PhysAddr> page = memory_.allocate(1);
      if (!page.ok()) {
        release();
        return page.error();
      }
      memory_.descriptors(*page)[0] = head_;
      head_ = *page;
      ++count_;
    }
    return ok_status();
  }

  // One page. Precondition: the prepare step counted it (count() > 0).
  PhysAddr take() {
    const PhysAddr page = head_;
    head_ = memory_.descriptors(page)[0];
    --count_;
    return page;
  }

  unsigned count() const { return count_; }

 private:
  void release() {
    while (count_ > 0) memory_.free(take(), 1);
  }

  TableMemory& memory_;
  PhysAddr head_ = 0;
  unsigned count_ = 0;
};

}  // namespace tlbkit::pt::detail
