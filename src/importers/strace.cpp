// strace log -> trace events (docs/TRACE-FORMAT.md). The rules:
//
// LINES. Each line is "[PID] [TIMESTAMP] [[IP]] BODY". The timestamp (-t,
// -tt, -ttt, -r) and instruction pointer (-i) are dropped, and so is what
// follows a call's result (an errno's name and text, -T's "<0.000012>").
// Blank lines are skipped. Either every line of a log starts with a pid
// (-f, several -p) or none does (then all are thread 1's). A BODY is
//   NAME(ARGS) = RESULT                  a call;
//   NAME(ARGS <unfinished ...>           a call's start, kept per pid until
//   <... NAME resumed>REST               its end: both make one call. A
//                                        resumed call without its start is an
//                                        error; one resumed as
//                                        "<unfinished ...>) = ?" (its thread died
//                                        in it) and one never resumed are ignored;
//   --- SIGNAL ... ---                   ignored;
//   +++ exited with N +++, +++ killed by SIGNAL +++, +++ superseded by
//   execve in pid N +++                  below.
// Lines "strace: ..." (strace's own messages: "Process N attached") and
// " > ..." (-k's stack frames) are ignored. Anything else stops the import
// with an error at its line and column. strace's "[pid N]" form (no -o) is
// refused with a hint; -z's and -Z's logs are not read (-z prints a split
// call's end without its pid).
//
// CALLS. A call counts only if it succeeded: "= -1 ERRNO (...)" and "= ?"
// are ignored. The calls below become events; every other call (exit,
// exit_group, wait4, mlock, msync, mbind, mincore, kill, shmat and shmdt
// whose segment size is not in the log, and any name this importer does
// not know) is ignored, never an error: `-e trace=%memory,%process` prints
// only memory and process calls, and a name unknown here is one of those
// without an effect on tables. A line that is not a call at all is an
// error. Ignored calls, signals and strace messages are counted in
// ImportStats::ignored.
//   mmap(A, LEN, PROT, FLAGS, FD, OFF) = R     mmap T R LEN' PROT FLAGS
//     LEN' is LEN rounded up to 4 KiB (every length is). PROT from
//     PROT_READ, PROT_WRITE, PROT_EXEC (PROT_NONE and the other PROT_ bits
//     add nothing). FLAGS: MAP_ANONYMOUS -> anon, else file; MAP_SHARED or
//     MAP_SHARED_VALIDATE -> shared, else private; MAP_FIXED or
//     MAP_FIXED_NOREPLACE -> fixed; MAP_HUGETLB -> huge; other MAP_ bits
//     (MAP_DENYWRITE, MAP_STACK, MAP_NORESERVE, MAP_HUGE_2MB, ...) nothing.
//   munmap(A, LEN) = 0                         munmap T A LEN'
//   mprotect(A, LEN, PROT) = 0,
//   pkey_mprotect(A, LEN, PROT, KEY) = 0       mprotect T A LEN' PROT
//   mremap(OLD, OLDLEN, NEWLEN, FLAGS[, NEW]) = R
//                                              mremap T OLD OLDLEN' R NEWLEN'
//     (OLDLEN 0, which duplicates a shared mapping, is ignored; the old VMA
//     MREMAP_DONTUNMAP leaves behind is not kept.)
//   madvise(A, LEN, ADVICE) = 0                madvise T A LEN' dontneed
//     for MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_REMOVE and MADV_FREE,
//     by name or number (-X raw). The kernel may drop MADV_FREE's pages at
//     any time: they are taken as dropped now. Other advice, MADV_HUGEPAGE
//     and MADV_PAGEOUT included, marks nothing: ignored.
//   brk(A) = R                                 brk T R'
//     R' is R rounded up to 4 KiB (the heap ends at the end of the break's
//     page). brk(NULL) = R gives the first break; a brk that fails returns
//     the old break, which is emitted the same way.
//   A call whose length rounds to 0 changes nothing: ignored. A successful
//   call's ranges lie below 2^48 (x86-64 and AArch64 user VAs): one that
//   does not is an error "address 0x... out of range (48-bit user VA)", and
//   so is an address the kernel would have refused as not page-aligned.
//   Numbers are NULL, decimal or 0x-hexadecimal; flags are names or numbers
//   joined by '|'.
//
// THREADS AND SPACES. Thread ids are the pids on the lines (with -f strace
// prints each thread's tid); a log without pids is thread 1's. Space ids
// are the importer's own: 1, 2, 3 ... in order of creation, never reused
// (exec makes a new space where the tgid stays).
//   - A pid no call in the log created (the traced command; a process
//     strace -p attached to): at its first line "space S process" and
//     "thread T S", S new; T leads a process of its own.
//   - clone / clone3 / fork / vfork = C, by T. With CLONE_VM (threads,
//     vfork, posix_spawn's CLONE_VM|CLONE_VFORK): "thread C S", S T's space;
//     with CLONE_THREAD C joins T's process, else it leads one of its own
//     (a vfork child shares T's space until its exec moves it to a new
//     one). Without CLONE_VM (fork, glibc's fork as clone(... SIGCHLD)):
//     "fork T C S'", S' new, C leading a new process. Flags are found by
//     name: clone's "flags=" whatever the architecture's argument order,
//     clone3's "{flags=...}"; fork() has none, vfork() is CLONE_VM|CLONE_VFORK.
//     A C still alive (its exit was never seen) exits first.
//   - With -f a child's lines often come before its creator's call returns
//     (C's lines, then "<... clone resumed>) = C"). While a clone-like call
//     is unfinished, lines of pids not alive are held back; the call's
//     return plays C's held lines right after C's thread or fork event.
//     When no clone-like call is unfinished any more, held lines of pids no
//     call created start processes of their own (as above).
//   - execve / execveat = 0 by T: the other threads of T's process exit
//     (the kernel killed them), then "exec T S'", S' new.
//   - "+++ superseded by execve in pid N +++" on the line of L (a thread N
//     other than the leader L execs and takes L's pid): "exit L",
//     "thread L S" (S N's space), "exit N"; N's unfinished execve is L's.
//   - "+++ exited with ... +++" / "+++ killed by ... +++" of T: "exit T".
//     When T leads its process (the kernel reports a leader's end after all
//     its threads'), the process's other threads still alive exit first, in
//     order of creation: an exit_group whose other threads' lines are
//     missing (no -f) ends them all, once. exit and exit_group themselves
//     emit nothing. A "+++" line of a thread already exited is ignored, and
//     so is any other line of an exited pid no call created again.
//   - At the log's end unfinished calls are ignored and every thread still
//     alive exits (a log cut short, children strace did not follow), in
//     order of creation.
//
// OUTPUT. "option accesses=none" first (the log holds no accesses). No
// gather or flush: each call flushes at its own return. No "destroy": a
// process space goes with its last thread.
//
// ERRORS. The first thing the importer cannot read stops it: FILE:LINE:
// COLUMN, the column of the offending part (of the line holding it when a
// call spans two lines). An empty log is an error ("empty strace log").
#include "tlbkit/importers/strace.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "linux_abi.hpp"
#include "strace_syntax.hpp"

