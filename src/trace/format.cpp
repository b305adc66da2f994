// The text form of trace events (docs/TRACE-FORMAT.md): format_event()
// writes the canonical line, parse_line() reads it back with every check
// of the format (ids, PEs, alignment, the 48-bit input space).
#include "tlbkit/trace/format.hpp"

#include <array>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "tlbkit/text/parse.hpp"

namespace tlbkit::trace {

namespace {

constexpr std::uint64_t kPage = 0x1000;
constexpr std::uint64_t kInputSpace = std::uint64_t{1} << 48;
constexpr unsigned kPes = 64;
constexpr unsigned kMaxVcpus = 64;

// ---- formatting -------------------------------------------------------------

using Buffer = fmt::memory_buffer;

void put_prot(Buffer& out, Prot prot) {
  out.push_back(has(prot, Prot::read) ? 'r' : '-');
  out.push_back(has(prot, Prot::write) ? 'w' : '-');
  out.push_back(has(prot, Prot::exec) ? 'x' : '-');
}

void put_flags(Buffer& out, MapFlags flags) {
  fmt::format_to(std::back_inserter(out), "{},{}", has(flags, MapFlags::anonymous) ? "anon" : "file",
                 has(flags, MapFlags::shared) ? "shared" : "private");
  if (has(flags, MapFlags::fixed)) fmt::format_to(std::back_inserter(out), ",fixed");
  if (has(flags, MapFlags::huge)) fmt::format_to(std::back_inserter(out), ",huge");
}

const char* space_kind_name(SpaceKind kind) {
  switch (kind) {
    case SpaceKind::process: return "process";
    case SpaceKind::vm: return "vm";
    case SpaceKind::kernel: return "kernel";
  }
  return "?";
}

const char* flush_reason_name(FlushReason reason) {
  switch (reason) {
    case FlushReason::syscall: return "syscall";
    case FlushReason::gather: return "gather";
    case FlushReason::vm_exit: return "vmexit";
  }
  return "?";
}

char access_letter(AccessKind kind) {
  switch (kind) {
    case AccessKind::read: return 'r';
    case AccessKind::write: return 'w';
    case AccessKind::fetch: return 'x';
  }
  return '?';
}

struct Formatter {
  Buffer& out;
  template <typename... Args>
  void put(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
  }

  void operator()(const SpaceCreate& e) {
    put("space {} {}", e.space, space_kind_name(e.kind));
    if (e.kind == SpaceKind::vm) put(" vcpus={}", e.vcpus);
  }
  void operator()(const SpaceDestroy& e) { put("destroy {}", e.space); }
  void operator()(const ThreadStart& e) {
    put("thread {} {}", e.thread, e.space);
    if (e.pe != ThreadStart::kAnyPe) put(" pe={}", e.pe);
  }
  void operator()(const Switch& e) { put("switch {} {}", e.pe, e.thread); }
  void operator()(const Exit& e) { put("exit {}", e.thread); }
  void operator()(const Fork& e) { put("fork {} {} {}", e.parent, e.child, e.child_space); }
  void operator()(const Exec& e) { put("exec {} {}", e.thread, e.space); }
  void operator()(const Mmap& e) {
    put("mmap {} {:#x} {:#x} ", e.thread, e.addr, e.length);
    put_prot(out, e.prot);
    out.push_back(' ');
    put_flags(out, e.flags);
  }
  void operator()(const Munmap& e) { put("munmap {} {:#x} {:#x}", e.thread, e.addr, e.length); }
  void operator()(const Mprotect& e) {
    put("mprotect {} {:#x} {:#x} ", e.thread, e.addr, e.length);
    put_prot(out, e.prot);
  }
  void operator()(const Mremap& e) {
    put("mremap {} {:#x} {:#x} {:#x} {:#x}", e.thread, e.old_addr, e.old_length, e.new_addr, e.new_length);
  }
  void operator()(const MadviseDontneed& e) { put("madvise {} {:#x} {:#x} dontneed", e.thread, e.addr, e.length); }
  void operator()(const Brk& e) { put("brk {} {:#x}", e.thread, e.addr); }
  void operator()(const Reclaim& e) { put("reclaim {} {} {:#x} {:#x}", e.thread, e.space, e.addr, e.length); }
  void operator()(const Access& e) { put("{} {} {:#x}", access_letter(e.kind), e.thread, e.addr); }
  void operator()(const GatherBegin& e) { put("gather {}", e.thread); }
  void operator()(const Flush& e) { put("flush {} {}", e.thread, flush_reason_name(e.reason)); }
  void operator()(const OptionNoAccesses&) { put("option accesses=none"); }
};

// ---- parsing ----------------------------------------------------------------

struct Token {
  std::string_view text;
  unsigned column = 0;  // 1-based byte column of its first character
};

// The longest event has six tokens; one more is kept to name an extra one.
constexpr std::size_t kMaxTokens = 7;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Splits a line into blank-separated tokens up to a comment. Keeps the
// first kMaxTokens; `count` is how many there are, up to kMaxTokens + 1.
struct Tokens {
  std::array<Token, kMaxTokens> items{};
  std::size_t count = 0;
  unsigned end_column = 1;  // one past the line's last byte

