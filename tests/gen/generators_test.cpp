// What every generator promises (docs/GENERATORS.md): its trace follows
// the rules of the independent model (trace_model.hpp) and ends clean, at
// its default size, on 1 to 64 PEs and at four times the default; its size
// counts what it says; equal parameters give equal traces and another seed
// another trace; it stops at a sink's refusal and refuses bad parameters.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "generated.hpp"
#include "tlbkit/gen/generator.hpp"

namespace tlbkit::gen::testing {
namespace {

using trace::Event;
using trace::Prot;

// What `name`'s size counts, measured on its trace (docs/GENERATORS.md).
std::uint64_t amount(std::string_view name, const std::vector<Event>& events, const TraceFacts& facts, unsigned pes) {
  const auto count = [&](auto predicate) {
    return static_cast<std::uint64_t>(std::count_if(events.begin(), events.end(), predicate));
  };
  const auto mprotects_to = [&](Prot prot) {
    return count([&](const Event& e) {
      const auto* m = std::get_if<trace::Mprotect>(&e);
      return m != nullptr && m->prot == prot;
    });
  };
  const auto is = [](const Event& e, auto tag) { return std::holds_alternative<decltype(tag)>(e); };
  if (name == "relro-storm") return mprotects_to(Prot::read) / pes;
  if (name == "small-munmap") return count([&](const Event& e) { return is(e, trace::Munmap{}); });
  if (name == "guard-pages") {
    return count([](const Event& e) {
      const auto* m = std::get_if<trace::Mmap>(&e);
      return m != nullptr && m->prot == Prot::none && trace::has(m->flags, trace::MapFlags::fixed);
    });
  }
  if (name == "fork-cow") return facts.largest_heap_pages;
  if (name == "process-teardown" || name == "reclaim" || name == "asid-rollover") {
    return count([](const Event& e) {
      const auto* s = std::get_if<trace::SpaceCreate>(&e);
      return s != nullptr && s->kind == trace::SpaceKind::process;
    });
  }
  if (name == "vm-teardown") return facts.vm_pages_touched;
  if (name == "s2-unmap") return count([&](const Event& e) { return is(e, trace::Reclaim{}); });
  if (name == "dirty-log") {
    return count([](const Event& e) {
      const auto* f = std::get_if<trace::Flush>(&e);
      return f != nullptr && f->reason == trace::FlushReason::syscall;
    });
  }
  if (name == "jit-wx") return mprotects_to(Prot::read | Prot::exec);
  if (name == "kernel-purge") return count([&](const Event& e) { return is(e, trace::Munmap{}); });
  if (name == "mt-mprotect") return count([&](const Event& e) { return is(e, trace::Mprotect{}); });
  ADD_FAILURE() << "no measure of the size of " << name;
  return 0;
}

std::vector<std::string_view> names() {
  std::vector<std::string_view> all;
  for (const Generator& g : generators()) all.push_back(g.name);
  return all;
}

class EveryGenerator : public ::testing::TestWithParam<std::string_view> {
 protected:
  const Generator& generator() const { return *find_generator(GetParam()); }
  Parameters at_default(unsigned pes = 4, std::uint64_t seed = 1) const {
    return Parameters{generator().default_size, pes, seed};
  }
  Parameters at_size(std::uint64_t size, unsigned pes = 4) const { return Parameters{size, pes, 1}; }
};

TEST_P(EveryGenerator, DefaultTraceFollowsEveryRuleOfTheModel) {
  const Generated g = generate(GetParam(), at_default());
  ASSERT_EQ(g.result, "");
  const Checked c = check(g.events, 4);
  EXPECT_EQ(c.broken, "");
  EXPECT_GT(c.facts.accesses, 0u);
}

TEST_P(EveryGenerator, DefaultTraceEndsWithNoThreadOrSpaceLeft) {
  const Generated g = generate(GetParam(), at_default());
  ASSERT_EQ(g.result, "");
  const Checked c = check(g.events, 4);
  ASSERT_EQ(c.broken, "");
  EXPECT_EQ(c.left, "");
}

TEST_P(EveryGenerator, DefaultTraceIsSmallEnoughToReplayQuickly) {
  const Generated g = generate(GetParam(), at_default());
  EXPECT_GT(g.events.size(), 1000u);
  EXPECT_LT(g.events.size(), 200'000u);
}

TEST_P(EveryGenerator, SizeCountsWhatTheGeneratorSaysItCounts) {
  const std::uint64_t sizes[] = {generator().default_size, std::max<std::uint64_t>(1, generator().default_size / 2)};
  for (const std::uint64_t size : sizes) {
    const Generated g = generate(GetParam(), at_size(size));
    ASSERT_EQ(g.result, "");
    const Checked c = check(g.events, 4);
    ASSERT_EQ(c.broken, "");
    EXPECT_EQ(amount(GetParam(), g.events, c.facts, 4), size) << "at size " << size;
  }
}

TEST_P(EveryGenerator, ASmallerSizeGivesAShorterTrace) {
  const Generated full = generate(GetParam(), at_default());
  const Generated half = generate(GetParam(), at_size(generator().default_size / 2));
  ASSERT_EQ(half.result, "");
  EXPECT_LT(half.events.size(), full.events.size());
}

TEST_P(EveryGenerator, SizeZeroMeansTheDefaultSize) {
  EXPECT_EQ(generate(GetParam(), at_size(0)).events, generate(GetParam(), at_default()).events);
}

TEST_P(EveryGenerator, EqualSeedsGiveEqualTraces) {
  const Generated a = generate(GetParam(), at_default(4, 7));
  const Generated b = generate(GetParam(), at_default(4, 7));
  ASSERT_EQ(a.result, "");
  EXPECT_EQ(a.events, b.events);
}

TEST_P(EveryGenerator, DifferentSeedsGiveDifferentTraces) {
  EXPECT_NE(generate(GetParam(), at_default(4, 1)).events, generate(GetParam(), at_default(4, 2)).events);
}

TEST_P(EveryGenerator, OnOnePeEveryThreadSharesItAndTheTraceStillFollowsTheRules) {
  const Generated g = generate(GetParam(), at_default(1));
  ASSERT_EQ(g.result, "");
  const Checked c = check(g.events, 1);
  EXPECT_EQ(c.broken, "");
  EXPECT_EQ(c.left, "");
  EXPECT_EQ(c.facts.highest_pe, 0u);
}

TEST_P(EveryGenerator, OnSixtyFourPesTheTraceFollowsTheRules) {
  const Generated g = generate(GetParam(), at_size(std::max<std::uint64_t>(1, generator().default_size / 2), 64));
  ASSERT_EQ(g.result, "");
  const Checked c = check(g.events, 64);
  EXPECT_EQ(c.broken, "");
  EXPECT_EQ(c.left, "");
  EXPECT_LE(c.facts.highest_pe, 63u);
}

TEST_P(EveryGenerator, FourTimesTheDefaultSizeStillFollowsTheRules) {
  const Generated g = generate(GetParam(), at_size(4 * generator().default_size, 3));
  ASSERT_EQ(g.result, "");
  const Checked c = check(g.events, 3);
  EXPECT_EQ(c.broken, "");
  EXPECT_EQ(c.left, "");
}

TEST_P(EveryGenerator, EveryThreadStartsOnAGivenPeBelowTheCount) {
  const Generated g = generate(GetParam(), at_default(3));
  ASSERT_EQ(g.result, "");
  const std::vector<trace::ThreadStart> starts = all_of<trace::ThreadStart>(g.events);
  ASSERT_FALSE(starts.empty());
  for (const trace::ThreadStart& t : starts) EXPECT_LT(t.pe, 3u) << "thread " << t.thread;
  for (const trace::Switch& s : all_of<trace::Switch>(g.events)) EXPECT_LT(s.pe, 3u);
}

// A sink that takes `limit` events and refuses the next one.
class RefusingSink final : public trace::Sink {
 public:
  explicit RefusingSink(std::size_t limit) : limit_(limit) {}
  std::size_t offered = 0;
  std::string put(const Event&) override {
    ++offered;
    return offered > limit_ ? "disk full" : "";
  }

 private:
  std::size_t limit_;
};

TEST_P(EveryGenerator, ASinksRefusalEndsTheTraceAndIsReturned) {
  RefusingSink sink(10);
  EXPECT_EQ(generator().emit(at_default(), sink), "disk full");
  EXPECT_EQ(sink.offered, 11u);
}

TEST_P(EveryGenerator, OutOfRangeParametersAreRefusedBeforeAnyEvent) {
  const Parameters bad[] = {
      Parameters{0, 0, 1},
      Parameters{0, 65, 1},
      Parameters{generator().default_size * 1024 + 1, 4, 1},
  };
  for (const Parameters& p : bad) {
    CollectingSink sink;
    EXPECT_NE(generator().emit(p, sink), "") << "size " << p.size << ", " << p.pes << " PEs";
    EXPECT_TRUE(sink.events.empty());
  }
}

// "relro-storm" -> "relro_storm" (gtest names take no '-').
std::string test_name(const ::testing::TestParamInfo<std::string_view>& param) {
  std::string name(param.param);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Generators, EveryGenerator, ::testing::ValuesIn(names()), test_name);

}  // namespace
}  // namespace tlbkit::gen::testing
