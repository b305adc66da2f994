// An independent coverage oracle for maintenance plans, written only for
// tests. It decodes every operand itself, from the bit layouts of
// docs/ARCHITECTURE-FACTS.md section 1 (not through arch::decode), and proves that a plan
// removes every cached entry a set of changes may have left, in an order
// that makes the removal complete.
#pragma once

#include <string>
#include <vector>

#include "tlbkit/arch/features.hpp"
#include "tlbkit/plan/plan.hpp"
#include "tlbkit/maint/policy.hpp"

namespace tlbkit::test {

// Empty when `ops` is a correct plan for `pending` in `space` on a CPU with
// `features`; otherwise one sentence per problem. Rules:
// - ops the CPU lacks are wrong: range TLBIs without FEAT_TLBIRANGE, a
//   nonzero TTL field without FEAT_TTL, a reserved TG;
// - every TLBI is broadcast (an IS form), preceded by a DSB ISHST (or a
//   stronger DSB) that follows nothing but barriers, and followed by a DSB
//   ISH (or SY) — completion needs the issuer's DSB; when the space's
//   reach is the issuing PE only (no other PE may hold its entries), local
//   forms will do too, and so will a DSB NSH after them;
// - each changed leaf entry [va, va + size) at level L (one entry per level
//   size) is removed by an op naming one of its pages for its ASID (or all
//   ASIDs), with no TTL or TTL (4K, L), leaf-only allowed; a range op
//   removes the entries it overlaps; ASIDE1IS removes it unless the space
//   holds global entries; VMALLE1IS removes every stage-1 entry;
// - each page under a changed table entry is removed by a non-leaf op with
//   no TTL (a walk cache may hold the table); for an emptied table whose
//   entries were all reported (Beneath::reported) one such op naming any
//   address of each table slot is enough: only the walk entry is owed;
// - stage 2: every changed IPA page is removed by an IPA op (or
//   VMALLS12E1IS / ALLE1IS), and combined entries by VMALLE1IS after a
//   DSB ISH that follows the IPA ops (or by VMALLS12E1IS / ALLE1IS);
// - EL2: the EL2 forms (VAE2IS, VALE2IS, RVAE2IS, RVALE2IS, ALLE2IS);
// - coverage "everything": only space-wide ops will do;
// - each line of pending.clean is cleaned by DC CIVAC at PA +
//   linear_map_offset after the TLBIs completed, then a DSB ISH follows;
// - exec gained: IC IALLUIS, then DSB ISH, then ISB.
std::vector<std::string> plan_problems(const std::vector<arch::Op>& ops, const maint::Pending& pending,
                                       const maint::AddressSpace& space, const arch::CpuFeatures& features);

std::vector<arch::Op> expand(const Plan& plan);

}  // namespace tlbkit::test
