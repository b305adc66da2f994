// Table::map: prepare (check overlap, count tables), reserve, commit.
#include "editor.hpp"
#include "range.hpp"
#include "table_checks.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::pt {
namespace {

using detail::Descend;
using detail::Range;
using detail::Slot;

// How the leaves of one map request are laid out.
struct MapShape {
  const Geometry& geometry;
  Range range;
  std::uint64_t delta;  // pa - va, modulo 2^64
  BlockMappings blocks;

  PhysAddr pa_of(VirtAddr va) const { return va + delta; }

  // Whether one leaf at `level` can map all of [va, va + size).
  bool leaf_fits(unsigned level, VirtAddr va, std::uint64_t size) const {
    if (!range.covers(va, size)) return false;
    if (level == arch::kMaxLevel) return true;
    return blocks == BlockMappings::allowed && geometry.block_allowed(level) &&
           (pa_of(va) & (size - 1)) == 0;
  }
};

// Prepare: finds overlaps and counts the tables the commit will install.
class MapPlanner {
 public:
  explicit MapPlanner(const MapShape& shape) : shape_(shape) {}

  Descend leaf(const Slot& slot) {
    if (arch::is_valid(slot.old, slot.level)) {
      overlap_ = true;
      return Descend::no;
    }
    auto needs_table = [this](unsigned level, VirtAddr va, std::uint64_t size) {
      return !shape_.leaf_fits(level, va, size);
    };
    tables_ += detail::tables_for_subtree(slot.level, slot.va, slot.size, shape_.range, needs_table);
    return Descend::no;
  }
  Descend table_pre(const Slot&) { return overlap_ ? Descend::no : Descend::yes; }
  void table_post(const Slot&) {}

  bool overlap() const { return overlap_; }
  unsigned tables() const { return tables_; }

 private:
  const MapShape& shape_;
  bool overlap_ = false;
  unsigned tables_ = 0;
};

// Commit: fills every invalid slot of the range (prepare proved there is no
// valid one) with the largest leaf that fits, or a table to descend into.
class MapWriter {
 public:
  MapWriter(const MapShape& shape, detail::Editor& editor, Descriptor attributes, arch::ExecGain exec)
      : shape_(shape), editor_(editor), attributes_(attributes), exec_(exec) {}

  Descend leaf(const Slot& slot) {
    if (shape_.leaf_fits(slot.level, slot.va, slot.size)) {
      editor_.make_leaf(slot, arch::make_leaf_descriptor(shape_.pa_of(slot.va), attributes_, slot.level), exec_);
      return Descend::no;
    }
    const unsigned child = slot.level + 1;
    const std::uint64_t child_size = slot.size / arch::kEntriesPerTable;
    if (shape_.range.covers(slot) && shape_.leaf_fits(child, slot.va, child_size)) {
      // Every child is a leaf: build the whole table before publishing it.
      editor_.install_leaf_table(slot, shape_.pa_of(slot.va), attributes_, exec_);
      return Descend::no;
    }
    editor_.install_table(slot);
    return Descend::yes;
  }
  Descend table_pre(const Slot&) { return Descend::yes; }
  void table_post(const Slot&) {}

 private:
  const MapShape& shape_;
  detail::Editor& editor_;
  Descriptor attributes_;
  arch::ExecGain exec_;
};

}  // namespace

Status Table::map(VirtAddr va, PhysAddr pa, std::uint64_t size, const LeafAttributes& attributes,
                  ChangeSink& sink, MapOptions options) {
  const Result<Range> range = detail::check_range(geometry_, va, size);
  if (!range.ok()) return range.error();
  if ((pa & detail::kPageMask) != 0) return Error{Errc::misaligned, "output address must be 4 KiB aligned"};
  if (pa >= detail::kOutputLimit || size > detail::kOutputLimit - pa) {
    return Error{Errc::out_of_range, "output range exceeds 48-bit physical addresses"};
  }
  const Status valid = detail::check_leaf_attributes(regime_, attributes);
  if (!valid.ok()) return valid;

  const detail::Tree tree{geometry_, *memory_, root_};
  const MapShape shape{geometry_, *range, pa - va, options.blocks};
  MapPlanner planner(shape);
  detail::walk_range(tree, range->start, range->end, planner);
  if (planner.overlap()) return Error{Errc::overlap, "the range already holds a valid mapping"};

  detail::Reserve reserve(*memory_);
  const Status filled = reserve.fill(planner.tables());
  if (!filled.ok()) return filled;

  const Descriptor bits = attributes.bits();
  // Any page of the request stands for all: they share attributes.
  const arch::ExecGain exec =
      arch::exec_gain(regime_, arch::kMaxLevel, arch::kInvalidDescriptor,
                      arch::make_leaf_descriptor(0, bits, arch::kMaxLevel));
  detail::Editor editor(tree, regime_, options_, reserve, sink);
  MapWriter writer(shape, editor, bits, exec);
  detail::walk_range(tree, range->start, range->end, writer);
  return ok_status();
}

}  // namespace tlbkit::pt
