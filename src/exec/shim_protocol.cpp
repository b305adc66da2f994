// The shim register protocol: validation, register packing and the ops a
// request stands for. ABI in shim_protocol.hpp.
#include "tlbkit/exec/shim_protocol.hpp"

#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::exec {
namespace {

using arch::Instr;

// ---- X8 fields ------------------------------------------------------------------

constexpr std::uint64_t mask(unsigned width) { return (std::uint64_t{1} << width) - 1; }

constexpr unsigned kCmdShift = 0;
constexpr unsigned kCmdWidth = 4;
constexpr unsigned kIcShift = 4;
constexpr unsigned kLeafShift = 5;
constexpr unsigned kTtlShift = 6;
constexpr unsigned kTtlWidth = 2;
constexpr unsigned kStrideShift = 8;
constexpr unsigned kStrideWidth = 2;
constexpr unsigned kVersionShift = 12;
constexpr unsigned kVersionWidth = 4;

constexpr std::uint64_t kX8Res0 = mask(2) << 10 | ~mask(16);
constexpr std::uint64_t kX11Res0 = ~mask(16);
constexpr std::uint64_t kReservedStride = 3;

constexpr std::uint64_t field(std::uint64_t value, unsigned shift, unsigned width) {
  return (value >> shift) & mask(width);
}

constexpr std::uint64_t kPage = std::uint64_t{1} << 12;
constexpr std::uint64_t kLowerSpaceEnd = std::uint64_t{1} << 48;

// ---- Errors -----------------------------------------------------------------------

constexpr Error kBadVersion{Errc::unsupported,
                            "shim request VERSION (X8 15:12) is not 1: not this protocol's layout"};
constexpr Error kX8Reserved{Errc::invalid_argument, "shim request X8 reserved bits (11:10, 63:16) set"};
constexpr Error kX11Reserved{Errc::invalid_argument, "shim request X11 bits 63:16 set: ASID is 16 bits"};
constexpr Error kCommand2{Errc::invalid_argument,
                          "shim CMD 2 is reserved (the HVF runner's execve marker), never a request"};
constexpr Error kUnknownCommand{Errc::invalid_argument, "shim CMD is not 0, 1, 3, 4 or 5"};
constexpr Error kReservedStrideValue{Errc::invalid_argument, "shim STRIDE 3 is reserved"};
constexpr Error kUnknownEnum{Errc::invalid_argument, "shim request field holds no known value"};
constexpr Error kTtlLevel{Errc::invalid_argument, "shim TTL level must be 1, 2 or 3"};
constexpr Error kUnusedField{Errc::invalid_argument,
                             "shim request sets a field its command does not use (LEAF, TTL, "
                             "STRIDE, START, COUNT or ASID must be zero)"};
constexpr Error kZeroCount{Errc::invalid_argument, "shim COUNT (X10) is zero: nothing to invalidate"};
constexpr Error kLoopTooLong{Errc::out_of_range, "shim va_loop COUNT (X10) above 512 TLBIs"};
constexpr Error kRangeTooLong{Errc::out_of_range, "shim range COUNT (X10) above 2^21 pages"};
constexpr Error kStartNot48Bit{
    Errc::out_of_range, "shim START (X9) is not a 48-bit VA: bits 63:48 must be all zero or all one"};
constexpr Error kStartMisaligned{Errc::misaligned, "shim START (X9) is not 4 KiB aligned"};
constexpr Error kStartOffStride{Errc::misaligned, "shim va_loop START (X9) is not aligned to STRIDE"};
constexpr Error kPastEnd{Errc::out_of_range, "shim request runs past the end of START's VA range"};

// ---- Validation ---------------------------------------------------------------------

constexpr bool known_command(ShimCommand c) {
  switch (c) {
    case ShimCommand::none:
    case ShimCommand::broadcast:
    case ShimCommand::va_loop:
    case ShimCommand::range:
    case ShimCommand::asid: return true;
  }
  return false;
}

constexpr bool is_by_va(ShimCommand c) { return c == ShimCommand::va_loop || c == ShimCommand::range; }

// Bytes from `start` to the end of its VA range (2^64 - start for TTBR1,
// saturated to the largest value).
constexpr std::uint64_t room_after(arch::VirtAddr start) {
  return start < kLowerSpaceEnd ? kLowerSpaceEnd - start : 0 - start;
}

Status check_enums(const ShimRequest& r) {
  const bool levels_ok = r.levels == ShimLevels::all || r.levels == ShimLevels::leaf_only;
  const bool icache_ok = r.icache == ShimICache::keep || r.icache == ShimICache::invalidate;
  const bool stride_ok = static_cast<std::uint64_t>(r.stride) < kReservedStride;
  if (!known_command(r.command) || !levels_ok || !icache_ok || !stride_ok) return kUnknownEnum;
  if (r.ttl_level && (*r.ttl_level == 0 || *r.ttl_level > 3)) return kTtlLevel;
  return ok_status();
}

// The fields a command leaves unused are at their defaults.
Status check_unused_fields(const ShimRequest& r) {
  const bool by_va = is_by_va(r.command);
  const bool uses_asid = by_va || r.command == ShimCommand::asid;
  if (!by_va && (r.levels != ShimLevels::all || r.ttl_level || r.start != 0 || r.count != 0)) {
    return kUnusedField;
  }
  if (r.command != ShimCommand::va_loop && r.stride != ShimStride::k4K) return kUnusedField;
  if (!uses_asid && r.asid != 0) return kUnusedField;
  return ok_status();
}

Status check_extent(const ShimRequest& r) {
  if (r.count == 0) return kZeroCount;
  const bool loop = r.command == ShimCommand::va_loop;
  if (loop && r.count > kShimMaxLoopOps) return kLoopTooLong;
  if (!loop && r.count > kShimMaxRangePages) return kRangeTooLong;
  const bool lower = r.start < kLowerSpaceEnd;
  if (!lower && r.start < ~(kLowerSpaceEnd - 1)) return kStartNot48Bit;
  if (r.start & (kPage - 1)) return kStartMisaligned;
  const std::uint64_t step = loop ? stride_bytes(r.stride) : kPage;
  if (r.start & (step - 1)) return kStartOffStride;
  // count <= 2^21 and step <= 2^30: the product cannot overflow.
  if (r.count * step > room_after(r.start)) return kPastEnd;
  return ok_status();
}

// ---- Expansion ----------------------------------------------------------------------

arch::Ttl by_va_ttl(const ShimRequest& r) {
  if (!r.ttl_level) return arch::kNoTtl;
  return arch::TtlHint{arch::Granule::k4K, *r.ttl_level};
}

Instr by_va_instr(const ShimRequest& r) {
  return r.levels == ShimLevels::leaf_only ? Instr::vale1is : Instr::vae1is;
}

// The loop as one step: Plan::append never starts a loop from single ops,
// so appending the TLBIs one by one would take a step each and overflow the
// plan at about 60 of them.
Status append_loop(const ShimRequest& r, Plan& plan) {
  const Result<arch::Op> first = arch::encode_va(by_va_instr(r), arch::Asid{r.asid}, r.start, by_va_ttl(r));
  if (!first) return first.error();
  // The operand holds VA >> 12 in its low bits and check_extent keeps the
  // last TLBI inside START's VA range, so one TLBI further is exactly
  // STRIDE >> 12 further, without a carry into the TTL or ASID fields.
  // count <= kShimMaxLoopOps (checked): it fits a step's count.
  return plan.append_repeated(*first, static_cast<std::uint32_t>(r.count), stride_bytes(r.stride) >> 12);
}

Status append_range(const ShimRequest& r, Plan& plan) {
  const Result<arch::RangeDecomposition> pieces = arch::range_decompose(r.count);
  if (!pieces) return pieces.error();
  const Instr instr = r.levels == ShimLevels::leaf_only ? Instr::rvale1is : Instr::rvae1is;
  arch::VirtAddr base = r.start;
  for (const arch::RangePiece& p : pieces->used()) {
    const arch::RangeFields fields{arch::Granule::k4K, p.scale, p.num, r.ttl_level};
    const Status s = plan.append(arch::encode_range(instr, arch::Asid{r.asid}, base, fields));
    if (!s) return s;
    base += p.pages() * kPage;
  }
  if (!pieces->trailing_single_page) return ok_status();
  return plan.append(arch::encode_va(by_va_instr(r), arch::Asid{r.asid}, base, by_va_ttl(r)));
}

Status append_tlbis(const ShimRequest& r, Plan& plan) {
  switch (r.command) {
    case ShimCommand::none: return ok_status();
    case ShimCommand::broadcast: return plan.append(arch::make_op(Instr::vmalle1is));
    case ShimCommand::va_loop: return append_loop(r, plan);
    case ShimCommand::range: return append_range(r, plan);
    case ShimCommand::asid: return plan.append(arch::encode_asid(Instr::aside1is, arch::Asid{r.asid}));
  }
  return kUnknownCommand;
}

Status append_all(const ShimRequest& r, Plan& plan) {
  if (r.command != ShimCommand::none) {
    if (Status s = plan.append(arch::make_op(Instr::dsb_ishst)); !s) return s;
    if (Status s = append_tlbis(r, plan); !s) return s;
    if (Status s = plan.append(arch::make_op(Instr::dsb_ish)); !s) return s;
  }
  if (r.icache == ShimICache::invalidate) {
    for (const Instr i : {Instr::ic_ialluis, Instr::dsb_ish, Instr::isb}) {
      if (Status s = plan.append(arch::make_op(i)); !s) return s;
    }
  }
  return ok_status();
}

}  // namespace

