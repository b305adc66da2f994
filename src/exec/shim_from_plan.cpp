// From a plan to a shim request: exact recognition of the plans the
// policies emit, and the widening that covers any other EL1&0 stage-1 plan.
// Contracts in shim_protocol.hpp.
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

constexpr Error kNotAnExpansion{
    Errc::unsupported,
    "plan is not the expansion of any shim request (ops, operands or barriers differ); "
    "use shim_request_covering to widen it"};
constexpr Error kNotShimOp{
    Errc::unsupported,
    "plan's first TLBI is not one the shim issues (VAE1IS, VALE1IS, RVAE1IS, RVALE1IS, ASIDE1IS, "
    "VMALLE1IS); use shim_request_covering to widen it"};
constexpr Error kNot4K{Errc::unsupported,
                       "plan uses a TTL hint or range TG other than 4 KiB, or TTL level 0: "
                       "the shim protocol has 4 KiB hints of level 1..3 only"};
constexpr Error kUnevenLoop{
    Errc::unsupported, "plan's by-VA TLBIs are not spaced 4 KiB, 2 MiB or 1 GiB apart"};
constexpr Error kBeyondEl1{
    Errc::unsupported,
    "plan has stage-2, EL2, ALLE1 or data-cache maintenance: an EL1 shim cannot run or cover it"};

bool is_tlbi(const Op& op) { return arch::info(op.instr).category == arch::Category::tlbi; }

bool is_range_kind(OperandKind k) {
  return k == OperandKind::range || k == OperandKind::range_all_asid || k == OperandKind::ipa_range;
}

// ---- Exact recognition ------------------------------------------------------------

// The TLBIs of a plan, as far as the guess needs them.
struct TlbiSummary {
  std::optional<Op> first;
  std::optional<Op> second;
  std::uint64_t count = 0;  // TLBIs
  std::uint64_t pages = 0;  // granules named: range ops' page counts, 1 per other op
  ShimICache icache = ShimICache::keep;
};

TlbiSummary summarize_tlbis(const maint::Plan& plan) {
  TlbiSummary s;
  for (const Op& op : plan.ops()) {
    if (op.instr == Instr::ic_ialluis) s.icache = ShimICache::invalidate;
    if (!is_tlbi(op)) continue;
    if (!s.first) {
      s.first = op;
    } else if (!s.second) {
      s.second = op;
    }
    ++s.count;
    s.pages += is_range_kind(arch::operand_kind(op.instr)) ? arch::decode(op).pages : 1;
  }
  return s;
}

Result<ShimStride> stride_between(const Op& a, const Op& b) {
  switch (arch::decode(b).start - arch::decode(a).start) {
    case stride_bytes(ShimStride::k4K): return ShimStride::k4K;
    case stride_bytes(ShimStride::k2M): return ShimStride::k2M;
    case stride_bytes(ShimStride::k1G): return ShimStride::k1G;
    default: return kUnevenLoop;
  }
}

Result<ShimRequest> guess_loop(const TlbiSummary& s, ShimRequest r) {
  const arch::DecodedOp d = arch::decode(*s.first);
  if (d.fields.ttl) {
    if (d.fields.ttl->granule != arch::Granule::k4K || d.fields.ttl->level == 0) return kNot4K;
    r.ttl_level = d.fields.ttl->level;
  }
  r.command = ShimCommand::va_loop;
  r.levels = s.first->instr == Instr::vale1is ? ShimLevels::leaf_only : ShimLevels::all;
  r.start = d.start;
  r.count = s.count;
  r.asid = d.asid_field;
  if (s.second && arch::operand_kind(s.second->instr) == OperandKind::va) {
    const Result<ShimStride> stride = stride_between(*s.first, *s.second);
    if (!stride) return stride.error();
    r.stride = *stride;
  }
  return r;
}

Result<ShimRequest> guess_range(const TlbiSummary& s, ShimRequest r) {
  const arch::DecodedOp d = arch::decode(*s.first);
  if (d.tg != arch::granule_tg_field(arch::Granule::k4K)) return kNot4K;
  r.command = ShimCommand::range;
  r.levels = s.first->instr == Instr::rvale1is ? ShimLevels::leaf_only : ShimLevels::all;
  if (d.range_ttl != 0) r.ttl_level = d.range_ttl;
  r.start = d.start;
  r.count = s.pages;
  r.asid = d.asid_field;
  return r;
}

// The only request whose expansion could be `plan`, read off its first TLBIs.
Result<ShimRequest> guess_request(const maint::Plan& plan) {
  const TlbiSummary s = summarize_tlbis(plan);
  ShimRequest r;
  r.icache = s.icache;
  if (!s.first) return r;
  switch (s.first->instr) {
    case Instr::vmalle1is: r.command = ShimCommand::broadcast; return r;
    case Instr::aside1is:
      r.command = ShimCommand::asid;
      r.asid = arch::decode(*s.first).asid_field;
      return r;
    case Instr::vae1is:
    case Instr::vale1is: return guess_loop(s, r);
    case Instr::rvae1is:
    case Instr::rvale1is: return guess_range(s, r);
    default: return kNotShimOp;
  }
}

bool same_ops(const maint::Plan& a, const maint::Plan& b) {
  if (a.size() != b.size()) return false;
  const auto a_ops = a.ops();
  auto next = a_ops.begin();
  for (const Op& op : b.ops()) {
    if (*next != op) return false;
    ++next;
  }
  return true;
}

// ---- Widening ------------------------------------------------------------------------

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

Result<Needs> needs_of(const maint::Plan& plan) {
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

Result<ShimRequest> encode_plan_for_shim(const maint::Plan& plan) {
  const Result<ShimRequest> guess = guess_request(plan);
  if (!guess) return guess;
  const Result<maint::Plan> again = expand(*guess);
  if (!again) return again.error();
  if (!same_ops(*again, plan)) return kNotAnExpansion;
  return guess;
}

Result<ShimRequest> shim_request_covering(const maint::Plan& plan) {
  if (Result<ShimRequest> exact = encode_plan_for_shim(plan)) return exact;
  const Result<Needs> needs = needs_of(plan);
  if (!needs) return needs.error();
  return widen(*needs);
}

}  // namespace tlbkit::exec
