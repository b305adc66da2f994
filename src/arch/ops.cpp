// The catalogue's non-constexpr half: looking instructions up by name, and
// the operations of barriers and cache maintenance.
#include "tlbkit/arch/ops.hpp"

#include "va_space.hpp"

namespace tlbkit::arch {
namespace {

// Longest accepted spelling, after blanks are collapsed ("tlbi vmalls12e1is" is 17).
constexpr std::size_t kMaxNameLength = 32;

constexpr bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
constexpr char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// `name` lower-cased, trimmed and with every run of blanks turned into one
// space, in `out`; nullopt when it does not fit.
std::optional<std::string_view> normalize(std::string_view name,
                                          std::array<char, kMaxNameLength>& out) {
  std::size_t n = 0;
  bool pending_space = false;
  for (const char c : name) {
    if (is_blank(c)) {
      pending_space = n > 0;
      continue;
    }
    if (pending_space) {
      if (n == out.size()) return std::nullopt;
      out[n++] = ' ';
      pending_space = false;
    }
    if (n == out.size()) return std::nullopt;
    out[n++] = to_lower(c);
  }
  return std::string_view(out.data(), n);
}

constexpr std::string_view kTlbiPrefix = "tlbi ";

}  // namespace

std::optional<Instr> find_instr(std::string_view name) {
  std::array<char, kMaxNameLength> buffer{};
  const std::optional<std::string_view> wanted = normalize(name, buffer);
  if (!wanted || wanted->empty()) return std::nullopt;
  for (const InstrInfo& i : catalogue()) {
    if (i.mnemonic == *wanted) return i.instr;
    if (i.category != Category::tlbi) continue;
    // Not substr(): it may throw, and the core has no exceptions.
    std::string_view bare = i.mnemonic;
    bare.remove_prefix(kTlbiPrefix.size());
    if (bare == *wanted) return i.instr;
  }
  return std::nullopt;
}

Result<Op> make_op(Instr instr) {
  if (takes_register(instr)) {
    return Error{Errc::invalid_argument,
                 "this instruction takes an operand: build it with its encoder, not make_op"};
  }
  return Op{instr, 0};
}

Result<Op> encode_address(Instr instr, VirtAddr va) {
  if (operand_kind(instr) != OperandKind::address) {
    return Error{Errc::invalid_argument,
                 "encode_address is for IC IVAU and DC CIVAC, which take a plain address"};
  }
  if (!is_48bit_va(va)) return kVaNot48Bit;
  return Op{instr, va};
}

}  // namespace tlbkit::arch
