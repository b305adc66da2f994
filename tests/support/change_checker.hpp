// Checks the change records of one successful table operation against the
// tree before and after it (both read by the reference walker).
//
// A slot is identified by (level, first input address) and by the table page
// holding it: a slot is "live" when the same table page holds it before and
// after; slots of a table page reachable only before are "old", slots of a
// page reachable only after are "new". The rules (from maint/change.hpp and
// docs/ARCHITECTURE-FACTS.md section 4):
//  1. Every live slot whose descriptor changed is covered by exactly one
//     record (record() or invalidate_now()) at its level with
//     kind == arch::classify(before, after), entry == table iff the old
//     descriptor is a table (for map: the new one), the exec rule below,
//     and the first slot's output (old for unmap/replace, else new).
//  2. Every valid new slot is covered by exactly one record of kind map;
//     invalid new slots by none.
//  3. An old slot may be covered only by an unmap record, only if it was
//     valid, and only under an ancestor slot covered by a record with
//     entry == table (kind unmap or replace).
//  4. No record covers an unchanged slot or a slot reachable in neither
//     tree; no slot is covered twice; records are well formed (level within
//     the tree, va and size multiples of the level's size, inside the space).
//  5. The retired tables are exactly the tables reachable before and not
//     after, each once, with their page count (a concatenated root: all its
//     pages in one retire_table call).
//  6. Every invalidate_now() has kind replace; every live slot whose change
//     needs break-before-make (classify == replace) is covered by an
//     invalidate_now() (with FEAT_BBM level 2: unless only the size changed,
//     block <-> table).
//  7. A record with beneath == reported is the unmap of table entries, and
//     every entry that was valid in each table it removed is covered by a
//     record of its own (pt::Beneath).
// Exec rule: a record's exec says whether some input address of the slot can
// be executed (at some exception level, arch::permissions) after the
// operation where it could not before, through the leaves in effect before
// and after: I-cache maintenance is due exactly there. For a leaf replaced by
// a leaf of the same size, and for a new leaf, that is arch::exec_gain(old,
// new). Map records of table entries say no (the leaves below carry their
// own records). Unlike a per-descriptor exec_gain, a promotion (table ->
// block) or a split (block -> table, new leaves equal to the block) gains
// nothing unless the operation itself added execute permission.
// (That the slot reads invalid in memory during invalidate_now() is checked
// by the sink hook, see check_break_written().)
#pragma once

#include <string>
#include <vector>

#include "support/recording_sink.hpp"
#include "support/reference_walker.hpp"
#include "tlbkit/arch/features.hpp"
#include "tlbkit/arch/regime.hpp"

namespace tlbkit::test {

struct ChangeRules {
  arch::Regime regime = arch::Regime::el1_stage1;
  arch::BbmLevel bbm = arch::BbmLevel::level0;
  // Table::release(): the root itself is retired, so root slots need no
  // ancestor record.
  bool whole_tree_released = false;
};

std::vector<std::string> check_changes(const Snapshot& before, const Snapshot& after,
                                       const std::vector<SinkEvent>& events,
                                       const std::vector<RecordingSink::Retired>& retired,
                                       const ChangeRules& rules);

// For RecordingSink::set_invalidate_hook: checks that every slot of the
// change reads invalid in memory right now (reached by walking from `root`),
// appending a problem to `problems` otherwise.
void check_break_written(const FakeMemory& memory, PhysAddr root, const WalkGeometry& geometry,
                         const pt::Change& change, std::vector<std::string>& problems);

}  // namespace tlbkit::test
