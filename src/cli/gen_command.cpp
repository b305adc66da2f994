// `tlbkit gen`.
#include "gen_command.hpp"

#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "numbers.hpp"
#include "stdout.hpp"
#include "trace_output.hpp"
#include "usage_error.hpp"
#include "tlbkit/gen/generator.hpp"

namespace tlbkit::cli {
namespace {

struct GenOptions {
  std::string name;
  std::string size = "0";
  std::string pes = "4";
  std::string seed = "1";
  std::string output;
  bool list = false;
  bool json = false;
};

void list_generators(bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const gen::Generator& g : gen::generators()) {
      out.push_back({{"name", std::string(g.name)},
                     {"summary", std::string(g.summary)},
                     {"size_means", std::string(g.size_means)},
                     {"default_size", g.default_size}});
    }
    write_stdout(out.dump(2) + "\n");
    return;
  }
  std::string out;
  for (const gen::Generator& g : gen::generators()) {
    out += fmt::format("{:<18} {}\n{:<18} --size: {} (default {})\n", g.name, g.summary, "", g.size_means,
                       g.default_size);
  }
  write_stdout(out);
}

void run_gen(const GenOptions& o) {
  if (o.list) {
    list_generators(o.json);
    return;
  }
  if (o.name.empty()) throw UsageError("gen: name a generator (`tlbkit gen --list`)");
  const gen::Generator* g = gen::find_generator(o.name);
  if (g == nullptr) {
    std::string known;
    for (const gen::Generator& each : gen::generators()) known += fmt::format("{}{}", known.empty() ? "" : ", ", each.name);
    throw UsageError(fmt::format("gen: no generator '{}' (known: {})", o.name, known));
  }
  if (o.output.empty()) throw UsageError("gen: -o OUT is required");
  gen::Parameters p;
  p.size = parse_number("--size", o.size);
  p.pes = static_cast<unsigned>(parse_number("--pes", o.pes, 1, 64));
  p.seed = parse_number("--seed", o.seed);
  std::unique_ptr<trace::OutputFile> out = open_trace_output(o.output);
  trace::TraceWriter writer(*out);
  writer.comment(fmt::format("tlbkit gen {} --size {} --pes {} --seed {}", g->name,
                             p.size == 0 ? g->default_size : p.size, p.pes, p.seed));
  if (std::string refused = g->emit(p, writer); !refused.empty()) throw UsageError(fmt::format("gen: {}", refused));
  commit_trace_output(*out);
}

}  // namespace

void add_gen_command(CLI::App& app) {
  auto o = std::make_shared<GenOptions>();
  CLI::App* cmd = app.add_subcommand("gen", "Write a generated workload trace (--list names them)");
  cmd->add_option("name", o->name, "The generator");
  cmd->add_option("--size", o->size, "How much (its meaning: --list; default: the generator's)");
  cmd->add_option("--pes", o->pes, "PEs the threads are placed on (1..64; default 4)");
  cmd->add_option("--seed", o->seed, "Seed (default 1)");
  cmd->add_option("-o,--output", o->output, "The trace to write (.gz / .zst compress; - for standard output)");
  cmd->add_flag("--list", o->list, "List the generators");
  cmd->add_flag("--json", o->json, "With --list: JSON");
  cmd->callback([o] { run_gen(*o); });
}

}  // namespace tlbkit::cli
