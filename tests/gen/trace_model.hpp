// An independent model of what a generated trace may do, written for the
// tests from docs/TRACE-FORMAT.md and the generators' own rules
// (docs/GENERATORS.md); it shares no code with src/gen.
//
// A TraceModel is a trace::Sink: it refuses the first event that breaks a
// rule, saying which and why, so a generator writing into it stops there.
// The rules:
// - ids: a space or thread is created before use and not created twice
//   while alive; every thread is placed explicitly ("thread T S pe=P", or
//   "switch P C" right after "fork") on a PE below the trace's PE count.
// - a thread acts (memory call, access, gather, flush, exit, fork, exec)
//   only while its PE runs it: started there or switched in.
// - memory calls have page-aligned, non-empty ranges; munmap, mprotect,
//   madvise and reclaim ranges lie wholly inside VMAs of their space; an
//   mmap without MAP_FIXED overlaps no VMA (a kernel hands out free
//   addresses); process and VM addresses stay below 2^47, kernel ones in
//   [0xff00'0000'0000, 2^48).
// - an access falls inside a VMA of its thread's own space whose rights
//   allow it (a read needs r, a write w, a fetch x).
// - a gather is opened once and flushed by its thread, which is not
//   switched out, moved or ended while it is open; meanwhile other threads
//   only switch and access (any other event would end it early in a
//   replayer).
// - process spaces end with their last thread; VM and kernel spaces are
//   destroyed explicitly once their threads have exited.
// - at the end no thread and no space is left.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tlbkit/trace/event.hpp"

namespace tlbkit::gen::testing {

// What the model counted over a trace.
struct TraceFacts {
  std::uint64_t events = 0;
  std::uint64_t accesses = 0;
  std::uint64_t switches = 0;
  std::uint64_t process_spaces_created = 0;  // by "space S process"
  std::uint64_t max_live_process_spaces = 0;
  // Accesses inside another thread's open gather to a page of a range
  // that gather's calls changed (the gather's maintenance has not run).
  std::uint64_t racing_reads = 0;
  std::uint64_t vm_pages_touched = 0;  // distinct pages accessed, over all VM spaces
  std::uint64_t largest_heap_pages = 0;  // the largest program break reached, in pages
  unsigned highest_pe = 0;
};

class TraceModel final : public trace::Sink {
 public:
  explicit TraceModel(unsigned pes);

  // "" or why the event breaks a rule ("event N: ...").
  std::string put(const trace::Event& event) override;
  // "" or what is left alive at the end.
  std::string finish() const;
  const TraceFacts& facts() const { return facts_; }

  struct Vma {
    std::uint64_t end = 0;
    trace::Prot prot = trace::Prot::none;
    trace::MapFlags flags = trace::MapFlags::none;
  };
  struct Space {
    trace::SpaceKind kind = trace::SpaceKind::process;
    std::map<std::uint64_t, Vma> vmas;  // by start
    std::optional<std::uint64_t> brk_start;
    std::uint64_t brk_end = 0;
    unsigned threads = 0;
    std::unordered_set<std::uint64_t> touched;  // pages accessed
  };
  struct Range {
    trace::SpaceId space = 0;
    std::uint64_t start = 0;
    std::uint64_t end = 0;
  };
  struct Thread {
    trace::SpaceId space = 0;
    std::optional<unsigned> pe;
    bool gathering = false;
    std::vector<Range> gathered;  // what the open gather's calls changed
  };

 private:
  std::string check(const trace::Event& event);
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

  // "" if `t` exists and its PE runs it; else why not.
  std::string acting(trace::ThreadId t) const;
  // The open gather of a thread other than `t`, if any.
  std::optional<trace::ThreadId> other_gatherer(trace::ThreadId t) const;
  std::string check_range(const Space& s, std::uint64_t addr, std::uint64_t length) const;
  void end_space(trace::SpaceId id);
  void note_gathered(trace::ThreadId t, trace::SpaceId space, std::uint64_t addr, std::uint64_t length);

  unsigned pes_;
  TraceFacts facts_;
  std::unordered_map<trace::SpaceId, Space> spaces_;
  std::unordered_map<trace::ThreadId, Thread> threads_;
  std::vector<std::optional<trace::ThreadId>> running_;  // per PE
  std::uint64_t live_processes_ = 0;
};

}  // namespace tlbkit::gen::testing
