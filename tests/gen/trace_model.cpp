#include "trace_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <variant>

namespace tlbkit::gen::testing {
namespace {

using trace::MapFlags;
using trace::Prot;
using trace::SpaceId;
using trace::SpaceKind;
using trace::ThreadId;

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kUserEnd = std::uint64_t{1} << 47;
constexpr std::uint64_t kKernelStart = 0xff00'0000'0000;
constexpr std::uint64_t kKernelEnd = std::uint64_t{1} << 48;

using VmaMap = std::map<std::uint64_t, TraceModel::Vma>;

// Cuts the VMA crossing `at`, if any, in two.
void cut(VmaMap& vmas, std::uint64_t at) {
  auto it = vmas.upper_bound(at);
  if (it == vmas.begin()) return;
  --it;
  if (it->first < at && at < it->second.end) {
    TraceModel::Vma right = it->second;
    it->second.end = at;
    vmas[at] = right;
  }
}

void remove(VmaMap& vmas, std::uint64_t start, std::uint64_t end) {
  cut(vmas, start);
  cut(vmas, end);
  vmas.erase(vmas.lower_bound(start), vmas.lower_bound(end));
}

bool overlaps(const VmaMap& vmas, std::uint64_t start, std::uint64_t end) {
  auto it = vmas.lower_bound(start);
  if (it != vmas.end() && it->first < end) return true;
  if (it == vmas.begin()) return false;
  return std::prev(it)->second.end > start;
}

// Whether [start, end) is covered by VMAs without a gap.
bool covered(const VmaMap& vmas, std::uint64_t start, std::uint64_t end) {
  auto it = vmas.upper_bound(start);
  if (it == vmas.begin()) return false;
  --it;
  std::uint64_t reached = start;
  for (; it != vmas.end() && it->first <= reached && reached < end; ++it) {
    reached = std::max(reached, it->second.end);
  }
  return reached >= end;
}

const TraceModel::Vma* find(const VmaMap& vmas, std::uint64_t addr) {
  auto it = vmas.upper_bound(addr);
  if (it == vmas.begin()) return nullptr;
  --it;
  return addr < it->second.end ? &it->second : nullptr;
}

bool allows(Prot prot, trace::AccessKind kind) {
  switch (kind) {
    case trace::AccessKind::read: return trace::has(prot, Prot::read);
    case trace::AccessKind::write: return trace::has(prot, Prot::write);
    case trace::AccessKind::fetch: return trace::has(prot, Prot::exec);
  }
  return false;
}

const char* kind_name(trace::AccessKind kind) {
  switch (kind) {
    case trace::AccessKind::read: return "read";
    case trace::AccessKind::write: return "write";
    case trace::AccessKind::fetch: return "fetch";
  }
  return "?";
}

}  // namespace

TraceModel::TraceModel(unsigned pes) : pes_(pes), running_(pes) {}

std::string TraceModel::put(const trace::Event& event) {
  ++facts_.events;
  std::string problem = check(event);
  if (!problem.empty()) return fmt::format("event {}: {}", facts_.events, problem);
  return {};
}

std::string TraceModel::check(const trace::Event& event) {
  // Which thread the event is by, for the rule on open gathers.
  const std::optional<ThreadId> by = std::visit(
      [](const auto& e) -> std::optional<ThreadId> {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, trace::Fork>) {
          return e.parent;
        } else if constexpr (requires { e.thread; }) {
          return e.thread;
        } else {
          return std::nullopt;
        }
      },
      event);
  const bool harmless = std::holds_alternative<trace::Access>(event) || std::holds_alternative<trace::Switch>(event);
  if (!harmless) {
    const std::optional<ThreadId> gatherer = other_gatherer(by.value_or(~ThreadId{0}));
    if (gatherer) return fmt::format("an event other than an access or a switch inside thread {}'s gather", *gatherer);
  }
  return std::visit([this](const auto& e) { return on(e); }, event);
}

std::optional<ThreadId> TraceModel::other_gatherer(ThreadId t) const {
  for (const auto& [id, thread] : threads_) {
    if (id != t && thread.gathering) return id;
  }
  return std::nullopt;
}

std::string TraceModel::acting(ThreadId t) const {
  const auto it = threads_.find(t);
  if (it == threads_.end()) return fmt::format("thread {} is not alive", t);
  if (!it->second.pe) return fmt::format("thread {} acts before it is placed on a PE", t);
  if (running_[*it->second.pe] != t) {
    return fmt::format("thread {} acts while PE {} runs another thread", t, *it->second.pe);
  }
  return {};
}

