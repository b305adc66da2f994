// Test support for the shim protocol tests: plans as vectors, and an
// independent check that one op sequence removes every TLB entry another
// one removes. The check knows only arch::decode and the catalogue, nothing
// of the shim protocol.
#pragma once

#include <string>
#include <vector>

#include "tlbkit/arch/ops.hpp"
#include "tlbkit/plan/plan.hpp"

namespace tlbkit::exec::test {

// The ops of `plan`, expanded, in order.
std::vector<arch::Op> ops_of(const Plan& plan);

// A plan holding `ops` in order, each run of one instruction at a constant
// operand distance as one step. Precondition: those steps fit.
Plan plan_of(const std::vector<arch::Op>& ops);

// Empty when every entry some EL1&0 stage-1 TLBI of `original` must remove
// is removed by a TLBI of `replacement` that is at least as wide (IS for an
// IS op), and every I-cache op of `original` is matched by IC IALLUIS in
// `replacement`; otherwise a sentence naming the first op not covered.
//
// What a TLBI must remove, as (ASID, 4 KiB pages, levels, TTL):
//   VMALLE1(IS)              everything
//   ASIDE1(IS)               every non-global entry of its ASID
//   by VA (VAE1IS, ...)      the page it names, for its ASID (all-ASID
//                            forms: for every ASID)
//   range (RVAE1IS, ...)     every page of [start, start + size)
// A replacement TLBI covers pages when it names them for the same ASID (an
// all-ASID replacement covers any), is not leaf-only unless the original is,
// and carries no TTL hint or the very same one. By-VA and range pages are
// never covered by ASIDE1IS (it spares global entries).
std::string uncovered(const std::vector<arch::Op>& original, const std::vector<arch::Op>& replacement);

}  // namespace tlbkit::exec::test
