// Drives pt::Table together with the reference model and checks, after every
// operation, everything the engine promises: the translation equals the
// model's, the tree is well formed, the change records obey the contract of
// maint/change.hpp, break-before-make is written before invalidate_now(),
// retired tables are exactly the unhooked ones and nothing is freed behind
// the caller's back, failed operations change nothing at all, blocks are as
// large as alignment allows and splits happen only where needed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "support/change_checker.hpp"
#include "support/fake_memory.hpp"
#include "support/recording_sink.hpp"
#include "support/reference_model.hpp"
#include "support/reference_walker.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::test {

// A tree shape: the engine's geometry and the walker's own view of it.
struct TreeConfig {
  std::string name;
  arch::Regime regime = arch::Regime::el1_stage1;
  arch::Geometry geometry;
  WalkGeometry walk;
  arch::BbmLevel bbm = arch::BbmLevel::level0;
};

// Throw std::runtime_error when the engine's Geometry refuses the shape.
TreeConfig stage1_tree(arch::Regime regime, unsigned va_bits);
TreeConfig stage2_tree(unsigned ipa_bits, unsigned start_level);
TreeConfig stage2_tree_from_vtcr(std::uint64_t vtcr);

struct RawAttributes {
  arch::Regime regime = arch::Regime::el1_stage1;
  Descriptor bits = 0;
};
using AttrSet = std::variant<arch::s1::Attributes, arch::el2::Attributes, arch::s2::Attributes, RawAttributes>;

pt::LeafAttributes leaf_attributes(const AttrSet& attributes);
ModelAttributes model_attributes(const AttrSet& attributes);

enum class OpKind { map, unmap, protect, split, promote };

struct Op {
  OpKind kind = OpKind::map;
  VirtAddr va = 0;
  std::uint64_t size = 0;
  PhysAddr pa = 0;                                           // map
  AttrSet attributes = arch::s1::Attributes{};               // map
  pt::BlockMappings blocks = pt::BlockMappings::allowed;     // map
  pt::AttributeChange change{};                              // protect
  unsigned level = 0;                                        // split, promote

  static Op map(VirtAddr va, PhysAddr pa, std::uint64_t size, AttrSet attributes,
                pt::BlockMappings blocks = pt::BlockMappings::allowed);
  static Op unmap(VirtAddr va, std::uint64_t size);
  static Op protect(VirtAddr va, std::uint64_t size, Descriptor clear, Descriptor set);
  static Op split(VirtAddr va, std::uint64_t size, unsigned level);
  static Op promote(VirtAddr va, unsigned level);
};
std::ostream& operator<<(std::ostream& os, const Op& op);
std::string describe(const Op& op);

std::string join(const std::vector<std::string>& problems, std::size_t max = 40);

// What the operations run so far really exercised (to prove a generator
// reaches blocks, splits, promotions and errors).
struct HarnessStats {
  std::uint64_t ops = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t errors[8] = {};          // by Errc
  std::uint64_t promotions = 0;          // successful promote()
  std::uint64_t with_l1_block = 0;       // successful ops after which a 1 GiB block exists
  std::uint64_t with_l2_block = 0;       // ... a 2 MiB block exists
  std::uint64_t block_splits = 0;        // block -> table changes of a live slot
  std::uint64_t invalidate_now = 0;      // invalidate_now() calls
  std::uint64_t retired_tables = 0;
  HarnessStats& operator+=(const HarnessStats& o);
  std::string to_string() const;
};

class Harness {
 public:
  // Creates the table in fresh fake memory; throws std::runtime_error when
  // create() fails or the empty tree is not well formed.
  explicit Harness(const TreeConfig& config);
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // Runs `op` on the engine and the model; checks every rule. Empty: all
  // good. After a problem the harness state may have diverged from the model.
  // With `failed_no_memory`, a no_memory error (injected allocation failure)
  // is accepted, the model is rolled back, *failed_no_memory is set and the
  // nothing-changed rules are checked.
  std::vector<std::string> apply(const Op& op, bool* failed_no_memory = nullptr);
  // Runs `op` and requires exactly the error `code`, with nothing changed
  // (the model is not consulted or changed).
  std::vector<std::string> apply_expecting_error(const Op& op, Errc code);

  // query() at each address against the walker.
  std::vector<std::string> check_queries(const std::vector<VirtAddr>& addresses) const;
  // walk() over a range against the walker (exact calls, top down, in order).
  std::vector<std::string> check_walk(VirtAddr va, std::uint64_t size) const;
  // release(): every table retired once (the root with all its pages), only
  // unmap records of valid slots, and no page left after release_retired.
  std::vector<std::string> release_all();

  Status run_engine(const Op& op);

  const TreeConfig& config() const { return config_; }
  FakeMemory& memory() { return *memory_; }
  RecordingSink& sink() { return sink_; }
  pt::Table& table() { return table_->value(); }
  const pt::Table& table() const { return table_->value(); }
  ReferenceModel& model() { return model_; }
  const Snapshot& snapshot() const { return snapshot_; }
  const HarnessStats& stats() const { return stats_; }
  Snapshot take() const;

 private:
  // What a failed operation must have left: everything.
  void check_unchanged(const Snapshot& after, const std::set<PhysAddr>& live_before,
                       std::uint64_t hash_before, std::vector<std::string>& problems) const;
  void check_success(const Op& op, const Snapshot& before, const Snapshot& after,
                     const std::set<PhysAddr>& live_before, std::size_t frees_before,
                     std::vector<std::string>& problems);
  void check_shape(const Op& op, const Snapshot& before, const Snapshot& after,
                   std::vector<std::string>& problems) const;
  ErrcSet predict(const Op& op);

  TreeConfig config_;
  std::unique_ptr<FakeMemory> memory_;
  RecordingSink sink_;
  std::unique_ptr<Result<pt::Table>> table_;
  ReferenceModel model_;
  WalkRules rules_;
  Snapshot snapshot_;
  std::vector<std::string> hook_problems_;
  HarnessStats stats_;
};

}  // namespace tlbkit::test