std::string TraceModel::check_range(const Space& s, std::uint64_t addr, std::uint64_t length) const {
  if (length == 0) return "an empty range";
  if (addr % kPage != 0 || length % kPage != 0) {
    return fmt::format("range {:#x}+{:#x} is not page-aligned", addr, length);
  }
  const std::uint64_t end = addr + length;
  if (end < addr) return "a range past the end of the address space";
  if (s.kind == SpaceKind::kernel) {
    if (addr < kKernelStart || end > kKernelEnd) {
      return fmt::format("kernel range {:#x}+{:#x} outside the kernel window", addr, length);
    }
  } else if (end > kUserEnd) {
    return fmt::format("range {:#x}+{:#x} reaches above 2^47", addr, length);
  }
  return {};
}

void TraceModel::end_space(SpaceId id) {
  const auto it = spaces_.find(id);
  if (it == spaces_.end()) return;
  if (it->second.kind == SpaceKind::process) --live_processes_;
  spaces_.erase(it);
}

void TraceModel::note_gathered(ThreadId t, SpaceId space, std::uint64_t addr, std::uint64_t length) {
  Thread& thread = threads_.at(t);
  if (thread.gathering) thread.gathered.push_back(Range{space, addr, addr + length});
}

// ---- spaces and threads --------------------------------------------------------------

std::string TraceModel::on(const trace::SpaceCreate& e) {
  if (spaces_.contains(e.space)) return fmt::format("space {} is created while alive", e.space);
  if (e.kind == SpaceKind::vm && (e.vcpus < 1 || e.vcpus > 64)) return "a VM without 1..64 vCPUs";
  Space s;
  s.kind = e.kind;
  spaces_[e.space] = std::move(s);
  if (e.kind == SpaceKind::process) {
    ++facts_.process_spaces_created;
    ++live_processes_;
    facts_.max_live_process_spaces = std::max(facts_.max_live_process_spaces, live_processes_);
  }
  return {};
}

std::string TraceModel::on(const trace::SpaceDestroy& e) {
  const auto it = spaces_.find(e.space);
  if (it == spaces_.end()) return fmt::format("destroy of space {}, which is not alive", e.space);
  if (it->second.kind == SpaceKind::process) {
    return "a process space destroyed explicitly (it ends with its last thread)";
  }
  if (it->second.threads != 0) {
    return fmt::format("space {} destroyed with {} thread(s) alive", e.space, it->second.threads);
  }
  end_space(e.space);
  return {};
}

std::string TraceModel::on(const trace::ThreadStart& e) {
  if (threads_.contains(e.thread)) return fmt::format("thread {} is started while alive", e.thread);
  const auto s = spaces_.find(e.space);
  if (s == spaces_.end()) return fmt::format("thread {} starts in space {}, which is not alive", e.thread, e.space);
  if (e.pe == trace::ThreadStart::kAnyPe) return fmt::format("thread {} is not placed on a PE", e.thread);
  if (e.pe >= pes_) return fmt::format("PE {} is beyond the trace's {} PEs", e.pe, pes_);
  if (running_[e.pe] && threads_.at(*running_[e.pe]).gathering) {
    return fmt::format("thread {} starts on PE {} inside the gather of thread {} there",
                       e.thread, e.pe, *running_[e.pe]);
  }
  Thread t;
  t.space = e.space;
  t.pe = e.pe;
  threads_[e.thread] = t;
  ++s->second.threads;
  running_[e.pe] = e.thread;
  facts_.highest_pe = std::max(facts_.highest_pe, e.pe);
  return {};
}

std::string TraceModel::on(const trace::Switch& e) {
  ++facts_.switches;
  const auto it = threads_.find(e.thread);
  if (it == threads_.end()) return fmt::format("switch to thread {}, which is not alive", e.thread);
  if (e.pe >= pes_) return fmt::format("PE {} is beyond the trace's {} PEs", e.pe, pes_);
  Thread& t = it->second;
  if (running_[e.pe] && *running_[e.pe] != e.thread && threads_.at(*running_[e.pe]).gathering) {
    return fmt::format("thread {} is switched out of PE {} inside its gather", *running_[e.pe], e.pe);
  }
  if (t.pe && *t.pe != e.pe) {
    if (t.gathering) return fmt::format("thread {} moves to PE {} inside its gather", e.thread, e.pe);
    if (running_[*t.pe] == e.thread) running_[*t.pe].reset();
  }
  t.pe = e.pe;
  running_[e.pe] = e.thread;
  facts_.highest_pe = std::max(facts_.highest_pe, e.pe);
  return {};
}

std::string TraceModel::on(const trace::Exit& e) {
  if (std::string why = acting(e.thread); !why.empty()) return why;
  Thread& t = threads_.at(e.thread);
  if (t.gathering) return fmt::format("thread {} exits inside its gather", e.thread);
  running_[*t.pe].reset();
  Space& s = spaces_.at(t.space);
  const SpaceId sid = t.space;
  threads_.erase(e.thread);
  --s.threads;
  if (s.kind == SpaceKind::process && s.threads == 0) end_space(sid);
  return {};
}

