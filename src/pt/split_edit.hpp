// The prepare/commit sequence shared by unmap, protect and split. Engine-internal.
#pragma once

#include "editor.hpp"
#include "splitting.hpp"

namespace tlbkit::pt::detail {

// Counts the tables `rule`'s splits take, reserves them (all or nothing),
// then walks the range with the writer `make_writer(editor)` returns. The
// commit cannot fail once the reserve is filled.
// # Errors
// The allocator's (no_memory) when the reserve cannot be filled; nothing
// has changed then.
template <class MakeWriter>
Status split_and_edit(const Tree& tree, Regime regime, const TableOptions& options, const SplitRule& rule,
                      ChangeSink& sink, MakeWriter make_writer) {
  SplitPlanner planner(rule);
  walk_range(tree, rule.range.start, rule.range.end, planner);
  Reserve reserve(tree.memory);
  const Status filled = reserve.fill(planner.tables());
  if (!filled.ok()) return filled;
  Editor editor(tree, regime, options, reserve, sink);
  auto writer = make_writer(editor);
  walk_range(tree, rule.range.start, rule.range.end, writer);
  return ok_status();
}

}  // namespace tlbkit::pt::detail
