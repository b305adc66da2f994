// What every generator writes its events through. An Emitter hands events
// to a trace::Sink until the sink refuses one (later events are dropped and
// the refusal is the generator's result), gives out fresh space and thread
// ids, and keeps the PEs' schedule explicit: a thread starts on the PE it
// is given, and before a thread acts while its PE runs another thread the
// Emitter writes "switch P T". It refuses (as a generator error) to switch
// a thread out while its gather is open: a gather is one kernel call, not
// preempted in these traces.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tlbkit/gen/generator.hpp"
#include "tlbkit/trace/event.hpp"

namespace tlbkit::gen {

using trace::SpaceId;
using trace::ThreadId;

// The size `parameters` ask of a generator whose default is `default_size`
// (sizes up to kMaxScale times the default are accepted), or why the
// parameters are refused ("" when they are not).
inline constexpr std::uint64_t kMaxScale = 1024;
std::string check_parameters(std::string_view generator, const Parameters& parameters, std::uint64_t default_size,
                             std::uint64_t& size);

class Emitter {
 public:
  Emitter(trace::Sink& sink, unsigned pes);

  bool ok() const { return result_.empty(); }
  // "" or the sink's refusal (or the generator's own error).
  const std::string& result() const { return result_; }
  // Records a generator error (the first one wins) and returns the result.
  const std::string& fail(std::string why);
  unsigned pes() const { return pes_; }
  unsigned pe_of(ThreadId thread) const;

  // ---- spaces and threads (fresh ids) --------------------------------------
  SpaceId process();
  SpaceId vm(unsigned vcpus);
  SpaceId kernel();
  void destroy(SpaceId space);
  // "thread T S pe=P", then "switch P T" when P was running another thread.
  ThreadId start(SpaceId space, unsigned pe);
  void exit(ThreadId thread);
  struct Forked {
    ThreadId thread = 0;
    SpaceId space = 0;
  };
  // "fork PARENT C S", then "switch P C" (the child is placed on `pe`).
  Forked fork(ThreadId parent, unsigned pe);
  // "exec T S": `thread` moves to a new, empty process space, returned.
  SpaceId exec(ThreadId thread);

  // ---- memory calls ----------------------------------------------------------
  void mmap(ThreadId thread, std::uint64_t addr, std::uint64_t length, trace::Prot prot, trace::MapFlags flags);
  void munmap(ThreadId thread, std::uint64_t addr, std::uint64_t length);
  void mprotect(ThreadId thread, std::uint64_t addr, std::uint64_t length, trace::Prot prot);
  void dontneed(ThreadId thread, std::uint64_t addr, std::uint64_t length);
  void brk(ThreadId thread, std::uint64_t addr);
  void reclaim(ThreadId thread, SpaceId space, std::uint64_t addr, std::uint64_t length);
  void gather(ThreadId thread);
  void flush(ThreadId thread, trace::FlushReason reason);

  // ---- accesses ----------------------------------------------------------------
  void read(ThreadId thread, std::uint64_t addr);
  void write(ThreadId thread, std::uint64_t addr);
  void fetch(ThreadId thread, std::uint64_t addr);

 private:
  static constexpr ThreadId kIdle = ~ThreadId{0};
  void put(const trace::Event& event);
  // Makes `pe` run `thread` ("switch" when it runs another).
  void run(ThreadId thread, unsigned pe);
  // Makes `thread`'s PE run it.
  void run(ThreadId thread);

  trace::Sink& sink_;
  unsigned pes_;
  std::string result_;
  SpaceId next_space_ = 1;
  ThreadId next_thread_ = 100;
  std::vector<ThreadId> running_;                // per PE, kIdle when none
  std::unordered_map<ThreadId, unsigned> pe_;    // live threads' PEs
  std::unordered_set<ThreadId> gathering_;       // threads with an open gather
};

}  // namespace tlbkit::gen