  explicit Tokens(std::string_view line) : end_column(static_cast<unsigned>(line.size() + 1)) {
    std::size_t i = 0;
    while (i < line.size()) {
      if (is_blank(line[i])) {
        ++i;
        continue;
      }
      if (line[i] == '#') break;
      const std::size_t start = i;
      while (i < line.size() && !is_blank(line[i])) ++i;
      if (count < kMaxTokens) items[count] = Token{line.substr(start, i - start), static_cast<unsigned>(start + 1)};
      if (count <= kMaxTokens) ++count;
      if (count > kMaxTokens) break;  // already past any event's length
    }
  }
};

// Reads the operands of one event. The first error wins: after it, every
// getter returns a placeholder value and the caller's event is discarded.
class Reader {
 public:
  Reader(const Tokens& tokens, const char* usage) : tokens_(tokens), usage_(usage) {}

  bool failed() const { return error_.has_value(); }
  const LineError& error() const { return *error_; }
  std::size_t count() const { return tokens_.count; }

  // Token i, or a "missing NAME" error at the line's end.
  const Token* need(std::size_t i, const char* placeholder) {
    if (i < tokens_.count) return &tokens_.items[i];
    fail(tokens_.end_column, fmt::format("missing {} ({})", placeholder, usage_));
    return nullptr;
  }
  // Token i when there is one.
  const Token* optional(std::size_t i) const { return i < tokens_.count ? &tokens_.items[i] : nullptr; }

  // No token after the first `n`.
  void end(std::size_t n) {
    if (tokens_.count > n) {
      const Token& extra = tokens_.items[n];
      fail(extra.column, fmt::format("extra token '{}' after {}", extra.text, usage_));
    }
  }

  void fail(unsigned column, std::string message) {
    if (!error_) error_ = LineError{column, std::move(message)};
  }

  // A number in decimal or 0x hex; `what` names it in messages.
  std::uint64_t number(const Token& t, const char* what) {
    const text::ReadNumber n = text::read_u64(t.text);
    if (!n.refusal) return n.value;
    switch (*n.refusal) {
      case text::NumberRefusal::not_a_number:
        fail(t.column, fmt::format("{} '{}' is not a number", what, t.text));
        break;
      case text::NumberRefusal::negative:
        fail(t.column, fmt::format("{} '{}' is negative", what, t.text));
        break;
      case text::NumberRefusal::too_big:
        fail(t.column, fmt::format("{} '{}' is too large", what, t.text));
        break;
    }
    return 0;
  }

