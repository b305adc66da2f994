#include "tlbkit/compare/goal.hpp"

#include <cmath>
#include <optional>

namespace tlbkit::compare {

Goal goal_of(const GridSpec& spec, const std::vector<Cell>& cells, const std::vector<GroupBound>& bounds) {
  Goal goal;
  const std::size_t per_group = spec.policies.size();
  if (per_group == 0) return goal;
  double log_sum = 0;
  for (std::size_t g = 0; g < cells.size() / per_group; ++g) {
    if (g >= bounds.size() || bounds[g].state != CellState::ran) continue;
    const std::uint64_t bound = bounds[g].result.total_cycles();
    std::optional<std::size_t> ours;
    std::optional<std::size_t> best;
    for (std::size_t i = g * per_group; i < (g + 1) * per_group; ++i) {
      const Cell& c = cells[i];
      const baselines::PolicyEntry& p = *spec.policies[c.policy];
      if (p.name == "tlbkit") {
        if (c.state == CellState::ran) ours = i;
        continue;
      }
      // A rival contends for the cheapest mark: no violation here, and no
      // known bug by contract (a model of a bug may be cheaper by it where
      // no check happens to show it: elfuse's local I-cache op).
      if (!contender(spec, c)) continue;
      if (!best || c.result.total_cycles() < cells[*best].result.total_cycles()) best = i;
    }
    if (!ours || !best) continue;
    const Cell& t = cells[*ours];
    const Cell& b = cells[*best];
    GroupGoal gg;
    gg.group = g;
    gg.tlbkit_overhead = t.result.overhead(bound);
    gg.best_baseline = spec.policies[b.policy]->name;
    gg.best_overhead = b.result.overhead(bound);
    const double e = static_cast<double>(bound) / 100.0;
    gg.ratio = e + static_cast<double>(gg.best_overhead) > 0
                   ? (static_cast<double>(gg.tlbkit_overhead) + e) / (static_cast<double>(gg.best_overhead) + e)
                   : 1.0;
    gg.tlbkit_cheapest = correct(t) && t.result.total_cycles() <= b.result.total_cycles();
    if (!gg.tlbkit_cheapest) ++goal.not_cheapest;
    log_sum += std::log(gg.ratio);
    goal.groups.push_back(gg);
  }
  if (!goal.groups.empty()) goal.geometric_mean = std::exp(log_sum / static_cast<double>(goal.groups.size()));
  return goal;
}

}  // namespace tlbkit::compare
