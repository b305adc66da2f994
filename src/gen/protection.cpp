// Rights changed under running threads: a JIT's W^X toggling while other
// threads execute its code (background/hvf-shim-selective-tlbi-per-vcpu-slot.txt:
// the W^X fault path), and one thread's mprotects while readers on the
// other PEs keep reading (background/linux-deferred-batched-tlb-flush-thread.txt:
// mprotect under a tlb_gather; background/freebsd-D37254-stage2-tlb-invalidation.txt:
// batching pmap_protect).
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

struct CodeRegion {
  std::uint64_t addr = 0;
  std::uint64_t pages = 0;
};

// A page of one of `regions` other than `except` (nullopt: any), or
// nullopt when there is none.
std::optional<std::uint64_t> code_page(Sequence& rng, const std::vector<CodeRegion>& regions,
                                       std::optional<std::size_t> except) {
  const std::size_t candidates = regions.size() - (except ? 1 : 0);
  if (candidates == 0) return std::nullopt;
  std::size_t i = rng.below(candidates);
  if (except && i >= *except) ++i;
  return regions[i].addr + pages(rng.below(regions[i].pages));
}

// A page of a mt-mprotect region: its rights and whether it is mapped in
// the tables (PROT_NONE hides a page until it is accessed again).
struct Page {
  trace::Prot prot = kRW;
  bool visible = true;
};

struct GuardedRegion {
  std::uint64_t addr = 0;
  std::vector<Page> pages;
};

bool readable(trace::Prot prot) { return trace::has(prot, trace::Prot::read); }

// The rights a mprotect gives a range whose first page has `now`: mostly
// toggling write permission, sometimes PROT_NONE.
trace::Prot next_rights(Sequence& rng, trace::Prot now) {
  if (now == kRW) return rng.percent(90) ? kR : kNone;
  if (now == kR) return rng.percent(80) ? kRW : kNone;
  return rng.percent(50) ? kR : kRW;
}

}  // namespace

