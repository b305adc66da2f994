// What the maintenance of a batch or a scenario cost, counted op by op.
#pragma once

#include <cstdint>
#include <span>

#include "tlbkit/arch/ops.hpp"
#include "tlbkit/plan/plan.hpp"

namespace tlbkit::workload {

// How wide a TLBI reaches.
enum class TlbiReach : std::uint8_t {
  per_va,   // one page or block: by VA or by IPA (VAE1IS, VALE2IS, IPAS2LE1IS, ...)
  range,    // FEAT_TLBIRANGE (RVAE1IS, RIPAS2E1IS, ...)
  context,  // one ASID or the current VMID (ASIDE1IS, VMALLE1IS, VMALLS12E1IS)
  full,     // a whole regime, every ASID and VMID (ALLE1IS, ALLE2IS)
};

// The reach of a TLBI. Precondition: arch::info(instr).category is tlbi.
TlbiReach tlbi_reach(arch::Instr instr);

struct Counters {
  std::uint64_t changes = 0;          // change records the table engine reported
  std::uint64_t plans = 0;            // plans executed
  std::uint64_t immediate_plans = 0;  // of which break-before-make (ChangeSink::invalidate_now)
  std::uint64_t tlbi_per_va = 0;
  std::uint64_t tlbi_range = 0;
  std::uint64_t tlbi_context = 0;
  std::uint64_t tlbi_full = 0;
  std::uint64_t broadcast = 0;  // TLBIs broadcast to the Inner Shareable domain (the IS forms)
  std::uint64_t dsb = 0;
  std::uint64_t isb = 0;
  std::uint64_t icache = 0;  // IC IALLU, IC IALLUIS, IC IVAU
  std::uint64_t dcache = 0;  // DC CIVAC
  std::uint64_t tables_freed = 0;

  std::uint64_t tlbis() const { return tlbi_per_va + tlbi_range + tlbi_context + tlbi_full; }
  Counters& operator+=(const Counters& other);
  friend bool operator==(const Counters&, const Counters&) = default;
};

// Adds the op-level counters of `ops` (TLBIs by reach, broadcast, barriers,
// cache ops) to `counters`; plans, changes and tables are left alone.
void count_ops(std::span<const arch::Op> ops, Counters& counters);

// count_ops() for the ops `plan` expands to (each step counts as often as
// it runs).
void count_plan(const Plan& plan, Counters& counters);

}  // namespace tlbkit::workload
