// A translation table tree in caller-owned memory, and every operation that
// edits it. Each operation reports what really changed to a ChangeSink and
// leaves the tree exactly as it was when it returns an error.
//
// Thread safety: none. Callers serialise operations on one Table (as kernels
// hold the page-table lock); hardware walkers may read it concurrently.
#pragma once

#include <cstdint>

#include "tlbkit/arch/attributes.hpp"
#include "tlbkit/arch/features.hpp"
#include "tlbkit/arch/granule.hpp"
#include "tlbkit/arch/regime.hpp"
#include "tlbkit/pt/change.hpp"
#include "tlbkit/pt/table_memory.hpp"

namespace tlbkit::pt {

using arch::Geometry;
using arch::Regime;
using arch::VirtAddr;

// Leaf attributes tagged with the regime they belong to. Built implicitly
// from a typed attribute set, or from raw descriptor bits.
class LeafAttributes {
 public:
  LeafAttributes(const arch::s1::Attributes& a);   // NOLINT: implicit by design
  LeafAttributes(const arch::el2::Attributes& a);  // NOLINT
  LeafAttributes(const arch::s2::Attributes& a);   // NOLINT
  static LeafAttributes raw(Regime regime, Descriptor bits);

  Regime regime() const { return regime_; }
  Descriptor bits() const { return bits_; }
  // Set when the typed set could not be encoded; operations return it.
  const Error* error() const { return has_error_ ? &error_ : nullptr; }

 private:
  LeafAttributes(Regime regime, Result<Descriptor> bits);
  Regime regime_;
  Descriptor bits_ = 0;
  bool has_error_ = false;
  Error error_{Errc::invalid_argument, ""};
};

// An edit of the attributes of existing leaves: new = (old & ~clear) | set.
struct AttributeChange {
  Descriptor clear = 0;
  Descriptor set = 0;
  // Replace every attribute field with those of `attributes`.
  static AttributeChange to(const LeafAttributes& attributes);
};

enum class BlockMappings : std::uint8_t { allowed, forbidden };

struct MapOptions {
  BlockMappings blocks = BlockMappings::allowed;
};

struct TableOptions {
  // FEAT_BBM level in use: level 2 lets a block split or a promotion skip
  // the invalid step (the TLBI is still issued).
  arch::BbmLevel bbm = arch::BbmLevel::level0;
  // Stage 2: whether HCR_EL2.FWB is set. Without it, unmapping or replacing
  // cacheable memory reports CacheMaintenance::clean_invalidate, and unmap
  // reports every such leaf (it does not drop whole tables unseen).
  arch::s2::Fwb fwb = arch::s2::Fwb::disabled;
};

// What query() finds for an input address.
struct Translation {
  PhysAddr output = 0;      // output address of the queried address itself
  unsigned level = 0;       // level of the leaf
  Descriptor descriptor = 0;
  VirtAddr leaf_va = 0;     // first input address the leaf maps
  std::uint64_t leaf_size = 0;
};

// Called by walk() for every slot in range, depth first in address order:
// - table(level, va, descriptor) for a table entry, before its entries;
// - leaf(level, va, descriptor) for every valid block or page.
// Invalid slots are not reported.
class WalkVisitor {
 public:
  virtual void table(unsigned level, VirtAddr va, Descriptor descriptor) = 0;
  virtual void leaf(unsigned level, VirtAddr va, Descriptor descriptor) = 0;

 protected:
  ~WalkVisitor() = default;
};

class Table {
 public:
  // Allocates the root table(s) of an empty tree.
  // # Errors
  // - invalid_argument: the geometry's stage does not match the regime.
  // - no_memory: the root could not be allocated.
  static Result<Table> create(Regime regime, const Geometry& geometry, TableMemory& memory,
                              TableOptions options = {});

  Table(Table&& other) noexcept;
  Table& operator=(Table&&) = delete;
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  // Does not free the tree: call release() first, once no CPU uses it.
  ~Table() = default;

