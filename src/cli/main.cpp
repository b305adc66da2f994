// The tlbkit command. Each command family registers itself here with its
// add_*_command function; main only parses and maps errors to exit codes:
// 0 success, 2 bad input (message on stderr, nothing on stdout), 1 a failed
// check (a violation) or an internal error.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "compare_command.hpp"
#include "gen_command.hpp"
#include "import_command.hpp"
#include "merge_command.hpp"
#include "plan_command.hpp"
#include "policies_command.hpp"
#include "record_command.hpp"
#include "replay_command.hpp"
#include "sim_command.hpp"
#include "suite_command.hpp"
#include "tlbi_command.hpp"
#include "usage_error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"tlbkit: AArch64 translation tables and TLB maintenance", "tlbkit"};
  app.require_subcommand(1);
  tlbkit::cli::add_tlbi_command(app);
  tlbkit::cli::add_suite_command(app);
  tlbkit::cli::add_plan_command(app);
  tlbkit::cli::add_sim_command(app);
  tlbkit::cli::add_replay_command(app);
  tlbkit::cli::add_import_command(app);
  tlbkit::cli::add_record_command(app);
  tlbkit::cli::add_gen_command(app);
  tlbkit::cli::add_compare_command(app);
  tlbkit::cli::add_merge_command(app);
  tlbkit::cli::add_policies_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "tlbkit: error: {}\nRun with --help for usage.\n", e.what());
    return tlbkit::cli::kExitBadInput;
  } catch (const tlbkit::cli::UsageError& e) {
    fmt::print(stderr, "tlbkit: error: {}\n", e.what());
    return tlbkit::cli::kExitBadInput;
  } catch (const tlbkit::cli::CheckFailed& e) {
    fmt::print(stderr, "tlbkit: {}\n", e.what());
    return tlbkit::cli::kExitCheckFailed;
  } catch (const std::exception& e) {
    fmt::print(stderr, "tlbkit: internal error: {}\n", e.what());
    return 1;
  }
  return 0;
}
