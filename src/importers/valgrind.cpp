// Imports the log of
//   valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes --log-file=LOG CMD
// (valgrind 3.19 checked, on x86-64; AArch64 logs differ only in how
// sys_mmap prints its flags, which both forms below cover).
//
// THE LOG. Every line is one of:
//   "I  ADDR,SIZE"   an instruction fetch    (ADDR hexadecimal without 0x,
//   " L ADDR,SIZE"   a data read              SIZE decimal bytes)
//   " S ADDR,SIZE"   a data write
//   " M ADDR,SIZE"   a modify (read and write of the same bytes)
//   "SYSCALL[PID,TID](NR) NAME ( ARGS )[sync] --> RESULT "
//   "SYSCALL[PID,TID](NR) NAME ( ARGS ) --> [pre-success] RESULT "
//   "SYSCALL[PID,TID](NR) NAME ( ARGS ) --> [pre-fail] RESULT "
//   "SYSCALL[PID,TID](NR) NAME ( ARGS ) --> [async] ... "
//                          a call that may block; its result comes later on
//   "SYSCALL[PID,TID](NR) ... [async] --> RESULT "
//   "SYSCALL[PID,TID](NR) TEXT" without "-->" (an unimplemented call, a
//                          fork's "clone(fork): process P created child C"),
//                          its result on the next line: " --> [pre-...] RESULT "
//   "==PID== text", "--PID-- text", "**PID** text"   valgrind's own messages
//   ""                     see "Threads" below
// RESULT is "Success(0xVALUE)", "Failure(0xERRNO)" or "NoWriteResult". The
// numbers in ARGS are decimal or 0x-hexadecimal (x86-64 prints mmap's flags
// in decimal, AArch64 in hexadecimal). Anything else is "unrecognised line"
// (most often the program's own output: record with --log-file).
//
// A SYSCALL line's end is printed after the call's post-processing; a call
// that yields there (clone, so the new thread may run) lets other threads
// print first, so their lines are glued to its end ("... Success(0x2268) I
// 0494fb42,3") and its "\n" turns up later as an empty line. The text after
// "RESULT " is read as a line of its own.
//
// ACCESSES. I -> fetch (x), L -> read (r), S -> write (w), M -> write: a
// modify reads and writes the same bytes, and for page tables the write is
// all that matters (the read is served by the same present, writable page).
// An access is reduced to the 4 KiB pages its bytes [ADDR, ADDR + SIZE)
// touch (one, or two when it crosses a page boundary; SIZE 0 touches ADDR's
// page), each page an event at the page's address, in address order.
//
// COLLAPSING. Fetches and data accesses are two streams (instruction and
// data side: every instruction line interleaves with the data lines of its
// instruction, so collapsing by adjacent lines alone would keep nearly
// everything). A page access is dropped, not emitted, when the previous
// page access of the same stream was to the same page, with a kind that
// covers it (a read is covered by a read or a write; a write by a write; a
// fetch by a fetch), and since then no other event was emitted (a memory
// call, a thread's start or exit, an implied VMA) and the running thread
// did not change. So "r P, r P, w P, r P, w P" is "r P, w P": the write
// after reads is kept, since it may take a write fault (copy-on-write, a
// dirty bit); reads and writes after a write are not. A fetch and a data
// access never collapse into each other (the execute right and the data
// rights are checked separately).
//
// THREADS. Thread ids are valgrind's thread numbers (the TID of
// "SYSCALL[PID,TID]"; 1 is the main thread), not Linux tids: valgrind
// reuses a number after its thread has exited, which the trace allows
// (ids are unique while alive). A thread starts ("thread T 1") at its
// first SYSCALL line, and ends at its "exit" call ("exit T"); "exit_group"
// ends every thread, the others first in increasing order. Access lines
// carry no thread, and lackey does not log valgrind's thread switches
// (valgrind runs one thread at a time: they switch when the running one
// blocks in a call, yields, exits, or after its time slice). Accesses are
// attributed to the running thread, which is known only as follows:
//   1. A SYSCALL line's thread is running (its call, or the completion of
//      its blocking call).
//   2. A thread blocked in a call ("[async] ...") makes no accesses: the
//      running thread becomes the live thread that ran most recently before
//      it, if there is one (else it stays, and the accesses are really a
//      thread's not yet seen).
//   3. The same when a line is glued to a thread's SYSCALL line (the thread
//      yielded there), and when the running thread exits.
//   4. An empty line ends a SYSCALL line a line was glued to: that line's
//      thread is running again.
// LIMITATION: switches at the end of a time slice are not in the log, and
// a new thread's accesses before its first call (from clone's return to
// set_robust_list, some 70 lines in glibc) are attributed to the thread
// that ran before it. Single-threaded programs (the main case) are exact.
//
// SPACES. One process space, 1, whose first thread is 1: the output starts
// "space 1 process", "thread 1 1" (before the first access or call). Lines
// of another process (valgrind follows a fork into the same log file) are
// refused: record with --log-file=NAME.%p for one log per process. A fork
// in this process's log (clone without CLONE_VM) is not modelled (its
// copy-on-write is not in the trace), nor is execve.
//
// MEMORY CALLS, as the strace importer takes them: failed calls are
// ignored; lengths are rounded up to whole 4 KiB pages, and a call whose
// length rounds to 0 changes nothing (ignored).
//   sys_mmap -> "mmap T RESULT LEN PROT FLAGS": MAP_ANONYMOUS 0x20 -> anon
//     else file; MAP_SHARED 0x01 or MAP_SHARED_VALIDATE 0x03 -> shared else
//     private; MAP_FIXED 0x10 or MAP_FIXED_NOREPLACE 0x100000 -> fixed;
//     MAP_HUGETLB 0x40000 -> huge; PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4
//     (the Linux values, the same on x86-64 and AArch64; other bits add
//     nothing).
//   sys_munmap -> "munmap"; sys_mprotect, sys_pkey_mprotect -> "mprotect".
//   sys_mremap -> "mremap T OLD OLDLEN RESULT NEWLEN" (OLDLEN 0, which
//     duplicates a shared mapping, is ignored; MREMAP_DONTUNMAP is taken as
//     a plain move).
//   sys_madvise with MADV_DONTNEED 4, MADV_FREE 8 (its pages may go at any
//     time: taken as gone now), MADV_REMOVE 9 or MADV_DONTNEED_LOCKED 24 ->
//     "madvise T ADDR LEN dontneed" when the call completes (it may block);
//     other advice is ignored.
//   sys_brk -> "brk T R" with the returned break R rounded up to a page:
//     the first sets the heap's start; one that leaves the rounded break
//     where it was (a failed brk returns the old break) has no memory effect
//     and is ignored.
//   exit -> "exit T"; exit_group -> "exit" of every live thread.
// Every other call is ignored (counted in ImportStats::ignored).
//
// IMPLIED VMAS. Much of what the program touches no call of the log mapped:
// the program and ld.so (valgrind loads them itself), the initial stack,
// valgrind's pages the client runs. The importer tracks the VMAs the trace
// has made so far (mmap, munmap, mremap, brk, and its own implied ones).
// Before the first access to a page outside all of them it emits "mmap T
// START LEN PROT anon,private,fixed" of the page's 64 KiB-aligned chunk,
// cut to the free range around the page so it overlaps no known VMA; PROT
// is r-x when that first access is a fetch, else rw-. An access that an
// implied VMA's rights do not allow (a fetch from an rw- one, a write to an
// r-x one: ld.so's text and data share chunks) is preceded by "mprotect T
// START LEN PROT" adding the right to the whole implied VMA (what of it no
// call has cut off since), so each implied VMA gains each right once at
// most. A successful mprotect or mremap (which fail on unmapped memory)
// first gets an implied rw- "mmap" of each part of its range that no known
// VMA holds. ImportStats::implied_vmas counts these mmaps and mprotects;
// later calls may cut or replace implied VMAs like any other.
//
// ERRORS ("FILE:LINE:COLUMN: what"): an unrecognised line; a bad
// hexadecimal address or decimal size; an access line without ",SIZE"; an
// address (or access end, or range) beyond 2^48; a malformed SYSCALL line
// or memory call; binary data (NUL bytes); a line of another process; an
// access after exit_group; an empty log; a log without access lines (not
// --trace-mem=yes) or without SYSCALL lines (not --trace-syscalls=yes).
#include "tlbkit/importers/valgrind.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "linux_abi.hpp"
#include "valgrind_vmas.hpp"