  Regime regime() const { return regime_; }
  const Geometry& geometry() const { return geometry_; }
  // Physical address of the root (the first of the concatenated tables): the
  // value for TTBRn_EL1 / TTBR0_EL2 / VTTBR_EL2 BADDR.
  PhysAddr root() const { return root_; }

  // Maps [va, va + size) to [pa, pa + size) with the largest blocks that
  // alignment allows (unless options forbid blocks), allocating tables as
  // needed. Reports a map change for every new descriptor.
  // # Errors
  // - misaligned: va, pa or size not 4 KiB aligned, or size 0.
  // - out_of_range: the range leaves the input space or pa exceeds 48 bits.
  // - invalid_argument: attributes of another regime, a bit outside the
  //   regime's attribute fields, or an unencodable typed set.
  // - unsupported: the contiguous hint (not managed by the engine yet).
  // - overlap: any valid mapping already inside the range.
  // - no_memory: a table could not be allocated.
  Status map(VirtAddr va, PhysAddr pa, std::uint64_t size, const LeafAttributes& attributes,
             ChangeSink& sink, MapOptions options = {});

  // Removes every mapping in [va, va + size). Blocks crossing the range's
  // edges are split first (break-before-make); tables left empty are
  // unhooked and retired through the sink. Holes are skipped.
  // # Errors
  // misaligned, out_of_range (as map); no_memory when a split needs a table.
  Status unmap(VirtAddr va, std::uint64_t size, ChangeSink& sink);

  // Applies `change` to every valid leaf in [va, va + size), splitting blocks
  // that cross the range's edges. A leaf whose new value needs
  // break-before-make (memory type, nG 1->0) gets it. Holes are skipped.
  // # Errors
  // misaligned, out_of_range (as map); invalid_argument when the change
  // touches bits outside the regime's attribute fields; unsupported when it
  // sets the contiguous hint; no_memory when a split needs a table.
  Status protect(VirtAddr va, std::uint64_t size, AttributeChange change, ChangeSink& sink);

  // Splits every block in [va, va + size) (and the blocks crossing its edges)
  // until no leaf in the range is larger than a `level` entry.
  // # Errors
  // misaligned, out_of_range; invalid_argument for level outside 1..3;
  // no_memory.
  Status split(VirtAddr va, std::uint64_t size, unsigned level, ChangeSink& sink);

  // Replaces the table entry at `level` holding `va` by one block when every
  // translation below it is valid, physically contiguous from a block-aligned
  // address, and has the same attributes. The old tables are retired.
  // # Errors
  // - out_of_range: va outside the input space.
  // - unsupported: no block is allowed at `level`, or `level` is above the
  //   geometry's start level.
  // - not_mapped: the slot holds no table.
  // - invalid_argument: the translations below are not uniform.
  Status promote(VirtAddr va, unsigned level, ChangeSink& sink);

  // The translation of `va`.
  // # Errors
  // out_of_range: va outside the input space; not_mapped: no valid leaf.
  Result<Translation> query(VirtAddr va) const;

  // Visits every table entry and valid leaf overlapping [va, va + size).
  // # Errors
  // misaligned, out_of_range (as map).
  Status walk(VirtAddr va, std::uint64_t size, WalkVisitor& visitor) const;

  // Unmaps everything and retires every table including the root. The Table
  // is empty and unusable afterwards. Call once no CPU uses the tree. Leaves
  // are not reported one by one (the root entries' records cover them): for
  // stage 2 without FWB, unmap() the memory first to get its data-cache
  // maintenance.
  void release(ChangeSink& sink);

 private:
  Table(Regime regime, const Geometry& geometry, TableMemory& memory, TableOptions options,
        PhysAddr root);

  Regime regime_;
  Geometry geometry_;
  TableMemory* memory_;
  TableOptions options_;
  PhysAddr root_;
};

}  // namespace tlbkit::pt
