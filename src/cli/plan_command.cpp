#include "plan_command.hpp"

#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "feature_list.hpp"
#include "named.hpp"
#include "numbers.hpp"
#include "usage_error.hpp"
#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/text/ops_json.hpp"
#include "tlbkit/text/ops_text.hpp"
#include "tlbkit/maint/planner.hpp"

namespace tlbkit::cli {
namespace {

using pt::EntryKind;
using maint::PendingRange;

struct PlanOptions {
  std::vector<std::string> pages;
  std::vector<std::string> blocks;
  std::vector<std::string> tables;
  std::vector<std::string> emptied_tables;
  std::vector<std::string> clean;
  std::string regime = "el1";
  std::string asid = "0";
  std::string vmid = "0";
  bool global = false;
  std::string features;
  std::string pes = "1";
  std::string held_by;  // "" (every PE), "issuer" or a count
  bool exec = false;
  std::string policy = "tlbkit";
  bool explain = false;
  bool json = false;
};

// "VA+N" -> (VA, N).
std::pair<std::uint64_t, std::uint64_t> parse_start_count(const std::string& option, const std::string& text) {
  const std::size_t plus = text.find('+');
  if (plus == std::string::npos) throw UsageError(fmt::format("{}: \"{}\" is not START+COUNT", option, text));
  const std::uint64_t start = parse_number(option, text.substr(0, plus));
  const std::uint64_t count = parse_number(option, text.substr(plus + 1));
  if (count == 0) throw UsageError(fmt::format("{}: \"{}\" has a zero count", option, text));
  return {start, count};
}

void add_ranges(std::vector<PendingRange>& out, const std::string& option, const std::vector<std::string>& specs,
                unsigned level, EntryKind entry, std::uint64_t unit, pt::Beneath beneath = pt::Beneath::unseen) {
  for (const std::string& spec : specs) {
    const auto [va, count] = parse_start_count(option, spec);
    if (va % unit != 0) throw UsageError(fmt::format("{}: {:#x} is not aligned to {:#x}", option, va, unit));
    if (count > (std::uint64_t{1} << 48) / unit || va + count * unit > (std::uint64_t{1} << 48)) {
      throw UsageError(fmt::format("{}: \"{}\" runs past the 48-bit input space", option, spec));
    }
    out.push_back(PendingRange{va, count * unit, static_cast<std::uint8_t>(level), entry, beneath});
  }
}

// --held-by: which PEs may hold the space's entries (maint::Reach).
maint::Reach parse_reach(const std::string& text, unsigned pes) {
  maint::Reach reach;
  if (text.empty()) return reach;
  if (text == "issuer") {
    reach.holders = maint::Holders::issuing_pe_only;
    reach.pes = 1;
    return reach;
  }
  reach.pes = static_cast<std::uint16_t>(parse_number("--held-by", text, 1, pes < 0xffff ? pes : 0xfffe));
  return reach;
}

arch::Regime parse_regime(const std::string& text) {
  if (text == "el1") return arch::Regime::el1_stage1;
  if (text == "el2") return arch::Regime::el2_stage1;
  if (text == "stage2") return arch::Regime::stage2;
  throw UsageError(fmt::format("--regime: \"{}\" is not one of el1, el2, stage2", text));
}

nlohmann::json explanation_json(const maint::Explanation& e) {
  nlohmann::json candidates = nlohmann::json::array();
  for (const maint::CandidateCost& c : e.candidates) {
    nlohmann::json j{{"shape", maint::shape_name(c.shape)}, {"legal", c.legal}};
    if (c.legal) {
      j["tlbi_ops"] = c.ops;
      j["issue"] = c.issue;
      j["barriers"] = c.barriers;
      j["collateral"] = c.collateral;
      j["total"] = c.total();
    } else {
      j["why"] = c.why;
    }
    candidates.push_back(j);
  }
  return nlohmann::json{{"chosen", maint::shape_name(e.chosen)}, {"pages", e.pages}, {"candidates", candidates}};
}

void print_explanation(const maint::Explanation& e) {
  fmt::print("\n{:<14} {:>9} {:>10} {:>10} {:>11} {:>11}\n", "candidate", "tlbi ops", "issue", "barriers",
             "collateral", "total");
  for (const maint::CandidateCost& c : e.candidates) {
    const char* mark = c.legal && c.shape == e.chosen ? " <- chosen" : "";
    if (c.legal) {
      fmt::print("{:<14} {:>9} {:>10} {:>10} {:>11} {:>11}{}\n", maint::shape_name(c.shape), c.ops, c.issue,
                 c.barriers, c.collateral, c.total(), mark);
    } else {
      fmt::print("{:<14} not legal: {}\n", maint::shape_name(c.shape), c.why);
    }
  }
}

void run(const PlanOptions& o) {
  std::vector<PendingRange> ranges;
  add_ranges(ranges, "--pages", o.pages, 3, EntryKind::leaf, 0x1000);
  add_ranges(ranges, "--blocks", o.blocks, 2, EntryKind::leaf, 0x20'0000);
  add_ranges(ranges, "--tables", o.tables, 2, EntryKind::table, 0x1000);
  add_ranges(ranges, "--emptied-tables", o.emptied_tables, 2, EntryKind::table, 0x20'0000, pt::Beneath::reported);
  std::vector<maint::PhysRange> clean;
  for (const std::string& spec : o.clean) {
    const auto [pa, bytes] = parse_start_count("--clean", spec);
    clean.push_back(maint::PhysRange{pa, bytes});
  }
  if (ranges.empty() && clean.empty() && !o.exec) {
    throw UsageError("nothing to plan: give --pages, --blocks, --tables, --emptied-tables, --clean or --exec");
  }

  maint::AddressSpace space;
  space.regime = parse_regime(o.regime);
  space.asid = static_cast<std::uint16_t>(parse_number("--asid", o.asid, 0, 0xffff));
  space.vmid = static_cast<std::uint16_t>(parse_number("--vmid", o.vmid, 0, 0xffff));
  space.global = o.global ? maint::GlobalEntries::present : maint::GlobalEntries::absent;

  arch::CpuFeatures features = parse_features(o.features);
  features.processing_elements = static_cast<unsigned>(parse_number("--pes", o.pes, 1, 4096));
  space.reach = parse_reach(o.held_by, features.processing_elements);

  const baselines::PolicyEntry& entry = policy_named(o.policy);

  maint::Pending pending;
  pending.ranges = ranges;
  pending.clean = clean;
  pending.exec = o.exec ? maint::ExecGain::yes : maint::ExecGain::no;
  Plan plan;
  const Status made = entry.policy.plan(pending, space, features, plan);
  if (!made.ok()) throw UsageError(fmt::format("policy {}: {}", o.policy, made.error().message));

  const maint::Planner* planner = entry.planner;
  if (o.explain && planner == nullptr) {
    throw UsageError(fmt::format("--explain: policy \"{}\" considers no alternatives", o.policy));
  }

  if (o.json) {
    nlohmann::json ops = nlohmann::json::array();
    for (const arch::Op& op : plan.ops()) ops.push_back(text::to_json(op));
    nlohmann::json out{{"policy", o.policy}, {"ops", ops}};
    if (o.explain) out["explain"] = explanation_json(planner->explain(pending, space, features));
    fmt::print("{}\n", out.dump(2));
    return;
  }
  for (const arch::Op& op : plan.ops()) fmt::print("{}\n", text::to_asm(op));
  if (o.explain) print_explanation(planner->explain(pending, space, features));
}

}  // namespace

void add_plan_command(CLI::App& app) {
  auto options = std::make_shared<PlanOptions>();
  CLI::App* plan = app.add_subcommand("plan", "The maintenance plan a policy makes for described changes");
  plan->add_option("--pages", options->pages, "VA+N: N 4 KiB leaf entries changed from VA (repeatable)");
  plan->add_option("--blocks", options->blocks, "VA+N: N 2 MiB block entries changed from VA (repeatable)");
  plan->add_option("--tables", options->tables,
                   "VA+N: N pages under changed (freed or replaced) table entries (repeatable)");
  plan->add_option("--emptied-tables", options->emptied_tables,
                   "VA+N: N last-level tables (2 MiB each) emptied entry by entry and freed, their "
                   "entries given with --pages: only their walk-cache entries are owed (repeatable)");
  plan->add_option("--clean", options->clean, "PA+BYTES: memory needing DC CIVAC before reuse (repeatable)");
  plan->add_option("--regime", options->regime, "el1 (default), el2 or stage2");
  plan->add_option("--asid", options->asid, "ASID of the address space (el1)");
  plan->add_option("--vmid", options->vmid, "VMID (el1, stage2)");
  plan->add_flag("--global", options->global, "the space holds global (nG = 0) entries");
  plan->add_option("--features", options->features,
                   fmt::format("CPU features, comma separated: {} (default none)", kFeatureNames));
  plan->add_option("--pes", options->pes, "PEs in the Inner Shareable domain (default 1)");
  plan->add_option("--held-by", options->held_by,
                   "PEs that may hold the space's entries: issuer (only the PE running the plan: local ops will "
                   "do) or a count 1..--pes (default: every PE)");
  plan->add_flag("--exec", options->exec, "execute permission was gained (I-cache maintenance)");
  plan->add_option("--policy", options->policy, "policy name (default tlbkit)");
  plan->add_flag("--explain", options->explain, "show every candidate the planner weighed");
  plan->add_flag("--json", options->json, "JSON output");
  plan->callback([options] { run(*options); });
}

}  // namespace tlbkit::cli
