// JSON rendering of suite results.
#include <variant>

#include "tlbkit/report/describe.hpp"
#include "tlbkit/report/suite_report.hpp"
#include "tlbkit/text/ops_json.hpp"
#include "tlbkit/text/parse.hpp"

namespace tlbkit::report {
namespace {

using nlohmann::json;
using workload::Counters;
using workload::ScenarioResult;

json counters_json(const Counters& c) {
  return json{{"changes", c.changes},
              {"plans", c.plans},
              {"immediate_plans", c.immediate_plans},
              {"tlbi_per_va", c.tlbi_per_va},
              {"tlbi_range", c.tlbi_range},
              {"tlbi_context", c.tlbi_context},
              {"tlbi_full", c.tlbi_full},
              {"broadcast", c.broadcast},
              {"dsb", c.dsb},
              {"isb", c.isb},
              {"icache", c.icache},
              {"dcache", c.dcache},
              {"tables_freed", c.tables_freed}};
}

const char* execute_name(arch::Execute e) { return e == arch::Execute::allowed ? "allowed" : "never"; }

template <class A>
void add_common(json& j, const A& a) {
  j["shareability"] = a.shareability == arch::Shareability::inner   ? "inner"
                      : a.shareability == arch::Shareability::outer ? "outer"
                                                                    : "non";
  j["access_flag"] = a.access_flag == arch::AccessFlag::set;
  j["dbm"] = a.dbm == arch::DirtyBitModifier::on;
  j["contiguous"] = a.contiguous == arch::Contiguous::yes;
  j["software"] = a.software;
}

json attributes_json(const arch::s1::Attributes& a) {
  static constexpr const char* kAccess[] = {"el1_rw", "all_rw", "el1_ro", "all_ro"};
  json j{{"regime", "el1-stage1"},
         {"mair_index", a.mair_index},
         {"access", kAccess[static_cast<unsigned>(a.access)]},
         {"el1_execute", execute_name(a.el1_execute)},
         {"el0_execute", execute_name(a.el0_execute)},
         {"scope", a.scope == arch::s1::Scope::global ? "global" : "non_global"}};
  add_common(j, a);
  return j;
}

json attributes_json(const arch::el2::Attributes& a) {
  json j{{"regime", "el2-stage1"},
         {"mair_index", a.mair_index},
         {"access", a.access == arch::el2::Access::rw ? "rw" : "ro"},
         {"execute", execute_name(a.execute)}};
  add_common(j, a);
  return j;
}

json attributes_json(const arch::s2::Attributes& a) {
  static constexpr const char* kAccess[] = {"none", "ro", "wo", "rw"};
  static constexpr const char* kExecute[] = {"all", "el0_only", "none", "el1_only"};
  json j{{"regime", "stage2"},
         {"memattr", a.memattr},
         {"access", kAccess[static_cast<unsigned>(a.access)]},
         {"execute", kExecute[static_cast<unsigned>(a.execute)]}};
  add_common(j, a);
  return j;
}

json step_json(const workload::Step& step, const workload::StepOutcome* outcome) {
  json j{{"op", workload::step_kind_name(step.kind)}, {"va", text::hex(step.va)}};
  switch (step.kind) {
    case workload::StepKind::map:
      j["size"] = text::hex(step.size);
      j["pa"] = text::hex(step.pa);
      j["blocks"] = step.blocks == pt::BlockMappings::allowed ? "allowed" : "forbidden";
      break;
    case workload::StepKind::unmap:
    case workload::StepKind::protect: j["size"] = text::hex(step.size); break;
    case workload::StepKind::split:
      j["size"] = text::hex(step.size);
      j["level"] = step.level;
      break;
    case workload::StepKind::promote: j["level"] = step.level; break;
  }
  if (step.attributes) {
    j["attributes"] = std::visit([](const auto& typed) { return attributes_json(typed); }, *step.attributes);
  }
  j["note"] = step.note;
  if (outcome != nullptr) {
    j["status"] = outcome->ok() ? "ok" : errc_name(outcome->error->code);
    if (!outcome->ok()) j["error"] = outcome->error->message;
  }
  return j;
}

json change_json(const workload::ChangeRecord& r) {
  const pt::Change& c = r.change;
  return json{{"step", r.step + 1},
              {"delivery", workload::delivery_name(r.delivery)},
              {"level", c.level},
              {"entry", c.entry == pt::EntryKind::table ? "table" : "leaf"},
              {"kind", arch::change_kind_name(c.kind)},
              {"va", text::hex(c.va)},
              {"size", text::hex(c.size)},
              {"output", text::hex(c.output)},
              {"exec_gained", c.exec == arch::ExecGain::yes}};
}

json plans_json(const std::vector<workload::ExecutedPlan>& plans) {
  json out = json::array();
  for (const workload::ExecutedPlan& p : plans) {
    json runs = json::array();
    for (const Step& run : p.plan.steps()) {
      json j = text::to_json(run.first);
      j["count"] = run.count;
      j["stride"] = text::hex(run.stride);
      runs.push_back(std::move(j));
    }
    // A group repeats runs [first_run, first_run + runs) `times` times,
    // operands advancing by `advance` per repetition.
    json groups = json::array();
    for (const StepGroup& g : p.plan.groups()) {
      groups.push_back(json{{"first_run", g.first_step},
                            {"runs", g.steps},
                            {"times", g.times},
                            {"advance", text::hex(g.advance)}});
    }
    out.push_back(json{{"trigger", workload::trigger_name(p.trigger)},
                       {"step", p.step ? json(*p.step + 1) : json(nullptr)},
                       {"op_count", p.op_count()},
                       {"runs", std::move(runs)},
                       {"groups", std::move(groups)}});
  }
  return out;
}

json scenario_json(const ScenarioResult& r) {
  const workload::Scenario& s = r.scenario;
  json batches = json::array();
  for (std::size_t b = 0; b < s.batches.size(); ++b) {
    const workload::Batch& batch = s.batches[b];
    const workload::BatchResult* result = b < r.batches.size() ? &r.batches[b] : nullptr;
    json steps = json::array();
    for (std::size_t i = 0; i < batch.steps.size(); ++i) {
      const workload::StepOutcome* outcome =
          result != nullptr && i < result->steps.size() ? &result->steps[i] : nullptr;
      steps.push_back(step_json(batch.steps[i], outcome));
    }
    json j{{"label", batch.label}, {"steps", std::move(steps)}};
    if (result != nullptr) {
      json changes = json::array();
      for (const workload::ChangeRecord& c : result->changes) changes.push_back(change_json(c));
      j["changes"] = std::move(changes);
      j["tables_retired"] = result->tables_retired;
      j["plans"] = plans_json(result->plans);
      j["counters"] = counters_json(result->counters);
    }
    batches.push_back(std::move(j));
  }
  const maint::AddressSpace& space = s.space;
  const sim::MemoryCounters& m = r.memory;
  return json{
      {"name", s.name},
      {"description", s.description},
      {"regime", arch::regime_name(space.regime)},
      {"geometry",
       {{"stage", s.geometry.stage == arch::Stage::stage1 ? 1 : 2},
        {"input_bits", s.geometry.input_bits},
        {"start_level", s.geometry.start_level},
        {"text", geometry_text(space.regime, s.geometry)}}},
      {"address_space",
       {{"asid", space.asid},
        {"vmid", space.vmid},
        {"global_entries", space.global == maint::GlobalEntries::present}}},
      {"batches", std::move(batches)},
      {"counters", counters_json(r.totals)},
      {"teardown",
       {{"plans", plans_json(r.teardown.plans)},
        {"counters", counters_json(r.teardown.counters)},
        {"pages_freed", r.teardown.pages_freed},
        {"live_pages_after", r.teardown.live_pages_after}}},
      {"memory",
       {{"allocations", m.allocations},
        {"failed_allocations", m.failed_allocations},
        {"frees", m.frees},
        {"allocated_pages", m.allocated_pages},
        {"freed_pages", m.freed_pages},
        {"live_pages", m.live_pages},
        {"peak_live_pages", m.peak_live_pages}}},
      {"problems", r.problems},
      {"ok", r.ok()}};
}

}  // namespace

nlohmann::json features_json(const arch::CpuFeatures& f) {
  json names = json::array();
  const std::string text = features_text(f);
  if (text == "none") return names;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    names.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return names;
}

nlohmann::json suite_json(const std::vector<ScenarioResult>& results, const RunLabel& label) {
  json scenarios = json::array();
  Counters total;
  bool ok = true;
  for (const ScenarioResult& r : results) {
    scenarios.push_back(scenario_json(r));
    total += r.totals;
    ok = ok && r.ok();
  }
  json policy{{"name", label.policy}};
  if (label.threshold) policy["threshold"] = *label.threshold;
  return json{{"policy", std::move(policy)},
              {"features", features_json(label.features)},
              {"scenarios", std::move(scenarios)},
              {"totals", counters_json(total)},
              {"ok", ok}};
}

nlohmann::json list_json(const std::vector<workload::Scenario>& scenarios) {
  json out = json::array();
  for (const workload::Scenario& s : scenarios) {
    std::size_t steps = 0;
    for (const workload::Batch& b : s.batches) steps += b.steps.size();
    out.push_back(json{{"name", s.name},
                       {"description", s.description},
                       {"regime", arch::regime_name(s.space.regime)},
                       {"batches", s.batches.size()},
                       {"steps", steps}});
  }
  return out;
}

}  // namespace tlbkit::report
