// Process lifetimes: fork with copy-on-write (background/freebsd-D37254-stage2-tlb-invalidation.txt:
// the cost of setting up copy-on-write in pmap_protect), processes with
// large address spaces exiting (the same thread: pmap_remove_pages' single
// invalidation by ASID; REFERENCE.md section 5: Linux's whole-mm unmap
// without leaf TLBIs), and more processes than ASIDs (REFERENCE.md
// section 6: rollover).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "address_window.hpp"
#include "emitter.hpp"
#include "generators.hpp"
#include "layout.hpp"
#include "sequence.hpp"

namespace tlbkit::gen {
namespace {

struct Process {
  SpaceId space = 0;
  std::vector<ThreadId> threads;  // the first is the main thread
};

ThreadId any_thread(Sequence& rng, const std::vector<ThreadId>& threads) { return threads[rng.below(threads.size())]; }

// Builds one process of process-teardown: 1..pes threads on consecutive
// PEs from `first_pe`, a heap, an anonymous THP-eligible region, two
// anonymous regions, program text and read-only data, every page touched
// by one of its threads.
Process populate(Emitter& e, Sequence& rng, unsigned first_pe) {
  Process p;
  p.space = e.process();
  const unsigned threads = static_cast<unsigned>(rng.between(1, e.pes()));
  for (unsigned j = 0; j < threads; ++j) p.threads.push_back(e.start(p.space, (first_pe + j) % e.pes()));
  const ThreadId main = p.threads.front();
  AddressWindow window(kMmapBottom, kMmapTop, FirstFit::from_top);
  const std::uint64_t budget = rng.between(2048, 6144);
  const std::uint64_t heap = budget / 4;
  const std::uint64_t huge = std::max<std::uint64_t>(512, (budget / 4) & ~std::uint64_t{511});
  const std::uint64_t anon = budget / 8;
  const std::uint64_t text = budget / 8;
  const std::uint64_t data = budget - heap - huge - 2 * anon - text;
  const auto touch = [&](std::uint64_t at, std::uint64_t n, trace::AccessKind kind) {
    for (std::uint64_t i = 0; i < n; ++i) {
      const ThreadId t = any_thread(rng, p.threads);
      switch (kind) {
        case trace::AccessKind::read: e.read(t, at + pages(i)); break;
        case trace::AccessKind::write: e.write(t, at + pages(i)); break;
        case trace::AccessKind::fetch: e.fetch(t, at + pages(i)); break;
      }
    }
  };
  const auto map = [&](std::uint64_t n, std::uint64_t align, trace::Prot prot, trace::MapFlags flags) {
    const std::optional<std::uint64_t> at = window.take(pages(n), align);
    if (!at) {
      e.fail("process-teardown: the mmap window is full");
      return std::uint64_t{0};
    }
    e.mmap(main, *at, pages(n), prot, flags);
    return *at;
  };
  e.brk(main, kHeapStart);
  e.brk(main, kHeapStart + pages(heap));
  touch(kHeapStart, heap, trace::AccessKind::write);
  const std::uint64_t text_at = map(text, kPage, kRX, kFile);
  const std::uint64_t data_at = map(data, kPage, kR, kFile);
  const std::uint64_t huge_at = map(huge, kBlock, kRW, kAnon | kHuge);
  const std::uint64_t anon_at = map(anon, kPage, kRW, kAnon);
  const std::uint64_t other_at = map(anon, kPage, kRW, kAnon);
  if (!e.ok()) return p;
  touch(text_at, text, trace::AccessKind::fetch);
  touch(data_at, data, trace::AccessKind::read);
  touch(huge_at, huge, trace::AccessKind::write);
  touch(anon_at, anon, trace::AccessKind::write);
  touch(other_at, anon, trace::AccessKind::write);
  return p;
}

// Ends `p`: its other threads exit, then the main thread (the last exit
// tears the space down). A single-threaded process execs a quarter of the
// time instead (the old space is torn down at the exec) and then exits.
void end(Emitter& e, Sequence& rng, const Process& p) {
  if (p.threads.size() == 1 && rng.percent(25)) e.exec(p.threads.front());
  for (auto it = p.threads.rbegin(); it != p.threads.rend(); ++it) e.exit(*it);
}

}  // namespace

// A process with a main thread on PE 0 and a worker on each other PE
// grows its heap with brk (64 pages at a time) to `heap` pages, every page
// written by one of its threads, and fills a small shared anonymous region
// (MAP_SHARED: never copy-on-write). Then four times: the main thread
// forks a child placed on the last PE (a snapshot, as Redis's BGSAVE);
// the child reads every heap page in order and writes a few (its own
// allocations break copy-on-write in the child), while after every 64
// pages read the parent's threads write 8 random heap pages (breaking
// copy-on-write in the parent); the child exits.
std::string emit_fork_cow(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t heap = 0;
  if (std::string refusal = check_parameters("fork-cow", parameters, kForkCowHeapPages, heap); !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  const SpaceId s = e.process();
  std::vector<ThreadId> parents;
  for (unsigned pe = 0; pe < e.pes(); ++pe) parents.push_back(e.start(s, pe));
  const ThreadId main = parents.front();
  e.brk(main, kHeapStart);
  for (std::uint64_t grown = 0; grown < heap && e.ok();) {
    const std::uint64_t step = std::min<std::uint64_t>(64, heap - grown);
    e.brk(main, kHeapStart + pages(grown + step));
    for (std::uint64_t i = grown; i < grown + step; ++i) e.write(any_thread(rng, parents), kHeapStart + pages(i));
    grown += step;
  }
  const std::uint64_t shared = std::max<std::uint64_t>(16, heap / 32);
  const std::uint64_t shared_at = kMmapTop - pages(shared);
  e.mmap(main, shared_at, pages(shared), kRW, kAnon | kShared);
  for (std::uint64_t i = 0; i < shared; ++i) e.write(any_thread(rng, parents), shared_at + pages(i));
  constexpr int kForks = 4;
  constexpr std::uint64_t kChunk = 64;
  for (int round = 0; round < kForks && e.ok(); ++round) {
    const Emitter::Forked child = e.fork(main, e.pes() - 1);
    for (std::uint64_t at = 0; at < heap && e.ok(); at += kChunk) {
      for (std::uint64_t i = at; i < std::min(heap, at + kChunk); ++i) e.read(child.thread, kHeapStart + pages(i));
      e.write(child.thread, kHeapStart + pages(rng.below(heap)));
      if (rng.percent(25)) e.write(child.thread, shared_at + pages(rng.below(shared)));
      for (int i = 0; i < 8; ++i) e.write(any_thread(rng, parents), kHeapStart + pages(rng.below(heap)));
    }
    e.exit(child.thread);
  }
  for (auto it = parents.rbegin(); it != parents.rend(); ++it) e.exit(*it);
  return e.result();
}

// `processes` processes one after the other, each with 1..pes threads on
// consecutive PEs (starting one PE further each time) and 2048..6144
// touched pages (heap, THP-eligible anonymous memory, anonymous regions,
// text, read-only data). Each process ends once the next one has touched
// its memory, so their threads share PEs; the last one ends last.
std::string emit_process_teardown(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t processes = 0;
  if (std::string refusal = check_parameters("process-teardown", parameters, kProcessTeardownProcesses, processes);
      !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  std::optional<Process> previous;
  for (std::uint64_t i = 0; i < processes && e.ok(); ++i) {
    Process p = populate(e, rng, static_cast<unsigned>(i % e.pes()));
    if (previous) end(e, rng, *previous);
    previous = std::move(p);
  }
  if (previous) end(e, rng, *previous);
  return e.result();
}

// `processes` single-threaded processes, process i on PE i % pes, each
// mapping 4..32 pages just below the mmap top (the same addresses in every
// process) and writing them. Then eight rounds of round-robin scheduling:
// on each PE every process in turn is switched in and makes three
// accesses. With more processes than ASIDs (300 against 8-bit ASIDs by
// default) every round needs more ASIDs than there are.
std::string emit_asid_rollover(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t processes = 0;
  if (std::string refusal = check_parameters("asid-rollover", parameters, kAsidRolloverProcesses, processes);
      !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  struct Small {
    ThreadId thread = 0;
    std::uint64_t addr = 0;
    std::uint64_t pages = 0;
  };
  std::vector<Small> all;
  for (std::uint64_t i = 0; i < processes && e.ok(); ++i) {
    Small p;
    p.thread = e.start(e.process(), static_cast<unsigned>(i % e.pes()));
    p.pages = rng.between(4, 32);
    p.addr = kMmapTop - pages(p.pages);
    e.mmap(p.thread, p.addr, pages(p.pages), kRW, kAnon);
    for (std::uint64_t j = 0; j < p.pages; ++j) e.write(p.thread, p.addr + pages(j));
    all.push_back(p);
  }
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds && e.ok(); ++round) {
    for (const Small& p : all) {
      for (int i = 0; i < 3; ++i) {
        const std::uint64_t page = p.addr + pages(rng.below(p.pages));
        if (rng.percent(30)) {
          e.write(p.thread, page);
        } else {
          e.read(p.thread, page);
        }
      }
    }
  }
  for (const Small& p : all) e.exit(p.thread);
  return e.result();
}

}  // namespace tlbkit::gen
