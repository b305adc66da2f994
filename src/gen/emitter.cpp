#include "emitter.hpp"

#include <fmt/format.h>

#include <utility>

namespace tlbkit::gen {

using trace::Prot;

std::string check_parameters(std::string_view generator, const Parameters& parameters, std::uint64_t default_size,
                             std::uint64_t& size) {
  if (parameters.pes < 1 || parameters.pes > 64) {
    return fmt::format("{}: {} PEs is out of range (1..64)", generator, parameters.pes);
  }
  size = parameters.size == 0 ? default_size : parameters.size;
  const std::uint64_t largest = default_size * kMaxScale;
  if (size > largest) {
    return fmt::format("{}: size {} is beyond its largest, {} ({} times the default)", generator, size, largest,
                       kMaxScale);
  }
  return {};
}

Emitter::Emitter(trace::Sink& sink, unsigned pes) : sink_(sink), pes_(pes), running_(pes, kIdle) {}

const std::string& Emitter::fail(std::string why) {
  if (result_.empty()) result_ = std::move(why);
  return result_;
}

unsigned Emitter::pe_of(ThreadId thread) const {
  const auto it = pe_.find(thread);
  return it == pe_.end() ? 0 : it->second;
}

void Emitter::put(const trace::Event& event) {
  if (!ok()) return;
  std::string refusal = sink_.put(event);
  if (!refusal.empty()) fail(std::move(refusal));
}

void Emitter::run(ThreadId thread, unsigned pe) {
  const ThreadId current = running_[pe];
  if (current == thread) return;
  if (current != kIdle && gathering_.contains(current)) {
    fail(fmt::format("generator error: thread {} would be switched out of PE {} inside its gather", current, pe));
    return;
  }
  put(trace::Switch{pe, thread});
  running_[pe] = thread;
}

void Emitter::run(ThreadId thread) { run(thread, pe_of(thread)); }

// ---- spaces and threads ------------------------------------------------------------

SpaceId Emitter::process() {
  const SpaceId s = next_space_++;
  put(trace::SpaceCreate{s, trace::SpaceKind::process, 0});
  return s;
}

SpaceId Emitter::vm(unsigned vcpus) {
  const SpaceId s = next_space_++;
  put(trace::SpaceCreate{s, trace::SpaceKind::vm, vcpus});
  return s;
}

SpaceId Emitter::kernel() {
  const SpaceId s = next_space_++;
  put(trace::SpaceCreate{s, trace::SpaceKind::kernel, 0});
  return s;
}

void Emitter::destroy(SpaceId space) { put(trace::SpaceDestroy{space}); }

ThreadId Emitter::start(SpaceId space, unsigned pe) {
  const ThreadId t = next_thread_++;
  put(trace::ThreadStart{t, space, pe});
  pe_[t] = pe;
  run(t, pe);
  return t;
}

void Emitter::exit(ThreadId thread) {
  run(thread);
  if (gathering_.contains(thread)) fail(fmt::format("generator error: thread {} exits inside its gather", thread));
  put(trace::Exit{thread});
  running_[pe_of(thread)] = kIdle;
  pe_.erase(thread);
}

Emitter::Forked Emitter::fork(ThreadId parent, unsigned pe) {
  run(parent);
  const Forked child{next_thread_++, next_space_++};
  put(trace::Fork{parent, child.thread, child.space});
  pe_[child.thread] = pe;
  run(child.thread, pe);
  return child;
}

SpaceId Emitter::exec(ThreadId thread) {
  run(thread);
  const SpaceId s = next_space_++;
  put(trace::Exec{thread, s});
  return s;
}

// ---- memory calls ------------------------------------------------------------------

void Emitter::mmap(ThreadId thread, std::uint64_t addr, std::uint64_t length, Prot prot, trace::MapFlags flags) {
  run(thread);
  put(trace::Mmap{thread, addr, length, prot, flags});
}

void Emitter::munmap(ThreadId thread, std::uint64_t addr, std::uint64_t length) {
  run(thread);
  put(trace::Munmap{thread, addr, length});
}

void Emitter::mprotect(ThreadId thread, std::uint64_t addr, std::uint64_t length, Prot prot) {
  run(thread);
  put(trace::Mprotect{thread, addr, length, prot});
}

void Emitter::dontneed(ThreadId thread, std::uint64_t addr, std::uint64_t length) {
  run(thread);
  put(trace::MadviseDontneed{thread, addr, length});
}

void Emitter::brk(ThreadId thread, std::uint64_t addr) {
  run(thread);
  put(trace::Brk{thread, addr});
}

void Emitter::reclaim(ThreadId thread, SpaceId space, std::uint64_t addr, std::uint64_t length) {
  run(thread);
  put(trace::Reclaim{thread, space, addr, length});
}

void Emitter::gather(ThreadId thread) {
  run(thread);
  if (!gathering_.insert(thread).second) {
    fail(fmt::format("generator error: thread {} opens a gather inside its gather", thread));
  }
  put(trace::GatherBegin{thread});
}

void Emitter::flush(ThreadId thread, trace::FlushReason reason) {
  run(thread);
  if (gathering_.erase(thread) == 0) fail(fmt::format("generator error: thread {} flushes no gather", thread));
  put(trace::Flush{thread, reason});
}

// ---- accesses --------------------------------------------------------------------

void Emitter::read(ThreadId thread, std::uint64_t addr) {
  run(thread);
  put(trace::Access{thread, addr, trace::AccessKind::read});
}

void Emitter::write(ThreadId thread, std::uint64_t addr) {
  run(thread);
  put(trace::Access{thread, addr, trace::AccessKind::write});
}

void Emitter::fetch(ThreadId thread, std::uint64_t addr) {
  run(thread);
  put(trace::Access{thread, addr, trace::AccessKind::fetch});
}

}  // namespace tlbkit::gen
