// The behaviour each generator models (docs/GENERATORS.md), checked on its
// default trace: what the background documents describe is in the events.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "generated.hpp"
#include "tlbkit/gen/generator.hpp"

namespace tlbkit::gen::testing {
namespace {

using trace::Event;
using trace::Prot;
using trace::SpaceId;
using trace::ThreadId;

constexpr std::uint64_t kPage = 0x1000;

std::uint64_t default_size(std::string_view name) { return find_generator(name)->default_size; }

Generated at_default(std::string_view name, unsigned pes = 4) {
  Generated g = generate(name, Parameters{0, pes, 1});
  EXPECT_EQ(g.result, "") << name;
  return g;
}

// Which space each thread is in (threads are never reused in generated traces).
std::unordered_map<ThreadId, SpaceId> spaces_of(const std::vector<Event>& events) {
  std::unordered_map<ThreadId, SpaceId> space;
  for (const Event& e : events) {
    if (const auto* t = std::get_if<trace::ThreadStart>(&e)) space[t->thread] = t->space;
    if (const auto* f = std::get_if<trace::Fork>(&e)) space[f->child] = f->child_space;
    if (const auto* x = std::get_if<trace::Exec>(&e)) space[x->thread] = x->space;
  }
  return space;
}

// Pages written since the memory under them was last mapped or unmapped,
// per space, followed event by event.
class WrittenPages {
 public:
  explicit WrittenPages(const std::vector<Event>& events) : space_(spaces_of(events)) {}
  // Takes in what `e` did (call once a test has looked at `e`).
  void after(const Event& e) {
    if (const auto* a = std::get_if<trace::Access>(&e); a && a->kind == trace::AccessKind::write) {
      written_[space_.at(a->thread)].insert(a->addr / kPage);
    } else if (const auto* m = std::get_if<trace::Mmap>(&e)) {
      forget(space_.at(m->thread), m->addr, m->length);
    } else if (const auto* u = std::get_if<trace::Munmap>(&e)) {
      forget(space_.at(u->thread), u->addr, u->length);
    }
  }
  std::uint64_t written_in(ThreadId t, std::uint64_t addr, std::uint64_t length) const {
    const auto it = written_.find(space_.at(t));
    if (it == written_.end()) return 0;
    std::uint64_t n = 0;
    for (std::uint64_t p = addr / kPage; p < (addr + length) / kPage; ++p) n += it->second.contains(p) ? 1 : 0;
    return n;
  }