namespace tlbkit::importers {

namespace {

using strace_log::Call;
using strace_log::Piece;
using strace_log::ResultKind;
using strace_log::SyntaxError;
using trace::SpaceId;
using trace::ThreadId;

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kUserTop = std::uint64_t{1} << 48;
constexpr ThreadId kThreadWithoutPid = 1;
constexpr std::uint64_t kMaxPid = std::numeric_limits<std::uint32_t>::max();
constexpr std::string_view kUnfinished = "<unfinished ...>";

// Flag bits as the kernel defines them (the same on x86-64 and AArch64),
// for flags strace printed as numbers.
using linux_abi::kCloneThread;
using linux_abi::kCloneVfork;
using linux_abi::kCloneVm;
using linux_abi::kMapAnonymous;
using linux_abi::kMapFixed;
using linux_abi::kMapHugetlb;
using linux_abi::kMapShared;

std::uint64_t round_up(std::uint64_t v) { return (v + kPage - 1) / kPage * kPage; }

// MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTNEED_LOCKED, by name or
// number (strace -X raw / verbose).
bool drops_pages(std::string_view advice) {
  if (advice == "MADV_DONTNEED" || advice == "MADV_FREE" || advice == "MADV_REMOVE" ||
      advice == "MADV_DONTNEED_LOCKED") {
    return true;
  }
  const auto n = strace_log::numeric_flag(advice);
  return n && linux_abi::drops_pages(*n);
}

bool creates_thread(std::string_view name) {
  return name == "clone" || name == "clone3" || name == "fork" || name == "vfork";
}

// A call's text, joined from its "<unfinished ...>" line and its
// "<... NAME resumed>" line when it spans two, with where each part is.
struct CallText {
  struct Part {
    std::size_t begin = 0;  // in text
    std::uint64_t line = 0;
    unsigned column = 1;  // of text[begin] in its line
  };
  std::string text;
  std::vector<Part> parts;

