// The kernel's own batches: page reclaim unmapping pages of many processes
// with one flush per batch (background/linux-deferred-batched-tlb-flush-thread.txt:
// ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH), and the lazy purge of freed vmalloc
// areas (global kernel mappings unmapped in one batch; REFERENCE.md
// section 5 for Linux's range thresholds).
#include <algorithm>
#include <bit>
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

// A process of `reclaim`: an anonymous region (written) and a file-backed
// read-only one (read), and which of their pages are present.
struct Victim {
  SpaceId space = 0;
  ThreadId thread = 0;
  std::uint64_t anon_at = 0;
  std::uint64_t anon_pages = 0;
  std::uint64_t file_at = 0;
  std::uint64_t file_pages = 0;
  std::vector<bool> present;  // anonymous pages, then file pages

  std::uint64_t pages_total() const { return anon_pages + file_pages; }
  std::uint64_t address(std::uint64_t page) const {
    return page < anon_pages ? anon_at + pages(page) : file_at + pages(page - anon_pages);
  }
  // The process's own access that makes `page` present.
  void touch(Emitter& e, std::uint64_t page) {
    if (page < anon_pages) {
      e.write(thread, address(page));
    } else {
      e.read(thread, address(page));
    }
    present[page] = true;
  }
};

// A vmalloc area: its pages are mapped, a guard page follows (unmapped).
struct Area {
  std::uint64_t addr = 0;
  std::uint64_t pages = 0;
};

}  // namespace

