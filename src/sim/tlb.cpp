// TLBI matching (docs/ARCHITECTURE-FACTS.md section 2) and the set-associative TLB.
//
// Lookups go through an open-addressing index over the valid slots. A
// bucket holds its entry's whole lookup key (regime, stage, kind, VMID, the
// level of walk entries, the entry's size and the input's unit number at
// that size, the ASID when it is compared), so one probe per entry size
// present finds and verifies the candidates without reading the slots.
// Sets and ways only decide placement and eviction.
#include "tlbkit/sim/tlb.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <limits>

namespace tlbkit::sim {

namespace {

using arch::Category;
using arch::OperandKind;
using arch::Regime;
using arch::TlbRegime;

constexpr std::uint32_t kNoSlot = std::numeric_limits<std::uint32_t>::max();
constexpr unsigned kBucketsPerSlot = 4;

// ---- Tags ------------------------------------------------------------------------

// EL2 (without E2H) has no VMID: its entries match whatever VMID is current.
constexpr std::uint16_t tag_vmid(Regime regime, std::uint16_t vmid) {
  return regime == Regime::el2_stage1 ? std::uint16_t{0} : vmid;
}

// Leaf lookups do not name a level (the size found says it).
constexpr std::uint8_t tag_level(CachedKind kind, std::uint8_t level) {
  return kind == CachedKind::walk ? level : std::uint8_t{0};
}

constexpr bool el1_stage1_side(const TlbEntry& e) {
  return e.regime == Regime::el1_stage1 && e.stage != EntryStage::stage2;
}

constexpr bool stage2_side(const TlbEntry& e) {
  return e.stage == EntryStage::stage2 && e.regime != Regime::el2_stage1;
}

constexpr bool el2_side(const TlbEntry& e) { return e.regime == Regime::el2_stage1; }

// Walk-cache entries count as non-global (docs/ARCHITECTURE-FACTS.md section 2).
constexpr bool effectively_global(const TlbEntry& e) {
  return e.global && e.kind == CachedKind::leaf;
}

// Whether the entry is tagged by an ASID: EL1&0 stage-1/combined entries
// that are not global. Stage-2 and EL2 entries have none.
constexpr bool asid_tagged(const TlbEntry& e) {
  return el1_stage1_side(e) && !effectively_global(e);
}

constexpr unsigned log2_size(const TlbEntry& e) {
  return static_cast<unsigned>(std::countr_zero(e.size));
}

// Whether [e.input, e.input + e.size) and [start, start + size) overlap.
// Modular arithmetic: correct for ranges ending at 2^64 (the TTBR1 top).
constexpr bool intersects(const TlbEntry& e, std::uint64_t start, std::uint64_t size) {
  return start - e.input < e.size || e.input - start < size;
}

// ---- Index keys ---------------------------------------------------------------------

// A lookup key packed in one word, laid out as LookupKey's leading bytes
// (see lookup_word): regime 1:0, log2(size) 7:2,
// stage 15:8, kind 23:16, walk level 31:24, VMID 47:32, ASID 63:48. Bits
// 47:0 (the tags) must be equal; the ASID only where the entry compares it.
constexpr unsigned kSizeShift = 2;
constexpr unsigned kAsidShift = 48;
constexpr std::uint64_t kTagBits = (std::uint64_t{1} << kAsidShift) - 1;

constexpr std::uint64_t pack_tags(Regime regime, EntryStage stage, CachedKind kind,
                                  std::uint8_t walk_level, std::uint16_t vmid) {
  return std::uint64_t{static_cast<std::uint8_t>(regime)} |
         std::uint64_t{static_cast<std::uint8_t>(stage)} << 8 |
         std::uint64_t{static_cast<std::uint8_t>(kind)} << 16 |
         std::uint64_t{walk_level} << 24 | std::uint64_t{vmid} << 32;
}

constexpr std::uint64_t with_size(std::uint64_t word, unsigned log2) {
  return word | std::uint64_t{log2} << kSizeShift;
}

// The word of `e`: its tags and size, and its ASID when compared.
std::uint64_t entry_word(const TlbEntry& e) {
  const std::uint64_t tags = with_size(
      pack_tags(e.regime, e.stage, e.kind, tag_level(e.kind, e.level), tag_vmid(e.regime, e.vmid)),
      log2_size(e));
  return asid_tagged(e) ? tags | std::uint64_t{e.asid} << kAsidShift : tags;
}

// The word of a lookup, without the size (added per size probed). The
// first eight bytes of LookupKey are regime, stage, kind, padding, VMID,
// ASID: on a little-endian host one load gives the word but for the
// padding byte, where the walk level goes.
static_assert(std::endian::native == std::endian::little);
static_assert(offsetof(LookupKey, regime) == 0 && offsetof(LookupKey, stage) == 1 &&
              offsetof(LookupKey, kind) == 2 && offsetof(LookupKey, vmid) == 4 &&
              offsetof(LookupKey, asid) == 6);
static_assert(sizeof(Regime) == 1 && sizeof(EntryStage) == 1 && sizeof(CachedKind) == 1);

std::uint64_t lookup_word(const LookupKey& k) {
  constexpr std::uint64_t kPaddingByte = std::uint64_t{0xff} << 24;
  constexpr std::uint64_t kVmidBits = std::uint64_t{0xffff} << 32;
  std::uint64_t raw;
  std::memcpy(&raw, &k, sizeof raw);
  raw &= ~kPaddingByte;
  if (k.regime == Regime::el2_stage1) raw &= ~kVmidBits;
  if (k.kind == CachedKind::walk) raw |= std::uint64_t{k.level} << 24;
  return raw;
}

constexpr std::uint64_t kMul = 0x9E37'79B9'7F4A'7C15;

// Same tags and range: inserting `b` replaces `a` in place.
bool same_tags(const TlbEntry& a, const TlbEntry& b) {
  return a.regime == b.regime && a.stage == b.stage && a.kind == b.kind && a.level == b.level &&
         tag_vmid(a.regime, a.vmid) == tag_vmid(b.regime, b.vmid) && a.global == b.global &&
         (!asid_tagged(a) || a.asid == b.asid) && a.input == b.input && a.size == b.size;
}

// ---- TLBI matching ----------------------------------------------------------------

// The level a TTL hint names, if the op carries one.
std::optional<unsigned> hinted_level(const arch::DecodedOp& op, OperandKind kind) {
  switch (kind) {
    case OperandKind::va:
    case OperandKind::va_all_asid:
    case OperandKind::ipa:
      if (op.fields.ttl) return op.fields.ttl->level;
      return std::nullopt;
    case OperandKind::range:
    case OperandKind::range_all_asid:
    case OperandKind::ipa_range:
      if (op.range_ttl != 0) return op.range_ttl;
      return std::nullopt;
    default: return std::nullopt;
  }
}

// Whether the entry is of the context's VMID (the weakening vmid_ignored:
// of any VMID).
bool vmid_matches(const TlbiContext& ctx, const TlbEntry& e) {
  return e.vmid == ctx.vmid || ctx.weakenings.has(Weakening::vmid_ignored);
}

// Whether the entry is of `asid` (the weakening asid_ignored: of any ASID).
bool asid_matches(std::uint16_t asid, const TlbiContext& ctx, const TlbEntry& e) {
  return e.asid == asid || ctx.weakenings.has(Weakening::asid_ignored);
}

// Whether the entry belongs to what an address-based TLBI of `regime` acts on.
bool in_address_op_regime(TlbRegime regime, const TlbiContext& ctx, const TlbEntry& e) {
  switch (regime) {
    case TlbRegime::el1_stage1: return el1_stage1_side(e) && vmid_matches(ctx, e);
    case TlbRegime::el1_stage2: return stage2_side(e) && vmid_matches(ctx, e);
    case TlbRegime::el2: return el2_side(e);
    default: return false;
  }
}

// Whether an address-based TLBI of [start, start + size) reaches `e`. A
// combined leaf smaller than the stage-1 leaf it came from (a stage-1 block
// over stage-2 pages, cached in pieces) is retired by any address of that
// stage-1 block, as the block itself would be: the invalidation of a block
// must remove every piece of it (4 KiB granule: the level gives the size).
bool reaches(const TlbEntry& e, std::uint64_t start, std::uint64_t size) {
  if (e.stage == EntryStage::combined && e.kind == CachedKind::leaf && e.level <= arch::kMaxLevel) {
    const std::uint64_t block = std::uint64_t{1} << (12 + 9 * (arch::kMaxLevel - e.level));
    if (block > e.size) {
      const VirtAddr base = e.input & ~(block - 1);
      return start - base < block || base - start < size;
    }
  }
  return intersects(e, start, size);
}

// By VA, by IPA and the range forms.
bool address_op_removes(const arch::InstrInfo& info, const arch::DecodedOp& op,
                        const TlbiContext& ctx, const TlbEntry& e) {
  if (!in_address_op_regime(info.regime, ctx, e)) return false;
  const bool names_asid =
      info.operand == OperandKind::va || info.operand == OperandKind::range;
  if (names_asid && !effectively_global(e) && !asid_matches(op.asid_field, ctx, e)) return false;
  if (info.leaf_only && e.kind == CachedKind::walk &&
      !ctx.weakenings.has(Weakening::leaf_only_tlbi_drops_walk_entries)) {
    return false;
  }
  const std::optional<unsigned> level = hinted_level(op, info.operand);
  if (level && e.level != *level && !ctx.weakenings.has(Weakening::ttl_hint_ignored)) return false;
  return reaches(e, op.start, op.size);
}

// ASIDE1: the non-global stage-1/combined entries of the ASID and VMID (the
// weakening global_entries_match_asid_ops: the global ones too).
bool asid_op_removes(const arch::DecodedOp& op, const TlbiContext& ctx, const TlbEntry& e) {
  if (asid_tagged(e)) return vmid_matches(ctx, e) && asid_matches(op.asid_field, ctx, e);
  return ctx.weakenings.has(Weakening::global_entries_match_asid_ops) && el1_stage1_side(e) && vmid_matches(ctx, e);
}

// The ops without an operand: VMALLE1, VMALLS12E1, ALLE1, ALLE2.
bool whole_regime_op_removes(TlbRegime regime, const TlbiContext& ctx, const TlbEntry& e) {
  switch (regime) {
    case TlbRegime::el1_stage1: return el1_stage1_side(e) && vmid_matches(ctx, e);
    case TlbRegime::el1_both_stages:
      return (el1_stage1_side(e) || stage2_side(e)) && vmid_matches(ctx, e);
    case TlbRegime::el1_all_vmids: return e.regime != Regime::el2_stage1;
    case TlbRegime::el2: return el2_side(e);
    default: return false;
  }
}

}  // namespace

bool tlbi_removes(const arch::DecodedOp& op, const TlbiContext& context, const TlbEntry& entry) {
  const arch::InstrInfo& info = arch::info(op.instr);
  if (info.category != Category::tlbi) return false;
  switch (info.operand) {
    case OperandKind::none: return whole_regime_op_removes(info.regime, context, entry);
    case OperandKind::asid: return asid_op_removes(op, context, entry);
    case OperandKind::va:
    case OperandKind::va_all_asid:
    case OperandKind::range:
    case OperandKind::range_all_asid:
    case OperandKind::ipa:
    case OperandKind::ipa_range: return address_op_removes(info, op, context, entry);
    case OperandKind::address: return false;
  }
  return false;
}

// ---- Tlb ----------------------------------------------------------------------------

Tlb::Tlb(TlbGeometry geometry) : geometry_(geometry) {
  assert(geometry.sets > 0 && geometry.ways > 0 && std::has_single_bit(geometry.sets));
  const std::size_t slots = std::size_t{geometry.sets} * geometry.ways;
  slots_.resize(slots);
  last_used_.resize(slots);
  index_.resize(std::bit_ceil(slots * kBucketsPerSlot));
  index_mask_ = static_cast<std::uint32_t>(index_.size() - 1);
  index_shift_ = 64 - static_cast<unsigned>(std::countr_zero(index_.size()));
}

// Fibonacci hashing of the unit and the tags (never the ASID: a lookup
// does not know whether the entry compares it): the product's top bits.
std::uint32_t Tlb::home_of(std::uint64_t unit, std::uint64_t word) const {
  return static_cast<std::uint32_t>(((unit ^ std::rotl(word & kTagBits, 29)) * kMul) >>
                                    index_shift_);
}

std::uint32_t Tlb::set_of(const TlbEntry& entry) const {
  return static_cast<std::uint32_t>((entry.input >> log2_size(entry)) & (geometry_.sets - 1));
}

// The lowest slot of an entry of size 2^log2 matching (input, word), or
// kNoSlot. Inlined: it is the whole of a lookup's hit path.
[[gnu::always_inline]] inline std::uint32_t Tlb::probe(VirtAddr input, std::uint64_t word,
                                                       unsigned log2) const {
  const std::uint64_t unit = input >> log2;
  const std::uint64_t sized = with_size(word, log2);
  std::uint32_t best = kNoSlot;
  for (std::uint32_t b = home_of(unit, sized);; b = (b + 1) & index_mask_) {
    const Bucket& bucket = index_[b];
    if (bucket.slot_plus_one == 0) return best;
    const std::uint64_t care = kTagBits | std::uint64_t{bucket.asid_care} << kAsidShift;
    if (bucket.unit == unit && ((bucket.word ^ sized) & care) == 0) {
      if (conflict_pairs_ == 0) return bucket.slot_plus_one - 1;
      best = std::min(best, bucket.slot_plus_one - 1);
    }
  }
}

// Blocks and pages (or walk entries of several levels) present: the lowest
// slot over every size. Out of line, to keep the one-size path lean.
[[gnu::noinline]] std::uint32_t Tlb::probe_all_sizes(VirtAddr input, std::uint64_t word) const {
  std::uint32_t best = kNoSlot;
  for (std::uint64_t rest = sizes_present_; rest != 0; rest &= rest - 1) {
    best = std::min(best, probe(input, word, static_cast<unsigned>(std::countr_zero(rest))));
  }
  return best;
}

const TlbEntry* Tlb::lookup(const LookupKey& key) {
  const std::uint64_t word = lookup_word(key);
  const std::uint64_t sizes = sizes_present_;
  if (sizes == 0) return nullptr;
  // One size present (not has_single_bit: a library call without POPCNT).
  const std::uint32_t best =
      (sizes & (sizes - 1)) == 0
          ? probe(key.input, word, static_cast<unsigned>(std::countr_zero(sizes)))
          : probe_all_sizes(key.input, word);
  if (best == kNoSlot) return nullptr;
  last_used_[best] = ++clock_;
  last_hit_ = best;
  return &slots_[best].entry;
}

std::optional<std::uint32_t> Tlb::same_tags_slot(const TlbEntry& entry) const {
  const std::uint64_t unit = entry.input >> log2_size(entry);
  const std::uint64_t word = entry_word(entry);
  for (std::uint32_t b = home_of(unit, word);; b = (b + 1) & index_mask_) {
    const Bucket& bucket = index_[b];
    if (bucket.slot_plus_one == 0) return std::nullopt;
    const std::uint32_t slot = bucket.slot_plus_one - 1;
    if (bucket.unit == unit && bucket.word == word && same_tags(slots_[slot].entry, entry)) {
      return slot;
    }
  }
}

std::uint32_t Tlb::victim_way(std::uint32_t set) const {
  const std::size_t base = std::size_t{set} * geometry_.ways;
  std::uint32_t victim = 0;
  for (std::uint32_t w = 0; w < geometry_.ways; ++w) {
    const Slot& s = slots_[base + w];
    if (!s.valid) return w;
    if (last_used_[base + w] < last_used_[base + victim]) victim = w;
  }
  return victim;
}

std::optional<TlbEntry> Tlb::insert(const TlbEntry& entry) {
  assert(std::has_single_bit(entry.size) && (entry.input & (entry.size - 1)) == 0);
  if (const std::optional<std::uint32_t> same = same_tags_slot(entry)) {
    // Same tags: the same bucket word; only the payload changes.
    Slot& s = slots_[*same];
    s.entry = entry;
    last_used_[*same] = ++clock_;
    ++version_;
    return std::nullopt;
  }
  const std::uint32_t set = set_of(entry);
  const std::uint32_t slot = set * geometry_.ways + victim_way(set);
  std::optional<TlbEntry> evicted;
  if (slots_[slot].valid) {
    evicted = slots_[slot].entry;
    remove_slot(slot);
  }
  fill_slot(slot, entry);
  return evicted;
}

std::size_t Tlb::invalidate(const arch::DecodedOp& op, const TlbiContext& context,
                            std::vector<TlbEntry>* removed) {
  if (arch::info(op.instr).category != Category::tlbi) return 0;
  std::size_t count = 0;
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].valid || !tlbi_removes(op, context, slots_[i].entry)) continue;
    if (removed != nullptr) removed->push_back(slots_[i].entry);
    remove_slot(i);
    ++count;
  }
  return count;
}

