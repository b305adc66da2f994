// The events of a workload trace (docs/TRACE-FORMAT.md): what programs and
// a kernel do to address spaces, at the level a kernel sees them (VMAs,
// accesses, flush points), not yet as table edits. replay::TraceReplayer
// turns them into table operations as a kernel does (demand paging).
//
// Ids are the trace's own: a thread id (a Linux tid, a vCPU) and a space id
// (a process's mm, a VM) are any 32-bit numbers, unique while alive. PEs
// are numbered 0..63. Addresses are input addresses of the space: VAs of
// a process or of the kernel, IPAs of a VM.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace tlbkit::trace {

using ThreadId = std::uint32_t;
using SpaceId = std::uint32_t;

// The format's first line, "tlbkit-trace 1".
inline constexpr std::string_view kMagic = "tlbkit-trace";
inline constexpr unsigned kVersion = 1;

// What kind of address space (what translation regime it is).
enum class SpaceKind : std::uint8_t {
  process,  // stage 1, EL1&0, non-global entries tagged with the space's ASID
  vm,       // a VM's stage 2, entries tagged with its VMID; its threads are vCPUs
  kernel,   // stage 1, EL1, global entries (vmalloc-like kernel mappings)
};

// Access rights of a VMA, as PROT_READ / PROT_WRITE / PROT_EXEC.
enum class Prot : std::uint8_t { none = 0, read = 1, write = 2, exec = 4 };
constexpr Prot operator|(Prot a, Prot b) {
  return static_cast<Prot>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool has(Prot set, Prot bit) {
  return (static_cast<std::uint8_t>(set) & static_cast<std::uint8_t>(bit)) != 0;
}

// MAP_* flags of a VMA that decide how its pages are made present.
enum class MapFlags : std::uint8_t {
  none = 0,
  anonymous = 1,  // zero-filled memory (else: file-backed)
  shared = 2,     // MAP_SHARED: never copy-on-write
  fixed = 4,      // MAP_FIXED: replaces what was there
  huge = 8,       // may be backed by 2 MiB blocks (THP / hugetlb eligible)
};
constexpr MapFlags operator|(MapFlags a, MapFlags b) {
  return static_cast<MapFlags>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool has(MapFlags set, MapFlags bit) {
  return (static_cast<std::uint8_t>(set) & static_cast<std::uint8_t>(bit)) != 0;
}

enum class AccessKind : std::uint8_t { read, write, fetch };

// Whether a VMA with rights `prot` lets an access of `kind` happen, as on
// Linux: a write needs PROT_WRITE, a fetch PROT_EXEC, a read PROT_READ or
// PROT_WRITE (write implies read). Otherwise the access is a segfault.
constexpr bool permits(Prot prot, AccessKind kind) {
  switch (kind) {
    case AccessKind::read: return has(prot, Prot::read) || has(prot, Prot::write);
    case AccessKind::write: return has(prot, Prot::write);
    case AccessKind::fetch: return has(prot, Prot::exec);
  }
  return false;
}

// Why a gather ends: the kernel point that runs the gathered maintenance.
enum class FlushReason : std::uint8_t { syscall, gather, vm_exit };

// ---- address spaces and threads -------------------------------------------

// "space S process" / "space S vm vcpus=N" / "space S kernel"
struct SpaceCreate {
  SpaceId space = 0;
  SpaceKind kind = SpaceKind::process;
  unsigned vcpus = 0;  // vm only: how many vCPU threads it will have (informative)
  friend bool operator==(const SpaceCreate&, const SpaceCreate&) = default;
};

// "destroy S": the space's mappings are torn down and its id released.
// Implied when the last thread of a process space exits.
struct SpaceDestroy {
  SpaceId space = 0;
  friend bool operator==(const SpaceDestroy&, const SpaceDestroy&) = default;
};

// "thread T S [pe=P]": thread T starts in space S (a clone with CLONE_VM, a
// vCPU of a VM), on PE P or, without pe=, where the replayer's default
// placement puts it (docs/TRACE-FORMAT.md).
struct ThreadStart {
  ThreadId thread = 0;
  SpaceId space = 0;
  static constexpr unsigned kAnyPe = ~0u;
  unsigned pe = kAnyPe;
  friend bool operator==(const ThreadStart&, const ThreadStart&) = default;
};

// "switch P T": PE P now runs thread T (a context switch; T leaves its
// previous PE).
struct Switch {
  unsigned pe = 0;
  ThreadId thread = 0;
  friend bool operator==(const Switch&, const Switch&) = default;
};

// "exit T": thread T ends; a process space whose last thread exits is
// destroyed.
struct Exit {
  ThreadId thread = 0;
  friend bool operator==(const Exit&, const Exit&) = default;
};

// "fork T C S": T's process is copied into a new process space S whose
// first thread is C: private writable pages present in T's space become
// copy-on-write in both (T's are write-protected, which needs maintenance).
struct Fork {
  ThreadId parent = 0;
  ThreadId child = 0;
  SpaceId child_space = 0;
  friend bool operator==(const Fork&, const Fork&) = default;
};

// "exec T S": T's program is replaced: T moves to the new, empty process
// space S; its old space is destroyed when no thread is left in it.
struct Exec {
  ThreadId thread = 0;
  SpaceId space = 0;
  friend bool operator==(const Exec&, const Exec&) = default;
};

// ---- VMA-level memory calls, made by a thread on its space ----------------

// "mmap T ADDR LEN PROT FLAGS": a new VMA [addr, addr + len); nothing is
// made present. Whatever was mapped there before is unmapped first (what
// MAP_FIXED does; a trace records the address the call returned).
struct Mmap {
  ThreadId thread = 0;
  std::uint64_t addr = 0;
  std::uint64_t length = 0;
  Prot prot = Prot::none;
  MapFlags flags = MapFlags::none;
  friend bool operator==(const Mmap&, const Mmap&) = default;
};

// "munmap T ADDR LEN"
struct Munmap {
  ThreadId thread = 0;
  std::uint64_t addr = 0;
  std::uint64_t length = 0;
  friend bool operator==(const Munmap&, const Munmap&) = default;
};

// "mprotect T ADDR LEN PROT"
struct Mprotect {
  ThreadId thread = 0;
  std::uint64_t addr = 0;
  std::uint64_t length = 0;
  Prot prot = Prot::none;
  friend bool operator==(const Mprotect&, const Mprotect&) = default;
};

// "mremap T OLD OLDLEN NEW NEWLEN": the VMA at [old, old + oldlen) now
// lies at [new, new + newlen); present pages move with it (new == old:
// grow or shrink in place).
struct Mremap {
  ThreadId thread = 0;
  std::uint64_t old_addr = 0;
  std::uint64_t old_length = 0;
  std::uint64_t new_addr = 0;
  std::uint64_t new_length = 0;
  friend bool operator==(const Mremap&, const Mremap&) = default;
};

// "madvise T ADDR LEN dontneed": present pages are dropped (the VMA stays;
// the next access faults a zero page in again).
struct MadviseDontneed {
  ThreadId thread = 0;
  std::uint64_t addr = 0;
  std::uint64_t length = 0;
  friend bool operator==(const MadviseDontneed&, const MadviseDontneed&) = default;
};

// "brk T ADDR": the program break of T's process is now ADDR. The first
// brk of a space sets the heap's start; later ones grow or shrink it.
struct Brk {
  ThreadId thread = 0;
  std::uint64_t addr = 0;
  friend bool operator==(const Brk&, const Brk&) = default;
};

// "reclaim T S ADDR LEN": T (a reclaimer: kswapd, a kernel thread) pages
// out what is present of [addr, addr + len) in space S, which need not be
// its own (try_to_unmap of other processes' pages; the VMAs stay). Its
// maintenance runs on T's PE, batched in T's gather when one is open.
struct Reclaim {
  ThreadId thread = 0;
  SpaceId space = 0;
  std::uint64_t addr = 0;
  std::uint64_t length = 0;
  friend bool operator==(const Reclaim&, const Reclaim&) = default;
};

// ---- accesses and flush points ---------------------------------------------

// "r T ADDR" / "w T ADDR" / "x T ADDR": one access by T, on its PE.
struct Access {
  ThreadId thread = 0;
  std::uint64_t addr = 0;
  AccessKind kind = AccessKind::read;
  friend bool operator==(const Access&, const Access&) = default;
};

// "gather T": the memory calls of T that follow share one gather (one
// mmu_gather, a reclaim batch over several spaces, a VM's run of stage-2
// changes) whose maintenance runs at the next "flush T REASON". Without
// it, each memory call flushes at its own return.
struct GatherBegin {
  ThreadId thread = 0;
  friend bool operator==(const GatherBegin&, const GatherBegin&) = default;
};

// "flush T syscall|gather|vmexit": T's open gather ends here.
struct Flush {
  ThreadId thread = 0;
  FlushReason reason = FlushReason::gather;
  friend bool operator==(const Flush&, const Flush&) = default;
};

// ---- header options ---------------------------------------------------------

// "option accesses=none": the trace holds no accesses (a syscall-only
// import); the replayer's touch model decides which pages were touched.
// Allowed only before the first event.
struct OptionNoAccesses {
  friend bool operator==(const OptionNoAccesses&, const OptionNoAccesses&) = default;
};

using Event = std::variant<SpaceCreate, SpaceDestroy, ThreadStart, Switch, Exit, Fork, Exec, Mmap, Munmap,
                           Mprotect, Mremap, MadviseDontneed, Brk, Reclaim, Access, GatherBegin, Flush, OptionNoAccesses>;

// Where a line of a trace (or of an importer's input) is: for messages
// "FILE:LINE:COLUMN: what is wrong". Line and column count from 1.
struct Position {
  std::string file;
  std::uint64_t line = 0;
  unsigned column = 0;
};

// Consumes events one at a time (a replayer, a writer, a test's vector).
// put() returns an empty string when it took the event, else one line that
// says what is wrong with it (the caller adds the position).
class Sink {
 public:
  virtual std::string put(const Event& event) = 0;

 protected:
  ~Sink() = default;
};

}  // namespace tlbkit::trace