// One process: a compiler thread on PE 0 and an executing thread on each
// other PE (on one PE, the compiler executes too). A cycle either compiles
// a new region (1..16 pages mapped rw-, written, made r-x) or patches
// 1..4 pages of a live one (made rw-, written, made r-x again) while the
// executors run other regions; after each cycle the executors fetch from
// random code pages and read constants. Now and then a region is freed.
std::string emit_jit_wx(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t cycles = 0;
  if (std::string refusal = check_parameters("jit-wx", parameters, kJitWxCycles, cycles); !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  const SpaceId s = e.process();
  const ThreadId compiler = e.start(s, 0);
  std::vector<ThreadId> executors;
  for (unsigned pe = 1; pe < e.pes(); ++pe) executors.push_back(e.start(s, pe));
  const bool compiler_executes = executors.empty();
  if (compiler_executes) executors.push_back(compiler);
  AddressWindow window(kMmapBottom, kMmapTop, FirstFit::from_top);
  std::vector<CodeRegion> regions;
  std::uint64_t done = 0;
  while (done < cycles && e.ok()) {
    if (regions.empty() || (regions.size() < 64 && rng.percent(20))) {
      const std::uint64_t n = rng.between(1, 16);
      const std::optional<std::uint64_t> at = window.take(pages(n));
      if (!at) return e.fail("jit-wx: the mmap window is full");
      e.mmap(compiler, *at, pages(n), kRW, kAnon);
      for (std::uint64_t i = 0; i < n; ++i) e.write(compiler, *at + pages(i));
      e.mprotect(compiler, *at, pages(n), kRX);
      regions.push_back(CodeRegion{*at, n});
      ++done;
    } else if (regions.size() > 8 && rng.percent(10)) {
      const std::size_t j = rng.below(regions.size());
      e.munmap(compiler, regions[j].addr, pages(regions[j].pages));
      window.give_back(regions[j].addr, pages(regions[j].pages));
      regions[j] = regions.back();
      regions.pop_back();
    } else {
      const std::size_t j = rng.below(regions.size());
      const CodeRegion r = regions[j];
      const std::uint64_t first = rng.below(r.pages);
      const std::uint64_t n = rng.between(1, std::min<std::uint64_t>(4, r.pages - first));
      const std::uint64_t at = r.addr + pages(first);
      e.mprotect(compiler, at, pages(n), kRW);
      if (!compiler_executes) {
        for (int i = 0; i < 2; ++i) {
          if (const std::optional<std::uint64_t> page = code_page(rng, regions, j)) {
            e.fetch(executors[rng.below(executors.size())], *page);
          }
        }
      }
      for (std::uint64_t i = 0; i < n; ++i) e.write(compiler, at + pages(i));
      e.mprotect(compiler, at, pages(n), kRX);
      ++done;
    }
    for (int i = 0; i < 4; ++i) {
      if (const std::optional<std::uint64_t> page = code_page(rng, regions, std::nullopt)) {
        e.fetch(executors[rng.below(executors.size())], *page);
      }
    }
    if (const std::optional<std::uint64_t> page = code_page(rng, regions, std::nullopt)) {
      e.read(executors[rng.below(executors.size())], *page);
    }
  }
  if (!compiler_executes) {
    for (auto it = executors.rbegin(); it != executors.rend(); ++it) e.exit(*it);
  }
  e.exit(compiler);
  return e.result();
}

// One process: a writer thread on PE 0 and a reader on each other PE (on
// one PE, a single reader shares PE 0). The writer maps 16 regions of
// 16..128 pages rw- and fills them; then each call changes the rights of a
// whole region or of a run of its pages, mostly toggling write permission,
// sometimes to PROT_NONE and back. With readers on other PEs each call is
// its own gather ("gather", "mprotect", "flush syscall") and readers read
// pages of the range inside it: racing reads, which see the old or the
// new translation (both allow the read: a page made or left PROT_NONE is
// never read racing). After each call the writer writes writable pages
// and the readers read readable ones.
std::string emit_mt_mprotect(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t calls = 0;
  if (std::string refusal = check_parameters("mt-mprotect", parameters, kMtMprotectCalls, calls);
      !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  const SpaceId s = e.process();
  const ThreadId writer = e.start(s, 0);
  std::vector<ThreadId> readers;
  for (unsigned pe = 1; pe < e.pes(); ++pe) readers.push_back(e.start(s, pe));
  const bool racing = !readers.empty();
  if (!racing) readers.push_back(e.start(s, 0));
  AddressWindow window(kMmapBottom, kMmapTop, FirstFit::from_top);
  std::vector<GuardedRegion> regions(16);
  for (GuardedRegion& r : regions) {
    const std::uint64_t n = rng.between(16, 128);
    const std::optional<std::uint64_t> at = window.take(pages(n));
    if (!at) return e.fail("mt-mprotect: the mmap window is full");
    r.addr = *at;
    r.pages.assign(n, Page{});
    e.mmap(writer, r.addr, pages(n), kRW, kAnon);
    for (std::uint64_t i = 0; i < n; ++i) e.write(writer, r.addr + pages(i));
  }
  // Accesses by `t` to a random page of a random region, if it allows `kind`.
  const auto use = [&](ThreadId t, trace::AccessKind kind) {
    GuardedRegion& r = regions[rng.below(regions.size())];
    const std::uint64_t i = rng.below(r.pages.size());
    Page& p = r.pages[i];
    if (kind == trace::AccessKind::write && p.prot == kRW) {
      e.write(t, r.addr + pages(i));
      p.visible = true;
    } else if (kind == trace::AccessKind::read && readable(p.prot)) {
      e.read(t, r.addr + pages(i));
      p.visible = true;
    }
  };
  for (std::uint64_t done = 0; done < calls && e.ok(); ++done) {
    GuardedRegion& r = regions[rng.below(regions.size())];
    const std::uint64_t n = r.pages.size();
    const bool whole = rng.percent(40);
    const std::uint64_t first = whole ? 0 : rng.below(n);
    const std::uint64_t length = whole ? n : rng.between(1, std::min<std::uint64_t>(32, n - first));
    const trace::Prot prot = next_rights(rng, r.pages[first].prot);
    if (racing) e.gather(writer);
    e.mprotect(writer, r.addr + pages(first), pages(length), prot);
    if (racing) {
      for (int i = 0; i < 3; ++i) {
        const std::uint64_t page = first + rng.below(length);
        const Page& p = r.pages[page];
        if (p.visible && readable(p.prot) && readable(prot)) {
          e.read(readers[rng.below(readers.size())], r.addr + pages(page));
        }
      }
      e.flush(writer, trace::FlushReason::syscall);
    }
    for (std::uint64_t i = first; i < first + length; ++i) {
      r.pages[i].prot = prot;
      if (prot == kNone) r.pages[i].visible = false;
    }
    use(writer, trace::AccessKind::write);
    use(writer, trace::AccessKind::write);
    for (int i = 0; i < 4; ++i) use(readers[rng.below(readers.size())], trace::AccessKind::read);
  }
  for (auto it = readers.rbegin(); it != readers.rend(); ++it) e.exit(*it);
  e.exit(writer);
  return e.result();
}

}  // namespace tlbkit::gen
