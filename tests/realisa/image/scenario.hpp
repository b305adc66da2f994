// What every lane's scenarios share: the policy and executor under test, an
// address space to edit, a change made through a Gather, and the result
// line a scenario reports.
#pragma once

#include <cstdint>
#include <string_view>

#include "console.hpp"
#include "platform.hpp"
#include "teeth_executor.hpp"
#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/pt/table.hpp"
#include "window.hpp"

namespace realisa {

// The policy under test and where its plans run.
struct Env {
  tlbkit::arch::CpuFeatures features;
  const tlbkit::baselines::PolicyEntry* policy;
  TeethExecutor* executor;
  Mode mode;
  const Observers* observers;  // set by the lane
};

// A translation table and the address space the policy is told it is.
struct Space {
  tlbkit::pt::Table table;
  tlbkit::maint::AddressSpace address_space;
};

// Ends the run (exit status 70) when `status` is an error.
void must(const tlbkit::Status& status, std::string_view what);

// A table of `regime` with `geometry`, the harness mapped identity in it.
// `options` say which FEAT_BBM level the engine may use.
tlbkit::pt::Table new_table(tlbkit::arch::Regime regime, const tlbkit::arch::Geometry& geometry,
                            tlbkit::pt::TableOptions options = {});

// Frees every table of `table` at once: the caller has switched away from
// it and invalidated every TLB entry it could have left.
void release_now(tlbkit::pt::Table& table);

// Runs `edit(table, gather)` on `space` with a Gather of env's policy and
// executor, then finishes the gather (the plan runs).
template <class Edit>
void change(Env& env, Space& space, Edit edit) {
  tlbkit::maint::Gather gather(space.address_space, env.features, env.policy->policy, *env.executor,
                               table_memory());
  must(edit(space.table, gather), "table edit");
  must(gather.finish(), "gather finish");
}

// One step of a scenario: updates the expectation with `expect()` (what
// the change will do, known before it is made), warms the TLB through `w`
// (the pages the change affects last, so they are the freshest entries),
// makes the change, and checks every page.
template <class Edit, class Expect>
Tally step(Env& env, Space& space, Window& w, Accesses accesses, Edit edit, Expect expect) {
  w.snapshot();
  expect();
  env.observers->warm(w, accesses);
  change(env, space, edit);
  return env.observers->check(w, accesses);
}

// The steps the EL1, EL2 and SMP scenarios are made of, for any regime
// (`rw` and `ro` are leaf attributes of the space's regime, writable and
// read-only). Each makes one change through step() and returns what the
// check found.
//
// Maps every page of `w` to fresh frames aligned to `align`; returns them.
PhysAddr map_fresh(Env& env, Space& space, Window& w, const tlbkit::pt::LeafAttributes& rw, Tally& t,
                   std::uint64_t align = kPage);
// Unmaps pages [first, first + count) of `w`.
Tally unmap_pages(Env& env, Space& space, Window& w, unsigned first, unsigned count);
// Splits the 2 MiB block at `w`'s base into pages (no visible change).
Tally split_block(Env& env, Space& space, Window& w);
// Makes pages [first, first + count) of `w` read-only; writes must fault.
Tally make_read_only(Env& env, Space& space, Window& w, unsigned first, unsigned count,
                     const tlbkit::pt::LeafAttributes& ro);
// Unmaps every page of `w` and maps it to fresh frames, in one batch.
Tally remap_fresh(Env& env, Space& space, Window& w, const tlbkit::pt::LeafAttributes& rw);

// Whether a scenario is expected to catch a mode's dropped or narrowed
// instructions under QEMU, and if not, why.
struct Teeth {
  bool catches;
  std::string_view why_not;  // empty when it catches
};

// What the run's mode is expected to show in a scenario whose dropped
// TLBIs show as `drop_tlbi`: with several PEs, narrowing the broadcasts
// shows the same; dropped DSBs show nothing under QEMU.
Teeth teeth_of(const Env& env, const Teeth& drop_tlbi);

// Prints "result lane=... policy=... scenario=... mode=... checks=N stale=N
// wrong=N tlbi=N range_tlbi=N dsb=N cache=N narrowed_or_dropped=N
// expect=catch|none [why="..."]", the op counts being what the executor
// issued since the previous report. Returns 1 when it is a failure
// whatever the mode (a normal run saw a stale or wrong access), else 0.
unsigned report(std::string_view lane, Env& env, std::string_view scenario, const Tally& t, const Teeth& teeth);

}  // namespace realisa