  void append(std::string_view s, std::uint64_t line, unsigned column) {
    parts.push_back(Part{text.size(), line, column});
    text += s;
  }
  std::string_view name() const { return std::string_view(text).substr(0, strace_log::name_end(text, 0)); }
};

// One line of one pid, past its prefix.
struct Entry {
  std::uint32_t pid = 0;
  std::string body;
  std::uint64_t line = 0;
  unsigned column = 1;  // of body[0]
};

struct Thread {
  SpaceId space = 0;
  std::uint64_t process = 0;  // the importer's number of its thread group
  std::uint64_t order = 0;    // of creation
  bool leader = false;        // the thread whose pid is the group's tgid
};

class Importer {
 public:
  Importer(trace::LineSource& log, trace::Sink& sink, ImportStats& stats) : log_(log), sink_(sink), stats_(stats) {}

  std::optional<trace::ReadError> run() {
    std::string line;
    bool content = false;
    while (log_.next(line)) {
      ++stats_.lines;
      if (!take_line(line, content)) return error_;
    }
    if (!log_.error().empty()) {
      fail(log_.line_number() + 1, 1, log_.error());
      return error_;
    }
    if (!content) {
      fail(1, 1, "empty strace log");
      return error_;
    }
    if (!finish()) return error_;
    return std::nullopt;
  }

 private:
  trace::LineSource& log_;
  trace::Sink& sink_;
  ImportStats& stats_;
  std::optional<trace::ReadError> error_;
  std::uint64_t here_ = 0;  // the line being read: where a sink's refusal is reported

  std::map<std::uint32_t, Thread> threads_;    // alive, by pid
  std::set<std::uint32_t> exited_;             // pids that were alive once
  std::map<std::uint32_t, CallText> pending_;  // unfinished calls, by pid
  std::vector<Entry> held_;                    // lines of pids not yet created, in log order
  SpaceId last_space_ = 0;
  std::uint64_t last_process_ = 0;
  std::uint64_t last_order_ = 0;
  std::optional<bool> has_pids_;
  bool at_end_ = false;

  // ---- errors and output ------------------------------------------------------

  bool fail(std::uint64_t line, unsigned column, std::string message) {
    error_ = trace::ReadError{trace::Position{log_.name(), line, column}, std::move(message)};
    return false;
  }
  bool fail(const Entry& e, std::size_t at, std::string message) {
    return fail(e.line, e.column + static_cast<unsigned>(at), std::move(message));
  }
  bool fail(const CallText& call, const SyntaxError& error) {
    const auto part = std::find_if(call.parts.rbegin(), call.parts.rend(),
                                   [&](const CallText::Part& p) { return p.begin <= error.at; });
    return fail(part->line, part->column + static_cast<unsigned>(error.at - part->begin), error.message);
  }

  bool emit(const trace::Event& event) {
    std::string refused = sink_.put(event);
    if (!refused.empty()) return fail(here_, 1, std::move(refused));
    ++stats_.events;
    return true;
  }

  bool ignore() {
    ++stats_.ignored;
    return true;
  }

  // ---- lines --------------------------------------------------------------------

