// Assembler-syntax rendering of maintenance operations.
#include "tlbkit/text/ops_text.hpp"

#include <fmt/format.h>

#include "tlbkit/text/error.hpp"
#include "tlbkit/text/parse.hpp"
#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::text {
namespace {

using arch::OperandKind;

// By-VA / by-IPA TTL: "none", "4K:L3", or the raw field when reserved.
std::string page_ttl(const arch::DecodedOp& d) {
  if (d.ttl_field == 0) return "none";
  if (!d.fields.ttl) return fmt::format("{:#06b}(reserved)", d.ttl_field);
  return fmt::format("{}:L{}", arch::granule_name(d.fields.ttl->granule), d.fields.ttl->level);
}

std::string range_fields(const arch::DecodedOp& d) {
  std::string tg = d.tg == 0 ? std::string("00(reserved)")
                             : std::string(arch::granule_name(d.fields.range->granule));
  std::string ttl = d.range_ttl == 0 ? std::string("none") : fmt::format("L{}", d.range_ttl);
  std::string out = fmt::format("base={} pages={} tg={} scale={} num={} ttl={}",
                                hex(d.fields.address), d.pages, tg, d.scale, d.num, ttl);
  if (d.tg != 0) {
    out += fmt::format(" covers [{}, {})", hex(d.start), hex_end(d.start, d.size));
  }
  return out;
}

std::string fields(const arch::DecodedOp& d) {
  switch (arch::operand_kind(d.instr)) {
    case OperandKind::none: return "";
    case OperandKind::va:
      return fmt::format("asid={} va={} ttl={}", d.asid_field, hex(d.fields.address), page_ttl(d));
    case OperandKind::va_all_asid:
      return fmt::format("va={} ttl={}", hex(d.fields.address), page_ttl(d));
    case OperandKind::asid: return fmt::format("asid={}", d.asid_field);
    case OperandKind::range: return fmt::format("asid={} {}", d.asid_field, range_fields(d));
    case OperandKind::range_all_asid:
    case OperandKind::ipa_range: return range_fields(d);
    case OperandKind::ipa: return fmt::format("ipa={} ttl={}", hex(d.fields.address), page_ttl(d));
    case OperandKind::address: return fmt::format("va={}", hex(d.fields.address));
  }
  return "";
}

}  // namespace

std::string to_asm(const arch::Op& op, unsigned rt) {
  const std::string_view name = arch::mnemonic(op.instr);
  const tlbkit::Result<arch::DecodedOp> checked = arch::decode_checked(op);
  std::string note;
  if (!checked) {
    note = " INVALID " + describe(checked.error());
  }
  if (!arch::takes_register(op.instr)) {
    if (note.empty()) return std::string(name);
    return fmt::format("{}  // x{}={}{}", name, rt, hex64(op.operand), note);
  }
  const arch::DecodedOp d = arch::decode(op);
  return fmt::format("{}, x{}  // x{}={} {}{}", name, rt, rt, hex64(op.operand), fields(d), note);
}

std::string catalogue_table() {
  std::string out = fmt::format("{:<20} {:<8} {:<15} {:<16} {:<16} {:<5} {}\n", "mnemonic",
                                "category", "operand", "scope", "regime", "leaf", "word(x0)");
  for (const arch::InstrInfo& i : arch::catalogue()) {
    out += fmt::format("{:<20} {:<8} {:<15} {:<16} {:<16} {:<5} {:#010x}\n", i.mnemonic,
                       arch::category_name(i.category), arch::operand_kind_name(i.operand),
                       arch::scope_name(i.scope), arch::regime_name(i.regime),
                       i.leaf_only ? "yes" : "no", arch::instruction_word(i.instr, 0));
  }
  return out;
}

}  // namespace tlbkit::text
