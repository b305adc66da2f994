// Short human-readable names of the things a suite report shows: features,
// geometry, address spaces, attribute sets, steps and change records.
#pragma once

#include <string>

#include "tlbkit/arch/features.hpp"
#include "tlbkit/pt/change.hpp"
#include "tlbkit/maint/policy.hpp"
#include "tlbkit/workload/scenario.hpp"

namespace tlbkit::report {

// "ttl,tlbirange,bbm2,fwb" in that order, or "none".
std::string features_text(const arch::CpuFeatures& features);

// "el1-stage1, 48-bit VA, start level 0" / "stage2, 40-bit IPA, start level 1, 2 concatenated root tables".
std::string geometry_text(arch::Regime regime, const workload::GeometrySpec& spec);

// "ASID 5, no global entries" / "VMID 7" / "EL2, no ASID".
std::string space_text(const maint::AddressSpace& space);

// "EL1+EL0 ro, EL0 exec, nG, AttrIndx 0" and the like; fields at their
// usual values (AF set, DBM off, inner shareable, no software bits) are left out.
std::string attributes_text(const workload::StepAttributes& attributes);

// "[0x10000000, 0x10001000)".
std::string range_text(std::uint64_t start, std::uint64_t size);

// One line for a step, without its note: "unmap [0x10000000, 0x10001000)",
// "map [..) -> 0x40100000 <attributes>, 4 KiB pages only", "promote 0x60000000 to a level 2 block".
std::string step_text(const workload::Step& step);

// "L3 leaf unmap [0x10000000, 0x10001000) oa 0x40100000 +exec"; oa is the
// output address of the first slot (the old one for unmap and replace).
std::string change_text(const pt::Change& change);

}  // namespace tlbkit::report