Status check_shim_request(const ShimRequest& request) {
  if (Status s = check_enums(request); !s) return s;
  if (Status s = check_unused_fields(request); !s) return s;
  if (is_by_va(request.command)) return check_extent(request);
  return ok_status();
}

Result<ShimRegisters> encode_registers(const ShimRequest& r) {
  if (Status s = check_shim_request(r); !s) return s.error();
  ShimRegisters regs;
  regs.x8 = std::uint64_t{static_cast<std::uint8_t>(r.command)} << kCmdShift |
            std::uint64_t{r.icache == ShimICache::invalidate} << kIcShift |
            std::uint64_t{r.levels == ShimLevels::leaf_only} << kLeafShift |
            std::uint64_t{r.ttl_level.value_or(0)} << kTtlShift |
            std::uint64_t{static_cast<std::uint8_t>(r.stride)} << kStrideShift |
            std::uint64_t{kShimProtocolVersion} << kVersionShift;
  regs.x9 = r.start;
  regs.x10 = r.count;
  regs.x11 = r.asid;
  return regs;
}

Result<ShimRequest> decode_registers(const ShimRegisters& regs) {
  if (field(regs.x8, kVersionShift, kVersionWidth) != kShimProtocolVersion) return kBadVersion;
  if (regs.x8 & kX8Res0) return kX8Reserved;
  if (regs.x11 & kX11Res0) return kX11Reserved;
  const std::uint64_t cmd = field(regs.x8, kCmdShift, kCmdWidth);
  if (cmd == 2) return kCommand2;
  const auto command = static_cast<ShimCommand>(cmd);
  if (!known_command(command)) return kUnknownCommand;
  const std::uint64_t stride = field(regs.x8, kStrideShift, kStrideWidth);
  if (stride == kReservedStride) return kReservedStrideValue;
  const std::uint64_t ttl = field(regs.x8, kTtlShift, kTtlWidth);

  ShimRequest r;
  r.command = command;
  r.icache = field(regs.x8, kIcShift, 1) ? ShimICache::invalidate : ShimICache::keep;
  r.levels = field(regs.x8, kLeafShift, 1) ? ShimLevels::leaf_only : ShimLevels::all;
  if (ttl != 0) r.ttl_level = static_cast<unsigned>(ttl);
  r.stride = static_cast<ShimStride>(stride);
  r.start = regs.x9;
  r.count = regs.x10;
  r.asid = static_cast<std::uint16_t>(regs.x11);
  if (Status s = check_shim_request(r); !s) return s.error();
  return r;
}

Result<Plan> expand(const ShimRequest& request) {
  if (Status s = check_shim_request(request); !s) return s.error();
  Plan plan;
  if (Status s = append_all(request, plan); !s) return s.error();
  return plan;
}

}  // namespace tlbkit::exec