std::size_t Tlb::size() const { return valid_count_; }

void Tlb::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  std::fill(last_used_.begin(), last_used_.end(), 0);
  std::fill(index_.begin(), index_.end(), Bucket{});
  size_counts_.fill(0);
  sizes_present_ = 0;
  valid_count_ = 0;
  conflict_pairs_ = 0;
  clock_ = 0;
  ++version_;
}

void Tlb::fill_slot(std::uint32_t slot, const TlbEntry& entry) {
  ++version_;
  slots_[slot] = Slot{entry, true};
  last_used_[slot] = ++clock_;
  index_insert(entry, slot);
  const unsigned log2 = log2_size(entry);
  ++size_counts_[log2];
  sizes_present_ |= std::uint64_t{1} << log2;
  ++valid_count_;
}

void Tlb::remove_slot(std::uint32_t slot) {
  ++version_;
  Slot& s = slots_[slot];
  index_erase(s.entry, slot);
  const unsigned log2 = log2_size(s.entry);
  if (--size_counts_[log2] == 0) sizes_present_ &= ~(std::uint64_t{1} << log2);
  s.valid = false;
  --valid_count_;
}

// How many buckets other than slot `skip` one lookup could match together
// with `bucket`: same unit and tags, and the ASID not compared by one of
// them or equal. They all lie in the cluster from the shared home bucket.
std::size_t Tlb::conflicts_with(const Bucket& bucket, std::uint32_t skip) const {
  std::size_t n = 0;
  for (std::uint32_t b = home_of(bucket.unit, bucket.word);; b = (b + 1) & index_mask_) {
    const Bucket& other = index_[b];
    if (other.slot_plus_one == 0) return n;
    if (other.slot_plus_one == skip + 1 || other.unit != bucket.unit ||
        ((other.word ^ bucket.word) & kTagBits) != 0) {
      continue;
    }
    if (other.asid_care == 0 || bucket.asid_care == 0 || other.word == bucket.word) ++n;
  }
}

