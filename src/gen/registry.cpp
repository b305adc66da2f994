#include <string_view>

#include "generators.hpp"
#include "tlbkit/gen/generator.hpp"

namespace tlbkit::gen {
namespace {

// In the order of docs/GENERATORS.md. Sources are the files of the
// workspace's background folder, or REFERENCE.md sections.
constexpr Generator kGenerators[] = {
    {"relro-storm",
     "a dynamic linker loads libraries: segments mapped, relocated, RELRO made read-only (hvf-shim-selective-tlbi)",
     "libraries loaded by each process (one process per PE)", kRelroStormLibraries, emit_relro_storm},
    {"small-munmap", "threads map, touch and unmap buffers of 1..16 pages (hvf-shim-selective-tlbi)", "munmap calls",
     kSmallMunmapCalls, emit_small_munmap},
    {"guard-pages",
     "MAP_FIXED PROT_NONE guard pages carved into touched thread stacks and allocator arenas "
     "(hvf-shim-selective-tlbi)",
     "guard carves (MAP_FIXED PROT_NONE mmaps)", kGuardPagesCarves, emit_guard_pages},
    {"fork-cow",
     "a threaded process with a touched heap forks snapshot children; writes break copy-on-write (freebsd-D37254)",
     "heap pages written before the forks", kForkCowHeapPages, emit_fork_cow},
    {"process-teardown",
     "processes with large touched address spaces exit or exec (freebsd-D37254; REFERENCE 5: whole-mm unmap)",
     "processes that end", kProcessTeardownProcesses, emit_process_teardown},
    {"vm-teardown", "a VM's vCPUs fault guest memory in, then the VM is destroyed (kvm-arm64-range-tlbi-unmap)",
     "guest pages faulted in", kVmTeardownGuestPages, emit_vm_teardown},
    {"s2-unmap", "a host unmaps ranges of a running VM's memory while its vCPUs run (kvm-arm64-range-tlbi-unmap)",
     "host unmap calls (reclaim events)", kS2UnmapCalls, emit_s2_unmap},
    {"dirty-log",
     "KVM dirty logging: write-protect passes over a memslot, vCPU writes fault pages writable again "
     "(kvm-arm64-range-tlbi-unmap; REFERENCE 4)",
     "write-protect passes", kDirtyLogPasses, emit_dirty_log},
    {"reclaim", "kswapd unmaps pages of many processes in batches flushed once (linux-deferred-batched-tlb-flush)",
     "processes whose pages are reclaimed", kReclaimProcesses, emit_reclaim},
    {"jit-wx", "a JIT toggles code pages between rw- and r-x while other threads execute it (hvf-shim-selective-tlbi)",
     "W^X cycles (code made writable, written, made executable)", kJitWxCycles, emit_jit_wx},
    {"kernel-purge",
     "kernel threads vmalloc and vfree areas, unmapped in lazy purge batches (linux-deferred-batched-tlb-flush; "
     "REFERENCE 5)",
     "vmalloc areas allocated and freed", kKernelPurgeAreas, emit_kernel_purge},
    {"mt-mprotect",
     "one thread mprotects regions while readers on the other PEs keep reading (linux-deferred-batched-tlb-flush; "
     "freebsd-D37254)",
     "mprotect calls", kMtMprotectCalls, emit_mt_mprotect},
    {"asid-rollover", "more processes than 8-bit ASIDs, switched round robin on the PEs (REFERENCE 6)", "processes",
     kAsidRolloverProcesses, emit_asid_rollover},
};

}  // namespace

std::span<const Generator> generators() { return kGenerators; }

const Generator* find_generator(std::string_view name) {
  for (const Generator& g : kGenerators) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

}  // namespace tlbkit::gen
