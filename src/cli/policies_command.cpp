// `tlbkit policies`.
#include "policies_command.hpp"

#include <memory>
#include <string>
#include <vector>

#include "named.hpp"
#include "stdout.hpp"
#include "tlbkit/baselines/registry.hpp"
#include "tlbkit/report/policies_report.hpp"

namespace tlbkit::cli {
namespace {

struct PoliciesOptions {
  bool json = false;
  std::vector<std::string> names;
};

void run_policies_command(const PoliciesOptions& o) {
  std::vector<const baselines::PolicyEntry*> chosen;
  if (o.names.empty()) {
    for (const baselines::PolicyEntry& e : baselines::all_policies()) chosen.push_back(&e);
  } else {
    for (const std::string& name : o.names) chosen.push_back(&policy_named(name));
  }
  write_stdout(o.json ? report::policies_json(chosen).dump(2) + "\n" : report::policies_text(chosen));
}

}  // namespace

void add_policies_command(CLI::App& app) {
  auto options = std::make_shared<PoliciesOptions>();
  CLI::App* cmd = app.add_subcommand("policies", "list the maintenance policies: what each models and from which source");
  cmd->add_option("names", options->names, "policies to show (names or aliases; default: all)");
  cmd->add_flag("--json", options->json, "print JSON");
  cmd->callback([options] { run_policies_command(*options); });
}

}  // namespace tlbkit::cli
