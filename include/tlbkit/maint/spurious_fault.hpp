// Permission relaxations need no broadcast invalidation: a PE that still
// holds the stricter entry takes one spurious permission fault, and its
// fault handler drops that entry locally (Linux stage 1 and KVM stage 2
// both work this way; docs/ARCHITECTURE-FACTS.md section 4).
#pragma once

#include "tlbkit/maint/policy.hpp"

namespace tlbkit::maint {

// Appends the local maintenance for a spurious permission fault at `va` (an
// IPA for stage 2) taken on the executing PE:
//   EL1&0:   TLBI VALE1 (the space's ASID); DSB NSH
//   EL2:     TLBI VALE2; DSB NSH
//   stage 2: TLBI IPAS2LE1; DSB NSH; TLBI VMALLE1; DSB NSH
// No TTL hint: the level of the stale entry is unknown. No ISB: the
// exception return that retries the access synchronises the context.
// # Errors
// Those of the operand encoders (a VA outside the regime's range);
// out_of_range when the plan is full.
Status on_permission_fault(VirtAddr va, const AddressSpace& space, Plan& plan);

}  // namespace tlbkit::maint