 private:
  void forget(SpaceId s, std::uint64_t addr, std::uint64_t length) {
    for (std::uint64_t p = addr / kPage; p < (addr + length) / kPage; ++p) written_[s].erase(p);
  }
  std::unordered_map<ThreadId, SpaceId> space_;
  std::unordered_map<SpaceId, std::unordered_set<std::uint64_t>> written_;
};

TEST(RelroStorm, EachLibrarysRelroPagesAreWrittenByRelocationBeforeTheyAreMadeReadOnly) {
  const Generated g = at_default("relro-storm");
  WrittenPages written(g.events);
  std::uint64_t relro = 0;
  for (const Event& e : g.events) {
    if (const auto* m = std::get_if<trace::Mprotect>(&e)) {
      EXPECT_EQ(m->prot, Prot::read);
      EXPECT_EQ(written.written_in(m->thread, m->addr, m->length), m->length / kPage);
      ++relro;
    }
    written.after(e);
  }
  EXPECT_EQ(relro, default_size("relro-storm") * 4);
}

TEST(SmallMunmap, EveryMunmapTakesOneToSixteenPagesAllWrittenSinceTheirMmap) {
  const Generated g = at_default("small-munmap");
  WrittenPages written(g.events);
  for (const Event& e : g.events) {
    if (const auto* u = std::get_if<trace::Munmap>(&e)) {
      EXPECT_GE(u->length, kPage);
      EXPECT_LE(u->length, 16 * kPage);
      EXPECT_EQ(written.written_in(u->thread, u->addr, u->length), u->length / kPage);
    }
    written.after(e);
  }
}

TEST(SmallMunmap, FreedAddressesAreMappedAgain) {
  const Generated g = at_default("small-munmap");
  std::set<std::uint64_t> unmapped;
  std::uint64_t reused = 0;
  for (const Event& e : g.events) {
    if (const auto* u = std::get_if<trace::Munmap>(&e)) unmapped.insert(u->addr);
    if (const auto* m = std::get_if<trace::Mmap>(&e)) reused += unmapped.contains(m->addr) ? 1 : 0;
  }
  EXPECT_GT(reused, 100u);
}

TEST(GuardPages, MostGuardsAreCarvedIntoWrittenMemory) {
  const Generated g = at_default("guard-pages");
  WrittenPages written(g.events);
  std::uint64_t carves = 0;
  std::uint64_t into_written = 0;
  for (const Event& e : g.events) {
    if (const auto* m = std::get_if<trace::Mmap>(&e); m && m->prot == Prot::none) {
      EXPECT_TRUE(trace::has(m->flags, trace::MapFlags::fixed));
      ++carves;
      into_written += written.written_in(m->thread, m->addr, m->length) != 0 ? 1 : 0;
    }
    written.after(e);
  }
  EXPECT_GT(into_written, carves / 2);
}

TEST(ForkCow, FourChildrenEachReadTheWholeHeapWhileBothSidesWrite) {
  const Generated g = at_default("fork-cow");
  const std::vector<trace::Fork> forks = all_of<trace::Fork>(g.events);
  ASSERT_EQ(forks.size(), 4u);
  const std::unordered_map<ThreadId, SpaceId> space = spaces_of(g.events);
  std::unordered_map<ThreadId, std::uint64_t> child_reads;
  std::unordered_map<ThreadId, std::uint64_t> child_writes;
  std::uint64_t parent_writes_while_a_child_lives = 0;
  constexpr ThreadId kNone = ~ThreadId{0};
  ThreadId child = kNone;
  for (const Event& e : g.events) {
    if (const auto* f = std::get_if<trace::Fork>(&e)) child = f->child;
    if (const auto* x = std::get_if<trace::Exit>(&e); x && child == x->thread) child = kNone;
    const auto* a = std::get_if<trace::Access>(&e);
    if (a == nullptr || child == kNone) continue;
    if (a->thread == child) {
      (a->kind == trace::AccessKind::read ? child_reads : child_writes)[a->thread]++;
    } else if (a->kind == trace::AccessKind::write && space.at(a->thread) == space.at(forks.front().parent)) {
      ++parent_writes_while_a_child_lives;
    }
  }
  const std::uint64_t heap = default_size("fork-cow");
  for (const trace::Fork& f : forks) {
    EXPECT_GE(child_reads[f.child], heap);
    EXPECT_GT(child_writes[f.child], 0u);
  }
  EXPECT_GT(parent_writes_while_a_child_lives, 4 * heap / 64);
}

TEST(ProcessTeardown, EachProcessEndsWhileItsSuccessorIsAliveAndTouchesThousandsOfPages) {
  const Generated g = at_default("process-teardown");
  const Checked c = check(g.events, 4);
  ASSERT_EQ(c.broken, "");
  EXPECT_EQ(c.facts.max_live_process_spaces, 2u);
  const std::unordered_map<ThreadId, SpaceId> space = spaces_of(g.events);
  std::unordered_map<SpaceId, std::unordered_set<std::uint64_t>> touched;
  for (const trace::Access& a : all_of<trace::Access>(g.events)) touched[space.at(a.thread)].insert(a.addr / kPage);
  EXPECT_EQ(touched.size(), default_size("process-teardown"));
  for (const auto& [s, pages] : touched) EXPECT_GE(pages.size(), 2048u) << "space " << s;
}

TEST(VmTeardown, TheVmIsDestroyedLastAfterEveryVcpuItAnnouncedHasRun) {
  const Generated g = at_default("vm-teardown");
  const std::vector<trace::SpaceCreate> vms = all_of<trace::SpaceCreate>(g.events);
  ASSERT_EQ(vms.size(), 1u);
  EXPECT_EQ(vms.front().kind, trace::SpaceKind::vm);
  EXPECT_EQ(vms.front().vcpus, 4u);
  EXPECT_EQ(all_of<trace::ThreadStart>(g.events).size(), 4u);
  ASSERT_TRUE(std::holds_alternative<trace::SpaceDestroy>(g.events.back()));
  EXPECT_EQ(std::get<trace::SpaceDestroy>(g.events.back()).space, vms.front().space);
}

TEST(S2Unmap, TheHostUnmapsGuestRangesFromItsOwnProcessWithRacingVcpuReads) {
  const Generated g = at_default("s2-unmap");
  const std::unordered_map<ThreadId, SpaceId> space = spaces_of(g.events);
  for (const trace::Reclaim& r : all_of<trace::Reclaim>(g.events)) EXPECT_NE(space.at(r.thread), r.space);
  const Checked c = check(g.events, 4);
  ASSERT_EQ(c.broken, "");
  EXPECT_GT(c.facts.racing_reads, 0u);
}

TEST(S2Unmap, OnOnePeNoReadRacesTheHostsUnmaps) {
  const Generated g = at_default("s2-unmap", 1);
  EXPECT_EQ(check(g.events, 1).facts.racing_reads, 0u);
}

TEST(RacingReads, OnlyMtMprotectAndS2UnmapReadPagesAnOpenGatherChanged) {
  for (const Generator& gen : generators()) {
    const Generated g = at_default(gen.name);
    const Checked c = check(g.events, 4);
    ASSERT_EQ(c.broken, "") << gen.name;
    if (gen.name == "mt-mprotect" || gen.name == "s2-unmap") {
      EXPECT_GT(c.facts.racing_reads, 0u) << gen.name;
    } else {
      EXPECT_EQ(c.facts.racing_reads, 0u) << gen.name;
    }
  }
}

TEST(MtMprotect, RacingReadsAreOfPagesReadableBeforeAndAfterTheChange) {
  const Generated g = at_default("mt-mprotect");
  std::map<std::uint64_t, Prot> prot;  // by page
  constexpr ThreadId kNone = ~ThreadId{0};
  ThreadId gatherer = kNone;
  std::map<std::uint64_t, Prot> before;  // pages the open gather changed, with their old rights
  std::uint64_t racing = 0;
  for (const Event& e : g.events) {
    if (const auto* b = std::get_if<trace::GatherBegin>(&e)) gatherer = b->thread;
    if (std::holds_alternative<trace::Flush>(e)) {
      gatherer = kNone;
      before.clear();
    }
    if (const auto* m = std::get_if<trace::Mmap>(&e)) {
      for (std::uint64_t p = m->addr / kPage; p < (m->addr + m->length) / kPage; ++p) prot[p] = m->prot;
    }
    if (const auto* m = std::get_if<trace::Mprotect>(&e)) {
      for (std::uint64_t p = m->addr / kPage; p < (m->addr + m->length) / kPage; ++p) {
        if (gatherer != kNone) before[p] = prot[p];
        prot[p] = m->prot;
      }
    }
    if (const auto* a = std::get_if<trace::Access>(&e); a && gatherer != kNone && a->thread != gatherer) {
      const auto it = before.find(a->addr / kPage);
      if (it == before.end()) continue;
      ++racing;
      EXPECT_EQ(a->kind, trace::AccessKind::read);
      EXPECT_TRUE(trace::has(it->second, Prot::read));
      EXPECT_TRUE(trace::has(prot[a->addr / kPage], Prot::read));
    }
  }
  EXPECT_GT(racing, 1000u);
}

TEST(DirtyLog, EachWriteFaultMakesOnePageWritableInAGatherFlushedAtVmExit) {
  const Generated g = at_default("dirty-log");
  std::uint64_t faults = 0;
  for (std::size_t i = 0; i < g.events.size(); ++i) {
    const auto* f = std::get_if<trace::Flush>(&g.events[i]);
    if (f == nullptr || f->reason != trace::FlushReason::vm_exit) continue;
    ++faults;
    ASSERT_GE(i, 2u);
    const auto* m = std::get_if<trace::Mprotect>(&g.events[i - 1]);
    const auto* b = std::get_if<trace::GatherBegin>(&g.events[i - 2]);
    ASSERT_NE(m, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(m->length, kPage);
    EXPECT_EQ(m->prot, Prot::read | Prot::write);
    EXPECT_EQ(m->thread, f->thread);
    EXPECT_EQ(b->thread, f->thread);
  }
  EXPECT_GT(faults, default_size("dirty-log") * 100);
}

TEST(DirtyLog, EveryPassWriteProtectsInOneGatherFlushedAtTheCallsReturn) {
  const Generated g = at_default("dirty-log");
  constexpr ThreadId kNone = ~ThreadId{0};
  ThreadId gatherer = kNone;
  std::uint64_t protected_in_gather = 0;
  for (const Event& e : g.events) {
    if (const auto* b = std::get_if<trace::GatherBegin>(&e)) {
      gatherer = b->thread;
      protected_in_gather = 0;
    }
    if (const auto* m = std::get_if<trace::Mprotect>(&e); m && m->prot == Prot::read) {
      EXPECT_EQ(m->thread, gatherer);
      EXPECT_EQ(m->length, 64 * kPage);
      ++protected_in_gather;
    }
    if (const auto* f = std::get_if<trace::Flush>(&e)) {
      if (f->reason == trace::FlushReason::syscall) {
        EXPECT_GT(protected_in_gather, 0u);
      }
      gatherer = kNone;
    }
  }
}

TEST(Reclaim, KswapdUnmapsPagesOfOtherProcessesSeveralToAGatherFlushedOnce) {
  const Generated g = at_default("reclaim");
  const std::unordered_map<ThreadId, SpaceId> space = spaces_of(g.events);
  bool open = false;
  std::uint64_t reclaims = 0;
  std::uint64_t batches = 0;
  std::set<SpaceId> targets;
  for (const Event& e : g.events) {
    if (std::holds_alternative<trace::GatherBegin>(e)) open = true;
    if (const auto* f = std::get_if<trace::Flush>(&e)) {
      open = false;
      ++batches;
      EXPECT_EQ(f->reason, trace::FlushReason::gather);
    }
    if (const auto* r = std::get_if<trace::Reclaim>(&e)) {
      EXPECT_TRUE(open);
      EXPECT_NE(space.at(r->thread), r->space);
      targets.insert(r->space);
      ++reclaims;
    }
  }
  EXPECT_GT(reclaims, 3 * batches);
  EXPECT_EQ(targets.size(), default_size("reclaim"));
}

TEST(JitWx, NoMappingIsEverWritableAndExecutableAtOnce) {
  const Generated g = at_default("jit-wx");
  const auto wx = [](Prot p) { return trace::has(p, Prot::write) && trace::has(p, Prot::exec); };
  for (const trace::Mmap& m : all_of<trace::Mmap>(g.events)) EXPECT_FALSE(wx(m.prot));
  for (const trace::Mprotect& m : all_of<trace::Mprotect>(g.events)) EXPECT_FALSE(wx(m.prot));
  EXPECT_GT(all_of<trace::Access>(g.events).size(), default_size("jit-wx") * 4);
}

TEST(KernelPurge, FreedAreasAreUnmappedOnlyInPurgeGathersAndTheirAddressesHandedOutAgain) {
  const Generated g = at_default("kernel-purge");
  bool open = false;
  std::set<std::uint64_t> purged;
  std::uint64_t reused = 0;
  for (const Event& e : g.events) {
    if (std::holds_alternative<trace::GatherBegin>(e)) open = true;
    if (std::holds_alternative<trace::Flush>(e)) open = false;
    if (const auto* u = std::get_if<trace::Munmap>(&e)) {
      EXPECT_TRUE(open);
      purged.insert(u->addr);
    }
    if (const auto* m = std::get_if<trace::Mmap>(&e)) {
      EXPECT_GE(m->addr, 0xff00'0000'0000u);
      reused += purged.contains(m->addr) ? 1 : 0;
    }
  }
  EXPECT_GT(reused, 100u);
  const std::vector<trace::SpaceCreate> spaces = all_of<trace::SpaceCreate>(g.events);
  ASSERT_EQ(spaces.size(), 1u);
  EXPECT_EQ(spaces.front().kind, trace::SpaceKind::kernel);
}

TEST(AsidRollover, MoreProcessesAreAliveAtOnceThanThereAreEightBitAsids) {
  const Generated g = at_default("asid-rollover");
  const Checked c = check(g.events, 4);
  ASSERT_EQ(c.broken, "");
  EXPECT_EQ(c.facts.max_live_process_spaces, default_size("asid-rollover"));
  EXPECT_GT(c.facts.max_live_process_spaces, 256u);
  EXPECT_GT(c.facts.switches, 8 * default_size("asid-rollover"));
}

}  // namespace
}  // namespace tlbkit::gen::testing