  bool take_line(std::string& line, bool& content) {
    here_ = log_.line_number();
    if (const std::size_t nul = line.find('\0'); nul != std::string::npos) {
      return fail(here_, static_cast<unsigned>(nul + 1), "binary data (NUL byte)");
    }
    while (!line.empty() && (strace_log::is_blank(line.back()) || line.back() == '\r')) line.pop_back();
    if (line.empty()) return true;
    if (!content) {
      content = true;
      if (!emit(trace::OptionNoAccesses{})) return false;
    }
    if (line.starts_with("strace: ") || line.starts_with(" > ")) return ignore();
    strace_log::Prefix prefix;
    if (auto e = strace_log::read_prefix(line, prefix)) {
      return fail(here_, static_cast<unsigned>(e->at + 1), e->message);
    }
    if (!has_pids_) has_pids_ = prefix.pid.has_value();
    if (*has_pids_ && !prefix.pid) {
      return fail(here_, 1, "no pid at the start of the line (the log's first line has one)");
    }
    if (!*has_pids_ && prefix.pid) {
      return fail(here_, 1, "a pid at the start of the line (the log's first line has none)");
    }
    if (prefix.body >= line.size()) {
      return fail(here_, static_cast<unsigned>(prefix.body + 1), "nothing after the line's pid or timestamp");
    }
    Entry entry{prefix.pid.value_or(kThreadWithoutPid), line.substr(prefix.body), here_,
                static_cast<unsigned>(prefix.body + 1)};
    return route(std::move(entry)) && play_held();
  }

  bool clone_in_flight() const {
    if (at_end_) return false;
    return std::any_of(pending_.begin(), pending_.end(),
                       [](const auto& p) { return creates_thread(p.second.name()); });
  }

  // A line of a pid: taken when the pid is alive, else held back while a
  // clone-like call may still return it, else a new process's first line.
  bool route(Entry e) {
    if (threads_.contains(e.pid)) return take(e);
    if (clone_in_flight()) {
      held_.push_back(std::move(e));
      return true;
    }
    here_ = e.line;
    if (e.body.starts_with("+++")) return on_status(e);
    if (exited_.contains(e.pid)) return ignore();
    return start_process(e.pid) && take(e);
  }

  // When no clone-like call is unfinished, the held lines are nobody's
  // child: each is routed again in log order.
  bool play_held() {
    while (!held_.empty() && !clone_in_flight()) {
      std::vector<Entry> held = std::move(held_);
      held_.clear();
      for (Entry& e : held) {
        if (!route(std::move(e))) return false;
      }
    }
    return true;
  }

  // A clone-like call returned `child`: its held lines, in order.
  bool claim(std::uint32_t child) {
    std::vector<Entry> mine;
    std::vector<Entry> others;
    for (Entry& e : held_) (e.pid == child ? mine : others).push_back(std::move(e));
    held_ = std::move(others);
    for (Entry& e : mine) {
      if (!route(std::move(e))) return false;
    }
    return true;
  }

  // A line of an alive pid.
  bool take(const Entry& e) {
    here_ = e.line;
    const std::string_view body = e.body;
    if (body.starts_with("+++")) return on_status(e);
    if (body.starts_with("---")) {
      if (body.size() < 7 || !body.ends_with("---")) return fail(e, body.size(), "truncated signal line: no '---'");
      return ignore();
    }
    if (body.starts_with("<...")) return on_resumed(e);
    if (body.ends_with(kUnfinished)) return on_unfinished(e);
    CallText call;
    call.append(body, e.line, e.column);
    return on_call(e.pid, call);
  }

  bool on_unfinished(const Entry& e) {
    const std::string_view start = std::string_view(e.body).substr(0, e.body.size() - kUnfinished.size());
    const std::size_t open = strace_log::name_end(start, 0);
    if (open == 0 || open >= start.size() || start[open] != '(') {
      return fail(e, 0, fmt::format("not an strace line: '{}'", start.substr(0, 40)));
    }
    if (const auto it = pending_.find(e.pid); it != pending_.end()) {
      return fail(e, 0, fmt::format("'{}' starts while '{}' of pid {} is unfinished", start.substr(0, open),
                                    it->second.name(), e.pid));
    }
    CallText& call = pending_[e.pid];
    call.append(start, e.line, e.column);
    return true;
  }