std::string TraceModel::on(const trace::Fork& e) {
  if (std::string why = acting(e.parent); !why.empty()) return why;
  const Thread& parent = threads_.at(e.parent);
  const Space& ps = spaces_.at(parent.space);
  if (ps.kind != SpaceKind::process) return "fork outside a process";
  if (threads_.contains(e.child)) return fmt::format("fork's child thread {} is alive already", e.child);
  if (spaces_.contains(e.child_space)) return fmt::format("fork's child space {} is alive already", e.child_space);
  Space child;
  child.kind = SpaceKind::process;
  child.vmas = ps.vmas;
  child.brk_start = ps.brk_start;
  child.brk_end = ps.brk_end;
  child.threads = 1;
  spaces_[e.child_space] = std::move(child);
  ++facts_.process_spaces_created;
  ++live_processes_;
  facts_.max_live_process_spaces = std::max(facts_.max_live_process_spaces, live_processes_);
  Thread c;
  c.space = e.child_space;
  threads_[e.child] = c;  // placed by the next "switch"
  return {};
}

std::string TraceModel::on(const trace::Exec& e) {
  if (std::string why = acting(e.thread); !why.empty()) return why;
  Thread& t = threads_.at(e.thread);
  if (t.gathering) return "exec inside a gather";
  if (spaces_.at(t.space).kind != SpaceKind::process) return "exec outside a process";
  if (spaces_.contains(e.space)) return fmt::format("exec into space {}, which is alive", e.space);
  Space fresh;
  fresh.kind = SpaceKind::process;
  fresh.threads = 1;
  const SpaceId old = t.space;
  spaces_[e.space] = std::move(fresh);
  t.space = e.space;
  if (--spaces_.at(old).threads == 0) end_space(old);
  ++live_processes_;
  facts_.max_live_process_spaces = std::max(facts_.max_live_process_spaces, live_processes_);
  return {};
}

// ---- memory calls ---------------------------------------------------------------------

std::string TraceModel::on(const trace::Mmap& e) {
  if (std::string why = acting(e.thread); !why.empty()) return why;
  const SpaceId sid = threads_.at(e.thread).space;
  Space& s = spaces_.at(sid);
  if (std::string why = check_range(s, e.addr, e.length); !why.empty()) return "mmap: " + why;
  const std::uint64_t end = e.addr + e.length;
  if (!trace::has(e.flags, MapFlags::fixed) && overlaps(s.vmas, e.addr, end)) {
    return fmt::format("mmap without MAP_FIXED over mapped addresses {:#x}+{:#x}", e.addr, e.length);
  }
  remove(s.vmas, e.addr, end);
  s.vmas[e.addr] = Vma{end, e.prot, e.flags};
  note_gathered(e.thread, sid, e.addr, e.length);
  return {};
}

std::string TraceModel::on(const trace::Munmap& e) {
  if (std::string why = acting(e.thread); !why.empty()) return why;
  const SpaceId sid = threads_.at(e.thread).space;
  Space& s = spaces_.at(sid);
  if (std::string why = check_range(s, e.addr, e.length); !why.empty()) return "munmap: " + why;
  if (!covered(s.vmas, e.addr, e.addr + e.length)) {
    return fmt::format("munmap of unmapped {:#x}+{:#x}", e.addr, e.length);
  }
  remove(s.vmas, e.addr, e.addr + e.length);
  note_gathered(e.thread, sid, e.addr, e.length);
  return {};
}

std::string TraceModel::on(const trace::Mprotect& e) {
  if (std::string why = acting(e.thread); !why.empty()) return why;
  const SpaceId sid = threads_.at(e.thread).space;
  Space& s = spaces_.at(sid);
  if (std::string why = check_range(s, e.addr, e.length); !why.empty()) return "mprotect: " + why;
  const std::uint64_t end = e.addr + e.length;
  if (!covered(s.vmas, e.addr, end)) return fmt::format("mprotect of unmapped {:#x}+{:#x}", e.addr, e.length);
  cut(s.vmas, e.addr);
  cut(s.vmas, end);
  for (auto it = s.vmas.lower_bound(e.addr); it != s.vmas.end() && it->first < end; ++it) it->second.prot = e.prot;
  note_gathered(e.thread, sid, e.addr, e.length);
  return {};
}

std::string TraceModel::on(const trace::Mremap&) { return "mremap, which no generator makes"; }

