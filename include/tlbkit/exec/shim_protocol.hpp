// The shim register protocol: a TLB maintenance request that fits in four
// 64-bit registers, for a host that cannot run TLBIs itself (an HVF-based
// runner at EL0 of the host) and asks an EL1 shim in the guest to run them
// after a trap. The host builds the request from a plan
// (encode_plan_for_shim / shim_request_covering), writes it with
// encode_registers into X8..X11 and resumes the shim (HVC return); the shim
// validates it (decode_registers) and runs exactly expand(request).
//
// The shim runs at EL1 of the guest, so a request can only name EL1&0
// stage-1 maintenance of the guest's current VMID, with the 4 KiB granule.
// Stage-2, EL2 and data-cache maintenance stay with the host.
//
// ---- ABI, version 1 ------------------------------------------------------------
//
// X8, the command word:
//
//   bits   field    meaning
//   3:0    CMD      0 none, 1 broadcast, 2 reserved, 3 va_loop, 4 range, 5 asid;
//                   6..15 reserved
//   4      IC       1: after the TLB maintenance, IC IALLUIS; DSB ISH; ISB
//   5      LEAF     va_loop, range: 1 = last-level forms (VALE1IS, RVALE1IS);
//                   0 for other commands
//   7:6    TTL      va_loop, range: 0 no hint, 1..3 level of the entries
//                   (4 KiB granule); 0 for other commands
//   9:8    STRIDE   va_loop: distance between TLBIs, 0 = 4 KiB, 1 = 2 MiB,
//                   2 = 1 GiB, 3 reserved; 0 for other commands
//   11:10  -        reserved, zero
//   15:12  VERSION  1 (this layout); any other value is refused
//   63:16  -        reserved, zero
//
// X9, START: va_loop, range: the first VA, a 48-bit VA of either range
//   (bits 63:48 all zero for TTBR0, all one for TTBR1), 4 KiB aligned, and
//   aligned to STRIDE for va_loop. Zero for other commands.
// X10, COUNT: va_loop: the number of TLBIs, 1..kShimMaxLoopOps; range: the
//   number of 4 KiB pages, 1..kShimMaxRangePages. Zero for other commands.
//   [START, START + COUNT * STRIDE) (va_loop) or [START, START + COUNT *
//   4 KiB) (range) lies inside START's VA range.
// X11: bits 15:0 ASID (va_loop, range, asid; zero for other commands),
//   bits 63:16 reserved, zero.
//
// A register value outside this table is refused as a whole; the shim then
// runs nothing and reports the error to the host (how is the host's and the
// shim's business: the protocol only says the request was not run).
//
// Commands and the ops the shim runs (expand()):
//
//   none       nothing (the I-cache tail alone, with IC)
//   broadcast  DSB ISHST; TLBI VMALLE1IS; DSB ISH
//   va_loop    DSB ISHST; COUNT x TLBI VAE1IS (VALE1IS with LEAF) of
//              ASID | TTL | (START + i * STRIDE) >> 12; DSB ISH
//   range      DSB ISHST; TLBI RVAE1IS (RVALE1IS with LEAF) pieces of
//              arch::range_decompose(COUNT), SCALE 3 first, each based where
//              the previous one ended, TG = 4K, range TTL = TTL; for an odd
//              COUNT one more TLBI VAE1IS (VALE1IS) of the last page with
//              TTL {4K, TTL}; DSB ISH. Needs FEAT_TLBIRANGE on the guest's
//              CPU: the host sends range requests only when it has it.
//   asid       DSB ISHST; TLBI ASIDE1IS of ASID; DSB ISH
//   with IC    the above, then IC IALLUIS; DSB ISH; ISB
//
// The range command carries a page count, not SCALE/NUM pieces: the host
// need not know the decomposition, one register holds any count up to 8 GiB,
// and the decomposition is fixed here (base-32 digits of COUNT/2, one op per
// nonzero digit, highest first; exactly 2^21 pages is the single op
// SCALE 3, NUM 31), so the host knows exactly which ops will run.
//
// CMD values 0, 1 and 3 keep the meaning they had in the HVF runner's X8
// protocol (skip, VMALLE1IS, VAE1IS loop from X9 over X10 pages); 2 stays
// reserved for that runner's execve marker and is never a valid request
// here. Version-0 values of that protocol (X8 = 0..3) are refused by the
// VERSION check, not misread.
#pragma once