namespace tlbkit::importers {

namespace {

using trace::AccessKind;
using trace::MapFlags;
using trace::Prot;
using trace::ThreadId;
using valgrind::KnownVma;

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kChunk = 0x10000;  // an implied VMA's size and alignment at most
constexpr std::uint64_t kInputSpace = std::uint64_t{1} << 48;
constexpr trace::SpaceId kSpace = 1;
constexpr ThreadId kMainThread = 1;

// Linux's values (asm-generic/mman-common.h, linux/mman.h): x86-64 and
// AArch64 share them.

constexpr std::string_view kUnrecognised =
    "unrecognised line (not an access, a SYSCALL line or a valgrind message; "
    "was the program's own output mixed in? record with --log-file)";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool blank(std::string_view s) { return s.find_first_not_of(" \t") == std::string_view::npos; }

unsigned width(std::size_t n) { return static_cast<unsigned>(n); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 1 to 16 hexadecimal digits, nothing else.
std::optional<std::uint64_t> parse_hex(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  return v;
}

// Decimal digits, nothing else, below 2^64.
std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// A call's argument: "0x1f", "34", "-1" (as a 64-bit two's complement).
std::optional<std::uint64_t> parse_argument(std::string_view s) {
  if (starts_with(s, "0x") || starts_with(s, "0X")) return parse_hex(s.substr(2));
  if (starts_with(s, "-")) {
    const std::optional<std::uint64_t> v = parse_decimal(s.substr(1));
    if (!v) return std::nullopt;
    return ~*v + 1;
  }
  return parse_decimal(s);
}

std::uint64_t page_up(std::uint64_t n) { return (n + kPage - 1) & ~(kPage - 1); }


Prot right_for(AccessKind kind) {
  switch (kind) {
    case AccessKind::read: return Prot::read;
    case AccessKind::write: return Prot::write;
    case AccessKind::fetch: return Prot::exec;
  }
  return Prot::read;
}

// Whether a page access of kind `next` adds nothing to one of kind `last`.
bool covers(AccessKind last, AccessKind next) {
  return last == next || (last == AccessKind::write && next == AccessKind::read);
}

enum class CallKind : std::uint8_t { other, mmap, munmap, mprotect, mremap, madvise, brk, exit, exit_group };

struct CallShape {
  std::string_view name;
  CallKind kind;
  std::size_t min_args;  // how many numeric arguments it prints
  std::size_t max_args;
};

// The calls the importer reads the arguments of (the names valgrind's
// wrappers print, the same on x86-64 and AArch64).
constexpr CallShape kShapes[] = {
    {"sys_mmap", CallKind::mmap, 6, 6},         {"sys_munmap", CallKind::munmap, 2, 2},
    {"sys_mprotect", CallKind::mprotect, 3, 3}, {"sys_pkey_mprotect", CallKind::mprotect, 4, 4},
    {"sys_mremap", CallKind::mremap, 4, 5},     {"sys_madvise", CallKind::madvise, 3, 3},
    {"sys_brk", CallKind::brk, 1, 1},           {"exit", CallKind::exit, 0, 1},
    {"exit_group", CallKind::exit_group, 0, 1},
};

// A call read from its SYSCALL line, waiting for (or given) its result.
struct Call {
  ThreadId thread = 0;
  CallKind kind = CallKind::other;
  std::string name;
  std::vector<std::uint64_t> args;
};

// The last page access emitted in one stream (fetches, data).
struct LastAccess {
  bool valid = false;
  std::uint64_t page = 0;
  AccessKind kind = AccessKind::read;
};

class Importer {
 public:
  Importer(trace::LineSource& log, trace::Sink& sink, ImportStats& stats) : log_(log), sink_(sink), stats_(stats) {}

  std::optional<trace::ReadError> run() {
    std::string text;
    while (log_.next(text)) {
      stats_.lines = log_.line_number();
      if (!line(text, 1)) return error_;
    }
    if (!log_.error().empty()) {
      return trace::ReadError{trace::Position{log_.name(), log_.line_number() + 1, 1}, log_.error()};
    }
    if (log_.line_number() == 0) return trace::ReadError{trace::Position{log_.name(), 1, 1}, "empty valgrind log"};
    if (access_lines_ == 0) {
      return at_end("no access lines: not a log of valgrind --tool=lackey --trace-mem=yes");
    }
    if (syscall_lines_ == 0) return at_end("no SYSCALL lines: not a log of valgrind --trace-syscalls=yes");
    return std::nullopt;
  }

 private:
  // ---- errors and output ----------------------------------------------------

  bool fail(unsigned column, std::string message) {
    error_ = trace::ReadError{trace::Position{log_.name(), log_.line_number(), column}, std::move(message)};
    return false;
  }

  trace::ReadError at_end(std::string message) {
    return trace::ReadError{trace::Position{log_.name(), log_.line_number(), 1}, std::move(message)};
  }

  bool put(const trace::Event& event) {
    if (!std::holds_alternative<trace::Access>(event)) forget_accesses();
    if (std::string refused = sink_.put(event); !refused.empty()) return fail(1, std::move(refused));
    ++stats_.events;
    return true;
  }

  void forget_accesses() {
    last_data_ = LastAccess{};
    last_fetch_ = LastAccess{};
  }

  // ---- lines ----------------------------------------------------------------

  // One line (or the part of one glued to a SYSCALL line), whose first
  // character is at `column`.
  bool line(std::string_view text, unsigned column) {
    if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
      return fail(column + width(nul), "binary data (NUL byte): not a valgrind log");
    }
    if (blank(text)) {
      // Rule 4: the end of a SYSCALL line another line was glued to.
      if (unterminated_ && alive(*unterminated_)) make_running(*unterminated_);
      unterminated_.reset();
      return true;
    }
    if (starts_with(text, "I  ")) return access_line(AccessKind::fetch, text.substr(3), column + 3);
    if (text.size() >= 3 && text[0] == ' ' && text[2] == ' ') {
      switch (text[1]) {
        case 'L': return access_line(AccessKind::read, text.substr(3), column + 3);
        case 'S': return access_line(AccessKind::write, text.substr(3), column + 3);
        case 'M': return access_line(AccessKind::write, text.substr(3), column + 3);  // a modify: the write counts
        default: break;
      }
    }
    if (starts_with(text, "SYSCALL[")) return syscall_line(text, column);
    const std::size_t first = text.find_first_not_of(" \t");
    if (starts_with(text.substr(first), "-->")) {
      return continuation_line(text.substr(first + 3), column + width(first) + 3);
    }
    if (const std::optional<std::uint64_t> pid = message_pid(text)) return check_pid(*pid, column + 2);
    return fail(column, std::string(kUnrecognised));
  }

  // "==PID==", "--PID--" or "**PID**" at the start, then the end or a blank.
  static std::optional<std::uint64_t> message_pid(std::string_view text) {
    for (std::string_view mark : {"==", "--", "**"}) {
      if (!starts_with(text, mark)) continue;
      const std::size_t close = text.find(mark, 2);
      if (close == std::string_view::npos) return std::nullopt;
      const std::optional<std::uint64_t> pid = parse_decimal(text.substr(2, close - 2));
      const std::string_view after = text.substr(close + 2);
      if (pid && (after.empty() || after[0] == ' ')) return pid;
      return std::nullopt;
    }
    return std::nullopt;
  }

  bool check_pid(std::uint64_t pid, unsigned column) {
    if (!pid_) {
      pid_ = pid;
      return true;
    }
    if (pid == *pid_) return true;
    return fail(column, fmt::format("a line of process {} in the log of process {} (valgrind followed a fork into the "
                                    "same log file): record with --log-file=NAME.%p for one log per process",
                                    pid, *pid_));
  }

  // "ADDR,SIZE" after the kind.
  bool access_line(AccessKind kind, std::string_view text, unsigned column) {
    const std::size_t comma = text.find(',');
    if (comma == std::string_view::npos) {
      return fail(column + width(text.size()), "truncated access line: expected ADDR,SIZE");
    }
    const std::string_view addr_text = text.substr(0, comma);
    const std::optional<std::uint64_t> addr = parse_hex(addr_text);
    if (!addr) return fail(column, fmt::format("bad hexadecimal address '{}'", addr_text));
    if (*addr >= kInputSpace) {
      return fail(column, fmt::format("out of range: address {:#x} is beyond the 48-bit input space", *addr));
    }
    std::string_view size_text = text.substr(comma + 1);
    const unsigned size_column = column + width(comma) + 1;
    if (size_text.empty()) return fail(size_column, "truncated access line: expected a size after ','");
    size_text = size_text.substr(0, size_text.find_last_not_of(" \t") + 1);
    const std::optional<std::uint64_t> size = parse_decimal(size_text);
    if (!size) return fail(size_column, fmt::format("bad size '{}' (a decimal byte count)", size_text));
    const std::uint64_t span = std::max<std::uint64_t>(*size, 1);
    if (span > kInputSpace - *addr) {
      return fail(size_column,
                  fmt::format("out of range: {} bytes at {:#x} end beyond the 48-bit input space", *size, *addr));
    }
    ++access_lines_;
    if (exited_) return fail(column, "access after the process exited (exit_group)");
    if (!start()) return false;
    if (!running_) return fail(column, "access while no thread of the process is alive");
    const std::uint64_t last_page = (*addr + span - 1) & ~(kPage - 1);
    for (std::uint64_t page = *addr & ~(kPage - 1); page <= last_page; page += kPage) {
      if (!touch(page, kind)) return false;
    }
    return true;
  }

  // "SYSCALL[PID,TID](NR) REST"
  bool syscall_line(std::string_view text, unsigned column) {
    const auto malformed = [&](std::size_t at) {
      return fail(column + width(at), "malformed SYSCALL line: expected SYSCALL[PID,TID](NR) ...");
    };
    std::size_t at = 8;  // after "SYSCALL["
    const std::size_t comma = text.find(',', at);
    if (comma == std::string_view::npos) return malformed(at);
    const std::optional<std::uint64_t> pid = parse_decimal(text.substr(at, comma - at));
    if (!pid) return malformed(at);
    at = comma + 1;
    const std::size_t close = text.find("](", at);
    if (close == std::string_view::npos) return malformed(at);
    const std::optional<std::uint64_t> tid = parse_decimal(text.substr(at, close - at));
    if (!tid || *tid == 0 || *tid > UINT32_MAX) return malformed(at);
    at = close + 2;
    const std::size_t number_end = text.find(')', at);
    if (number_end == std::string_view::npos || number_end == at) return malformed(at);
    at = number_end + 1;
    if (at < text.size() && text[at] == ' ') ++at;
    if (!check_pid(*pid, column + 8)) return false;
    if (exited_) {  // a late line of a thread exit_group ended
      ++stats_.ignored;
      return true;
    }
    ++syscall_lines_;
    const auto thread = static_cast<ThreadId>(*tid);
    if (!start() || !ensure_thread(thread)) return false;
    make_running(thread);  // rule 1

    const std::string_view rest = text.substr(at);
    const unsigned rest_column = column + width(at);
    if (starts_with(rest, "... [async]")) {
      // The completion of the thread's blocking call.
      const std::size_t arrow = rest.find("-->");
      if (arrow == std::string_view::npos) {
        return fail(rest_column, "malformed SYSCALL line: expected '-->' and a result");
      }
      std::optional<Call> call;
      if (auto it = pending_.find(thread); it != pending_.end()) {
        call = std::move(it->second);
        pending_.erase(it);
      }
      return finish(std::move(call), thread, rest.substr(arrow + 3), rest_column + width(arrow) + 3);
    }
    if (awaiting_) {  // a call whose result line never came
      ++stats_.ignored;
      awaiting_.reset();
    }
    Call call;
    call.thread = thread;
    std::size_t after_args = 0;
    if (!read_call(rest, rest_column, call, after_args)) return false;
    const std::string_view tail = rest.substr(after_args);
    const std::size_t arrow = tail.find("-->");
    if (arrow == std::string_view::npos) {
      awaiting_ = std::move(call);  // its result is on the next line
      return true;
    }
    return finish(std::move(call), thread, tail.substr(arrow + 3), rest_column + width(after_args + arrow) + 3);
  }

  // NAME then "( ARGS )" (or "(ARGS)", or nothing for a call printed
  // otherwise); the arguments of the calls in kShapes must be numbers.
  // `after_args`: where the text after the arguments starts.
  bool read_call(std::string_view rest, unsigned column, Call& call, std::size_t& after_args) {
    const std::size_t open = rest.find('(');
    std::string_view name = rest.substr(0, open);
    name = name.substr(0, name.find_last_not_of(" \t") + 1);
    call.name = std::string(name);
    after_args = 0;
    const CallShape* shape = nullptr;
    for (const CallShape& s : kShapes) {
      if (s.name == name) shape = &s;
    }
    if (open == std::string_view::npos) {
      if (shape != nullptr) {
        return fail(column + width(rest.size()), fmt::format("{}: expected '(' and its arguments", name));
      }
      return true;
    }
    const std::size_t close = rest.find(')', open);
    if (close == std::string_view::npos) {
      if (shape != nullptr) {
        return fail(column + width(rest.size()), fmt::format("{}: expected ')' after its arguments", name));
      }
      return true;
    }
    after_args = close + 1;
    if (shape == nullptr) return true;
    call.kind = shape->kind;
    std::string_view args = rest.substr(open + 1, close - open - 1);
    std::size_t offset = open + 1;
    if (!blank(args)) {
      for (;;) {
        const std::size_t comma = args.find(',');
        const std::string_view raw = args.substr(0, comma);
        const std::size_t lead = raw.find_first_not_of(" \t");
        const std::string_view token = lead == std::string_view::npos
                                           ? std::string_view{}
                                           : raw.substr(lead, raw.find_last_not_of(" \t") + 1 - lead);
        const unsigned token_column = column + width(offset + (lead == std::string_view::npos ? 0 : lead));
        const std::optional<std::uint64_t> value = parse_argument(token);
        if (!value) return fail(token_column, fmt::format("{}: bad number '{}' among its arguments", name, token));
        call.args.push_back(*value);
        if (comma == std::string_view::npos) break;
        args.remove_prefix(comma + 1);
        offset += comma + 1;
      }
    }
    if (call.args.size() < shape->min_args || call.args.size() > shape->max_args) {
      const std::string expected = shape->min_args == shape->max_args
                                       ? fmt::format("{}", shape->min_args)
                                       : fmt::format("{} or {}", shape->min_args, shape->max_args);
      return fail(column + width(open),
                  fmt::format("{}: expected {} arguments, found {}", name, expected, call.args.size()));
    }
    return check_call_ranges(call, column + width(open));
  }

  // The address ranges a call's arguments name (its result's are checked
  // when it comes).
  bool check_call_ranges(const Call& call, unsigned column) {
    const auto range = [&](std::uint64_t addr, std::uint64_t length) {
      if (addr % kPage != 0) {
        return fail(column, fmt::format("{}: misaligned address {:#x} (not a multiple of 4 KiB)", call.name, addr));
      }
      if (addr >= kInputSpace || length > kInputSpace - addr || page_up(length) > kInputSpace - addr) {
        return fail(column, fmt::format("out of range: {} of {:#x} bytes at {:#x} ends beyond the 48-bit input space",
                                        call.name, length, addr));
      }
      return true;
    };
    switch (call.kind) {
      case CallKind::mmap:
        if (call.args[1] > kInputSpace) {
          return fail(column, fmt::format("out of range: {} of {:#x} bytes", call.name, call.args[1]));
        }
        return true;
      case CallKind::munmap:
      case CallKind::mprotect:
      case CallKind::madvise: return range(call.args[0], call.args[1]);
      case CallKind::mremap:
        if (call.args[2] > kInputSpace) {
          return fail(column, fmt::format("out of range: {} to {:#x} bytes", call.name, call.args[2]));
        }
        return range(call.args[0], call.args[1]);
      default: return true;
    }
  }

  // " --> TAIL": the result of the call on the SYSCALL line before.
  bool continuation_line(std::string_view tail, unsigned column) {
    if (!awaiting_) {  // another process's, or the log starts here (a fork's child)
      ++stats_.ignored;
      return true;
    }
    Call call = std::move(*awaiting_);
    awaiting_.reset();
    const ThreadId thread = call.thread;
    return finish(std::move(call), thread, tail, column);
  }

  // What follows a call's "-->": "[async] ...", or "[pre-success] ",
  // "[pre-fail] " or nothing, then RESULT, then perhaps a glued line.
  bool finish(std::optional<Call> call, ThreadId thread, std::string_view tail, unsigned column) {
    std::size_t at = tail.find_first_not_of(" \t");
    if (at == std::string_view::npos) {
      return fail(column + width(tail.size()), "expected a system call result after '-->'");
    }
    if (starts_with(tail.substr(at), "[async]")) {
      if (call) {
        pending_[call->thread] = std::move(*call);
      } else {
        ++stats_.ignored;
      }
      switch_away_from(thread);  // rule 2
      return true;
    }
    for (std::string_view tag : {"[pre-success]", "[pre-fail]"}) {
      if (starts_with(tail.substr(at), tag)) {
        at += tag.size();
        at = tail.find_first_not_of(" \t", at);
        if (at == std::string_view::npos) {
          return fail(column + width(tail.size()), "expected a system call result after '-->'");
        }
        break;
      }
    }
    const std::string_view result = tail.substr(at);
    const unsigned result_column = column + width(at);
    bool success = false;
    std::optional<std::uint64_t> value;
    std::size_t used = 0;
    if (starts_with(result, "NoWriteResult")) {
      success = true;
      used = 13;
    } else {
      const bool ok = starts_with(result, "Success(0x");
      if (!ok && !starts_with(result, "Failure(0x")) {
        return fail(result_column, fmt::format("unrecognised system call result '{}'", result.substr(0, 24)));
      }
      const std::size_t close = result.find(')');
      if (close == std::string_view::npos) return fail(result_column, "unrecognised system call result: no ')'");
      value = parse_hex(result.substr(10, close - 10));
      if (!value) {
        return fail(result_column + 10, fmt::format("bad hexadecimal number '{}'", result.substr(10, close - 10)));
      }
      success = ok;
      used = close + 1;
    }
    if (call) {
      if (!apply(*call, success, value, result_column)) return false;
    } else {
      ++stats_.ignored;
    }
    std::size_t glued = used;
    if (glued < result.size() && result[glued] == ' ') ++glued;
    if (glued < result.size() && !blank(result.substr(glued))) {
      // The thread yielded before ending its line: rule 3, then the rest is a line.
      unterminated_ = thread;
      switch_away_from(thread);
      return line(result.substr(glued), result_column + width(glued));
    }
    return true;
  }

  // ---- threads ----------------------------------------------------------------

  // "space 1 process" and its main thread, once, before anything else.
  bool start() {
    if (started_) return true;
    started_ = true;
    recency_.push_back(kMainThread);
    running_ = kMainThread;
    return put(trace::SpaceCreate{kSpace, trace::SpaceKind::process, 0}) &&
           put(trace::ThreadStart{kMainThread, kSpace, trace::ThreadStart::kAnyPe});
  }

  bool alive(ThreadId thread) const { return std::find(recency_.begin(), recency_.end(), thread) != recency_.end(); }

  bool ensure_thread(ThreadId thread) {
    if (alive(thread)) return true;
    recency_.insert(recency_.begin(), thread);
    return put(trace::ThreadStart{thread, kSpace, trace::ThreadStart::kAnyPe});
  }

  void make_running(ThreadId thread) {
    if (running_ != thread) {
      running_ = thread;
      forget_accesses();
    }
    const auto it = std::find(recency_.begin(), recency_.end(), thread);
    if (it != recency_.end()) recency_.erase(it);
    recency_.push_back(thread);
  }

  // `thread` stopped running: the live thread that ran most recently
  // before it runs now, if there is one.
  void switch_away_from(ThreadId thread) {
    for (auto it = recency_.rbegin(); it != recency_.rend(); ++it) {
      if (*it != thread) {
        make_running(*it);
        return;
      }
    }
  }

  bool exit_thread(ThreadId thread) {
    if (!alive(thread)) return true;
    if (!put(trace::Exit{thread})) return false;
    recency_.erase(std::find(recency_.begin(), recency_.end(), thread));
    pending_.erase(thread);
    if (running_ == thread) {
      running_.reset();
      if (!recency_.empty()) running_ = recency_.back();
    }
    return true;
  }

  // ---- accesses -------------------------------------------------------------

  bool touch(std::uint64_t page, AccessKind kind) {
    LastAccess& last = kind == AccessKind::fetch ? last_fetch_ : last_data_;
    if (last.valid && last.page == page && covers(last.kind, kind)) return true;
    if (!make_accessible(page, kind)) return false;
    if (!put(trace::Access{*running_, page, kind})) return false;
    (kind == AccessKind::fetch ? last_fetch_ : last_data_) = LastAccess{true, page, kind};
    return true;
  }

  // Implies a VMA for `page` (or the right `kind` needs in an implied one).
  bool make_accessible(std::uint64_t page, AccessKind kind) {
    const KnownVma* vma = vmas_.find(page);
    if (vma == nullptr) {
      std::uint64_t lo = page & ~(kChunk - 1);
      std::uint64_t hi = lo + kChunk;
      vmas_.free_around(page, lo, hi);
      const Prot prot = kind == AccessKind::fetch ? Prot::read | Prot::exec : Prot::read | Prot::write;
      vmas_.map(KnownVma{lo, hi, prot, true});
      ++stats_.implied_vmas;
      return put(trace::Mmap{*running_, lo, hi - lo, prot, MapFlags::anonymous | MapFlags::fixed});
    }
    if (vma->implied && !trace::permits(vma->prot, kind)) {
      const KnownVma whole = *vma;
      const Prot prot = whole.prot | right_for(kind);
      vmas_.protect(whole.start, whole.end, prot);
      ++stats_.implied_vmas;
      return put(trace::Mprotect{*running_, whole.start, whole.end - whole.start, prot});
    }
    return true;
  }

  // An implied rw- VMA for every part of [start, end) no known VMA holds.
  bool imply_gaps(ThreadId thread, std::uint64_t start, std::uint64_t end) {
    for (const KnownVma& gap : vmas_.gaps(start, end)) {
      const Prot prot = Prot::read | Prot::write;
      vmas_.map(KnownVma{gap.start, gap.end, prot, true});
      ++stats_.implied_vmas;
      if (!put(trace::Mmap{thread, gap.start, gap.end - gap.start, prot, MapFlags::anonymous | MapFlags::fixed})) {
        return false;
      }
    }
    return true;
  }

  // ---- memory calls -----------------------------------------------------------

  // A result address: page-aligned, and [addr, addr + length) below 2^48.
  bool check_result(const Call& call, std::uint64_t addr, std::uint64_t length, unsigned column) {
    if (addr % kPage != 0) {
      return fail(column, fmt::format("{} returned a misaligned address {:#x}", call.name, addr));
    }
    if (addr >= kInputSpace || length > kInputSpace - addr) {
      return fail(column, fmt::format("out of range: {} returned {:#x} bytes at {:#x}, beyond the 48-bit input space",
                                      call.name, length, addr));
    }
    return true;
  }

  bool apply(const Call& call, bool success, std::optional<std::uint64_t> value, unsigned column) {
    const bool needs_value = call.kind == CallKind::mmap || call.kind == CallKind::mremap || call.kind == CallKind::brk;
    // A call whose length rounds to 0 pages changes nothing (mremap's
    // OLDLEN 0 duplicates a shared mapping: not modelled).
    const bool empty =
        ((call.kind == CallKind::mmap || call.kind == CallKind::munmap || call.kind == CallKind::mprotect ||
          call.kind == CallKind::madvise || call.kind == CallKind::mremap) &&
         page_up(call.args[1]) == 0) ||
        (call.kind == CallKind::mremap && page_up(call.args[2]) == 0);
    if (!success || call.kind == CallKind::other || (needs_value && !value) || empty) {
      ++stats_.ignored;
      return true;
    }
    const ThreadId t = call.thread;
    const std::vector<std::uint64_t>& a = call.args;
    switch (call.kind) {
      case CallKind::mmap: {
        const std::uint64_t length = page_up(a[1]);
        if (!check_result(call, *value, length, column)) return false;
        const Prot prot = linux_abi::prot_of(a[2]);
        vmas_.map(KnownVma{*value, *value + length, prot, false});
        ++stats_.calls;
        return put(trace::Mmap{t, *value, length, prot, linux_abi::map_flags_of(a[3])});
      }
      case CallKind::munmap: {
        const std::uint64_t length = page_up(a[1]);
        vmas_.unmap(a[0], a[0] + length);
        ++stats_.calls;
        return put(trace::Munmap{t, a[0], length});
      }
      case CallKind::mprotect: {
        const std::uint64_t length = page_up(a[1]);
        if (!imply_gaps(t, a[0], a[0] + length)) return false;
        const Prot prot = linux_abi::prot_of(a[2]);
        vmas_.protect(a[0], a[0] + length, prot);
        ++stats_.calls;
        return put(trace::Mprotect{t, a[0], length, prot});
      }
      case CallKind::madvise: {
        if (!linux_abi::drops_pages(a[2])) {
          ++stats_.ignored;
          return true;
        }
        ++stats_.calls;
        return put(trace::MadviseDontneed{t, a[0], page_up(a[1])});
      }
      case CallKind::mremap: {
        const std::uint64_t old_addr = a[0];
        const std::uint64_t old_length = page_up(a[1]);
        const std::uint64_t new_length = page_up(a[2]);
        if (!check_result(call, *value, new_length, column)) return false;
        if (!imply_gaps(t, old_addr, old_addr + old_length)) return false;
        move_vmas(old_addr, old_length, *value, new_length);
        ++stats_.calls;
        return put(trace::Mremap{t, old_addr, old_length, *value, new_length});
      }
      case CallKind::brk: {
        const std::uint64_t brk = page_up(*value);
        if (brk > kInputSpace) return fail(column, fmt::format("out of range: brk returned {:#x}", *value));
        if (!heap_start_) {
          heap_start_ = brk;
        } else if (brk == heap_end_ || brk < *heap_start_) {
          ++stats_.ignored;
          return true;
        } else if (brk > heap_end_) {
          vmas_.map(KnownVma{heap_end_, brk, Prot::read | Prot::write, false});
        } else {
          vmas_.unmap(brk, heap_end_);
        }
        heap_end_ = brk;
        ++stats_.calls;
        return put(trace::Brk{t, brk});
      }
      case CallKind::exit: ++stats_.calls; return exit_thread(t);
      case CallKind::exit_group: {
        ++stats_.calls;
        std::vector<ThreadId> others;
        for (ThreadId o : recency_) {
          if (o != t) others.push_back(o);
        }
        std::sort(others.begin(), others.end());
        for (ThreadId o : others) {
          if (!exit_thread(o)) return false;
        }
        if (!exit_thread(t)) return false;
        exited_ = true;
        pending_.clear();
        awaiting_.reset();
        return true;
      }
      case CallKind::other: break;
    }
    return true;
  }

  // The known VMAs of [old, old + old_length) now lie at [new, new +
  // new_length): moved, cut, or grown with the rights of the last one.
  void move_vmas(std::uint64_t old_addr, std::uint64_t old_length, std::uint64_t new_addr, std::uint64_t new_length) {
    const std::uint64_t kept = std::min(old_length, new_length);
    std::vector<KnownVma> pieces = vmas_.within(old_addr, old_addr + kept);
    KnownVma grown{new_addr + kept, new_addr + new_length, Prot::read | Prot::write, false};
    if (!pieces.empty()) {
      grown.prot = pieces.back().prot;
      grown.implied = pieces.back().implied;
    }
    vmas_.unmap(old_addr, old_addr + old_length);
    vmas_.unmap(new_addr, new_addr + new_length);
    for (KnownVma piece : pieces) {
      piece.start = piece.start - old_addr + new_addr;
      piece.end = piece.end - old_addr + new_addr;
      vmas_.map(piece);
    }
    if (grown.start < grown.end) vmas_.map(grown);
  }

  trace::LineSource& log_;
  trace::Sink& sink_;
  ImportStats& stats_;
  std::optional<trace::ReadError> error_;

  std::optional<std::uint64_t> pid_;
  bool started_ = false;
  bool exited_ = false;
  std::uint64_t access_lines_ = 0;
  std::uint64_t syscall_lines_ = 0;

  std::vector<ThreadId> recency_;  // live threads, the most recently running last
  std::optional<ThreadId> running_;
  std::optional<ThreadId> unterminated_;  // its SYSCALL line's end is still to come
  std::map<ThreadId, Call> pending_;      // blocking calls, by thread
  std::optional<Call> awaiting_;          // a call whose result is on the next line

  LastAccess last_data_;
  LastAccess last_fetch_;

  valgrind::KnownVmas vmas_;
  std::optional<std::uint64_t> heap_start_;
  std::uint64_t heap_end_ = 0;
};

}  // namespace

std::optional<trace::ReadError> import_valgrind(trace::LineSource& log, trace::Sink& sink, ImportStats* stats) {
  ImportStats local;
  ImportStats& count = stats != nullptr ? *stats : local;
  count = ImportStats{};
  return Importer(log, sink, count).run();
}

}  // namespace tlbkit::importers
