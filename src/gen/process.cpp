// VMA changes in running processes: the dynamic linker's RELRO storm,
// small munmaps, guard pages carved with MAP_FIXED PROT_NONE. The three
// common shapes the HVF runner's selective TLBI was made for
// (background/hvf-shim-selective-tlbi-per-vcpu-slot.txt).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "address_window.hpp"
#include "emitter.hpp"
#include "generators.hpp"
#include "layout.hpp"
#include "sequence.hpp"

namespace tlbkit::gen {
namespace {

// ---- relro-storm -------------------------------------------------------------------

struct LoadedLibrary {
  std::uint64_t text = 0;
  std::uint64_t text_pages = 0;
  std::uint64_t relro = 0;
  std::uint64_t relro_pages = 0;
};

struct Program {
  ThreadId thread = 0;
  AddressWindow window{kMmapBottom, kMmapTop, FirstFit::from_top};
  std::vector<LoadedLibrary> libraries;
};

// What glibc's _dl_map_segments and _dl_relocate_object do for one library
// built with -z separate-code and -z relro: the whole span mapped with the
// first segment's rights, the other segments mapped over it (MAP_FIXED),
// .bss past the file as anonymous memory; relocation writes the GOT and
// .data.rel.ro (the RELRO part) and .data; the constructors run; the RELRO
// part is made read-only (_dl_protect_relro).
void load_library(Emitter& e, Sequence& rng, Program& program) {
  const ThreadId t = program.thread;
  const std::uint64_t header = rng.between(1, 8);  // ELF header, .dynsym, .dynstr, .rela.*
  const std::uint64_t text = rng.between(2, 48);
  const std::uint64_t rodata = rng.between(1, 16);
  const std::uint64_t relro = rng.between(1, 6);  // .data.rel.ro, .dynamic, .got
  const std::uint64_t data = rng.between(0, 3);
  const std::uint64_t bss = rng.between(0, 4);
  const std::uint64_t span = header + text + rodata + relro + data + bss;
  const std::optional<std::uint64_t> base = program.window.take(pages(span));
  if (!base) {
    e.fail("relro-storm: the mmap window is full");
    return;
  }
  const std::uint64_t text_at = *base + pages(header);
  const std::uint64_t rodata_at = text_at + pages(text);
  const std::uint64_t data_at = rodata_at + pages(rodata);
  const std::uint64_t bss_at = data_at + pages(relro + data);
  e.mmap(t, *base, pages(span), kR, kFile);
  e.mmap(t, text_at, pages(text), kRX, kFile | kFixed);
  e.mmap(t, rodata_at, pages(rodata), kR, kFile | kFixed);
  e.mmap(t, data_at, pages(relro + data), kRW, kFile | kFixed);
  if (bss != 0) e.mmap(t, bss_at, pages(bss), kRW, kAnon | kFixed);
  for (std::uint64_t i = 0; i < header; ++i) e.read(t, *base + pages(i));
  for (std::uint64_t i = 0; i < relro + data; ++i) e.write(t, data_at + pages(i));
  e.fetch(t, text_at + pages(rng.below(text)));
  e.fetch(t, text_at + pages(rng.below(text)));
  if (bss != 0) e.write(t, bss_at + pages(rng.below(bss)));
  e.mprotect(t, data_at, pages(relro), kR);
  program.libraries.push_back(LoadedLibrary{text_at, text, data_at, relro});
}

// ---- small-munmap ---------------------------------------------------------------------

struct Buffer {
  std::uint64_t addr = 0;
  std::uint64_t pages = 0;
};

std::uint64_t random_page(Sequence& rng, const Buffer& b) { return b.addr + pages(rng.below(b.pages)); }

// ---- guard-pages ------------------------------------------------------------------------

enum class RegionKind : std::uint8_t { stack, arena };

struct Region {
  RegionKind kind = RegionKind::arena;
  std::uint64_t addr = 0;
  std::vector<bool> guard;  // per page: PROT_NONE now
  unsigned carves_left = 0;
  std::uint64_t last_guard = 0;  // first page of the latest carve
  std::uint64_t last_guard_pages = 0;
};

// A page of `r` that is not a guard page, or nullopt after a few misses.
std::optional<std::uint64_t> accessible_page(Sequence& rng, const Region& r) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::uint64_t i = rng.below(r.guard.size());
    if (!r.guard[i]) return i;
  }
  return std::nullopt;
}

}  // namespace