  // A 32-bit thread or space id.
  std::uint32_t id(std::size_t i, const char* placeholder, const char* what) {
    const Token* t = need(i, placeholder);
    if (!t) return 0;
    const std::uint64_t v = number(*t, what);
    if (v > std::numeric_limits<std::uint32_t>::max()) {
      fail(t->column, fmt::format("{} '{}' is too large for a 32-bit id", what, t->text));
      return 0;
    }
    return static_cast<std::uint32_t>(v);
  }

  // A PE number 0..63 written as `t` (from text[skip..]).
  unsigned pe(const Token& t, std::string_view digits) {
    const Token value{digits, t.column};
    const std::uint64_t v = number(value, "pe");
    if (!failed() && v >= kPes) fail(t.column, fmt::format("pe '{}' is out of range (0..63)", digits));
    return failed() ? 0 : static_cast<unsigned>(v);
  }

  // A 4 KiB-aligned address below 2^48 (`what`: "address", "old address").
  std::uint64_t page_address(std::size_t i, const char* placeholder, const char* what) {
    const Token* t = need(i, placeholder);
    if (!t) return 0;
    const std::uint64_t v = number(*t, what);
    if (failed()) return 0;
    if (v % kPage != 0) fail(t->column, fmt::format("misaligned {} '{}' (not a multiple of 4 KiB)", what, t->text));
    if (v >= kInputSpace) {
      fail(t->column, fmt::format("out of range: {} '{}' is beyond the 48-bit input space", what, t->text));
    }
    return v;
  }

  // A length > 0, rounded up to whole 4 KiB pages, such that the range
  // from `addr` (token `addr_index`) ends within the 48-bit input space.
  std::uint64_t length(std::size_t i, const char* placeholder, std::uint64_t addr, std::size_t addr_index) {
    const Token* t = need(i, placeholder);
    if (!t) return 0;
    const std::uint64_t v = number(*t, "length");
    if (failed()) return 0;
    if (v == 0) {
      fail(t->column, fmt::format("zero length '{}'", t->text));
      return 0;
    }
    if (v > kInputSpace - addr || (v + kPage - 1) / kPage * kPage > kInputSpace - addr) {
      fail(t->column, fmt::format("out of range: '{}' + '{}' ends beyond the 48-bit input space",
                                  tokens_.items[addr_index].text, t->text));
      return 0;
    }
    return (v + kPage - 1) / kPage * kPage;
  }

  // Any address below 2^48 (accesses).
  std::uint64_t address(std::size_t i, const char* placeholder) {
    const Token* t = need(i, placeholder);
    if (!t) return 0;
    const std::uint64_t v = number(*t, "address");
    if (!failed() && v >= kInputSpace) {
      fail(t->column, fmt::format("out of range: address '{}' is beyond the 48-bit input space", t->text));
    }
    return v;
  }

  Prot prot(std::size_t i) {
    const Token* t = need(i, "PROT");
    if (!t) return Prot::none;
    const std::string_view s = t->text;
    if (s.size() != 3 || (s[0] != 'r' && s[0] != '-') || (s[1] != 'w' && s[1] != '-') ||
        (s[2] != 'x' && s[2] != '-')) {
      fail(t->column, fmt::format("bad protection '{}' (three characters [r-][w-][x-], like rw-)", s));
      return Prot::none;
    }
    Prot p = Prot::none;
    if (s[0] == 'r') p = p | Prot::read;
    if (s[1] == 'w') p = p | Prot::write;
    if (s[2] == 'x') p = p | Prot::exec;
    return p;
  }