#include <cstdint>
#include <optional>

#include "tlbkit/core/error.hpp"
#include "tlbkit/arch/granule.hpp"
#include "tlbkit/plan/plan.hpp"

namespace tlbkit::exec {

inline constexpr unsigned kShimProtocolVersion = 1;

// The most TLBIs of one va_loop request: one last-level table's worth of
// pages (Linux's MAX_DVM_OPS). It bounds the shim's time in the loop; more
// pages than that are cheaper as a range or ASID-wide request.
inline constexpr std::uint64_t kShimMaxLoopOps = 512;
// The most pages of one range request: four range ops (8 GiB of 4 KiB pages).
inline constexpr std::uint64_t kShimMaxRangePages = std::uint64_t{1} << 21;

// CMD, X8 bits 3:0. Values are the wire values; 2 is reserved.
enum class ShimCommand : std::uint8_t {
  none = 0,
  broadcast = 1,
  va_loop = 3,
  range = 4,
  asid = 5,
};

// IC, X8 bit 4: whether the I-cache tail (IC IALLUIS; DSB ISH; ISB) runs.
enum class ShimICache : std::uint8_t { keep, invalidate };

// LEAF, X8 bit 5: which TLBI forms va_loop and range use.
enum class ShimLevels : std::uint8_t {
  all,        // VAE1IS / RVAE1IS: walk-cache entries go too
  leaf_only,  // VALE1IS / RVALE1IS: only last-level entries are required to go
};

// STRIDE, X8 bits 9:8: the distance between the TLBIs of a va_loop, one
// entry of level 3, 2 or 1. Values are the wire values.
enum class ShimStride : std::uint8_t { k4K = 0, k2M = 1, k1G = 2 };

// Bytes between two TLBIs of a va_loop with `stride`.
constexpr std::uint64_t stride_bytes(ShimStride stride) {
  switch (stride) {
    case ShimStride::k4K: return std::uint64_t{1} << 12;
    case ShimStride::k2M: return std::uint64_t{1} << 21;
    case ShimStride::k1G: return std::uint64_t{1} << 30;
  }
  return std::uint64_t{1} << 12;
}

// A decoded request. Fields a command does not use keep their defaults
// (check_shim_request refuses anything else, as decode_registers refuses
// nonzero unused register fields).
struct ShimRequest {
  ShimCommand command = ShimCommand::none;
  ShimICache icache = ShimICache::keep;
  ShimLevels levels = ShimLevels::all;    // va_loop, range
  std::optional<unsigned> ttl_level;      // va_loop, range: 1..3, 4 KiB granule
  ShimStride stride = ShimStride::k4K;    // va_loop
  arch::VirtAddr start = 0;               // va_loop, range
  std::uint64_t count = 0;                // va_loop: TLBIs; range: 4 KiB pages
  std::uint16_t asid = 0;                 // va_loop, range, asid
  friend constexpr bool operator==(const ShimRequest&, const ShimRequest&) = default;
};

// X8..X11 as the host writes them and the shim reads them.
struct ShimRegisters {
  std::uint64_t x8 = 0;
  std::uint64_t x9 = 0;
  std::uint64_t x10 = 0;
  std::uint64_t x11 = 0;
  friend constexpr bool operator==(const ShimRegisters&, const ShimRegisters&) = default;
};

// Checks `request` against the ABI above.
// # Errors
// - invalid_argument: an unknown command, levels or stride value; a TTL
//   level not 1..3; a field set that the command does not use (LEAF, TTL,
//   STRIDE, START, COUNT or ASID); a zero COUNT.
// - out_of_range: COUNT above kShimMaxLoopOps (va_loop) or
//   kShimMaxRangePages (range); START not a 48-bit VA; the request runs
//   past the end of START's VA range.
// - misaligned: START not 4 KiB aligned, or (va_loop) not aligned to STRIDE.
Status check_shim_request(const ShimRequest& request);

// The register values of `request`.
// # Errors
// Those of check_shim_request: nothing invalid goes on the wire.
Result<ShimRegisters> encode_registers(const ShimRequest& request);

// The request in `regs`, validated. Every accepted value re-encodes to the
// same registers (encode_registers(decode_registers(r)) == r).
// # Errors
// - unsupported: VERSION is not kShimProtocolVersion (version 0 is the HVF
//   runner's original protocol).
// - invalid_argument: reserved bits set (X8 11:10 or 63:16, X11 63:16);
//   CMD 2 (reserved) or 6..15; STRIDE 3.
// - otherwise those of check_shim_request.
Result<ShimRequest> decode_registers(const ShimRegisters& regs);

// Exactly the ops the shim runs for `request`, barriers included (see the
// table above).
// # Errors
// - those of check_shim_request;
// - out_of_range: the ops do not fit a Plan (not for any valid
//   request while a plan holds a per-page loop as one step).
Result<Plan> expand(const ShimRequest& request);

// The request whose expansion is `plan`, op for op: recognises the plans
// the policies emit for EL1&0 stage 1 (SimplePolicy's per-VA loops over one
// run of entries, range plans decomposed as above, ASIDE1IS, VMALLE1IS, the
// I-cache tail, and the empty plan). Use shim_request_covering for others.
// # Errors
// - unsupported: `plan` is not the expansion of any request: ops the shim
//   cannot run (stage 2, EL2, ALLE1, local or all-ASID forms, IC IALLU,
//   IC IVAU, DC CIVAC, a 16 KiB or 64 KiB TTL or TG), VA ops not one evenly
//   spaced run, several ASIDs, or barriers other than the shim's.
// - out_of_range / misaligned: the plan's run is a va_loop or range the ABI
//   does not allow (more than kShimMaxLoopOps TLBIs, say).
Result<ShimRequest> encode_plan_for_shim(const Plan& plan);

// The cheapest request this function knows whose expansion removes every
// TLB entry `plan` removes: encode_plan_for_shim(plan) when that succeeds,
// else a widening. The widening keeps the plan's ASID, LEAF and TTL where
// all its TLBIs agree (else non-leaf, no hint) and, in this order, takes
// - asid, when the plan's only TLBIs are ASIDE1(IS) of one ASID;
// - va_loop from the plan's lowest to its highest by-VA address at the
//   largest stride (1 GiB, 2 MiB, 4 KiB) all of them are aligned to, when
//   the plan's TLBIs are by-VA ops of one ASID and that loop needs at most
//   kShimMaxLoopOps TLBIs;
// - range over the bounding box of the plan's by-VA and range ops, when the
//   plan has range ops (so the CPU has FEAT_TLBIRANGE) and the box has at
//   most kShimMaxRangePages pages;
// - broadcast otherwise (VMALLE1(IS), all-ASID forms, several ASIDs, ASID-
//   wide and by-VA ops together, a box straddling the TTBR0/TTBR1 gap).
// Any IC op in the plan sets the I-cache flag; the plan's barriers are
// replaced by the shim's, which order every op of the request; the ERET back
// to the guest is a context synchronization event, so a plan's ISB needs no
// flag. Local forms are covered by their IS forms.
// # Errors
// - unsupported: the plan has ops an EL1 shim cannot run or widen to
//   (stage-2, EL2 and ALLE1 TLBIs, DC CIVAC): nothing in the protocol
//   covers them.
// - those of arch::decode_checked for a malformed TLBI operand.
Result<ShimRequest> shim_request_covering(const Plan& plan);

}  // namespace tlbkit::exec