// One process per PE, one thread each, loading `libraries` libraries
// library by library in turn (a burst of program starts); then each
// program runs (calls through its GOTs and into the libraries' text) and
// exits.
std::string emit_relro_storm(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t libraries = 0;
  if (std::string refusal = check_parameters("relro-storm", parameters, kRelroStormLibraries, libraries);
      !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  std::vector<Program> programs(e.pes());
  for (unsigned pe = 0; pe < e.pes(); ++pe) programs[pe].thread = e.start(e.process(), pe);
  for (std::uint64_t i = 0; i < libraries && e.ok(); ++i) {
    for (Program& p : programs) load_library(e, rng, p);
  }
  for (std::uint64_t i = 0; i < 4 * libraries && e.ok(); ++i) {
    for (Program& p : programs) {
      const LoadedLibrary& l = p.libraries[rng.below(p.libraries.size())];
      e.read(p.thread, l.relro + pages(rng.below(l.relro_pages)));
      e.fetch(p.thread, l.text + pages(rng.below(l.text_pages)));
    }
  }
  for (Program& p : programs) e.exit(p.thread);
  return e.result();
}

// One process with a thread per PE. Each thread keeps up to 8 buffers of
// 1..16 pages: it maps one (anonymous, rw-) and writes every page, or
// uses one a last time and unmaps it, and in between uses its others.
// Addresses come top down from one mmap window, so freed ranges are soon
// mapped again, often by a thread on another PE.
std::string emit_small_munmap(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t munmaps = 0;
  if (std::string refusal = check_parameters("small-munmap", parameters, kSmallMunmapCalls, munmaps);
      !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  constexpr std::size_t kLive = 8;
  const SpaceId s = e.process();
  std::vector<ThreadId> threads;
  for (unsigned pe = 0; pe < e.pes(); ++pe) threads.push_back(e.start(s, pe));
  AddressWindow window(kMmapBottom, kMmapTop, FirstFit::from_top);
  std::vector<std::vector<Buffer>> live(threads.size());
  std::uint64_t done = 0;
  while (done < munmaps && e.ok()) {
    const std::size_t k = rng.below(threads.size());
    const ThreadId t = threads[k];
    std::vector<Buffer>& mine = live[k];
    if (mine.empty() || (mine.size() < kLive && rng.percent(50))) {
      const std::uint64_t n = rng.between(1, 16);
      const std::optional<std::uint64_t> at = window.take(pages(n));
      if (!at) return e.fail("small-munmap: the mmap window is full");
      e.mmap(t, *at, pages(n), kRW, kAnon);
      for (std::uint64_t i = 0; i < n; ++i) e.write(t, *at + pages(i));
      mine.push_back(Buffer{*at, n});
    } else {
      const std::size_t j = rng.below(mine.size());
      const Buffer b = mine[j];
      mine[j] = mine.back();
      mine.pop_back();
      e.read(t, random_page(rng, b));
      e.munmap(t, b.addr, pages(b.pages));
      window.give_back(b.addr, pages(b.pages));
      ++done;
    }
    for (int i = 0; i < 2 && !mine.empty(); ++i) {
      const std::uint64_t page = random_page(rng, mine[rng.below(mine.size())]);
      if (rng.percent(50)) {
        e.read(t, page);
      } else {
        e.write(t, page);
      }
    }
  }
  for (auto it = threads.rbegin(); it != threads.rend(); ++it) e.exit(*it);
  return e.result();
}

// One process with a thread per PE. Each thread keeps up to two regions
// of 16..64 pages, mapped rw- and touched: a thread stack (reused from
// the stack cache, touched from the top down to some depth) whose guard
// is carved at its low end, or an allocator arena that decommits chunks
// of 1..8 pages by mapping PROT_NONE over them and recommits the latest
// one half of the time (MAP_FIXED rw-, then written). A region whose
// carves are done is unmapped.
std::string emit_guard_pages(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t carves = 0;
  if (std::string refusal = check_parameters("guard-pages", parameters, kGuardPagesCarves, carves);
      !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  const SpaceId s = e.process();
  std::vector<ThreadId> threads;
  for (unsigned pe = 0; pe < e.pes(); ++pe) threads.push_back(e.start(s, pe));
  AddressWindow window(kMmapBottom, kMmapTop, FirstFit::from_top);
  std::vector<std::vector<Region>> regions(threads.size());
  std::uint64_t done = 0;
  while (done < carves && e.ok()) {
    const std::size_t k = rng.below(threads.size());
    const ThreadId t = threads[k];
    std::vector<Region>& mine = regions[k];
    if (mine.empty() || (mine.size() < 2 && rng.percent(30))) {
      Region r;
      r.kind = rng.percent(50) ? RegionKind::stack : RegionKind::arena;
      const std::uint64_t n = rng.between(16, 64);
      const std::optional<std::uint64_t> at = window.take(pages(n));
      if (!at) return e.fail("guard-pages: the mmap window is full");
      r.addr = *at;
      r.guard.assign(n, false);
      e.mmap(t, r.addr, pages(n), kRW, kAnon);
      // A stack is used from its top down; an arena is filled.
      const std::uint64_t first = r.kind == RegionKind::stack ? n - rng.between(n / 2, n) : 0;
      for (std::uint64_t i = n; i-- > first;) e.write(t, r.addr + pages(i));
      r.carves_left = r.kind == RegionKind::stack ? 1 : static_cast<unsigned>(rng.between(2, 6));
      mine.push_back(std::move(r));
    } else {
      const std::size_t j = rng.below(mine.size());
      Region& r = mine[j];
      if (r.carves_left == 0) {
        e.munmap(t, r.addr, pages(r.guard.size()));
        window.give_back(r.addr, pages(r.guard.size()));
        mine[j] = std::move(mine.back());
        mine.pop_back();
      } else {
        const std::uint64_t n = r.guard.size();
        if (r.kind == RegionKind::arena && r.last_guard_pages != 0 && rng.percent(50)) {
          e.mmap(t, r.addr + pages(r.last_guard), pages(r.last_guard_pages), kRW, kAnon | kFixed);
          for (std::uint64_t i = r.last_guard; i < r.last_guard + r.last_guard_pages; ++i) {
            e.write(t, r.addr + pages(i));
            r.guard[i] = false;
          }
        }
        const std::uint64_t g = r.kind == RegionKind::stack ? rng.between(1, 4) : rng.between(1, 8);
        const std::uint64_t first = r.kind == RegionKind::stack ? 0 : rng.below(n - g + 1);
        e.mmap(t, r.addr + pages(first), pages(g), kNone, kAnon | kFixed);
        for (std::uint64_t i = first; i < first + g; ++i) r.guard[i] = true;
        r.last_guard = first;
        r.last_guard_pages = g;
        --r.carves_left;
        ++done;
      }
    }
    for (int i = 0; i < 2 && !mine.empty(); ++i) {
      Region& r = mine[rng.below(mine.size())];
      const std::optional<std::uint64_t> page = accessible_page(rng, r);
      if (!page) continue;
      if (rng.percent(50)) {
        e.read(t, r.addr + pages(*page));
      } else {
        e.write(t, r.addr + pages(*page));
      }
    }
  }
  for (auto it = threads.rbegin(); it != threads.rend(); ++it) e.exit(*it);
  return e.result();
}

}  // namespace tlbkit::gen
