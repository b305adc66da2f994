// shim_request_covering: a request whose expansion removes every TLB entry
// a plan removes, for any EL1&0 stage-1 plan: the exact request when there
// is one, else the plan's needs folded into a few facts and widened.
// Contract in shim_protocol.hpp.
#include <limits>
#include <optional>

#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/exec/shim_protocol.hpp"

namespace tlbkit::exec {
namespace {

using arch::Instr;
using arch::Op;
using arch::OperandKind;

constexpr std::uint64_t kPage = std::uint64_t{1} << 12;
constexpr std::uint64_t kLowerSpaceEnd = std::uint64_t{1} << 48;

constexpr Error kBeyondEl1{
    Errc::unsupported,
    "plan has stage-2, EL2, ALLE1 or data-cache maintenance: an EL1 shim cannot run or cover it"};

// What a plan's ops require, folded into the few facts the widening needs.
struct Needs {
  bool everything = false;  // VMALLE1(IS), all-ASID forms, several ASIDs
  bool asid_wide = false;   // ASIDE1(IS)
  bool by_va = false;       // by-VA ops with an ASID
  bool range = false;       // range ops with an ASID
  ShimICache icache = ShimICache::keep;
  std::optional<std::uint16_t> asid;
  bool all_leaf = true;
  std::optional<unsigned> ttl;  // the level every by-VA and range op hints, if they agree
  bool ttl_agrees = true;
  bool lower = false;  // some op names a TTBR0 address
  bool upper = false;  // some op names a TTBR1 address
  // Box of every address named, as [low, last] (inclusive: TTBR1 reaches 2^64 - 1).
  arch::VirtAddr low = std::numeric_limits<arch::VirtAddr>::max();
  arch::VirtAddr last = 0;
  // By-VA addresses only: their box and every bit any of them sets.
  arch::VirtAddr va_low = std::numeric_limits<arch::VirtAddr>::max();
  arch::VirtAddr va_last = 0;
  std::uint64_t va_bits = 0;
};

void note_asid(Needs& n, std::uint16_t asid) {
  if (n.asid && *n.asid != asid) n.everything = true;
  n.asid = asid;
}

void note_ttl(Needs& n, std::optional<unsigned> level) {
  if (!n.ttl_agrees) return;
  if (n.by_va || n.range) {
    if (n.ttl != level) {
      n.ttl_agrees = false;
      n.ttl.reset();
    }
    return;
  }
  n.ttl = level;
}

void note_extent(Needs& n, arch::VirtAddr start, std::uint64_t size) {
  if (size == 0) return;  // a range op with TG 00 names nothing
  (start < kLowerSpaceEnd ? n.lower : n.upper) = true;
  if (start < n.low) n.low = start;
  if (start + (size - 1) > n.last) n.last = start + (size - 1);
}

void note_by_va(Needs& n, const arch::DecodedOp& d) {
  std::optional<unsigned> level;
  if (d.fields.ttl && d.fields.ttl->granule == arch::Granule::k4K) level = d.fields.ttl->level;
  // Another granule's hint cannot be carried: the widened op goes without
  // one, which is always at least as strong.
  if (d.fields.ttl && !level) n.ttl_agrees = false;
  note_ttl(n, level);
  n.by_va = true;
  note_extent(n, d.start, kPage);
  if (d.start < n.va_low) n.va_low = d.start;
  if (d.start > n.va_last) n.va_last = d.start;
  n.va_bits |= d.start;
}

void note_range(Needs& n, const arch::DecodedOp& d) {
  std::optional<unsigned> level;
  if (d.range_ttl != 0) level = d.range_ttl;
  if (d.tg != arch::granule_tg_field(arch::Granule::k4K) && level) n.ttl_agrees = false;
  note_ttl(n, level);
  n.range = true;
  note_extent(n, d.start, d.size);
}

// Folds one EL1&0 stage-1 TLBI into `n`.
void note_tlbi(Needs& n, const arch::DecodedOp& d) {
  const arch::InstrInfo& i = arch::info(d.instr);
  if (!i.leaf_only) n.all_leaf = false;
  switch (i.operand) {
    case OperandKind::none: n.everything = true; return;  // VMALLE1(IS)
    case OperandKind::asid:
      n.asid_wide = true;
      note_asid(n, d.asid_field);
      return;
    case OperandKind::va:
      note_asid(n, d.asid_field);
      note_by_va(n, d);
      return;
    case OperandKind::range:
      note_asid(n, d.asid_field);
      note_range(n, d);
      return;
    default: n.everything = true; return;  // all-ASID forms
  }
}

Result<Needs> needs_of(const Plan& plan) {
  Needs n;
  for (const Op& op : plan.ops()) {
    const arch::InstrInfo& i = arch::info(op.instr);
    if (i.category == arch::Category::cache) {
      if (op.instr == Instr::dc_civac) return kBeyondEl1;
      n.icache = ShimICache::invalidate;
      continue;
    }
    if (i.category != arch::Category::tlbi) continue;  // barriers: the shim brings its own
    if (i.regime != arch::TlbRegime::el1_stage1) return kBeyondEl1;
    const Result<arch::DecodedOp> d = arch::decode_checked(op);
    if (!d) return d.error();
    note_tlbi(n, *d);
  }
  return n;
}

ShimRequest by_va_request(const Needs& n, ShimCommand command) {
  ShimRequest r;
  r.command = command;
  r.icache = n.icache;
  r.levels = n.all_leaf ? ShimLevels::leaf_only : ShimLevels::all;
  r.ttl_level = n.ttl_agrees ? n.ttl : std::nullopt;
  r.asid = n.asid.value_or(0);
  return r;
}

// A va_loop through every by-VA address at the largest stride they share.
std::optional<ShimRequest> loop_request(const Needs& n) {
  for (const ShimStride stride : {ShimStride::k1G, ShimStride::k2M, ShimStride::k4K}) {
    const std::uint64_t step = stride_bytes(stride);
    if (n.va_bits & (step - 1)) continue;
    const std::uint64_t count = (n.va_last - n.va_low) / step + 1;
    if (count > kShimMaxLoopOps) return std::nullopt;
    ShimRequest r = by_va_request(n, ShimCommand::va_loop);
    r.stride = stride;
    r.start = n.va_low;
    r.count = count;
    return r;
  }
  return std::nullopt;
}

// A range over the 4 KiB pages of the box.
std::optional<ShimRequest> range_request(const Needs& n) {
  const arch::VirtAddr first_page = n.low & ~(kPage - 1);
  const std::uint64_t pages = ((n.last | (kPage - 1)) - first_page) / kPage + 1;
  if (pages > kShimMaxRangePages) return std::nullopt;
  ShimRequest r = by_va_request(n, ShimCommand::range);
  r.start = first_page;
  r.count = pages;
  return r;
}

ShimRequest simple_request(ShimCommand command, const Needs& n) {
  ShimRequest r;
  r.command = command;
  r.icache = n.icache;
  if (command == ShimCommand::asid) r.asid = n.asid.value_or(0);
  return r;
}

ShimRequest widen(const Needs& n) {
  const bool named = n.by_va || n.range;
  if (n.everything || (n.asid_wide && named) || (n.lower && n.upper)) {
    return simple_request(ShimCommand::broadcast, n);
  }
  if (n.asid_wide) return simple_request(ShimCommand::asid, n);
  if (!named) return simple_request(ShimCommand::none, n);
  std::optional<ShimRequest> r = n.range ? range_request(n) : loop_request(n);
  // Every candidate is valid by construction; broadcast if one ever is not.
  if (r && check_shim_request(*r)) return *r;
  return simple_request(ShimCommand::broadcast, n);
}

}  // namespace

Result<ShimRequest> shim_request_covering(const Plan& plan) {
  if (Result<ShimRequest> exact = encode_plan_for_shim(plan)) return exact;
  const Result<Needs> needs = needs_of(plan);
  if (!needs) return needs.error();
  return widen(*needs);
}

}  // namespace tlbkit::exec
