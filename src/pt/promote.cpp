// Table::promote: replace a uniform, fully populated table by one block.
#include "editor.hpp"
#include "range.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::pt {
namespace {

using detail::Slot;

// Whether every translation below `table` (at `level`, mapping from `va`) is
// valid, at `base + (address - start)`, with `attributes`.
bool uniform_below(TableMemory& memory, PhysAddr table, unsigned level, VirtAddr va, VirtAddr start,
                   PhysAddr base, Descriptor attributes, std::uint64_t level_size) {
  const Descriptor* entries = memory.descriptors(table);
  for (unsigned i = 0; i < arch::kEntriesPerTable; ++i) {
    const Descriptor d = detail::read_entry(&entries[i]);
    const VirtAddr entry_va = va + i * level_size;
    switch (arch::kind_of(d, level)) {
      case arch::DescriptorKind::invalid: return false;
      case arch::DescriptorKind::table:
        if (!uniform_below(memory, arch::output_address(d), level + 1, entry_va, start, base, attributes,
                           level_size / arch::kEntriesPerTable)) {
          return false;
        }
        break;
      case arch::DescriptorKind::block:
      case arch::DescriptorKind::page:
        if (arch::output_address(d) != base + (entry_va - start)) return false;
        if (arch::leaf_attributes(d) != attributes) return false;
        break;
    }
  }
  return true;
}

// The first leaf below `table` at `level`: the one that maps the table's
// first address.
Descriptor first_leaf(TableMemory& memory, PhysAddr table, unsigned level) {
  const Descriptor d = detail::read_entry(&memory.descriptors(table)[0]);
  if (arch::is_table(d, level)) return first_leaf(memory, arch::output_address(d), level + 1);
  return d;
}

// The slot at `level` that holds `va`, or nullptr if the walk ends above it.
Descriptor* find_slot(const detail::Tree& tree, VirtAddr va, unsigned level) {
  const Geometry& g = tree.geometry;
  unsigned current = g.start_level();
  const std::uint64_t root_span = std::uint64_t{arch::kEntriesPerTable} << g.level_shift(current);
  PhysAddr table = tree.root + (va / root_span) * arch::granule_size(arch::Granule::k4K);
  for (;; ++current) {
    Descriptor* entry = &tree.memory.descriptors(table)[(va >> g.level_shift(current)) & 0x1ff];
    if (current == level) return entry;
    const Descriptor d = detail::read_entry(entry);
    if (!arch::is_table(d, current)) return nullptr;
    table = arch::output_address(d);
  }
}

}  // namespace

Status Table::promote(VirtAddr va, unsigned level, ChangeSink& sink) {
  if (va >= geometry_.input_size()) return Error{Errc::out_of_range, "address outside the input space"};
  if (level > arch::kMaxLevel || !geometry_.block_allowed(level)) {
    return Error{Errc::unsupported, "no block descriptor is allowed at that level"};
  }
  if (level < geometry_.start_level()) return Error{Errc::unsupported, "level above the start level"};
  const detail::Tree tree{geometry_, *memory_, root_};
  Descriptor* entry = find_slot(tree, va, level);
  const Descriptor old_desc = entry != nullptr ? detail::read_entry(entry) : arch::kInvalidDescriptor;
  if (!arch::is_table(old_desc, level)) return Error{Errc::not_mapped, "no table at that level to promote"};

  const std::uint64_t size = geometry_.level_size(level);
  const VirtAddr slot_va = va & ~(size - 1);
  const PhysAddr table = arch::output_address(old_desc);
  // The first leaf fixes the expected output base and attributes; an invalid
  // one makes uniform_below() fail.
  const Descriptor first = first_leaf(*memory_, table, level + 1);
  const PhysAddr base = arch::output_address(first);
  const Descriptor attributes = arch::leaf_attributes(first);
  if ((base & (size - 1)) != 0) {
    return Error{Errc::invalid_argument, "the output is not aligned to the block size"};
  }
  if (!uniform_below(*memory_, table, level + 1, slot_va, slot_va, base, attributes,
                     geometry_.level_size(level + 1))) {
    return Error{Errc::invalid_argument,
                 "translations below are not uniform (holes, attributes or non-contiguous output)"};
  }

  detail::Reserve no_tables(*memory_);
  detail::Editor editor(tree, regime_, options_, no_tables, sink);
  const Slot slot{level, slot_va, size, entry, old_desc};
  editor.collapse_table(slot, arch::make_leaf_descriptor(base, attributes, level));
  return ok_status();
}

}  // namespace tlbkit::pt