// A kernel space with one reclaimer thread (kswapd, on PE 0) and
// `processes` single-threaded processes, process i on PE i % pes, each
// with 96..384 written anonymous pages and 32..96 read file pages.
// kswapd then runs batches until about half of all pages were reclaimed
// once: each batch is one gather of "reclaim" calls, each a run of 1..8
// present pages of a random process (32 pages a batch, SWAP_CLUSTER_MAX),
// flushed once at its end ("flush gather", try_to_unmap_flush). While a
// batch is open, processes on other PEs keep reading pages that are
// present (never one the batch took, so no access waits on it); after it,
// 16 accesses of random processes fault some reclaimed pages back in.
std::string emit_reclaim(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t processes = 0;
  if (std::string refusal = check_parameters("reclaim", parameters, kReclaimProcesses, processes);
      !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  const SpaceId kernel = e.kernel();
  const ThreadId kswapd = e.start(kernel, 0);
  std::vector<Victim> victims;
  std::vector<std::size_t> elsewhere;  // victims whose PE is not kswapd's
  std::uint64_t total = 0;
  for (std::uint64_t i = 0; i < processes && e.ok(); ++i) {
    Victim v;
    v.space = e.process();
    const unsigned pe = static_cast<unsigned>(i % e.pes());
    v.thread = e.start(v.space, pe);
    v.anon_pages = rng.between(96, 384);
    v.file_pages = rng.between(32, 96);
    v.anon_at = kMmapTop - pages(v.anon_pages);
    v.file_at = v.anon_at - pages(v.file_pages + 16);
    v.present.assign(v.pages_total(), false);
    e.mmap(v.thread, v.anon_at, pages(v.anon_pages), kRW, kAnon);
    e.mmap(v.thread, v.file_at, pages(v.file_pages), kR, kFile);
    for (std::uint64_t p = 0; p < v.pages_total(); ++p) v.touch(e, p);
    if (pe != e.pe_of(kswapd)) elsewhere.push_back(victims.size());
    total += v.pages_total();
    victims.push_back(std::move(v));
  }
  constexpr std::uint64_t kBatch = 32;
  const std::uint64_t batches = total / (2 * kBatch);
  for (std::uint64_t b = 0; b < batches && e.ok(); ++b) {
    e.gather(kswapd);
    std::uint64_t taken = 0;
    for (int attempt = 0; taken < kBatch && attempt < 256; ++attempt) {
      Victim& v = victims[rng.below(victims.size())];
      std::uint64_t page = rng.below(v.pages_total());
      while (page < v.pages_total() && !v.present[page]) ++page;
      if (page == v.pages_total()) continue;
      const std::uint64_t end_of_region = page < v.anon_pages ? v.anon_pages : v.pages_total();
      const std::uint64_t want = std::min(rng.between(1, 8), kBatch - taken);
      std::uint64_t n = 0;
      while (n < want && page + n < end_of_region && v.present[page + n]) ++n;
      e.reclaim(kswapd, v.space, v.address(page), pages(n));
      for (std::uint64_t i = page; i < page + n; ++i) v.present[i] = false;
      taken += n;
      if (!elsewhere.empty() && rng.percent(50)) {
        const Victim& reader = victims[elsewhere[rng.below(elsewhere.size())]];
        const std::uint64_t p = rng.below(reader.pages_total());
        if (reader.present[p]) e.read(reader.thread, reader.address(p));
      }
    }
    e.flush(kswapd, trace::FlushReason::gather);
    for (int i = 0; i < 16; ++i) {
      Victim& v = victims[rng.below(victims.size())];
      v.touch(e, rng.below(v.pages_total()));
    }
  }
  for (const Victim& v : victims) e.exit(v.thread);
  e.exit(kswapd);
  e.destroy(kernel);
  return e.result();
}

// A kernel space with a kernel thread per PE. Each thread keeps up to 4
// vmalloc areas of 1..16 pages (each followed by an unmapped guard page,
// handed out lowest address first): it allocates one (mapped rw-, every
// page written) or frees one after a last write. A freed area stays mapped
// and its addresses unused until the lazy purge: when the freed pages
// reach 256 times the bit width of the PE count (Linux's lazy_max_pages,
// 32 MiB per bit, scaled down 32 times), the thread whose free crossed
// the threshold unmaps every freed area in one gather ("flush gather"),
// and their addresses are handed out again. A last purge and the threads'
// exits end the trace.
std::string emit_kernel_purge(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t areas = 0;
  if (std::string refusal = check_parameters("kernel-purge", parameters, kKernelPurgeAreas, areas);
      !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  const SpaceId kernel = e.kernel();
  std::vector<ThreadId> threads;
  for (unsigned pe = 0; pe < e.pes(); ++pe) threads.push_back(e.start(kernel, pe));
  AddressWindow window(kVmallocStart, kVmallocEnd, FirstFit::from_bottom);
  std::vector<std::vector<Area>> live(threads.size());
  std::vector<Area> lazy;
  std::uint64_t lazy_pages = 0;
  const std::uint64_t lazy_max = 256 * static_cast<std::uint64_t>(std::bit_width(e.pes()));
  const auto purge = [&](ThreadId t) {
    std::sort(lazy.begin(), lazy.end(), [](const Area& a, const Area& b) { return a.addr < b.addr; });
    e.gather(t);
    for (const Area& a : lazy) e.munmap(t, a.addr, pages(a.pages));
    e.flush(t, trace::FlushReason::gather);
    for (const Area& a : lazy) window.give_back(a.addr, pages(a.pages + 1));
    lazy.clear();
    lazy_pages = 0;
  };
  std::uint64_t allocated = 0;
  std::uint64_t freed = 0;
  while (freed < areas && e.ok()) {
    std::size_t k = rng.below(threads.size());
    if (allocated == areas) {
      // Only frees are left: take a thread that holds an area.
      while (live[k].empty()) k = (k + 1) % threads.size();
    }
    const ThreadId t = threads[k];
    std::vector<Area>& mine = live[k];
    if (allocated < areas && mine.size() < 4 && (mine.empty() || rng.percent(60))) {
      const std::uint64_t n = rng.between(1, 16);
      const std::optional<std::uint64_t> at = window.take(pages(n + 1));
      if (!at) return e.fail("kernel-purge: the vmalloc window is full");
      e.mmap(t, *at, pages(n), kRW, kAnon);
      for (std::uint64_t i = 0; i < n; ++i) e.write(t, *at + pages(i));
      mine.push_back(Area{*at, n});
      ++allocated;
    } else if (!mine.empty()) {
      const std::size_t j = rng.below(mine.size());
      const Area a = mine[j];
      mine[j] = mine.back();
      mine.pop_back();
      e.write(t, a.addr + pages(rng.below(a.pages)));
      lazy.push_back(a);
      lazy_pages += a.pages;
      ++freed;
      if (lazy_pages >= lazy_max) purge(t);
    }
    if (!mine.empty()) {
      const Area& a = mine[rng.below(mine.size())];
      const std::uint64_t at = a.addr + pages(rng.below(a.pages));
      if (rng.percent(50)) {
        e.read(t, at);
      } else {
        e.write(t, at);
      }
    }
  }
  if (!lazy.empty()) purge(threads.front());
  for (auto it = threads.rbegin(); it != threads.rend(); ++it) e.exit(*it);
  e.destroy(kernel);
  return e.result();
}

}  // namespace tlbkit::gen
