#include "tlbkit/compare/part.hpp"

#include <charconv>
#include <utility>

#include <fmt/format.h>

namespace tlbkit::compare {
namespace {

using nlohmann::json;

constexpr int kPartVersion = 1;

// Every SimCounters field by name: written and read through one table.
constexpr std::pair<const char*, std::uint64_t sim::SimCounters::*> kCounterFields[] = {
    {"accesses", &sim::SimCounters::accesses},
    {"l1_hits", &sim::SimCounters::l1_hits},
    {"l2_hits", &sim::SimCounters::l2_hits},
    {"walks", &sim::SimCounters::walks},
    {"walk_cache_hits", &sim::SimCounters::walk_cache_hits},
    {"descriptor_reads", &sim::SimCounters::descriptor_reads},
    {"translation_faults", &sim::SimCounters::translation_faults},
    {"permission_faults", &sim::SimCounters::permission_faults},
    {"refills_needed", &sim::SimCounters::refills_needed},
    {"refills_collateral", &sim::SimCounters::refills_collateral},
    {"plans", &sim::SimCounters::plans},
    {"tlbi_local", &sim::SimCounters::tlbi_local},
    {"tlbi_broadcast", &sim::SimCounters::tlbi_broadcast},
    {"dsb", &sim::SimCounters::dsb},
    {"dsb_broadcast_waits", &sim::SimCounters::dsb_broadcast_waits},
    {"isb", &sim::SimCounters::isb},
    {"ic", &sim::SimCounters::ic},
    {"dc", &sim::SimCounters::dc},
    {"entries_invalidated", &sim::SimCounters::entries_invalidated},
    {"maintenance_cycles", &sim::SimCounters::maintenance_cycles},
    {"translation_cycles", &sim::SimCounters::translation_cycles},
    {"refill_cycles_needed", &sim::SimCounters::refill_cycles_needed},
    {"refill_cycles_collateral", &sim::SimCounters::refill_cycles_collateral},
    {"dropped_ops", &sim::SimCounters::dropped_ops},
};

std::optional<CellState> state_named(const std::string& s) {
  for (CellState c : {CellState::ran, CellState::not_applicable, CellState::bad_input}) {
    if (s == state_name(c)) return c;
  }
  return std::nullopt;
}

bool parse_size(std::string_view text, std::size_t& value) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && ptr == text.data() + text.size() && !text.empty();
}

json input_json(const GridInput& in) {
  return json{{"workloads", in.workloads},
              {"policies", in.policies},
              {"profiles", in.profiles},
              {"feature_sets", in.feature_sets},
              {"pes", in.pes}};
}

}  // namespace

std::optional<std::string> parse_shard(const std::string& text, Shard& shard) {
  const std::size_t slash = text.find('/');
  Shard s;
  if (slash == std::string::npos || !parse_size(std::string_view(text).substr(0, slash), s.index) ||
      !parse_size(std::string_view(text).substr(slash + 1), s.count)) {
    return fmt::format("--shard: \"{}\" is not K/N", text);
  }
  if (s.count == 0 || s.index >= s.count) return fmt::format("--shard: \"{}\" needs 0 <= K < N", text);
  shard = s;
  return std::nullopt;
}

std::vector<std::size_t> shard_cells(std::size_t cells, Shard shard) {
  std::vector<std::size_t> out;
  for (std::size_t i = shard.index; i < cells; i += shard.count) out.push_back(i);
  return out;
}

std::vector<std::size_t> shard_groups(std::size_t groups, Shard shard) { return shard_cells(groups, shard); }

namespace {

json result_json(std::size_t index, CellState state, const std::string& note, const CellResult& r) {
  json counters = json::object();
  for (const auto& [name, field] : kCounterFields) counters[name] = r.counters.*field;
  return json{{"index", index},
              {"state", state_name(state)},
              {"note", note},
              {"counters", std::move(counters)},
              {"violations", r.violations},
              {"problems", r.problems},
              {"first_failure", r.first_failure},
              {"choices", r.choices}};
}

// Reads what result_json() wrote. Throws json::exception when malformed.
std::optional<std::string> read_result(const json& c, const std::string& name, std::size_t& index, CellState& state,
                                       std::string& note, CellResult& r) {
  index = c.at("index").get<std::size_t>();
  const std::optional<CellState> s = state_named(c.at("state").get<std::string>());
  if (!s) return fmt::format("{}: entry {}: unknown state", name, index);
  state = *s;
  note = c.at("note").get<std::string>();
  for (const auto& [field_name, field] : kCounterFields) r.counters.*field = c.at("counters").at(field_name).get<std::uint64_t>();
  r.violations = c.at("violations").get<std::size_t>();
  r.problems = c.at("problems").get<std::size_t>();
  r.first_failure = c.at("first_failure").get<std::string>();
  r.choices = c.at("choices").get<std::array<std::uint64_t, maint::kShapeCount>>();
  return std::nullopt;
}

}  // namespace