  // "<... NAME resumed>REST"
  bool on_resumed(const Entry& e) {
    const std::string_view body = e.body;
    const std::size_t name_at = strace_log::skip_blanks(body, 4);
    const std::size_t name_end = strace_log::name_end(body, name_at);
    const std::string_view name = body.substr(name_at, name_end - name_at);
    constexpr std::string_view kResumed = " resumed>";
    if (name.empty() || body.substr(name_end, kResumed.size()) != kResumed) {
      return fail(e, 0, "bad resumed line: expected '<... NAME resumed>'");
    }
    const auto it = pending_.find(e.pid);
    if (it == pending_.end()) {
      return fail(e, 0, fmt::format("resumed call without its start ('{}' of pid {})", name, e.pid));
    }
    if (it->second.name() != name) {
      return fail(e, name_at, fmt::format("'{}' resumed while '{}' is unfinished", name, it->second.name()));
    }
    CallText call = std::move(it->second);
    pending_.erase(it);
    const std::size_t rest = name_end + kResumed.size();
    if (strace_log::trimmed(body.substr(rest), rest).text.starts_with(kUnfinished)) return ignore();
    call.append(body.substr(rest), e.line, e.column + static_cast<unsigned>(rest));
    return on_call(e.pid, call);
  }

  // "+++ exited with N +++", "+++ killed by SIGNAL +++",
  // "+++ superseded by execve in pid N +++"
  bool on_status(const Entry& e) {
    const std::string_view body = e.body;
    if (body.size() < 7 || !body.ends_with("+++")) return fail(e, body.size(), "truncated '+++' line: no '+++'");
    const Piece inner = strace_log::trimmed(body.substr(3, body.size() - 6), 3);
    if (inner.text.starts_with("exited with ") || inner.text.starts_with("killed by ")) {
      if (!threads_.contains(e.pid)) return ignore();
      if (threads_.at(e.pid).leader && !exit_others(e.pid)) return false;
      return exit_thread(e.pid);
    }
    constexpr std::string_view kSuperseded = "superseded by execve in pid ";
    if (inner.text.starts_with(kSuperseded)) {
      const Piece pid{inner.text.substr(kSuperseded.size()), inner.at + kSuperseded.size()};
      std::uint64_t n = 0;
      if (auto err = strace_log::read_number(pid, "pid", n)) return fail(e, err->at, err->message);
      if (n == 0 || n > kMaxPid) return fail(e, pid.at, fmt::format("bad pid '{}'", pid.text));
      return supersede(e.pid, static_cast<std::uint32_t>(n));
    }
    return fail(e, inner.at, fmt::format("unknown '+++' line: '{}'", inner.text));
  }

  // ---- threads, processes, spaces ------------------------------------------

  bool start_process(std::uint32_t pid) {
    const SpaceId space = ++last_space_;
    if (!emit(trace::SpaceCreate{space, trace::SpaceKind::process, 0})) return false;
    if (!emit(trace::ThreadStart{pid, space})) return false;
    threads_[pid] = Thread{space, ++last_process_, ++last_order_, true};
    exited_.erase(pid);
    return true;
  }

  bool exit_thread(std::uint32_t pid) {
    if (pending_.erase(pid) != 0) ++stats_.ignored;
    threads_.erase(pid);
    exited_.insert(pid);
    return emit(trace::Exit{pid});
  }

  // The pids of `which` threads, in order of creation.
  template <typename Pred>
  std::vector<std::uint32_t> threads_where(Pred which) const {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> found;
    for (const auto& [pid, t] : threads_) {
      if (which(pid, t)) found.emplace_back(t.order, pid);
    }
    std::sort(found.begin(), found.end());
    std::vector<std::uint32_t> pids;
    for (const auto& f : found) pids.push_back(f.second);
    return pids;
  }

  // Every other thread of pid's process exits.
  bool exit_others(std::uint32_t pid) {
    const std::uint64_t process = threads_.at(pid).process;
    for (const std::uint32_t other :
         threads_where([&](std::uint32_t p, const Thread& t) { return p != pid && t.process == process; })) {
      if (!exit_thread(other)) return false;
    }
    return true;
  }

  // N exec'd and took the leader L's pid.
  bool supersede(std::uint32_t leader, std::uint32_t execing) {
    const auto it = threads_.find(execing);
    if (it == threads_.end() || execing == leader) return ignore();
    Thread moved = it->second;
    moved.leader = true;
    if (threads_.contains(leader) && !exit_thread(leader)) return false;
    if (!emit(trace::ThreadStart{leader, moved.space})) return false;
    threads_[leader] = moved;
    exited_.erase(leader);
    if (const auto p = pending_.find(execing); p != pending_.end()) {
      pending_[leader] = std::move(p->second);
      pending_.erase(p);
    }
    return exit_thread(execing);
  }

