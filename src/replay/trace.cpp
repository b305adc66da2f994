#include "tlbkit/replay/trace.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace tlbkit::replay {

using arch::PhysAddr;
using arch::VirtAddr;

using workload::StepAttributes;

using workload::Batch;
using workload::Scenario;
using workload::Step;
using workload::StepKind;
using workload::make_geometry;
namespace {

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kMaxPes = 64;
// Where the hot region's pages live: below the default table pool
// (sim::PhysicalMemory::kDefaultBase), above the built-in scenarios' data.
constexpr PhysAddr kHotData = 0x7f00'0000;

// A page range some step maps, who may read it, and the scenario batch
// that maps it (reads start after that batch).
struct Region {
  VirtAddr va = 0;
  std::uint64_t pages = 0;
  sim::Privilege privilege = sim::Privilege::el1;
  std::size_t batch = 0;
};

// SplitMix64: a small, well-mixed, reproducible sequence.
class Sequence {
 public:
  explicit Sequence(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e37'79b9'7f4a'7c15);
    z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9;
    z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11eb;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t bound) { return next() % bound; }

 private:
  std::uint64_t state_;
};

// Stage-1 EL1&0 pages EL0 may read are read at EL0 (an EL1 read of them
// may be refused under PAN); everything else at EL1.
sim::Privilege reader_of(const StepAttributes& attributes) {
  if (const auto* s1 = std::get_if<arch::s1::Attributes>(&attributes)) {
    const bool el0 = s1->access == arch::s1::Access::all_rw || s1->access == arch::s1::Access::all_ro;
    return el0 ? sim::Privilege::el0 : sim::Privilege::el1;
  }
  return sim::Privilege::el1;
}

// Writable normal memory of the regime, used by every PE and never changed.
StepAttributes hot_attributes(const maint::AddressSpace& space) {
  switch (space.regime) {
    case arch::Regime::el1_stage1: {
      arch::s1::Attributes a;
      a.access = arch::s1::Access::all_rw;
      a.scope = space.global == maint::GlobalEntries::present ? arch::s1::Scope::global
                                                                : arch::s1::Scope::non_global;
      return a;
    }
    case arch::Regime::el2_stage1: return arch::el2::Attributes{};
    case arch::Regime::stage2: {
      arch::s2::Attributes a;
      a.memattr = 0xf;
      a.access = arch::s2::Access::rw;
      return a;
    }
  }
  return arch::el2::Attributes{};
}

bool overlaps(VirtAddr a, std::uint64_t a_size, VirtAddr b, std::uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

// The highest 2 MiB-aligned place for `size` bytes below `top` that no step
// of `scenario` touches.
std::optional<VirtAddr> free_place(const Scenario& scenario, std::uint64_t size, std::uint64_t top) {
  constexpr std::uint64_t kAlign = 0x20'0000;
  const std::uint64_t span = (size + kAlign - 1) / kAlign * kAlign;
  for (std::uint64_t end = top; end >= span; end -= kAlign) {
    const VirtAddr va = end - span;
    bool clear = true;
    for (const Batch& b : scenario.batches) {
      for (const Step& s : b.steps) {
        const std::uint64_t step_size = s.kind == StepKind::promote ? kAlign : s.size;
        if (overlaps(va, span, s.va, std::max<std::uint64_t>(step_size, 1))) clear = false;
      }
    }
    if (clear) return va;
    if (end == span) break;
  }
  return std::nullopt;
}

std::vector<Region> mapped_regions(const Scenario& scenario) {
  std::vector<Region> regions;
  for (std::size_t b = 0; b < scenario.batches.size(); ++b) {
    for (const Step& s : scenario.batches[b].steps) {
      if (s.kind != StepKind::map || !s.attributes || s.size < kPage) continue;
      regions.push_back(Region{s.va, s.size / kPage, reader_of(*s.attributes), b});
    }
  }
  return regions;
}

}  // namespace

std::uint64_t Trace::batches() const {
  return static_cast<std::uint64_t>(
      std::count_if(events.begin(), events.end(), [](const TraceEvent& e) { return e.index() == 0; }));
}

std::uint64_t Trace::accesses() const { return events.size() - batches(); }

Result<Trace> trace_from_scenario(const Scenario& scenario, const AccessPattern& pattern) {
  if (pattern.pes == 0 || pattern.pes > kMaxPes) {
    return Error{Errc::invalid_argument, "a trace needs 1 to 64 PEs"};
  }
  const Result<arch::Geometry> geometry = make_geometry(scenario.geometry);
  if (!geometry.ok()) return geometry.error();

  Trace trace;
  trace.name = scenario.name;
  trace.description = scenario.description;
  trace.geometry = scenario.geometry;
  trace.space = scenario.space;
  trace.pes = pattern.pes;

  std::vector<Region> regions = mapped_regions(scenario);
  Region hot;
  if (pattern.hot_pages != 0) {
    const std::optional<VirtAddr> place = free_place(scenario, pattern.hot_pages * kPage, geometry->input_size());
    if (!place) return Error{Errc::out_of_range, "no room for the hot region beside the scenario's addresses"};
    const StepAttributes attributes = hot_attributes(scenario.space);
    hot = Region{*place, pattern.hot_pages, reader_of(attributes)};
    Batch setup;
    setup.label = "setup: map the hot region";
    setup.steps.push_back(Step::map(hot.va, hot.pages * kPage, kHotData, attributes, pt::BlockMappings::forbidden,
                                    "every PE's steady working set"));
    trace.events.emplace_back(TraceBatch{0, std::move(setup)});
  }

  Sequence sequence(pattern.seed);
  // After `done` scenario batches: the regions mapped so far stay readable
  // for good (a read after an unmap is a racing thread's, which is what a
  // stale entry would serve).
  const auto accesses = [&](std::size_t done) {
    const auto live_end = std::find_if(regions.begin(), regions.end(), [&](const Region& r) { return r.batch >= done; });
    const auto live = static_cast<std::uint64_t>(live_end - regions.begin());
    for (unsigned round = 0; round < pattern.accesses_per_pe; ++round) {
      for (unsigned pe = 0; pe < pattern.pes; ++pe) {
        const bool from_hot = hot.pages != 0 && (live == 0 || round % 2 == 0);
        if (from_hot) {
          // Each PE cycles through its own slice of the hot region.
          const std::uint64_t page = (pe * 7 + round / 2) % hot.pages;
          trace.events.emplace_back(TraceAccess{pe, hot.va + page * kPage, sim::AccessKind::read, hot.privilege});
        } else if (live != 0) {
          const Region& r = regions[sequence.below(live)];
          const std::uint64_t page = sequence.below(r.pages);
          trace.events.emplace_back(TraceAccess{pe, r.va + page * kPage, sim::AccessKind::read, r.privilege});
        }
      }
    }
  };

  accesses(0);
  for (std::size_t b = 0; b < scenario.batches.size(); ++b) {
    trace.events.emplace_back(TraceBatch{static_cast<unsigned>(b % pattern.pes), scenario.batches[b]});
    accesses(b + 1);
  }
  return trace;
}

}  // namespace tlbkit::replay
