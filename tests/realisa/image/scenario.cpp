#include "scenario.hpp"

namespace realisa {

void must(const tlbkit::Status& status, std::string_view what) {
  if (status.ok()) return;
  console::print("FATAL: ");
  console::print(what);
  console::print(": ");
  console::print(status.error().message);
  console::print("\n");
  console::exit(70);
}

tlbkit::pt::Table new_table(tlbkit::arch::Regime regime, const tlbkit::arch::Geometry& geometry,
                            tlbkit::pt::TableOptions options) {
  auto created = tlbkit::pt::Table::create(regime, geometry, table_memory(), options);
  if (!created.ok()) {
    console::print("FATAL: table create: ");
    console::print(created.error().message);
    console::print("\n");
    console::exit(70);
  }
  must(map_harness(created.value()), "map the harness");
  return static_cast<tlbkit::pt::Table&&>(created.value());
}

void release_now(tlbkit::pt::Table& table) {
  struct FreeAtOnce final : tlbkit::pt::ChangeSink {
    void record(const tlbkit::pt::Change&) override {}
    void invalidate_now(const tlbkit::pt::Change&) override {}
    void retire_table(PhysAddr t, unsigned pages) override { table_memory().free(t, pages); }
  } sink;
  table.release(sink);
}

PhysAddr map_fresh(Env& env, Space& space, Window& w, const tlbkit::pt::LeafAttributes& rw, Tally& t,
                   std::uint64_t align) {
  const PhysAddr f = allocate_frames(w.pages() * kPage, align);
  t += step(
      env, space, w, Accesses::reads_and_writes,
      [&](tlbkit::pt::Table& table, tlbkit::maint::Gather& g) { return table.map(w.base(), f, w.pages() * kPage, rw, g); },
      [&] { w.expect_mapped(0, w.pages(), f, true); });
  return f;
}

Tally unmap_pages(Env& env, Space& space, Window& w, unsigned first, unsigned count) {
  return step(
      env, space, w, Accesses::reads,
      [&](tlbkit::pt::Table& table, tlbkit::maint::Gather& g) { return table.unmap(w.va(first), count * kPage, g); },
      [&] { w.expect_unmapped(first, count); });
}

Tally split_block(Env& env, Space& space, Window& w) {
  return step(
      env, space, w, Accesses::reads,
      [&](tlbkit::pt::Table& table, tlbkit::maint::Gather& g) { return table.split(w.base(), kBlock, 3, g); }, [] {});
}

Tally make_read_only(Env& env, Space& space, Window& w, unsigned first, unsigned count,
                     const tlbkit::pt::LeafAttributes& ro) {
  return step(
      env, space, w, Accesses::reads_and_writes,
      [&](tlbkit::pt::Table& table, tlbkit::maint::Gather& g) {
        return table.protect(w.va(first), count * kPage, tlbkit::pt::AttributeChange::to(ro), g);
      },
      [&] { w.expect_writable(first, count, false); });
}

Tally remap_fresh(Env& env, Space& space, Window& w, const tlbkit::pt::LeafAttributes& rw) {
  const PhysAddr f = allocate_frames(w.pages() * kPage, kPage);
  return step(
      env, space, w, Accesses::reads_and_writes,
      [&](tlbkit::pt::Table& table, tlbkit::maint::Gather& g) -> tlbkit::Status {
        if (auto r = table.unmap(w.base(), w.pages() * kPage, g); !r.ok()) return r;
        return table.map(w.base(), f, w.pages() * kPage, rw, g);
      },
      [&] { w.expect_mapped(0, w.pages(), f, true); });
}

Teeth teeth_of(const Env& env, const Teeth& drop_tlbi) {
  switch (env.mode) {
    case Mode::normal: return {false, "the plans as made"};
    case Mode::drop_tlbi: return drop_tlbi;
    case Mode::drop_dsb:
      return {false,
              "QEMU (TCG) completes every TLBI before the issuing PE runs on, the broadcast ones on every PE; a "
              "missing DSB cannot show"};
    case Mode::local_only:
      if (env.features.processing_elements == 1) return {false, "one PE: a local TLBI reaches every TLB there is"};
      return drop_tlbi;
  }
  return {false, "?"};
}

unsigned report(std::string_view lane, Env& env, std::string_view scenario, const Tally& t, const Teeth& teeth) {
  console::print("result lane=");
  console::print(lane);
  console::print(" policy=");
  console::print(env.policy->name);
  console::print(" scenario=");
  console::print(scenario);
  console::print(" mode=");
  console::print(mode_name(env.mode));
  console::print_field("checks", t.checks);
  console::print_field("stale", t.stale);
  console::print_field("wrong", t.wrong);
  const OpCounts ops = env.executor->take_counts();
  console::print_field("tlbi", ops.tlbi);
  console::print_field("range_tlbi", ops.range_tlbi);
  console::print_field("dsb", ops.dsb);
  console::print_field("cache", ops.cache);
  console::print_field("narrowed_or_dropped", ops.dropped);
  console::print(teeth.catches ? " expect=catch" : " expect=none");
  if (!teeth.catches) {
    console::print(" why=\"");
    console::print(teeth.why_not);
    console::print("\"");
  }
  console::print("\n");
  return env.mode == Mode::normal && (t.stale != 0 || t.wrong != 0) ? 1 : 0;
}

}  // namespace realisa