void Tlb::index_insert(const TlbEntry& entry, std::uint32_t slot) {
  Bucket bucket;
  bucket.unit = entry.input >> log2_size(entry);
  bucket.word = entry_word(entry);
  bucket.slot_plus_one = slot + 1;
  bucket.asid_care = asid_tagged(entry) ? std::uint16_t{0xffff} : std::uint16_t{0};
  conflict_pairs_ += conflicts_with(bucket, slot);
  std::uint32_t b = home_of(bucket.unit, bucket.word);
  while (index_[b].slot_plus_one != 0) b = (b + 1) & index_mask_;
  index_[b] = bucket;
}

// Linear-probing deletion by backward shift: later buckets of the cluster
// move into the hole when their home bucket does not lie after it.
void Tlb::index_erase(const TlbEntry& entry, std::uint32_t slot) {
  std::uint32_t hole = home_of(entry.input >> log2_size(entry), entry_word(entry));
  while (index_[hole].slot_plus_one != slot + 1) hole = (hole + 1) & index_mask_;
  conflict_pairs_ -= conflicts_with(index_[hole], slot);
  for (std::uint32_t next = (hole + 1) & index_mask_; index_[next].slot_plus_one != 0;
       next = (next + 1) & index_mask_) {
    const std::uint32_t home = home_of(index_[next].unit, index_[next].word);
    if (((next - home) & index_mask_) >= ((next - hole) & index_mask_)) {
      index_[hole] = index_[next];
      hole = next;
    }
  }
  index_[hole] = Bucket{};
}

}  // namespace tlbkit::sim
