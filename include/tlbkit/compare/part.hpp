// Sweeps past one machine: a shard of a comparison runs every N-th cell
// and writes a part (JSON); merging the parts gives back the cells of the
// whole grid, so the output is the same as one run's (docs/SWEEPS.md).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlbkit/compare/grid.hpp"

namespace tlbkit::compare {

struct Shard {
  std::size_t index = 0;  // K of K/N, 0 <= K < N
  std::size_t count = 1;  // N
  friend bool operator==(const Shard&, const Shard&) = default;
};

// "K/N" with 0 <= K < N, N >= 1. # Errors: the message.
std::optional<std::string> parse_shard(const std::string& text, Shard& shard);

// The grid indices shard K/N runs: K, K + N, K + 2N, ... below `cells`.
std::vector<std::size_t> shard_cells(std::size_t cells, Shard shard);

// The row groups whose lower bound shard K/N runs: K, K + N, ...
std::vector<std::size_t> shard_groups(std::size_t groups, Shard shard);

// The part a shard writes: the grid's input, the shard, each cell it ran
// (its index, state, note and result) and each group bound. `cells` are
// run_grid()'s for `indices`, `bounds` run_bounds()'s for shard_groups().
nlohmann::json part_json(const GridInput& input, Shard shard, const std::vector<std::size_t>& indices,
                         const std::vector<Cell>& cells, const std::vector<GroupBound>& bounds);

struct Part {
  GridInput input;
  Shard shard;
  std::vector<std::size_t> indices;
  std::vector<Cell> cells;  // axes unset: merge_parts() sets them from the index
  std::vector<GroupBound> bounds;
};

// Reads a part written by part_json(). # Errors: what is missing or
// malformed (`name` says which part).
std::optional<std::string> read_part(const nlohmann::json& doc, const std::string& name, Part& part);

// The whole grid's cells, in row order, and its group bounds, in group
// order, from parts of one grid (`spec`
// built from their common input). # Errors: parts of different grids, a
// shard count that differs, a shard missing or given twice, a cell index
// outside the grid or missing.
std::optional<std::string> merge_parts(const std::vector<Part>& parts, const GridSpec& spec,
                                       std::vector<Cell>& cells, std::vector<GroupBound>& bounds);

}  // namespace tlbkit::compare