std::string TraceModel::on(const trace::MadviseDontneed& e) {
  if (std::string why = acting(e.thread); !why.empty()) return why;
  const SpaceId sid = threads_.at(e.thread).space;
  const Space& s = spaces_.at(sid);
  if (std::string why = check_range(s, e.addr, e.length); !why.empty()) return "madvise: " + why;
  if (!covered(s.vmas, e.addr, e.addr + e.length)) {
    return fmt::format("madvise of unmapped {:#x}+{:#x}", e.addr, e.length);
  }
  note_gathered(e.thread, sid, e.addr, e.length);
  return {};
}

std::string TraceModel::on(const trace::Brk& e) {
  if (std::string why = acting(e.thread); !why.empty()) return why;
  Space& s = spaces_.at(threads_.at(e.thread).space);
  if (s.kind != SpaceKind::process) return "brk outside a process";
  if (e.addr % kPage != 0 || e.addr >= kUserEnd) {
    return fmt::format("brk {:#x} is not a page-aligned user address", e.addr);
  }
  if (!s.brk_start) {
    s.brk_start = e.addr;
    s.brk_end = e.addr;
    return {};
  }
  if (e.addr < *s.brk_start) return "brk below the heap's start";
  if (e.addr > s.brk_end) {
    if (overlaps(s.vmas, s.brk_end, e.addr)) return "brk grows the heap over mapped addresses";
    s.vmas[s.brk_end] = Vma{e.addr, Prot::read | Prot::write, MapFlags::anonymous};
  } else if (e.addr < s.brk_end) {
    remove(s.vmas, e.addr, s.brk_end);
  }
  s.brk_end = e.addr;
  facts_.largest_heap_pages = std::max(facts_.largest_heap_pages, (s.brk_end - *s.brk_start) / kPage);
  return {};
}

std::string TraceModel::on(const trace::Reclaim& e) {
  if (std::string why = acting(e.thread); !why.empty()) return why;
  const auto it = spaces_.find(e.space);
  if (it == spaces_.end()) return fmt::format("reclaim in space {}, which is not alive", e.space);
  if (std::string why = check_range(it->second, e.addr, e.length); !why.empty()) return "reclaim: " + why;
  if (!covered(it->second.vmas, e.addr, e.addr + e.length)) {
    return fmt::format("reclaim of unmapped {:#x}+{:#x} in space {}", e.addr, e.length, e.space);
  }
  note_gathered(e.thread, e.space, e.addr, e.length);
  return {};
}

// ---- accesses and gathers -----------------------------------------------------------------

std::string TraceModel::on(const trace::Access& e) {
  if (std::string why = acting(e.thread); !why.empty()) return why;
  ++facts_.accesses;
  const SpaceId sid = threads_.at(e.thread).space;
  Space& s = spaces_.at(sid);
  const Vma* v = find(s.vmas, e.addr);
  if (v == nullptr) {
    return fmt::format("{} by thread {} at {:#x}, where no VMA of its space is", kind_name(e.kind), e.thread, e.addr);
  }
  if (!allows(v->prot, e.kind)) {
    return fmt::format("{} by thread {} at {:#x}, which its VMA's rights forbid", kind_name(e.kind), e.thread, e.addr);
  }
  const std::uint64_t page = e.addr / kPage;
  if (s.touched.insert(page).second && s.kind == SpaceKind::vm) ++facts_.vm_pages_touched;
  for (const auto& [id, other] : threads_) {
    if (id == e.thread || !other.gathering) continue;
    for (const Range& r : other.gathered) {
      if (r.space == sid && r.start <= e.addr && e.addr < r.end) {
        if (e.kind != trace::AccessKind::read) return "a racing access that is not a read";
        ++facts_.racing_reads;
        return {};
      }
    }
  }
  return {};
}

std::string TraceModel::on(const trace::GatherBegin& e) {
  if (std::string why = acting(e.thread); !why.empty()) return why;
  Thread& t = threads_.at(e.thread);
  if (t.gathering) return fmt::format("thread {} opens a gather inside its gather", e.thread);
  t.gathering = true;
  t.gathered.clear();
  return {};
}

std::string TraceModel::on(const trace::Flush& e) {
  if (std::string why = acting(e.thread); !why.empty()) return why;
  Thread& t = threads_.at(e.thread);
  if (!t.gathering) return fmt::format("thread {} flushes without a gather", e.thread);
  t.gathering = false;
  t.gathered.clear();
  return {};
}

std::string TraceModel::on(const trace::OptionNoAccesses&) { return "option accesses=none in a generated trace"; }

std::string TraceModel::finish() const {
  if (!threads_.empty()) return fmt::format("{} thread(s) alive at the end", threads_.size());
  if (!spaces_.empty()) return fmt::format("{} space(s) alive at the end", spaces_.size());
  return {};
}

}  // namespace tlbkit::gen::testing
