// The memory a translation table tree lives in, owned by the caller.
#pragma once

#include <cstdint>

#include "tlbkit/arch/descriptor.hpp"
#include "tlbkit/core/error.hpp"

namespace tlbkit::pt {

using arch::Descriptor;
using arch::PhysAddr;

// Provides table pages and maps their physical addresses to pointers.
// Implementations: a kernel's page allocator, a hypervisor's pool, the
// simulator's physical memory, test fakes that fail on demand.
class TableMemory {
 public:
  // `pages` physically contiguous 4 KiB pages aligned to pages * 4 KiB
  // (pages > 1 only for concatenated stage-2 roots). Contents unspecified:
  // the engine writes every entry before publishing a table.
  // # Errors
  // no_memory when nothing can be provided; nothing is allocated then.
  virtual Result<PhysAddr> allocate(unsigned pages) = 0;

  // Returns pages obtained from allocate(pages) with the same count.
  virtual void free(PhysAddr table, unsigned pages) = 0;

  // The 512 descriptors of the table page at `table`.
  virtual Descriptor* descriptors(PhysAddr table) = 0;

 protected:
  ~TableMemory() = default;
};

}  // namespace tlbkit::pt
