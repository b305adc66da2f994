// `tlbkit merge`.
#include "merge_command.hpp"

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "comparison.hpp"
#include "usage_error.hpp"
#include "tlbkit/compare/part.hpp"

namespace tlbkit::cli {
namespace {

struct MergeOptions {
  std::vector<std::string> parts;
  ComparisonOutput output;
};

compare::Part read_part_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("merge: cannot open {}", path));
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded()) throw UsageError(fmt::format("merge: {}: not JSON", path));
  compare::Part part;
  if (const std::optional<std::string> bad = compare::read_part(doc, path, part)) throw UsageError(*bad);
  return part;
}

void run_merge(const MergeOptions& o) {
  (void)o.output.format();  // refuses --json with --csv before any file is read
  if (o.parts.empty()) throw UsageError("merge: give the parts (files written by tlbkit compare --shard)");
  std::vector<compare::Part> parts;
  for (const std::string& path : o.parts) parts.push_back(read_part_file(path));
  const compare::GridSpec spec = grid_of(parts.front().input);
  std::vector<compare::Cell> cells;
  std::vector<compare::GroupBound> bounds;
  if (const std::optional<std::string> bad = compare::merge_parts(parts, spec, cells, bounds)) throw UsageError(*bad);
  finish_comparison(o.output, spec, cells, bounds);
}

}  // namespace

void add_merge_command(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* cmd = app.add_subcommand("merge", "Join the parts of a sharded tlbkit compare into one output");
  cmd->add_option("parts", o->parts, "Part files written by tlbkit compare --shard K/N");
  add_output_options(cmd, o->output);
  cmd->callback([o] { run_merge(*o); });
}

}  // namespace tlbkit::cli
