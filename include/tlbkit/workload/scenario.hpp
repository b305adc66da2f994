// A scenario: a realistic sequence of translation-table edits on one address
// space, named for the system behaviour it models, grouped into batches the
// way kernels batch their TLB maintenance (one maint::Gather per batch, like
// one mmu_gather spanning several VMAs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tlbkit/arch/attributes.hpp"
#include "tlbkit/arch/granule.hpp"
#include "tlbkit/maint/policy.hpp"
#include "tlbkit/pt/table.hpp"

namespace tlbkit::workload {

using arch::PhysAddr;
using arch::VirtAddr;

// The shape of the tree, as the system's TCR / VTCR would give it.
struct GeometrySpec {
  arch::Stage stage = arch::Stage::stage1;
  unsigned input_bits = 48;  // VA bits (stage 1) or IPA bits (stage 2)
  unsigned start_level = 0;  // stage 2 only (SL0); stage 1 derives it from input_bits
  friend bool operator==(const GeometrySpec&, const GeometrySpec&) = default;
};

// The geometry `spec` describes (4 KiB granule).
// # Errors
// Those of arch::Geometry::stage1 / stage2.
Result<arch::Geometry> make_geometry(const GeometrySpec& spec);

// Leaf attributes in the typed set of one regime.
using StepAttributes = std::variant<arch::s1::Attributes, arch::el2::Attributes, arch::s2::Attributes>;

// The regime a typed attribute set belongs to.
arch::Regime regime_of(const StepAttributes& attributes);

enum class StepKind : std::uint8_t { map, unmap, protect, split, promote };

const char* step_kind_name(StepKind kind);

// One table operation. Which fields a kind reads:
//   map      va, size, pa, attributes, blocks
//   unmap    va, size
//   protect  va, size, attributes (every attribute field replaced by these)
//   split    va, size, level (no leaf in the range larger than a `level` entry)
//   promote  va, level (the table entry at `level` holding va becomes a block)
struct Step {
  StepKind kind = StepKind::map;
  VirtAddr va = 0;
  std::uint64_t size = 0;
  PhysAddr pa = 0;
  std::optional<StepAttributes> attributes;
  pt::BlockMappings blocks = pt::BlockMappings::allowed;
  unsigned level = 0;
  std::string note;  // what the step stands for ("mprotect(PROT_READ) of .data.rel.ro")

  static Step map(VirtAddr va, std::uint64_t size, PhysAddr pa, StepAttributes attributes,
                  pt::BlockMappings blocks, std::string note);
  static Step unmap(VirtAddr va, std::uint64_t size, std::string note);
  static Step protect(VirtAddr va, std::uint64_t size, StepAttributes attributes, std::string note);
  static Step split(VirtAddr va, std::uint64_t size, unsigned level, std::string note);
  static Step promote(VirtAddr va, unsigned level, std::string note);
};

// Runs `step` on `table`, reporting its changes to `sink`.
// # Errors
// invalid_argument: a map or protect step without attributes; otherwise
// those of the pt::Table operation (the table is then unchanged).
Status apply_step(pt::Table& table, const Step& step, pt::ChangeSink& sink);

// What the table engine must know of the CPU: its FEAT_BBM level and, for
// stage 2, whether FWB is on (it decides data-cache maintenance).
pt::TableOptions table_options(const arch::CpuFeatures& features);

// Steps whose maintenance is gathered together and run once at the end.
struct Batch {
  std::string label;  // what the batch stands for ("munmap", "fork: copy_page_range")
  std::vector<Step> steps;
};

struct Scenario {
  std::string name;         // short, unique, kebab-case: "thp-split-mprotect"
  std::string description;  // one line: the real system behaviour modelled
  GeometrySpec geometry;
  maint::AddressSpace space;  // regime, ASID / VMID, global entries
  std::vector<Batch> batches;
};

// The built-in suite: every operation, every regime, ranges below and above
// the default policy threshold (32), table freeing, splits, promotion,
// break-before-make, execute permission gained. Names are unique.
std::vector<Scenario> builtin_suite();

// The built-in scenario called `name`, if there is one.
std::optional<Scenario> find_builtin(const std::string& name);

}  // namespace tlbkit::workload