  bool finish() {
    at_end_ = true;
    if (!play_held()) return false;
    stats_.ignored += pending_.size();
    pending_.clear();
    for (const std::uint32_t pid : threads_where([](std::uint32_t, const Thread&) { return true; })) {
      if (!exit_thread(pid)) return false;
    }
    return true;
  }

  // ---- calls --------------------------------------------------------------------

  bool on_call(std::uint32_t pid, const CallText& call) {
    Call c;
    if (auto e = strace_log::read_call(call.text, c)) return fail(call, *e);
    if (c.result != ResultKind::value) return ignore();
    const std::string_view n = c.name;
    if (n == "mmap") return on_mmap(pid, call, c);
    if (n == "munmap") return on_munmap(pid, call, c);
    if (n == "mprotect" || n == "pkey_mprotect") return on_mprotect(pid, call, c);
    if (n == "mremap") return on_mremap(pid, call, c);
    if (n == "madvise") return on_madvise(pid, call, c);
    if (n == "brk") return on_brk(pid, call, c);
    if (creates_thread(n)) return on_clone(pid, call, c);
    if (n == "execve" || n == "execveat") return on_exec(pid);
    return ignore();
  }

  bool arity(const CallText& call, const Call& c, std::size_t least, std::size_t most) {
    if (c.args.size() >= least && c.args.size() <= most) return true;
    const std::string expected = least == most ? fmt::format("{}", least) : fmt::format("{} to {}", least, most);
    return fail(call, SyntaxError{c.open + 1, fmt::format("'{}' takes {} arguments, not {}", c.name, expected,
                                                          c.args.size())});
  }

  bool number(const CallText& call, Piece p, const char* what, std::uint64_t& out) {
    if (auto e = strace_log::read_number(p, what, out)) return fail(call, *e);
    return true;
  }

  // [addr, addr + length) must be page-aligned at its start and lie below
  // 2^48; `pages` is the length rounded up to 4 KiB.
  bool user_range(const CallText& call, std::uint64_t addr, std::size_t addr_at, std::uint64_t length,
                  std::size_t length_at, std::uint64_t& pages) {
    if (addr >= kUserTop) {
      return fail(call, SyntaxError{addr_at, fmt::format("address {:#x} out of range (48-bit user VA)", addr)});
    }
    if (addr % kPage != 0) {
      return fail(call, SyntaxError{addr_at, fmt::format("address {:#x} is not 4 KiB-aligned", addr)});
    }
    if (length > kUserTop - addr) {
      return fail(call, SyntaxError{length_at, fmt::format("address {:#x} + length {:#x} out of range "
                                                           "(48-bit user VA)",
                                                           addr, length)});
    }
    pages = round_up(length);
    return true;
  }

  bool prot(const CallText& call, Piece p, trace::Prot& out) {
    out = trace::Prot::none;
    for (const Piece& part : strace_log::flag_parts(p)) {
      const std::string_view f = part.text;
      std::uint64_t bits = 0;
      if (f == "PROT_READ") {
        bits = 1;
      } else if (f == "PROT_WRITE") {
        bits = 2;
      } else if (f == "PROT_EXEC") {
        bits = 4;
      } else if (const auto v = strace_log::numeric_flag(f)) {
        bits = *v;
      } else if (!f.starts_with("PROT_")) {
        return fail(call, SyntaxError{part.at, fmt::format("unknown protection '{}'", f)});
      }
      out = out | static_cast<trace::Prot>(bits & 7);
    }
    return true;
  }

