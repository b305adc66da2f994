// VMs: stage 2. A VM faulting its memory in and being destroyed, a host
// unmapping ranges of a running VM's memory
// (background/kvm-arm64-range-tlbi-unmap-review.txt), and KVM's dirty
// logging (write-protect passes, writes faulting pages writable again:
// REFERENCE.md section 4, the relaxation KVM handles with a local TLBI).
//
// A VM's memslots are its VMAs (IPA ranges) and the VMM's calls on them
// are made by vCPU 0: the event model gives memory calls to the calling
// thread's space, and a VM space's threads are its vCPUs.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "emitter.hpp"
#include "generators.hpp"
#include "layout.hpp"
#include "sequence.hpp"

namespace tlbkit::gen {
namespace {

constexpr std::uint64_t kRun = 64;  // pages a vCPU touches in one go
constexpr std::uint64_t kBlockPages = kBlock / kPage;

std::uint64_t round_up(std::uint64_t n, std::uint64_t unit) { return (n + unit - 1) / unit * unit; }

// The VM's vCPUs: vCPU i on PE i.
std::vector<ThreadId> start_vcpus(Emitter& e, SpaceId vm, unsigned first) {
  std::vector<ThreadId> vcpus;
  for (unsigned pe = first; pe < e.pes(); ++pe) vcpus.push_back(e.start(vm, pe));
  return vcpus;
}

// `vcpus` end, then the VM is destroyed.
void end_vm(Emitter& e, SpaceId vm, const std::vector<ThreadId>& vcpus) {
  for (auto it = vcpus.rbegin(); it != vcpus.rend(); ++it) e.exit(*it);
  e.destroy(vm);
}

ThreadId any_vcpu(Sequence& rng, const std::vector<ThreadId>& vcpus) { return vcpus[rng.below(vcpus.size())]; }

void read_or_write(Emitter& e, Sequence& rng, ThreadId t, std::uint64_t addr) {
  if (rng.percent(50)) {
    e.read(t, addr);
  } else {
    e.write(t, addr);
  }
}

}  // namespace

// A VM with a vCPU per PE. vCPU 0 maps the memslots: 16 pages of flash
// (file-backed, r-x) at IPA 0, and RAM of twice `guest` pages at 1 GiB in
// two slots: two thirds THP-eligible, the rest (after a 2 MiB hole) not.
// vCPU 0 boots from 4 flash pages, then vCPUs fault `guest` pages in, 64
// at a time, in runs at random places of RAM (3% of runs executed, the
// rest written); then they run (`guest` / 8 accesses to touched pages);
// the vCPUs exit and the VM is destroyed.
std::string emit_vm_teardown(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t guest = 0;
  if (std::string refusal = check_parameters("vm-teardown", parameters, kVmTeardownGuestPages, guest);
      !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  const SpaceId vm = e.vm(e.pes());
  std::vector<ThreadId> vcpus{e.start(vm, 0)};
  const ThreadId boot = vcpus.front();
  constexpr std::uint64_t kFlashPages = 16;
  const std::uint64_t flash = std::min<std::uint64_t>(4, guest);
  const std::uint64_t ram = round_up(2 * guest, kBlockPages);
  const std::uint64_t low = std::min(ram, round_up(ram * 2 / 3, kBlockPages));
  const std::uint64_t high = ram - low;
  const std::uint64_t high_at = kGuestRam + pages(low) + kBlock;
  e.mmap(boot, kGuestFlash, pages(kFlashPages), kRX, kFile);
  e.mmap(boot, kGuestRam, pages(low), kRWX, kAnon | kHuge);
  if (high != 0) e.mmap(boot, high_at, pages(high), kRWX, kAnon);
  for (ThreadId t : start_vcpus(e, vm, 1)) vcpus.push_back(t);
  const auto ipa = [&](std::uint64_t page) {
    return page < low ? kGuestRam + pages(page) : high_at + pages(page - low);
  };
  for (std::uint64_t i = 0; i < flash; ++i) e.fetch(boot, kGuestFlash + pages(i));
  struct Run {
    std::uint64_t first = 0;
    std::uint64_t pages = 0;
    bool code = false;
  };
  std::vector<std::uint64_t> order(ram / kRun);
  for (std::uint64_t i = 0; i < order.size(); ++i) order[i] = i * kRun;
  rng.shuffle(order);
  std::vector<Run> touched;
  std::uint64_t left = guest - flash;
  for (std::size_t i = 0; left != 0 && e.ok(); ++i) {
    const Run run{order[i], std::min(kRun, left), rng.percent(3)};
    const ThreadId t = any_vcpu(rng, vcpus);
    for (std::uint64_t p = run.first; p < run.first + run.pages; ++p) {
      if (run.code) {
        e.fetch(t, ipa(p));
      } else {
        e.write(t, ipa(p));
      }
    }
    left -= run.pages;
    touched.push_back(run);
  }
  for (std::uint64_t i = 0; i < guest / 8 && !touched.empty() && e.ok(); ++i) {
    const Run& run = touched[rng.below(touched.size())];
    const ThreadId t = any_vcpu(rng, vcpus);
    const std::uint64_t at = ipa(run.first + rng.below(run.pages));
    if (run.code) {
      e.fetch(t, at);
    } else {
      read_or_write(e, rng, t, at);
    }
  }
  end_vm(e, vm, vcpus);
  return e.result();
}

// A VMM process (one thread, on PE 0) and its VM with a vCPU per PE and
// 32 MiB of THP-eligible RAM, half of it written by the vCPUs in runs of
// 64 pages. Then the host unmaps `calls` ranges of guest memory ("reclaim
// HOST VM ADDR LEN": the VMAs stay, present pages go, as
// kvm_unmap_gfn_range does): 70% balloon-sized (1..8 pages anywhere), 20%
// one 2 MiB block (THP split or migration), 10% 2..8 blocks. A quarter of
// the time (with more than one PE) 2..4 calls share one gather, and vCPUs
// on other PEs read pages of the ranges inside it: racing reads, which hit
// a stale entry or fault (the replayer then ends the gather early). After
// each batch vCPUs touch the unmapped ranges again and their working set.
// Whether KVM defers the unmap's TLBIs (FEAT_TLBIRANGE with stage-2 FWB)
// is a property of the replayed machine, not of this trace.
std::string emit_s2_unmap(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t calls = 0;
  if (std::string refusal = check_parameters("s2-unmap", parameters, kS2UnmapCalls, calls); !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  constexpr std::uint64_t kRam = 8192;
  const ThreadId host = e.start(e.process(), 0);
  const SpaceId vm = e.vm(e.pes());
  const std::vector<ThreadId> vcpus = start_vcpus(e, vm, 0);
  const std::vector<ThreadId> racers(vcpus.begin() + 1, vcpus.end());  // PEs the host does not run on
  e.mmap(vcpus.front(), kGuestRam, pages(kRam), kRWX, kAnon | kHuge);
  std::vector<std::uint64_t> runs(kRam / kRun);
  for (std::uint64_t i = 0; i < runs.size(); ++i) runs[i] = i * kRun;
  rng.shuffle(runs);
  runs.resize(runs.size() / 2);  // the working set
  for (std::uint64_t first : runs) {
    const ThreadId t = any_vcpu(rng, vcpus);
    for (std::uint64_t p = first; p < first + kRun; ++p) e.write(t, kGuestRam + pages(p));
  }
  struct Range {
    std::uint64_t first = 0;
    std::uint64_t pages = 0;
  };
  std::uint64_t done = 0;
  while (done < calls && e.ok()) {
    const bool gathered = !racers.empty() && rng.percent(25);
    const std::uint64_t batch = gathered ? rng.between(2, 4) : 1;
    std::vector<Range> ranges;
    if (gathered) e.gather(host);
    for (std::uint64_t c = 0; c < batch && done < calls; ++c) {
      Range r;
      const std::uint64_t kind = rng.below(100);
      if (kind < 70) {
        r.pages = rng.between(1, 8);
        r.first = rng.below(kRam - r.pages + 1);
      } else if (kind < 90) {
        r.pages = kBlockPages;
        r.first = rng.below(kRam / kBlockPages) * kBlockPages;
      } else {
        r.pages = rng.between(2, 8) * kBlockPages;
        r.first = rng.below(kRam / kBlockPages - r.pages / kBlockPages + 1) * kBlockPages;
      }
      e.reclaim(host, vm, kGuestRam + pages(r.first), pages(r.pages));
      ++done;
      if (gathered) {
        for (int i = 0; i < 2; ++i) e.read(any_vcpu(rng, racers), kGuestRam + pages(r.first + rng.below(r.pages)));
      }
      ranges.push_back(r);
    }
    if (gathered) e.flush(host, trace::FlushReason::syscall);
    for (const Range& r : ranges) {
      for (int i = 0; i < 2; ++i) {
        read_or_write(e, rng, any_vcpu(rng, vcpus), kGuestRam + pages(r.first + rng.below(r.pages)));
      }
    }
    for (int i = 0; i < 3; ++i) {
      const std::uint64_t page = runs[rng.below(runs.size())] + rng.below(kRun);
      read_or_write(e, rng, any_vcpu(rng, vcpus), kGuestRam + pages(page));
    }
  }
  end_vm(e, vm, vcpus);
  e.exit(host);
  return e.result();
}

// A VM with a vCPU per PE and one 16 MiB memslot (rw-, 4 KiB pages: KVM
// maps a logged memslot with pages), every page written once. Then
// `passes` times: vCPU 0 (for the VMM's KVM_CLEAR_DIRTY_LOG) write-protects
// every 64-page chunk holding a page dirtied since the last pass, in one
// gather flushed at the call's return; the guest runs: 512 writes (80% to
// the writing vCPU's hot 256 pages), and the first write to a
// write-protected page faults it writable again ("gather V", a one-page
// "mprotect rw-", "flush V vmexit": KVM relaxes the entry before the vCPU
// re-enters), and 171 reads.
std::string emit_dirty_log(const Parameters& parameters, trace::Sink& sink) {
  std::uint64_t passes = 0;
  if (std::string refusal = check_parameters("dirty-log", parameters, kDirtyLogPasses, passes); !refusal.empty()) {
    return refusal;
  }
  Emitter e(sink, parameters.pes);
  Sequence rng(parameters.seed);
  constexpr std::uint64_t kSlot = 4096;
  constexpr std::uint64_t kChunk = 64;  // pages a dirty-bitmap word covers
  constexpr std::uint64_t kHot = kSlot / 16;
  const SpaceId vm = e.vm(e.pes());
  const std::vector<ThreadId> vcpus = start_vcpus(e, vm, 0);
  const ThreadId vmm = vcpus.front();
  e.mmap(vmm, kGuestRam, pages(kSlot), kRW, kAnon);
  std::vector<bool> writable(kSlot, true);
  std::vector<bool> dirty(kSlot, true);
  std::vector<std::uint64_t> hot(vcpus.size());
  for (std::uint64_t& h : hot) h = rng.below(kSlot - kHot + 1);
  for (std::uint64_t p = 0; p < kSlot; ++p) e.write(any_vcpu(rng, vcpus), kGuestRam + pages(p));
  for (std::uint64_t pass = 0; pass < passes && e.ok(); ++pass) {
    e.gather(vmm);
    for (std::uint64_t chunk = 0; chunk < kSlot; chunk += kChunk) {
      bool any = false;
      for (std::uint64_t p = chunk; p < chunk + kChunk; ++p) {
        any = any || dirty[p];
        dirty[p] = false;
        writable[p] = false;
      }
      if (any) e.mprotect(vmm, kGuestRam + pages(chunk), pages(kChunk), kR);
    }
    e.flush(vmm, trace::FlushReason::syscall);
    for (int i = 0; i < 512 && e.ok(); ++i) {
      const std::size_t v = rng.below(vcpus.size());
      const std::uint64_t p = rng.percent(80) ? hot[v] + rng.below(kHot) : rng.below(kSlot);
      const std::uint64_t at = kGuestRam + pages(p);
      if (!writable[p]) {
        e.gather(vcpus[v]);
        e.mprotect(vcpus[v], at, kPage, kRW);
        e.flush(vcpus[v], trace::FlushReason::vm_exit);
        writable[p] = true;
      }
      e.write(vcpus[v], at);
      dirty[p] = true;
      if (i % 3 == 0) e.read(vcpus[v], kGuestRam + pages(rng.below(kSlot)));
    }
  }
  end_vm(e, vm, vcpus);
  return e.result();
}

}  // namespace tlbkit::gen