json part_json(const GridInput& input, Shard shard, const std::vector<std::size_t>& indices,
               const std::vector<Cell>& cells, const std::vector<GroupBound>& bounds) {
  json list = json::array();
  for (std::size_t i = 0; i < cells.size(); ++i) {
    list.push_back(result_json(indices[i], cells[i].state, cells[i].note, cells[i].result));
  }
  json bound_list = json::array();
  for (const GroupBound& b : bounds) bound_list.push_back(result_json(b.group, b.state, b.note, b.result));
  return json{{"tlbkit_compare_part", kPartVersion},
              {"shard", {shard.index, shard.count}},
              {"grid", input_json(input)},
              {"cells", std::move(list)},
              {"bounds", std::move(bound_list)}};
}

std::optional<std::string> read_part(const json& doc, const std::string& name, Part& part) {
  try {
    if (!doc.is_object() || doc.value("tlbkit_compare_part", 0) != kPartVersion) {
      return fmt::format("{}: not a tlbkit compare part (version {})", name, kPartVersion);
    }
    Part p;
    const json& g = doc.at("grid");
    p.input.workloads = g.at("workloads").get<std::vector<std::string>>();
    p.input.policies = g.at("policies").get<std::vector<std::string>>();
    p.input.profiles = g.at("profiles").get<std::vector<std::string>>();
    p.input.feature_sets = g.at("feature_sets").get<std::vector<std::string>>();
    p.input.pes = g.at("pes").get<std::vector<unsigned>>();
    p.shard.index = doc.at("shard").at(0).get<std::size_t>();
    p.shard.count = doc.at("shard").at(1).get<std::size_t>();
    if (p.shard.count == 0 || p.shard.index >= p.shard.count) return fmt::format("{}: bad shard", name);
    for (const json& c : doc.at("cells")) {
      Cell cell;
      std::size_t index = 0;
      if (auto bad = read_result(c, name, index, cell.state, cell.note, cell.result)) return bad;
      p.indices.push_back(index);
      p.cells.push_back(std::move(cell));
    }
    for (const json& c : doc.at("bounds")) {
      GroupBound b;
      if (auto bad = read_result(c, name, b.group, b.state, b.note, b.result)) return bad;
      p.bounds.push_back(std::move(b));
    }
    part = std::move(p);
    return std::nullopt;
  } catch (const json::exception& e) {
    return fmt::format("{}: malformed part: {}", name, e.what());
  }
}

std::optional<std::string> merge_parts(const std::vector<Part>& parts, const GridSpec& spec,
                                       std::vector<Cell>& cells, std::vector<GroupBound>& bounds) {
  if (parts.empty()) return std::string("merge: no parts");
  const std::size_t count = parts.front().shard.count;
  std::vector<bool> shard_seen(count, false);
  const std::size_t total = cell_count(spec);
  std::vector<Cell> out(total);
  std::vector<bool> filled(total, false);
  const std::size_t groups = group_count(spec);
  std::vector<GroupBound> out_bounds(groups);
  std::vector<bool> bound_filled(groups, false);
  for (const Part& p : parts) {
    if (!(p.input == parts.front().input)) return std::string("merge: the parts are of different grids");
    if (p.shard.count != count) return std::string("merge: the parts were cut into different shard counts");
    if (shard_seen[p.shard.index]) return fmt::format("merge: shard {}/{} given twice", p.shard.index, count);
    shard_seen[p.shard.index] = true;
    for (std::size_t i = 0; i < p.cells.size(); ++i) {
      const std::size_t index = p.indices[i];
      if (index >= total || filled[index]) return fmt::format("merge: cell {} outside the grid or twice", index);
      Cell c = cell_at(spec, index);
      c.state = p.cells[i].state;
      c.note = p.cells[i].note;
      c.result = p.cells[i].result;
      out[index] = std::move(c);
      filled[index] = true;
    }
    for (const GroupBound& b : p.bounds) {
      if (b.group >= groups || bound_filled[b.group]) return fmt::format("merge: bound {} outside the grid or twice", b.group);
      out_bounds[b.group] = b;
      bound_filled[b.group] = true;
    }
  }
  for (std::size_t k = 0; k < count; ++k) {
    if (!shard_seen[k]) return fmt::format("merge: shard {}/{} is missing", k, count);
  }
  for (std::size_t i = 0; i < total; ++i) {
    if (!filled[i]) return fmt::format("merge: cell {} is missing", i);
  }
  for (std::size_t g = 0; g < groups; ++g) {
    if (!bound_filled[g]) return fmt::format("merge: the bound of group {} is missing", g);
  }
  cells = std::move(out);
  bounds = std::move(out_bounds);
  return std::nullopt;
}

}  // namespace tlbkit::compare