  bool map_flags(const CallText& call, Piece p, trace::MapFlags& out) {
    using trace::MapFlags;
    out = MapFlags::none;
    for (const Piece& part : strace_log::flag_parts(p)) {
      const std::string_view f = part.text;
      std::uint64_t bits = 0;
      if (f == "MAP_SHARED" || f == "MAP_SHARED_VALIDATE") {
        bits = kMapShared;
      } else if (f == "MAP_ANONYMOUS" || f == "MAP_ANON") {
        bits = kMapAnonymous;
      } else if (f == "MAP_FIXED" || f == "MAP_FIXED_NOREPLACE") {
        bits = kMapFixed;
      } else if (f == "MAP_HUGETLB") {
        bits = kMapHugetlb;
      } else if (f.ends_with("<<MAP_HUGE_SHIFT")) {
        bits = 0;  // the huge page size
      } else if (const auto v = strace_log::numeric_flag(f)) {
        bits = *v;
      } else if (!f.starts_with("MAP_")) {
        return fail(call, SyntaxError{part.at, fmt::format("unknown mmap flag '{}'", f)});
      }
      out = out | linux_abi::map_flags_of(bits);
    }
    return true;
  }

  bool emit_call(const trace::Event& event) {
    ++stats_.calls;
    return emit(event);
  }

  // mmap(A, LEN, PROT, FLAGS, FD, OFF) = R
  bool on_mmap(std::uint32_t pid, const CallText& call, const Call& c) {
    if (!arity(call, c, 6, 6)) return false;
    trace::Mmap e{pid, c.value, 0, trace::Prot::none, trace::MapFlags::none};
    std::uint64_t length = 0;
    if (!number(call, c.args[1], "length", length) || !prot(call, c.args[2], e.prot) ||
        !map_flags(call, c.args[3], e.flags) ||
        !user_range(call, c.value, c.result_at, length, c.args[1].at, e.length)) {
      return false;
    }
    return e.length == 0 ? ignore() : emit_call(e);
  }

  // munmap(A, LEN) = 0
  bool on_munmap(std::uint32_t pid, const CallText& call, const Call& c) {
    if (!arity(call, c, 2, 2)) return false;
    trace::Munmap e{pid, 0, 0};
    std::uint64_t length = 0;
    if (!number(call, c.args[0], "address", e.addr) || !number(call, c.args[1], "length", length) ||
        !user_range(call, e.addr, c.args[0].at, length, c.args[1].at, e.length)) {
      return false;
    }
    return e.length == 0 ? ignore() : emit_call(e);
  }

  // mprotect(A, LEN, PROT) = 0, pkey_mprotect(A, LEN, PROT, KEY) = 0
  bool on_mprotect(std::uint32_t pid, const CallText& call, const Call& c) {
    const std::size_t args = c.name == "mprotect" ? 3 : 4;
    if (!arity(call, c, args, args)) return false;
    trace::Mprotect e{pid, 0, 0, trace::Prot::none};
    std::uint64_t length = 0;
    if (!number(call, c.args[0], "address", e.addr) || !number(call, c.args[1], "length", length) ||
        !prot(call, c.args[2], e.prot) || !user_range(call, e.addr, c.args[0].at, length, c.args[1].at, e.length)) {
      return false;
    }
    return e.length == 0 ? ignore() : emit_call(e);
  }

  // mremap(OLD, OLDLEN, NEWLEN, FLAGS[, NEW]) = R
  bool on_mremap(std::uint32_t pid, const CallText& call, const Call& c) {
    if (!arity(call, c, 4, 5)) return false;
    trace::Mremap e{pid, 0, 0, c.value, 0};
    std::uint64_t old_length = 0;
    std::uint64_t new_length = 0;
    if (!number(call, c.args[0], "address", e.old_addr) || !number(call, c.args[1], "length", old_length) ||
        !number(call, c.args[2], "length", new_length) ||
        !user_range(call, e.old_addr, c.args[0].at, old_length, c.args[1].at, e.old_length) ||
        !user_range(call, e.new_addr, c.result_at, new_length, c.args[2].at, e.new_length)) {
      return false;
    }
    return e.old_length == 0 || e.new_length == 0 ? ignore() : emit_call(e);
  }

  // madvise(A, LEN, ADVICE) = 0
  bool on_madvise(std::uint32_t pid, const CallText& call, const Call& c) {
    if (!arity(call, c, 3, 3)) return false;
    if (!drops_pages(strace_log::without_comment(c.args[2]).text)) return ignore();
    trace::MadviseDontneed e{pid, 0, 0};
    std::uint64_t length = 0;
    if (!number(call, c.args[0], "address", e.addr) || !number(call, c.args[1], "length", length) ||
        !user_range(call, e.addr, c.args[0].at, length, c.args[1].at, e.length)) {
      return false;
    }
    return e.length == 0 ? ignore() : emit_call(e);
  }