  MapFlags flags(std::size_t i) {
    const Token* t = need(i, "FLAGS");
    if (!t) return MapFlags::none;
    const std::string_view all = t->text;
    bool anon = false, file = false, priv = false, shared = false, fixed = false, huge = false;
    std::string_view rest = all;
    for (;;) {
      const std::size_t comma = rest.find(',');
      const std::string_view flag = rest.substr(0, comma);
      bool* seen = nullptr;
      if (flag == "anon") {
        seen = &anon;
      } else if (flag == "file") {
        seen = &file;
      } else if (flag == "private") {
        seen = &priv;
      } else if (flag == "shared") {
        seen = &shared;
      } else if (flag == "fixed") {
        seen = &fixed;
      } else if (flag == "huge") {
        seen = &huge;
      } else if (flag.empty()) {
        fail(t->column, fmt::format("empty flag in '{}'", all));
        return MapFlags::none;
      } else {
        fail(t->column, fmt::format("unknown flag '{}' in '{}' (anon|file, private|shared, fixed, huge)", flag, all));
        return MapFlags::none;
      }
      if (*seen) {
        fail(t->column, fmt::format("flag '{}' repeated in '{}'", flag, all));
        return MapFlags::none;
      }
      *seen = true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (anon && file) {
      fail(t->column, fmt::format("flags '{}' say both anon and file", all));
    } else if (!anon && !file) {
      fail(t->column, fmt::format("flags '{}' say neither anon nor file", all));
    } else if (priv && shared) {
      fail(t->column, fmt::format("flags '{}' say both private and shared", all));
    }
    MapFlags f = MapFlags::none;
    if (anon) f = f | MapFlags::anonymous;
    if (shared) f = f | MapFlags::shared;
    if (fixed) f = f | MapFlags::fixed;
    if (huge) f = f | MapFlags::huge;
    return f;
  }

  // Token i must be one of the words; returns its index in `words`.
  template <std::size_t N>
  std::size_t word(std::size_t i, const char* placeholder, const char* what,
                   const std::array<std::string_view, N>& words, const char* choices) {
    const Token* t = need(i, placeholder);
    if (!t) return 0;
    for (std::size_t k = 0; k < N; ++k) {
      if (t->text == words[k]) return k;
    }
    fail(t->column, fmt::format("unknown {} '{}' ({})", what, t->text, choices));
    return 0;
  }

 private:
  const Tokens& tokens_;
  const char* usage_;
  std::optional<LineError> error_;
};

ParsedLine result(Reader& r, Event event) {
  if (r.failed()) return r.error();
  return event;
}

ParsedLine parse_space(const Tokens& tokens) {
  Reader r(tokens, "space S process|vm vcpus=N|kernel");
  SpaceCreate e;
  e.space = r.id(1, "S", "space id");
  static constexpr std::array<std::string_view, 3> kKinds{"process", "vm", "kernel"};
  const std::size_t kind = r.word(2, "process|vm vcpus=N|kernel", "space kind", kKinds, "process, vm or kernel");
  e.kind = static_cast<SpaceKind>(kind);
  if (!r.failed() && e.kind == SpaceKind::vm) {
    if (const Token* t = r.need(3, "vcpus=N")) {
      if (!t->text.starts_with("vcpus=")) {
        r.fail(t->column, fmt::format("expected vcpus=N, not '{}'", t->text));
      } else {
        const std::string_view digits = t->text.substr(6);
        const std::uint64_t n = r.number(Token{digits, t->column}, "vcpus");
        if (!r.failed() && (n < 1 || n > kMaxVcpus)) {
          r.fail(t->column, fmt::format("vcpus '{}' is out of range (1..64)", digits));
        }
        e.vcpus = static_cast<unsigned>(n);
      }
    }
    r.end(4);
  } else {
    r.end(3);
  }
  return result(r, e);
}

ParsedLine parse_thread(const Tokens& tokens) {
  Reader r(tokens, "thread T S [pe=P]");
  ThreadStart e;
  e.thread = r.id(1, "T", "thread id");
  e.space = r.id(2, "S", "space id");
  if (const Token* t = r.optional(3); t && !r.failed()) {
    if (!t->text.starts_with("pe=")) {
      r.fail(t->column, fmt::format("expected pe=P, not '{}'", t->text));
    } else {
      e.pe = r.pe(*t, t->text.substr(3));
    }
  }
  r.end(4);
  return result(r, e);
}

ParsedLine parse_mmap(const Tokens& tokens) {
  Reader r(tokens, "mmap T ADDR LEN PROT FLAGS");
  Mmap e;
  e.thread = r.id(1, "T", "thread id");
  e.addr = r.page_address(2, "ADDR", "address");
  e.length = r.length(3, "LEN", e.addr, 2);
  e.prot = r.prot(4);
  e.flags = r.flags(5);
  r.end(6);
  return result(r, e);
}

ParsedLine parse_range(const Tokens& tokens, bool munmap) {
  Reader r(tokens, munmap ? "munmap T ADDR LEN" : "madvise T ADDR LEN dontneed");
  const ThreadId thread = r.id(1, "T", "thread id");
  const std::uint64_t addr = r.page_address(2, "ADDR", "address");
  const std::uint64_t length = r.length(3, "LEN", addr, 2);
  if (munmap) {
    r.end(4);
    return result(r, Munmap{thread, addr, length});
  }
  static constexpr std::array<std::string_view, 1> kAdvice{"dontneed"};
  r.word(4, "dontneed", "advice", kAdvice, "only dontneed");
  r.end(5);
  return result(r, MadviseDontneed{thread, addr, length});
}

ParsedLine parse_mprotect(const Tokens& tokens) {
  Reader r(tokens, "mprotect T ADDR LEN PROT");
  Mprotect e;
  e.thread = r.id(1, "T", "thread id");
  e.addr = r.page_address(2, "ADDR", "address");
  e.length = r.length(3, "LEN", e.addr, 2);
  e.prot = r.prot(4);
  r.end(5);
  return result(r, e);
}

ParsedLine parse_mremap(const Tokens& tokens) {
  Reader r(tokens, "mremap T OLD OLDLEN NEW NEWLEN");
  Mremap e;
  e.thread = r.id(1, "T", "thread id");
  e.old_addr = r.page_address(2, "OLD", "old address");
  e.old_length = r.length(3, "OLDLEN", e.old_addr, 2);
  e.new_addr = r.page_address(4, "NEW", "new address");
  e.new_length = r.length(5, "NEWLEN", e.new_addr, 4);
  r.end(6);
  return result(r, e);
}

ParsedLine parse_access(const Tokens& tokens, AccessKind kind, const char* usage) {
  Reader r(tokens, usage);
  Access e;
  e.kind = kind;
  e.thread = r.id(1, "T", "thread id");
  e.addr = r.address(2, "ADDR");
  r.end(3);
  return result(r, e);
}

ParsedLine parse_event(const Tokens& tokens) {
  const Token& keyword = tokens.items[0];
  const std::string_view k = keyword.text;
  if (k == "r") return parse_access(tokens, AccessKind::read, "r T ADDR");
  if (k == "w") return parse_access(tokens, AccessKind::write, "w T ADDR");
  if (k == "x") return parse_access(tokens, AccessKind::fetch, "x T ADDR");
  if (k == "mmap") return parse_mmap(tokens);
  if (k == "munmap") return parse_range(tokens, true);
  if (k == "madvise") return parse_range(tokens, false);
  if (k == "mprotect") return parse_mprotect(tokens);
  if (k == "mremap") return parse_mremap(tokens);
  if (k == "space") return parse_space(tokens);
  if (k == "thread") return parse_thread(tokens);
  if (k == "gather") {
    Reader r(tokens, "gather T");
    GatherBegin e{r.id(1, "T", "thread id")};
    r.end(2);
    return result(r, e);
  }
  if (k == "flush") {
    Reader r(tokens, "flush T syscall|gather|vmexit");
    Flush e;
    e.thread = r.id(1, "T", "thread id");
    static constexpr std::array<std::string_view, 3> kReasons{"syscall", "gather", "vmexit"};
    static constexpr std::array<FlushReason, 3> kValues{FlushReason::syscall, FlushReason::gather,
                                                        FlushReason::vm_exit};
    e.reason = kValues[r.word(2, "syscall|gather|vmexit", "flush reason", kReasons, "syscall, gather or vmexit")];
    r.end(3);
    return result(r, e);
  }
  if (k == "switch") {
    Reader r(tokens, "switch P T");
    Switch e;
    if (const Token* t = r.need(1, "P")) e.pe = r.pe(*t, t->text);
    e.thread = r.id(2, "T", "thread id");
    r.end(3);
    return result(r, e);
  }
  if (k == "reclaim") {
    Reader r(tokens, "reclaim T S ADDR LEN");
    Reclaim e;
    e.thread = r.id(1, "T", "thread id");
    e.space = r.id(2, "S", "space id");
    e.addr = r.page_address(3, "ADDR", "address");
    e.length = r.length(4, "LEN", e.addr, 3);
    r.end(5);
    return result(r, e);
  }
  if (k == "brk") {
    Reader r(tokens, "brk T ADDR");
    Brk e;
    e.thread = r.id(1, "T", "thread id");
    e.addr = r.page_address(2, "ADDR", "address");
    r.end(3);
    return result(r, e);
  }
  if (k == "exit") {
    Reader r(tokens, "exit T");
    Exit e{r.id(1, "T", "thread id")};
    r.end(2);
    return result(r, e);
  }
  if (k == "fork") {
    Reader r(tokens, "fork T C S");
    Fork e;
    e.parent = r.id(1, "T", "thread id");
    e.child = r.id(2, "C", "child thread id");
    e.child_space = r.id(3, "S", "space id");
    r.end(4);
    return result(r, e);
  }
  if (k == "exec") {
    Reader r(tokens, "exec T S");
    Exec e;
    e.thread = r.id(1, "T", "thread id");
    e.space = r.id(2, "S", "space id");
    r.end(3);
    return result(r, e);
  }
  if (k == "destroy") {
    Reader r(tokens, "destroy S");
    SpaceDestroy e{r.id(1, "S", "space id")};
    r.end(2);
    return result(r, e);
  }
  if (k == "option") {
    Reader r(tokens, "option accesses=none");
    static constexpr std::array<std::string_view, 1> kOptions{"accesses=none"};
    r.word(1, "accesses=none", "option", kOptions, "only accesses=none");
    r.end(2);
    return result(r, OptionNoAccesses{});
  }
  return LineError{keyword.column, fmt::format("unknown event '{}'", k)};
}

}  // namespace

std::string header_line() { return fmt::format("{} {}", kMagic, kVersion); }

std::string format_event(const Event& event) {
  Buffer out;
  std::visit(Formatter{out}, event);
  return fmt::to_string(out);
}

ParsedLine parse_line(std::string_view line) {
  const Tokens tokens(line);
  if (tokens.count == 0) return std::monostate{};
  return parse_event(tokens);
}

std::optional<LineError> check_header(std::string_view line) {
  const Tokens tokens(line);
  if (tokens.count == 0 || tokens.items[0].text != kMagic) {
    return LineError{tokens.count == 0 ? 1u : tokens.items[0].column,
                     fmt::format("not a tlbkit trace (first line must be '{}')", header_line())};
  }
  Reader r(tokens, "tlbkit-trace 1");
  const Token* t = r.need(1, "version");
  if (!t) return r.error();
  const text::ReadNumber n = text::read_u64(t->text);
  if (n.refusal == text::NumberRefusal::too_big || (!n.refusal && n.value > kVersion)) {
    const std::string version = n.refusal ? std::string(t->text) : std::to_string(n.value);
    return LineError{t->column, fmt::format("trace version {} is newer than this reader ({})", version, kVersion)};
  }
  if (n.refusal || n.value != kVersion) {
    return LineError{t->column, fmt::format("bad trace version '{}' (this reader reads version {})", t->text, kVersion)};
  }
  r.end(2);
  if (r.failed()) return r.error();
  return std::nullopt;
}

}  // namespace tlbkit::trace
