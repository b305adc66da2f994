// The syntax of a line of an strace log (strace 6, `-o FILE`, with or
// without -f, -t / -tt / -ttt / -r, -T, -i), without its meaning: the
// line's prefix (pid, timestamp, instruction pointer), a call's name,
// arguments and result, numbers and flag sets. Offsets count bytes from
// the start of the text they were found in; strace.cpp turns them into
// lines and columns. Internal to the importers library.
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tlbkit/text/parse.hpp"

namespace tlbkit::importers::strace_log {

// Something the syntax refuses: at which offset, and what.
struct SyntaxError {
  std::size_t at = 0;
  std::string message;
};

// A piece of text (an argument, a flag, a field) and where it starts.
struct Piece {
  std::string_view text;
  std::size_t at = 0;
};

inline bool is_blank(char c) { return c == ' ' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// `s` from `at` on, without leading and trailing blanks.
inline Piece trimmed(std::string_view s, std::size_t at) {
  std::size_t begin = 0;
  std::size_t end = s.size();
  while (begin < end && is_blank(s[begin])) ++begin;
  while (end > begin && is_blank(s[end - 1])) --end;
  return Piece{s.substr(begin, end - begin), at + begin};
}

// ---- the line's prefix --------------------------------------------------------

// "PID  [TIMESTAMP] [[IP]] BODY": the pid (-f), a timestamp (-t "12:34:56",
// -tt "12:34:56.123456", -ttt "1700000000.123456", -r "0.000123"), an
// instruction pointer (-i "[00007f1a1f597ad7]", "[????????????????]").
struct Prefix {
  std::optional<std::uint32_t> pid;
  std::size_t body = 0;  // offset of what follows
};

// The first blank-separated token of `line` from `at`: [begin, end).
inline std::size_t token_end(std::string_view line, std::size_t at) {
  while (at < line.size() && !is_blank(line[at])) ++at;
  return at;
}
inline std::size_t skip_blanks(std::string_view line, std::size_t at) {
  while (at < line.size() && is_blank(line[at])) ++at;
  return at;
}

inline std::optional<SyntaxError> read_prefix(std::string_view line, Prefix& out) {
  out = Prefix{};
  std::size_t at = skip_blanks(line, 0);  // -r pads its timestamps
  std::size_t end = token_end(line, at);
  std::string_view token = line.substr(at, end - at);
  const auto all_of = [](std::string_view t, auto pred) {
    for (const char c : t) {
      if (!pred(c)) return false;
    }
    return !t.empty();
  };
  // A pid: digits alone, followed by a blank (a call never starts with a digit).
  if (all_of(token, is_digit) && end < line.size()) {
    const text::ReadNumber n = text::read_u64(token);
    if (n.refusal || n.value > std::numeric_limits<std::uint32_t>::max()) {
      return SyntaxError{at, fmt::format("pid '{}' is too large", token)};
    }
    out.pid = static_cast<std::uint32_t>(n.value);
    at = skip_blanks(line, end);
    end = token_end(line, at);
    token = line.substr(at, end - at);
  }
  // A timestamp: digits with ':' or '.'.
  const bool stamp_chars = all_of(token, [](char c) { return is_digit(c) || c == ':' || c == '.'; });
  if (stamp_chars && token.find_first_of(":.") != std::string_view::npos && end < line.size()) {
    at = skip_blanks(line, end);
    end = token_end(line, at);
    token = line.substr(at, end - at);
  }
  // An instruction pointer.
  if (token.size() > 2 && token.front() == '[' && token.back() == ']') {
    const std::string_view inner = token.substr(1, token.size() - 2);
    const bool hex = all_of(inner, [](char c) {
      return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
    const bool unknown = all_of(inner, [](char c) { return c == '?'; });
    if (hex || unknown) at = skip_blanks(line, end);
  }
  if (line.substr(at).starts_with("[pid ")) {
    return SyntaxError{at, "'[pid N]' lines (strace without -o) are not read: record with -o FILE"};
  }
  out.body = at;
  return std::nullopt;
}

// ---- groups, arguments and calls ----------------------------------------------

// Past the string ("...", with backslash escapes) or comment (/* ... */)
// that starts at s[i]; i + 1 for any other character. An unclosed string
// or comment runs to the end.
inline std::size_t skip_atom(std::string_view s, std::size_t i) {
  if (s[i] == '"') {
    for (std::size_t j = i + 1; j < s.size(); ++j) {
      if (s[j] == '\\') {
        ++j;
      } else if (s[j] == '"') {
        return j + 1;
      }
    }
    return s.size();
  }
  if (s.substr(i).starts_with("/*")) {
    const std::size_t close = s.find("*/", i + 2);
    return close == std::string_view::npos ? s.size() : close + 2;
  }
  return i + 1;
}

// The group opened by s[open] ('(', '[' or '{'): where it closes, and its
// items split at its own commas (blanks trimmed; none for an empty group).
struct Group {
  std::size_t close = 0;
  std::vector<Piece> items;
};

inline std::optional<SyntaxError> read_group(std::string_view s, std::size_t open, Group& out) {
  out = Group{};
  std::string closers;  // expected closing characters, innermost last
  const auto closer_of = [](char c) { return c == '(' ? ')' : c == '[' ? ']' : '}'; };
  closers.push_back(closer_of(s[open]));
  std::size_t item = open + 1;
  std::size_t i = open + 1;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '(' || c == '[' || c == '{') {
      closers.push_back(closer_of(c));
    } else if (c == ')' || c == ']' || c == '}') {
      if (c != closers.back()) return SyntaxError{i, fmt::format("unbalanced '{}'", c)};
      closers.pop_back();
      if (closers.empty()) {
        const Piece last = trimmed(s.substr(item, i - item), item);
        if (!last.text.empty() || !out.items.empty()) out.items.push_back(last);
        out.close = i;
        return std::nullopt;
      }
    } else if (c == ',' && closers.size() == 1) {
      out.items.push_back(trimmed(s.substr(item, i - item), item));
      item = i + 1;
    }
    i = skip_atom(s, i);
  }
  return SyntaxError{s.size(), fmt::format("truncated: no '{}' closes the '{}'", closers.back(), s[open])};
}

// A call's result: a value, a failure ("-1 ENOMEM (...)"), or none ("?").
enum class ResultKind : std::uint8_t { value, failed, unknown };

// "NAME(ARGS) = RESULT ...": anything after the result's first token (an
// error's name and text, -T's "<0.000012>") is not looked at.
struct Call {
  std::string_view name;
  std::size_t open = 0;  // offset of '('
  std::vector<Piece> args;
  ResultKind result = ResultKind::unknown;
  std::uint64_t value = 0;  // ResultKind::value only
  std::size_t result_at = 0;
};

// The end of the call name starting at `at` (letters, digits, '_'; "???"
// too): where '(' should be.
inline std::size_t name_end(std::string_view s, std::size_t at) {
  while (at < s.size() && (std::isalnum(static_cast<unsigned char>(s[at])) != 0 || s[at] == '_' || s[at] == '?')) {
    ++at;
  }
  return at;
}

inline std::optional<SyntaxError> read_call(std::string_view s, Call& out) {
  out = Call{};
  const std::size_t open = name_end(s, 0);
  if (open == 0 || open >= s.size() || s[open] != '(') {
    return SyntaxError{0, fmt::format("not an strace line: '{}'", s.substr(0, 40))};
  }
  out.name = s.substr(0, open);
  out.open = open;
  Group args;
  if (auto e = read_group(s, open, args)) {
    if (e->at == s.size()) e->message = fmt::format("truncated call: no ')' ends the arguments of '{}'", out.name);
    return e;
  }
  out.args = std::move(args.items);
  std::size_t at = skip_blanks(s, args.close + 1);
  if (at >= s.size() || s[at] != '=') {
    return SyntaxError{at, fmt::format("no result: expected '= RESULT' after the arguments of '{}'", out.name)};
  }
  at = skip_blanks(s, at + 1);
  const std::size_t end = token_end(s, at);
  const std::string_view result = s.substr(at, end - at);
  out.result_at = at;
  if (result.empty()) return SyntaxError{at, fmt::format("no result after '=' of '{}'", out.name)};
  if (result == "?") {
    out.result = ResultKind::unknown;
    return std::nullopt;
  }
  if (result.starts_with('-')) {
    const text::ReadNumber n = text::read_u64(result.substr(1));
    if (n.refusal) return SyntaxError{at, fmt::format("bad result '{}'", result)};
    out.result = ResultKind::failed;
    return std::nullopt;
  }
  const text::ReadNumber n = text::read_u64(result);
  if (n.refusal) return SyntaxError{at, fmt::format("bad result '{}'", result)};
  out.result = ResultKind::value;
  out.value = n.value;
  return std::nullopt;
}

// ---- values -------------------------------------------------------------------

// `p` without a trailing comment ("0x19 /* MADV_??? */" -> "0x19").
inline Piece without_comment(Piece p) {
  const std::size_t comment = p.text.find("/*");
  if (comment == std::string_view::npos || comment == 0) return p;
  return trimmed(p.text.substr(0, comment), p.at);
}

// "NULL", decimal, or 0x-prefixed hexadecimal (`what`: "length", ...).
inline std::optional<SyntaxError> read_number(Piece p, const char* what, std::uint64_t& out) {
  p = without_comment(p);
  if (p.text == "NULL") {
    out = 0;
    return std::nullopt;
  }
  const text::ReadNumber n = text::read_u64(p.text);
  if (n.refusal == text::NumberRefusal::too_big) {
    return SyntaxError{p.at, fmt::format("{} '{}' is past 64 bits", what, p.text)};
  }
  if (n.refusal || p.text.find('_') != std::string_view::npos) {
    return SyntaxError{p.at, fmt::format("bad number '{}' ({})", p.text, what)};
  }
  out = n.value;
  return std::nullopt;
}

// The parts of a flag set "A|B|0x40": names or numbers.
inline std::vector<Piece> flag_parts(Piece p) {
  p = without_comment(p);
  std::vector<Piece> parts;
  std::size_t begin = 0;
  for (std::size_t i = 0; i <= p.text.size(); ++i) {
    if (i == p.text.size() || p.text[i] == '|') {
      parts.push_back(trimmed(p.text.substr(begin, i - begin), p.at + begin));
      begin = i + 1;
    }
  }
  return parts;
}

// A flag set's part that is a number (strace prints unknown bits so).
inline std::optional<std::uint64_t> numeric_flag(std::string_view part) {
  if (part.empty() || !is_digit(part.front())) return std::nullopt;
  return text::parse_u64(part);
}

// The field `name=` among `items` (clone's "flags=...", clone3's struct).
inline std::optional<Piece> field(const std::vector<Piece>& items, std::string_view name) {
  for (const Piece& item : items) {
    if (item.text.size() > name.size() && item.text.starts_with(name) && item.text[name.size()] == '=') {
      return trimmed(item.text.substr(name.size() + 1), item.at + name.size() + 1);
    }
  }
  return std::nullopt;
}

}  // namespace tlbkit::importers::strace_log
