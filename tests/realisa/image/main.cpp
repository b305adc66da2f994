// The image's entry: reads the command line QEMU passed through
// semihosting ("lane=el1|el2|smp mode=normal|drop-tlbi|drop-dsb|local-only
// [policy=NAME] [scenario=NAME] [pes=N]"), runs the lane once per policy
// (every policy correct by contract that manages the lane's regime, unless
// one is named), and exits 0 when no normal run saw a stale or wrong
// access, 1 when one did, 2 on a bad command line.
#include "lanes.hpp"
#include "sysreg.hpp"

extern "C" void realisa_run_constructors();

namespace realisa {
namespace {

struct Options {
  std::string_view lane;
  Mode mode = Mode::normal;
  std::string_view policy;
  ScenarioFilter filter;
  unsigned pes = 1;
};

// The value of "key=value" in `line`, or "" when absent. (No find() or
// substr(): their checks would throw, which a freestanding image cannot.)
std::string_view option(std::string_view line, std::string_view key) {
  const char* p = line.data();
  const char* const end = p + line.size();
  while (p < end) {
    const char* token_end = p;
    while (token_end < end && *token_end != ' ') ++token_end;
    const std::string_view token(p, static_cast<std::size_t>(token_end - p));
    if (token.size() > key.size() && token.starts_with(key) && token[key.size()] == '=') {
      return std::string_view(p + key.size() + 1, token.size() - key.size() - 1);
    }
    p = token_end + 1;
  }
  return {};
}

[[noreturn]] void usage(std::string_view why) {
  console::print("FATAL: bad command line: ");
  console::print(why);
  console::print("\n");
  console::exit(2);
}

Options parse(std::string_view line) {
  Options o;
  o.lane = option(line, "lane");
  if (o.lane != "el1" && o.lane != "el2" && o.lane != "smp") usage("lane must be el1, el2 or smp");
  const std::string_view mode = option(line, "mode");
  if (!mode.empty() && !parse_mode(mode, o.mode)) usage("unknown mode");
  o.policy = option(line, "policy");
  o.filter.only = option(line, "scenario");
  const std::string_view pes = option(line, "pes");
  if (!pes.empty()) {
    if (pes.size() != 1 || pes[0] < '1' || pes[0] > '4') usage("pes must be 1 to 4");
    o.pes = static_cast<unsigned>(pes[0] - '0');
  }
  return o;
}

tlbkit::baselines::Manages lane_regime(std::string_view lane) {
  return lane == "el2" ? tlbkit::baselines::Manages::vm_stage2 : tlbkit::baselines::Manages::process_stage1;
}

}  // namespace

}  // namespace realisa

extern "C" void realisa_main() {
  using namespace realisa;
  realisa_run_constructors();
  const Options o = parse(console::command_line());
  TeethExecutor executor(o.mode);
  Env env{read_features(o.pes), nullptr, &executor, o.mode, nullptr};
  console::print("lane ");
  console::print(o.lane);
  console::print(" el ");
  console::print_dec(sysreg::current_el());
  console::print(" ");
  print_features(env.features);
  unsigned failures = 0;
  unsigned policies = 0;
  for (const tlbkit::baselines::PolicyEntry& entry : tlbkit::baselines::all_policies()) {
    if (!o.policy.empty() && o.policy != entry.name) continue;
    if (o.policy.empty() && entry.contract != tlbkit::baselines::Contract::correct) continue;
    if (!tlbkit::baselines::covers(entry.manages, lane_regime(o.lane))) continue;
    env.policy = &entry;
    ++policies;
    if (o.lane == "el1") failures += run_el1_lane(env, o.filter);
    if (o.lane == "el2") failures += run_el2_lane(env, o.filter);
    if (o.lane == "smp") failures += run_smp_lane(env, o.filter);
  }
  if (policies == 0) usage("no policy selected");
  console::print("done failures=");
  console::print_dec(failures);
  console::print("\n");
  console::exit(failures == 0 ? 0 : 1);
}
