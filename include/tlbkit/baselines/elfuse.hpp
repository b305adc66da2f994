// elfuse (sysprog21/elfuse), the HVF Linux-binary runner: its guest TLB
// maintenance at four commits, modelled from their source (docs/baselines/
// elfuse.md has the line-by-line account and what each model leaves out).
//
// elfuse runs one Linux process per VM at EL0 over a small EL1 shim. The
// host edits the guest's stage-1 tables while it handles a syscall (or an
// EL0 fault) for one vCPU, records what the shim must invalidate, and hands
// it over in X8..X11 when that vCPU resumes; the shim issues the TLBIs and
// an I-cache invalidation, then returns to EL0. So the flush point is per
// call, on the calling vCPU: tlbkit's replay kernel batches exactly so.
//
// The versions (sources read: src/core/shim.S, src/core/guest.h):
//   v059fb2b  (the parent of e13ade1; reconstructed from the older snapshot
//             open-sources-port/muplar-elfexe@fb5e2539 and e13ade1's history):
//             one flag for the whole VM; any request -> at syscall return
//             TLBI VMALLE1IS; DSB ISH; IC IALLU; DSB ISH; ISB (no DSB ISHST).
//   ve13ade1  (proxy muplar-elfexe@4bea0ade, line layout matched): a
//             per-vCPU request, the bounding box of every range (gaps
//             included); <= 16 pages -> TLBI VAE1IS per page (no TTL), else
//             VMALLE1IS; then DSB ISH; IC IALLU; DSB ISH; ISB, the I-cache
//             op always; no DSB ISHST.
//   v9fc96f7  (proxy muplar-elfexe@2bb62565): as e13ade1, plus 17..64 pages
//             with FEAT_TLBIRANGE -> one RVAE1IS, SCALE 0, NUM = ceil(n/2) - 1
//             from the box's first page; the I-cache op only when execute
//             permission was gained (the X11 hint); no DSB ISHST.
//   v00ed78b  (sysprog21/elfuse@00ed78b48fe9c4d01010a2687fd42fbc47daf405,
//             exact): DSB ISHST first; with FEAT_TLBIRANGE a box over 16 pages
//             is aligned to its SCALE unit (2, 64 or 2048 pages; up to three
//             passes) and flushed by one RVAE1IS of SCALE 0..2 when that
//             stays within 32 units and 32768 pages, else VMALLE1IS; without
//             it, over 16 pages is VMALLE1IS.
//
// A known bug in every version: the I-cache invalidation is the local
// IC IALLU, run on the vCPU that made the change; other vCPUs' instruction
// caches keep the old code (the simulator's instruction-cache checker
// catches it). The three older versions also issue no DSB ISHST before
// their TLBIs (known bug 13's rule); whether the host's VM entry orders its
// table writes for other PEs' walkers is outside elfuse's code.
//
// Operands: elfuse's VAE1IS/RVAE1IS operands carry ASID 0, which is the
// ASID its TTBR0 holds (guest.h:733-739 at 00ed78b); the model names the
// space's own ASID, the same thing under tlbkit's allocator.
// Not modelled: the cross-vCPU window the code documents (a sibling vCPU
// may use a stale entry until the issuer's shim runs: tlbkit's replay runs a
// call's maintenance before the next event), 059fb2b's VM-wide flag race
// (known bug 3, shown by percpu::RequestSlots' tests), the W^X fault path
// (HVC #9), exec's drop-frame and the ptrace-stop tails, and requests for
// new mappings: a map needs no invalidation and tlbkit's Gather asks no
// plan for it; when one gains execute permission the model runs the shim's
// I-cache tail alone (DSB ISH; IC IALLU; DSB ISH; ISB).
// Stage 2 and EL2 are HVF's, not elfuse's: there the model flushes the
// space whole (VMALLS12E1IS / ALLE2IS) with tlbkit's common tail.
#pragma once

#include <cstdint>

#include "tlbkit/maint/policy.hpp"

namespace tlbkit::baselines {

class ElfusePolicy final : public maint::Policy {
 public:
  enum class Version : std::uint8_t { v059fb2b, ve13ade1, v9fc96f7, v00ed78b };
  static constexpr std::uint64_t kSelectiveMaxPages = 16;    // TLBI_SELECTIVE_MAX_PAGES
  static constexpr std::uint64_t kRangeMaxPages9fc96f7 = 64;  // one SCALE-0 RVAE1IS
  static constexpr std::uint64_t kRvaeMaxPages = 32768;      // TLBI_RVAE_MAX_PAGES (00ed78b)

  // What the host hands the shim for one call (X8..X11).
  struct Request {
    enum class Kind : std::uint8_t { none, broadcast, selective, range_large };
    Kind kind = Kind::none;
    std::uint64_t start = 0;  // selective: first page's VA; range_large: the range's base VA
    std::uint64_t pages = 0;  // selective: pages to loop over; range_large: pages the op covers
    unsigned scale = 0;       // range_large
    unsigned num = 0;         // range_large
    bool icache = false;      // the shim runs IC IALLU
    friend constexpr bool operator==(const Request&, const Request&) = default;
  };

  explicit constexpr ElfusePolicy(Version version) : version_(version) {}

  // The request the version's host builds for `pending` (EL1&0 stage 1).
  Request request(const maint::Pending& pending, const arch::CpuFeatures& features) const;

  Status plan(const maint::Pending& pending, const maint::AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;

 private:
  Version version_;
};

}  // namespace tlbkit::baselines
