// encode_plan_for_shim: the request whose expansion is a given plan, read
// off the plan's first TLBIs and confirmed by expanding it again. Contract
// in shim_protocol.hpp.
#include <optional>

#include "tlbkit/arch/tlbi.hpp"
#include "tlbkit/exec/shim_protocol.hpp"

namespace tlbkit::exec {
namespace {

using arch::Instr;
using arch::Op;
using arch::OperandKind;

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

bool is_range_kind(OperandKind k) {
  return k == OperandKind::range || k == OperandKind::range_all_asid || k == OperandKind::ipa_range;
}

// The TLBIs of a plan, as far as the guess needs them.
struct TlbiSummary {
  std::optional<Op> first;
  std::optional<Op> second;
  std::uint64_t count = 0;  // TLBIs
  std::uint64_t pages = 0;  // granules named: range ops' page counts, 1 per other op
  ShimICache icache = ShimICache::keep;
};

TlbiSummary summarize_tlbis(const Plan& plan) {
  TlbiSummary s;
  for (const Op& op : plan.ops()) {
    if (op.instr == Instr::ic_ialluis) s.icache = ShimICache::invalidate;
    if (arch::info(op.instr).category != arch::Category::tlbi) continue;
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
Result<ShimRequest> guess_request(const Plan& plan) {
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

bool same_ops(const Plan& a, const Plan& b) {
  if (a.size() != b.size()) return false;
  const auto a_ops = a.ops();
  auto next = a_ops.begin();
  for (const Op& op : b.ops()) {
    if (*next != op) return false;
    ++next;
  }
  return true;
}

}  // namespace

Result<ShimRequest> encode_plan_for_shim(const Plan& plan) {
  const Result<ShimRequest> guess = guess_request(plan);
  if (!guess) return guess;
  const Result<Plan> again = expand(*guess);
  if (!again) return again.error();
  if (!same_ops(*again, plan)) return kNotAnExpansion;
  return guess;
}

}  // namespace tlbkit::exec
