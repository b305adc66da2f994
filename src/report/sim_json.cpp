// JSON rendering of simulator runs.
#include "json_parts.hpp"
#include "tlbkit/report/sim_report.hpp"
#include "tlbkit/report/suite_report.hpp"
#include "tlbkit/text/parse.hpp"

namespace tlbkit::report {
namespace {

using nlohmann::json;

using text::hex;

const char* stage_name(sim::EntryStage s) {
  switch (s) {
    case sim::EntryStage::stage1: return "stage1";
    case sim::EntryStage::stage2: return "stage2";
    case sim::EntryStage::combined: return "combined";
  }
  return "?";
}

json entry_json(const sim::TlbEntry& e) {
  return json{{"stage", stage_name(e.stage)},
              {"kind", e.kind == sim::CachedKind::leaf ? "leaf" : "walk"},
              {"level", e.level},
              {"vmid", e.vmid},
              {"asid", e.asid},
              {"global", e.global},
              {"input", hex(e.input)},
              {"size", hex(e.size)},
              {"output", hex(e.output)},
              {"permissions", e.permissions},
              {"filled_at", e.filled_at}};
}

}  // namespace

json violation_json(const sim::Violation& v) {
  return json{{"kind", sim::violation_kind_name(v.kind)},
              {"pe", v.pe},
              {"va", hex(v.va)},
              {"operation", v.operation},
              {"event", v.event},
              {"message", v.message},
              {"stale", v.stale ? entry_json(*v.stale) : json(nullptr)},
              {"current", v.current ? entry_json(*v.current) : json(nullptr)}};
}

json counters_json(const sim::SimCounters& c) {
  return json{{"accesses", c.accesses},
              {"l1_hits", c.l1_hits},
              {"l2_hits", c.l2_hits},
              {"walks", c.walks},
              {"walk_cache_hits", c.walk_cache_hits},
              {"descriptor_reads", c.descriptor_reads},
              {"translation_faults", c.translation_faults},
              {"permission_faults", c.permission_faults},
              {"refills_needed", c.refills_needed},
              {"refills_collateral", c.refills_collateral},
              {"plans", c.plans},
              {"tlbi_local", c.tlbi_local},
              {"tlbi_broadcast", c.tlbi_broadcast},
              {"dsb", c.dsb},
              {"dsb_broadcast_waits", c.dsb_broadcast_waits},
              {"isb", c.isb},
              {"ic", c.ic},
              {"dc", c.dc},
              {"entries_invalidated", c.entries_invalidated},
              {"maintenance_cycles", c.maintenance_cycles},
              {"translation_cycles", c.translation_cycles},
              {"refill_cycles_needed", c.refill_cycles_needed},
              {"refill_cycles_collateral", c.refill_cycles_collateral},
              {"dropped_ops", c.dropped_ops}};
}

namespace {

json oracle_json(const replay::HindsightResult& h) {
  json choices = json::array();
  for (const replay::HindsightChoice& c : h.choices) {
    choices.push_back(json{{"point", c.point},
                           {"planner", std::string(maint::shape_name(c.planner))},
                           {"chosen", std::string(maint::shape_name(c.chosen))},
                           {"alternatives_simulated", c.runs}});
  }
  return json{{"total_cycles", h.run.total_cycles()},
              {"planner_cycles", h.planner_cycles},
              {"maintenance_cycles", h.run.counters.maintenance_cycles},
              {"translation_cycles", h.run.counters.translation_cycles},
              {"points", h.points},
              {"simulations", h.simulations},
              {"choices", std::move(choices)}};
}

json trace_json(const SimEntry& e) {
  json violations = json::array();
  for (const sim::Violation& v : e.run.violations) violations.push_back(violation_json(v));
  json j{{"name", e.trace.name},
         {"description", e.trace.description},
         {"pes", e.trace.pes},
         {"batches", e.trace.batches()},
         {"accesses", e.trace.accesses()},
         {"events", e.run.events},
         {"counters", counters_json(e.run.counters)},
         {"cycles",
          {{"maintenance", e.run.counters.maintenance_cycles},
           {"translation", e.run.counters.translation_cycles},
           {"total", e.run.total_cycles()}}},
         {"violations", std::move(violations)},
         {"problems", e.run.problems}};
  if (e.oracle) j["oracle"] = oracle_json(*e.oracle);
  j["ok"] = e.run.ok();
  return j;
}

}  // namespace

json profile_json(const sim::Profile& p) {
  return json{{"name", std::string(p.name)},
              {"summary", std::string(p.summary)},
              {"pes", p.pes},
              {"l2_hit", p.l2_hit},
              {"descriptor_read", p.descriptor_read},
              {"tlbi_local", p.tlbi_local},
              {"tlbi_broadcast", p.tlbi_broadcast},
              {"dsb_local", p.dsb_local},
              {"dsb_broadcast_base", p.dsb_broadcast_base},
              {"dsb_per_pe", p.dsb_per_pe},
              {"isb", p.isb},
              {"request_round_trip", p.request_round_trip},
              {"tlbi_repeat", p.tlbi_repeat},
              {"asid_bits", p.asid_bits},
              {"vmid_bits", p.vmid_bits},
              {"transparent_huge_pages", p.transparent_huge_pages == sim::Profile::HugePages::on}};
}

nlohmann::json sim_json(const std::vector<SimEntry>& entries, const SimLabel& label) {
  json traces = json::array();
  std::uint64_t cycles = 0;
  std::uint64_t violations = 0;
  bool ok = true;
  for (const SimEntry& e : entries) {
    traces.push_back(trace_json(e));
    cycles += e.run.total_cycles();
    violations += e.run.violations.size();
    ok = ok && e.run.ok();
  }
  json out{{"policy", label.policy},
           {"profile", label.profile != nullptr ? profile_json(*label.profile) : json(nullptr)},
           {"features", features_json(label.features)},
           {"pattern",
            {{"pes", label.pattern.pes},
             {"accesses_per_pe", label.pattern.accesses_per_pe},
             {"hot_pages", label.pattern.hot_pages},
             {"seed", label.pattern.seed}}},
           {"traces", std::move(traces)},
           {"totals", {{"cycles", cycles}, {"violations", violations}}},
           {"ok", ok}};
  return out;
}

}  // namespace tlbkit::report