  // brk(A) = R
  bool on_brk(std::uint32_t pid, const CallText& call, const Call& c) {
    if (!arity(call, c, 1, 1)) return false;
    if (c.value >= kUserTop || round_up(c.value) >= kUserTop) {
      return fail(call, SyntaxError{c.result_at, fmt::format("address {:#x} out of range (48-bit user VA)", c.value)});
    }
    return emit_call(trace::Brk{pid, round_up(c.value)});
  }

  bool clone_flags(const CallText& call, Piece p, std::uint64_t& out) {
    out = 0;
    for (const Piece& part : strace_log::flag_parts(p)) {
      const std::string_view f = part.text;
      if (f == "CLONE_VM") {
        out |= kCloneVm;
      } else if (f == "CLONE_THREAD") {
        out |= kCloneThread;
      } else if (f == "CLONE_VFORK") {
        out |= kCloneVfork;
      } else if (const auto v = strace_log::numeric_flag(f)) {
        out |= *v;
      } else if (f.empty() || !std::all_of(f.begin(), f.end(), [](char ch) {
                   return (ch >= 'A' && ch <= 'Z') || strace_log::is_digit(ch) || ch == '_';
                 })) {
        return fail(call, SyntaxError{part.at, fmt::format("bad clone flag '{}'", f)});
      }
    }
    return true;
  }

  // clone(..., flags=F, ...) / clone3({flags=F, ...}, SIZE) / fork() / vfork() = C
  bool on_clone(std::uint32_t pid, const CallText& call, const Call& c) {
    std::uint64_t flags = 0;
    if (c.name == "clone") {
      const auto f = strace_log::field(c.args, "flags");
      if (!f) return fail(call, SyntaxError{c.open + 1, "clone without 'flags='"});
      if (!clone_flags(call, *f, flags)) return false;
    } else if (c.name == "clone3") {
      if (c.args.empty() || !c.args[0].text.starts_with('{')) {
        return fail(call, SyntaxError{c.open + 1, "clone3 without its '{flags=...}' argument"});
      }
      strace_log::Group fields;
      if (auto e = strace_log::read_group(call.text, c.args[0].at, fields)) return fail(call, *e);
      const auto f = strace_log::field(fields.items, "flags");
      if (!f) return fail(call, SyntaxError{c.args[0].at, "clone3 without 'flags='"});
      if (!clone_flags(call, *f, flags)) return false;
    } else if (c.name == "vfork") {
      flags = kCloneVm | kCloneVfork;
    }
    if (c.value == 0 || c.value > kMaxPid) {
      return fail(call, SyntaxError{c.result_at, fmt::format("bad child pid {}", c.value)});
    }
    const auto child = static_cast<std::uint32_t>(c.value);
    const Thread parent = threads_.at(pid);
    if (threads_.contains(child) && !exit_thread(child)) return false;
    ++stats_.calls;
    if ((flags & kCloneVm) != 0) {
      const bool same_process = (flags & kCloneThread) != 0;
      if (!emit(trace::ThreadStart{child, parent.space})) return false;
      threads_[child] = Thread{parent.space, same_process ? parent.process : ++last_process_, ++last_order_,
                               !same_process};
    } else {
      const SpaceId space = ++last_space_;
      if (!emit(trace::Fork{pid, child, space})) return false;
      threads_[child] = Thread{space, ++last_process_, ++last_order_, true};
    }
    exited_.erase(child);
    return claim(child);
  }

  // execve(...) / execveat(...) = 0
  bool on_exec(std::uint32_t pid) {
    if (!exit_others(pid)) return false;
    const SpaceId space = ++last_space_;
    ++stats_.calls;
    if (!emit(trace::Exec{pid, space})) return false;
    Thread& t = threads_.at(pid);
    t.space = space;
    t.leader = true;
    return true;
  }
};

}  // namespace

std::optional<trace::ReadError> import_strace(trace::LineSource& log, trace::Sink& sink, ImportStats* stats) {
  ImportStats local;
  Importer importer(log, sink, stats != nullptr ? *stats : local);
  return importer.run();
}

}  // namespace tlbkit::importers
