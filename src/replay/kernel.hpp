// The kernel model behind TraceReplayer (docs/REPLAY.md): spaces with
// their tables, VMAs and present pages, threads on PEs, the ASID and VMID
// allocators, and the open batch of table operations whose maintenance a
// Gather per space plans and runs on the batch's PE.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frames.hpp"
#include "vmas.hpp"
#include "tlbkit/maint/gather.hpp"
#include "tlbkit/percpu/asid_allocator.hpp"
#include "tlbkit/pt/table.hpp"
#include "tlbkit/replay/trace_replay.hpp"
#include "tlbkit/sim/machine.hpp"
#include "tlbkit/sim/physical_memory.hpp"

namespace tlbkit::replay {

using arch::VirtAddr;
using trace::SpaceId;
using trace::ThreadId;

enum class CopyOnWrite : std::uint8_t { no, yes };
// A page kept while its descriptor is invalid (PROT_NONE): mapped again at
// its next fault.
enum class Visible : std::uint8_t { yes, no };

// A page or block present in a space: the tables map it (unless hidden).
struct Present {
  PhysAddr pa = 0;     // output address of the first byte
  PhysAddr frame = 0;  // the allocation it belongs to (reference counted)
  std::uint64_t size = kPage;
  CopyOnWrite cow = CopyOnWrite::no;
  Visible visible = Visible::yes;
};

struct Space {
  SpaceId id = 0;
  trace::SpaceKind kind = trace::SpaceKind::process;
  std::optional<pt::Table> table;
  percpu::IdContext ids;  // ASID or VMID context (process, vm)
  VmaMap vmas;
  std::map<VirtAddr, Present> present;  // by input address

  // The present entry whose page or block holds `va`, or present.end().
  std::map<VirtAddr, Present>::iterator present_at(VirtAddr va) {
    auto it = present.upper_bound(va);
    if (it == present.begin()) return present.end();
    --it;
    return va < it->first + it->second.size ? it : present.end();
  }
  // Whether anything in [start, end) is present.
  bool any_present(VirtAddr start, VirtAddr end) {
    return present_at(start) != present.end() || present.lower_bound(start) != present.lower_bound(end);
  }
  std::optional<VirtAddr> brk_start;
  VirtAddr brk_end = 0;
  unsigned threads = 0;
  // PEs that loaded the space's context (bit n: PE n), over its life: only
  // their TLBs can hold its translations (maint::Reach). It only grows: a
  // PE that switched away may still hold entries tagged with its ASID.
  std::uint64_t loaded_on = 0;
};

struct Thread {
  ThreadId id = 0;
  SpaceId space = 0;
  unsigned pe = 0;
  bool gather_flushed_early = false;  // its explicit gather was flushed implicitly
};

// Hands pages freed after a flush to the machine (use-after-free check)
// and back to the frame allocator.
class FrameSink final : public maint::PageSink {
 public:
  FrameSink(sim::Machine& machine, Frames& frames) : machine_(machine), frames_(frames) {}
  void release(PhysAddr pa, std::uint64_t size) override {
    machine_.release(pa, size);
    frames_.free_range(pa, size);
  }

 private:
  sim::Machine& machine_;
  Frames& frames_;
};

class TraceReplayer::Kernel {
 public:
  Kernel(const maint::Policy& policy, const sim::Profile& profile, const ReplayOptions& options);
  std::string put(const trace::Event& event);
  ReplayRun finish();

  // ---- event handlers (kernel_events.cpp, kernel_memory.cpp, kernel_faults.cpp)
  std::string on(const trace::SpaceCreate& e);
  std::string on(const trace::SpaceDestroy& e);
  std::string on(const trace::ThreadStart& e);
  std::string on(const trace::Switch& e);
  std::string on(const trace::Exit& e);
  std::string on(const trace::Fork& e);
  std::string on(const trace::Exec& e);
  std::string on(const trace::Mmap& e);
  std::string on(const trace::Munmap& e);
  std::string on(const trace::Mprotect& e);
  std::string on(const trace::Mremap& e);
  std::string on(const trace::MadviseDontneed& e);
  std::string on(const trace::Brk& e);
  std::string on(const trace::Reclaim& e);
  std::string on(const trace::Access& e);
  std::string on(const trace::GatherBegin& e);
  std::string on(const trace::Flush& e);
  std::string on(const trace::OptionNoAccesses& e);

 private:
  // ---- threads, spaces, contexts (kernel_events.cpp)
  Thread* thread(ThreadId id);
  Space* space(SpaceId id);
  // Creates a space; problems (no table memory) are recorded and null returned.
  Space* create_space(SpaceId id, trace::SpaceKind kind);
  void start_thread(ThreadId id, SpaceId space, unsigned pe);
  void end_thread(ThreadId id);
  // Tears the space down (maintenance on `pe`) and forgets it.
  void destroy_space(SpaceId id, unsigned pe);
  // Makes `pe` run `t`: a context switch when its loaded space differs.
  void run_on(unsigned pe, Thread& t);
  // Loads `s`'s context on `pe` (its ASID / VMID through the allocator,
  // with the local flush a rollover asks for).
  void load_space(unsigned pe, Space& s);
  // Before maintenance of `s` on the open batch's PE: a VM's VMID loaded.
  void load_for_maintenance(Space& s);
  // `s` as a policy sees it; its reach is relative to the open batch's PE
  // (`issuer` when no batch is open).
  maint::AddressSpace address_space(const Space& s, unsigned issuer) const;

