// A flat reference model of an address space: which 4 KiB input pages map to
// which output pages with which leaf attribute bits, kept as non-overlapping
// extents (a run of pages with consecutive outputs and equal attributes is
// one extent; semantically it is a map page -> {pa, attrs}). It knows nothing
// of tables: split and promote do not change it. Each operation first
// predicts which errors a correct engine may return and changes nothing when
// one applies.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/reference_walker.hpp"
#include "tlbkit/core/error.hpp"
#include "tlbkit/arch/regime.hpp"

namespace tlbkit::test {

// A set of error codes.
class ErrcSet {
 public:
  ErrcSet() = default;
  ErrcSet(std::initializer_list<Errc> codes) {
    for (Errc c : codes) add(c);
  }
  void add(Errc c) { bits_ |= bit(c); }
  bool contains(Errc c) const { return (bits_ & bit(c)) != 0; }
  bool empty() const { return bits_ == 0; }
  ErrcSet& operator|=(ErrcSet o) {
    bits_ |= o.bits_;
    return *this;
  }
  std::string to_string() const;
  friend bool operator==(ErrcSet, ErrcSet) = default;

 private:
  static unsigned bit(Errc c) { return 1u << static_cast<unsigned>(c); }
  unsigned bits_ = 0;
};

struct ModelConfig {
  arch::Regime regime = arch::Regime::el1_stage1;
  unsigned input_bits = 48;
  Descriptor attribute_mask = 0;  // the regime's leaf attribute fields
  Descriptor contiguous_bit = Descriptor{1} << 52;
  unsigned output_bits = 48;
};

// Leaf attributes as a map request gives them.
struct ModelAttributes {
  arch::Regime regime = arch::Regime::el1_stage1;
  Descriptor bits = 0;
  bool encodable = true;  // false: the typed set could not be encoded
};

class ReferenceModel {
 public:
  static constexpr std::uint64_t kPage = 4096;

  explicit ReferenceModel(const ModelConfig& config) : config_(config) {}

  // Each returns the errors the engine may answer with; when the set is
  // empty the model applied the operation and the engine must succeed.
  // Argument errors (misaligned, out_of_range, invalid_argument, unsupported)
  // are predicted first; state errors (overlap) only for valid arguments.
  ErrcSet map(VirtAddr va, PhysAddr pa, std::uint64_t size, const ModelAttributes& attributes);
  ErrcSet unmap(VirtAddr va, std::uint64_t size);
  ErrcSet protect(VirtAddr va, std::uint64_t size, Descriptor clear, Descriptor set);
  ErrcSet split(VirtAddr va, std::uint64_t size, unsigned level);
  // Argument errors of promote (out_of_range, unsupported); the outcome for
  // valid arguments depends on the tree shape, see uniformity().
  ErrcSet promote_arguments(VirtAddr va, unsigned level) const;

  enum class Uniformity { empty, uniform, non_uniform };
  // Whether [va, va + size) is unmapped, or mapped completely to one
  // contiguous output range starting `size`-aligned with equal attributes,
  // or something else.
  Uniformity uniformity(VirtAddr va, std::uint64_t size) const;

  struct Page {
    PhysAddr pa = 0;
    Descriptor attributes = 0;
  };
  std::optional<Page> lookup(VirtAddr va) const;

  std::vector<Run> runs() const;
  const ModelConfig& config() const { return config_; }
  std::uint64_t input_size() const { return std::uint64_t{1} << config_.input_bits; }

 private:
  struct Extent {
    std::uint64_t size = 0;
    PhysAddr pa = 0;
    Descriptor attributes = 0;
  };
  ErrcSet range_errors(VirtAddr va, std::uint64_t size) const;
  bool any_mapped(VirtAddr va, std::uint64_t size) const;
  // Makes `va` an extent boundary.
  void cut(VirtAddr va);

  ModelConfig config_;
  std::map<VirtAddr, Extent> extents_;
};

}  // namespace tlbkit::test
