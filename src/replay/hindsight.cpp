#include "tlbkit/replay/hindsight.hpp"

#include <algorithm>
#include <optional>

namespace tlbkit::replay {
namespace {

// What the planner saw at one maintenance point.
struct Point {
  std::vector<maint::Shape> legal;  // in Shape order
  std::vector<std::uint64_t> ops;   // TLBIs each legal shape issues
  maint::Shape planner = maint::Shape::per_va;
};

// The planner with a script: at the points the script names, the named
// shape instead of the planner's choice. Records every point it meets.
// Not thread-safe (plan() is const for the Policy interface only).
class ScriptedPlanner final : public maint::Policy {
 public:
  ScriptedPlanner(const maint::Planner& planner, const std::vector<std::optional<maint::Shape>>& script)
      : planner_(planner), script_(script) {}

  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override {
    const std::size_t index = points_.size();
    Point point;
    if (pending.needs_invalidation()) {
      const maint::Explanation e = planner_.explain(pending, space, features);
      for (const maint::CandidateCost& c : e.candidates) {
        if (!c.legal) continue;
        point.legal.push_back(c.shape);
        point.ops.push_back(c.ops);
      }
      point.planner = e.chosen;
    }
    points_.push_back(point);
    if (!pending.needs_invalidation()) return planner_.plan(pending, space, features, plan);
    const bool scripted = index < script_.size() && script_[index].has_value();
    return planner_.plan_as(scripted ? *script_[index] : point.planner, pending, space, features, plan);
  }

  const std::vector<Point>& points() const { return points_; }

 private:
  const maint::Planner& planner_;
  const std::vector<std::optional<maint::Shape>>& script_;
  mutable std::vector<Point> points_;
};

struct Scripted {
  SimRun run;
  std::vector<Point> points;
};

Scripted replay_scripted(const Trace& trace, const maint::Planner& planner, const sim::Profile& profile,
                         const SimOptions& options, const std::vector<std::optional<maint::Shape>>& script) {
  ScriptedPlanner policy(planner, script);
  Scripted out;
  out.run = simulate(trace, policy, profile, options);
  out.points = policy.points();
  return out;
}

}  // namespace

Result<HindsightResult> hindsight(const Trace& trace, const maint::Planner& planner, const sim::Profile& profile,
                                  const SimOptions& options) {
  std::vector<std::optional<maint::Shape>> script;
  Scripted reference = replay_scripted(trace, planner, profile, options, script);
  if (!reference.run.ok()) {
    return Error{Errc::invalid_argument, "the trace does not run cleanly under the planner alone"};
  }
  HindsightResult result;
  result.planner_cycles = reference.run.total_cycles();
  result.points = reference.points.size();
  result.simulations = 1;
  script.resize(reference.points.size());

  SimRun best = reference.run;
  const std::uint64_t cheapest_tlbi = std::max<std::uint64_t>(1, std::min(profile.tlbi_local, profile.tlbi_broadcast));
  for (std::size_t k = 0; k < reference.points.size(); ++k) {
    const Point& point = reference.points[k];
    if (point.legal.size() < 2) continue;
    HindsightChoice choice{k, point.planner, point.planner, 0};
    for (std::size_t i = 0; i < point.legal.size(); ++i) {
      const maint::Shape shape = point.legal[i];
      if (shape == point.planner) continue;
      // A shape whose TLBIs alone cost more than the best run so far cannot
      // win (per-VA loops over a released tree would issue millions).
      if (point.ops[i] * cheapest_tlbi > best.total_cycles()) continue;
      script[k] = shape;
      Scripted tried = replay_scripted(trace, planner, profile, options, script);
      ++result.simulations;
      ++choice.runs;
      // Plans do not change the tables, so every replay meets the same
      // points; a run that did not is not comparable.
      const bool comparable = tried.points.size() == reference.points.size();
      if (comparable && tried.run.ok() && tried.run.total_cycles() < best.total_cycles()) {
        best = std::move(tried.run);
        choice.chosen = shape;
      }
    }
    script[k] = choice.chosen;
    result.choices.push_back(choice);
  }
  result.run = std::move(best);
  return result;
}

}  // namespace tlbkit::replay