  // ---- batches of table operations
  // Opens a batch on `t`'s PE (flushing another open batch first) unless
  // `t`'s own explicit gather is open; returns whether it opened one.
  bool enter(Thread& t, const std::string& label);
  void leave(bool opened);
  void open_batch(unsigned pe, ThreadId owner, std::string label, bool explicit_gather);
  void close_batch();
  void flush_open_batch_early();
  maint::Gather& gather(Space& s);
  // Runs the open batch's gathers now (break-before-make inside a call).
  void flush_gathers();
  void note(const Status& s, const std::string& what);

  // ---- calls over VMAs (kernel_memory.cpp)
  // [start, end) cut at the edges of `s`'s VMAs: each VMA's part, and each
  // hole between them, once, in address order.
  std::vector<std::pair<VirtAddr, VirtAddr>> vma_pieces(const Space& s, VirtAddr start, VirtAddr end) const;
  // Runs `change(lo, hi)` on each of `pieces` for a call of `kind`: the
  // gather of `s` is told the call (Gather::note_call) before each piece
  // that has something present, and for a policy that flushes per VMA
  // (maint::FlushPoint::per_vma) the batch's maintenance runs after each
  // piece but the last, as Linux's tlb_end_vma does.
  template <class Change>
  void over_pieces(Space& s, const std::vector<std::pair<VirtAddr, VirtAddr>>& pieces, maint::CallKind kind,
                   Change change);

  // ---- present pages (kernel_memory.cpp)
  // Cuts a block crossing `at` into pages (the engine splits the table's).
  void split_present_at(Space& s, VirtAddr at);
  // Unmaps what is present in [start, end); frees frames whose last
  // reference goes (after the flush).
  void drop_present(Space& s, VirtAddr start, VirtAddr end);
  // Gives present pages in [start, end) the rights of their VMAs now.
  void reprotect_present(Space& s, VirtAddr start, VirtAddr end);
  pt::LeafAttributes attributes(const Space& s, trace::Prot prot, CopyOnWrite cow) const;
  // Records `p` at `va`, and maps it unless it is hidden (PROT_NONE).
  void map_present(Space& s, VirtAddr va, const Present& p, trace::Prot prot);
  void grow_vma(Thread& t, Space& s, VirtAddr start, VirtAddr end, trace::Prot prot, trace::MapFlags flags);
  std::string check_kernel_window(const Space& s, VirtAddr start, VirtAddr end) const;

  // ---- accesses and faults (kernel_faults.cpp)
  void access(Thread& t, VirtAddr va, trace::AccessKind kind);
  enum class FaultOutcome : std::uint8_t { handled, segfault, broken };
  FaultOutcome handle_fault(Thread& t, Space& s, VirtAddr va, trace::AccessKind kind, sim::AccessOutcome outcome);
  void fault_in(Thread& t, Space& s, const Vma& v, VirtAddr va, trace::AccessKind kind);
  void break_cow(Thread& t, Space& s, const Vma& v, VirtAddr key);
  // The touch model (traces without accesses): pages of [start, end) made
  // accessible by a call.
  void touch(Thread& t, VirtAddr start, VirtAddr end, trace::Prot prot);
  std::uint64_t next_random();

  const maint::Policy& policy_;
  const sim::Profile& profile_;
  ReplayOptions options_;
  unsigned pes_;
  sim::PhysicalMemory memory_;
  sim::Machine machine_;
  Frames frames_;
  FrameSink frame_sink_;
  std::unique_ptr<percpu::PerCpuIds[]> asid_cpus_;
  std::unique_ptr<percpu::PerCpuIds[]> vmid_cpus_;
  percpu::IdAllocatorCore asids_;
  percpu::IdAllocatorCore vmids_;

  std::map<SpaceId, std::unique_ptr<Space>> spaces_;
  std::map<ThreadId, Thread> threads_;
  std::vector<std::optional<ThreadId>> running_;  // per PE
  std::vector<std::optional<SpaceId>> loaded_;    // per PE: whose context is set
  std::uint64_t threads_started_ = 0;

  struct Batch {
    unsigned pe = 0;
    ThreadId owner = 0;
    bool explicit_gather = false;
    std::map<SpaceId, std::unique_ptr<maint::Gather>> gathers;
  };
  std::optional<Batch> batch_;

  bool touch_model_ = false;
  std::uint64_t random_state_;
  bool seen_event_ = false;
  ReplayRun run_;
};

}  // namespace tlbkit::replay
