// Table construction, lookups and teardown.
#include "tlbkit/pt/table.hpp"

#include "editor.hpp"
#include "range.hpp"

namespace tlbkit::pt {
namespace {

using detail::Descend;
using detail::Slot;

// Adapts the engine walker to the public, virtual WalkVisitor.
class PublicWalk {
 public:
  explicit PublicWalk(WalkVisitor& visitor) : visitor_(visitor) {}
  Descend leaf(const Slot& slot) {
    if (arch::is_valid(slot.old, slot.level)) visitor_.leaf(slot.level, slot.va, slot.old);
    return Descend::no;
  }
  Descend table_pre(const Slot& slot) {
    visitor_.table(slot.level, slot.va, slot.old);
    return Descend::yes;
  }
  void table_post(const Slot&) {}

 private:
  WalkVisitor& visitor_;
};

// Clears every root entry, retiring every table below the root (release()).
class Teardown {
 public:
  explicit Teardown(detail::Editor& editor) : editor_(editor) {}
  Descend leaf(const Slot& slot) {
    if (arch::is_valid(slot.old, slot.level)) editor_.clear(slot);
    return Descend::no;
  }
  Descend table_pre(const Slot& slot) {
    editor_.unhook_table(slot, pt::Beneath::unseen);
    return Descend::no;
  }
  void table_post(const Slot&) {}

 private:
  detail::Editor& editor_;
};

}  // namespace

LeafAttributes::LeafAttributes(Regime regime, Result<Descriptor> bits) : regime_(regime) {
  if (bits.ok()) {
    bits_ = *bits;
  } else {
    has_error_ = true;
    error_ = bits.error();
  }
}

LeafAttributes::LeafAttributes(const arch::s1::Attributes& a)
    : LeafAttributes(Regime::el1_stage1, arch::s1::encode(a)) {}
LeafAttributes::LeafAttributes(const arch::el2::Attributes& a)
    : LeafAttributes(Regime::el2_stage1, arch::el2::encode(a)) {}
LeafAttributes::LeafAttributes(const arch::s2::Attributes& a)
    : LeafAttributes(Regime::stage2, arch::s2::encode(a)) {}

LeafAttributes LeafAttributes::raw(Regime regime, Descriptor bits) {
  return LeafAttributes(regime, Result<Descriptor>(bits));
}

AttributeChange AttributeChange::to(const LeafAttributes& attributes) {
  return AttributeChange{arch::attribute_mask(attributes.regime()), attributes.bits()};
}

Table::Table(Regime regime, const Geometry& geometry, TableMemory& memory, TableOptions options,
             PhysAddr root)
    : regime_(regime), geometry_(geometry), memory_(&memory), options_(options), root_(root) {}

Table::Table(Table&& other) noexcept
    : regime_(other.regime_),
      geometry_(other.geometry_),
      memory_(other.memory_),
      options_(other.options_),
      root_(other.root_) {}

Result<Table> Table::create(Regime regime, const Geometry& geometry, TableMemory& memory,
                            TableOptions options) {
  if (arch::stage_of(regime) != geometry.stage()) {
    return Error{Errc::invalid_argument, "the geometry is for the other stage of translation"};
  }
  const Result<PhysAddr> root = memory.allocate(geometry.root_tables());
  if (!root.ok()) return root.error();
  for (unsigned page = 0; page < geometry.root_tables(); ++page) {
    Descriptor* entries = memory.descriptors(*root + page * arch::granule_size(arch::Granule::k4K));
    for (unsigned i = 0; i < arch::kEntriesPerTable; ++i) entries[i] = arch::kInvalidDescriptor;
  }
  return Table(regime, geometry, memory, options, *root);
}

Result<Translation> Table::query(VirtAddr va) const {
  if (va >= geometry_.input_size()) return Error{Errc::out_of_range, "address outside the input space"};
  const unsigned start = geometry_.start_level();
  const std::uint64_t root_span = std::uint64_t{arch::kEntriesPerTable} << geometry_.level_shift(start);
  PhysAddr table = root_ + (va / root_span) * arch::granule_size(arch::Granule::k4K);
  for (unsigned level = start; level <= arch::kMaxLevel; ++level) {
    const unsigned index = static_cast<unsigned>((va >> geometry_.level_shift(level)) & 0x1ff);
    const Descriptor d = detail::read_entry(&memory_->descriptors(table)[index]);
    if (arch::is_table(d, level)) {
      table = arch::output_address(d);
      continue;
    }
    if (!arch::is_leaf(d, level)) break;
    const std::uint64_t size = geometry_.level_size(level);
    return Translation{arch::output_address(d) + (va & (size - 1)), level, d, va & ~(size - 1), size};
  }
  return Error{Errc::not_mapped, "no valid translation for that address"};
}

Status Table::walk(VirtAddr va, std::uint64_t size, WalkVisitor& visitor) const {
  const Result<detail::Range> range = detail::check_range(geometry_, va, size);
  if (!range.ok()) return range.error();
  const detail::Tree tree{geometry_, *memory_, root_};
  PublicWalk adapter(visitor);
  detail::walk_range(tree, range->start, range->end, adapter);
  return ok_status();
}

void Table::release(ChangeSink& sink) {
  const detail::Tree tree{geometry_, *memory_, root_};
  {
    detail::Reserve no_tables(*memory_);
    detail::Editor editor(tree, regime_, options_, no_tables, sink);
    Teardown teardown(editor);
    detail::walk_range(tree, 0, geometry_.input_size(), teardown);
  }
  sink.retire_table(root_, geometry_.root_tables());
}

}  // namespace tlbkit::pt
