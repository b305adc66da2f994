// The instruction-cache checker in trace replay: a JIT thread on PE 0 writes
// a page and makes it executable while another thread on PE 1 runs it. A
// policy whose I-cache invalidation is the local IC IALLU (elfuse, every
// version: docs/baselines/elfuse.md) leaves PE 1's instruction cache stale;
// tlbkit's planner (IC IALLUIS) does not.
#include <gtest/gtest.h>

#include <string>

#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/maint/planner.hpp"
#include "tlbkit/replay/trace_replay.hpp"
#include "tlbkit/sim/profile.hpp"

namespace tlbkit::replay {
namespace {

using namespace trace;

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kBase = 0x7f00'0000'0000;

// Thread 10 on PE 0 maps, writes and mprotects one page to r-x; then
// `fetcher` (10 on PE 0, or 11 on PE 1) fetches from it.
ReplayRun jit_toggle(const maint::Policy& policy, ThreadId fetcher) {
  ReplayOptions o;
  o.pes = 2;
  o.features.tlbi_range = arch::Presence::present;
  TraceReplayer r(policy, *sim::find_profile("mobile-8"), o);
  for (const Event& e : std::initializer_list<Event>{
           SpaceCreate{1, SpaceKind::process, 0}, ThreadStart{10, 1, 0}, ThreadStart{11, 1, 1},
           Mmap{10, kBase, kPage, Prot::read | Prot::write, MapFlags::anonymous},
           Access{10, kBase, AccessKind::write},  // the kernel fills a fresh page
           Mprotect{10, kBase, kPage, Prot::read | Prot::exec}, Access{fetcher, kBase, AccessKind::fetch}}) {
    EXPECT_EQ(r.put(e), "");
  }
  return r.finish();
}

std::size_t stale_instructions(const ReplayRun& run) {
  std::size_t n = 0;
  for (const sim::Violation& v : run.violations) n += v.kind == sim::ViolationKind::stale_instruction ? 1 : 0;
  return n;
}

TEST(ICacheReplay, TheLocalICIalluOfEveryElfuseVersionLeavesTheOtherVcpuStale) {
  for (const char* name : {"elfuse-059fb2b", "elfuse-e13ade1", "elfuse-9fc96f7", "elfuse-00ed78b"}) {
    const baselines::PolicyEntry& elfuse = *baselines::find_policy(name);
    EXPECT_EQ(stale_instructions(jit_toggle(elfuse.policy, 11)), 1u) << name << ": PE 1 fetches stale code";
    EXPECT_EQ(stale_instructions(jit_toggle(elfuse.policy, 10)), 0u) << name << ": PE 0 invalidated its own";
  }
}

TEST(ICacheReplay, TheBroadcastICIalluisOfThePlannerLeavesNoPeStale) {
  const maint::Planner planner;
  const ReplayRun run = jit_toggle(planner, 11);
  EXPECT_TRUE(run.ok()) << (run.violations.empty() ? "" : run.violations.front().message);
}

}  // namespace
}  // namespace tlbkit::replay
