// Named weakenings of the simulated machine, for tests only. Each one
// switches off one rule of the model (docs/SIMULATOR.md, "Weakenings"), so
// that a test can show the rule has teeth: a broken sequence the real
// machine flags goes unflagged on the machine with that one weakening
// (tests/sim/machine_rules_test.cpp). The default, none, is the real
// machine; nothing outside the tests sets any.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace tlbkit::sim {

enum class Weakening : std::uint8_t {
  // Completion of TLBIs (Machine::issue).
  dsb_ishst_completes_tlbis,          // DSB ISHST completes pending TLBIs, as DSB ISH does
  dsb_nsh_completes_broadcast_tlbis,  // DSB NSH completes broadcast (IS) TLBIs too
  tlbi_takes_effect_at_issue,         // a TLBI acts when issued: no DSB needed
  // A local (non-IS) TLBI acts on every PE, as if broadcast. (Asked for as
  // "broadcast ops act locally"; but a broadcast op acting only locally
  // removes less, so the machine would flag more, never hide a broken
  // plan: local ops acting everywhere is the weakening of that rule that
  // can hide one.)
  local_tlbi_acts_on_every_pe,
  // TLBI matching (tlbi_removes, through TlbiContext).
  leaf_only_tlbi_drops_walk_entries,  // VALE1IS, VAALE1IS, IPAS2LE1IS, VALE2IS, range leaf forms, ...
  ttl_hint_ignored,                   // a TTL hint of another level still removes the entry
  asid_ignored,                       // an op's ASID matches entries of every ASID
  vmid_ignored,                       // the issuer's VMID matches entries of every VMID
  global_entries_match_asid_ops,      // nG ignored: ASIDE1 removes global entries too
  // Walks (Machine).
  table_writes_visible_before_dsb,    // other PEs' walkers see a writer's stores before its DSB
  walk_entries_never_cached,          // walks cache no table descriptor
};

// A set of weakenings.
class Weakenings {
 public:
  constexpr Weakenings() = default;
  constexpr Weakenings(std::initializer_list<Weakening> weakenings) {
    for (const Weakening w : weakenings) bits_ |= bit(w);
  }

  constexpr bool has(Weakening w) const { return (bits_ & bit(w)) != 0; }
  constexpr bool none() const { return bits_ == 0; }
  friend constexpr bool operator==(const Weakenings&, const Weakenings&) = default;

 private:
  static constexpr std::uint16_t bit(Weakening w) {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(w));
  }
  std::uint16_t bits_ = 0;
};

}  // namespace tlbkit::sim
