// JSON form of maintenance operations.
#include "tlbkit/text/ops_json.hpp"

#include <array>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tlbkit/text/error.hpp"
#include "tlbkit/text/parse.hpp"
#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::text {
namespace {

using arch::OperandKind;
using nlohmann::json;

// ---- to_json ----------------------------------------------------------------

json ttl_json(const arch::Ttl& ttl) {
  if (!ttl) return nullptr;
  return json{{"granule", arch::granule_name(ttl->granule)}, {"level", ttl->level}};
}

json covers_json(const arch::DecodedOp& d) {
  return json{{"start", hex(d.start)}, {"end", hex_end(d.start, d.size)}};
}

void page_fields(const arch::DecodedOp& d, std::string_view address_key, json& j) {
  j[std::string(address_key)] = hex(d.fields.address);
  j["ttl"] = d.ttl_field == 0 ? json(nullptr) : ttl_json(d.fields.ttl);
  j["ttl_field"] = d.ttl_field;
  j["covers"] = covers_json(d);
}

void range_fields(const arch::DecodedOp& d, json& j) {
  const arch::RangeFields& r = *d.fields.range;
  j["base"] = hex(d.fields.address);
  j["granule"] = d.tg == 0 ? json(nullptr) : json(arch::granule_name(r.granule));
  j["scale"] = r.scale;
  j["num"] = r.num;
  j["ttl_level"] = r.ttl_level ? json(*r.ttl_level) : json(nullptr);
  j["tg"] = d.tg;
  j["base_addr"] = hex(d.address_field);
  j["pages"] = d.pages;
  if (d.tg != 0) j["covers"] = covers_json(d);
}

// ---- op_from_json -------------------------------------------------------------

struct Failure {
  std::string message;
};

// Keys op_from_json reads, by operand kind.
std::vector<std::string_view> input_keys(OperandKind kind) {
  switch (kind) {
    case OperandKind::none: return {};
    case OperandKind::va: return {"asid", "va", "ttl"};
    case OperandKind::va_all_asid: return {"va", "ttl"};
    case OperandKind::asid: return {"asid"};
    case OperandKind::range: return {"asid", "base", "granule", "scale", "num", "ttl_level"};
    case OperandKind::range_all_asid:
    case OperandKind::ipa_range: return {"base", "granule", "scale", "num", "ttl_level"};
    case OperandKind::ipa: return {"ipa", "ttl"};
    case OperandKind::address: return {"va"};
  }
  return {};
}

// Keys to_json writes that op_from_json ignores.
constexpr std::array<std::string_view, 9> kDerivedKeys{
    "op", "kind", "operand", "error", "ttl_field", "tg", "base_addr", "pages", "covers"};

bool contains(const auto& keys, std::string_view key) {
  for (std::string_view k : keys) {
    if (k == key) return true;
  }
  return false;
}

std::uint64_t number(const json& j, std::string_view key) {
  const json& v = j.at(std::string(key));
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  if (v.is_string()) {
    if (const std::optional<std::uint64_t> n = parse_u64(v.get<std::string>())) return *n;
  }
  throw Failure{fmt::format("\"{}\" must be a non-negative integer or a decimal/0x-hex string, not {}",
                            key, v.dump())};
}

std::uint64_t required_number(const json& j, std::string_view key) {
  if (!j.contains(std::string(key))) throw Failure{fmt::format("missing \"{}\"", key)};
  return number(j, key);
}

unsigned small_number(const json& j, std::string_view key) {
  const std::uint64_t n = required_number(j, key);
  // The encoders refuse values past their fields; keep them visible to them.
  return n > 0xffff'ffffu ? 0xffff'ffffu : static_cast<unsigned>(n);
}

arch::Granule granule(const json& v, std::string_view key) {
  if (v.is_string()) {
    if (const std::optional<arch::Granule> g = parse_granule(v.get<std::string>())) return *g;
  }
  throw Failure{fmt::format("\"{}\" must be \"4K\", \"16K\" or \"64K\", not {}", key, v.dump())};
}

arch::Ttl ttl(const json& j) {
  if (!j.contains("ttl") || j["ttl"].is_null()) return arch::kNoTtl;
  const json& t = j["ttl"];
  if (!t.is_object()) throw Failure{"\"ttl\" must be null or {\"granule\": ..., \"level\": ...}"};
  for (const auto& [key, value] : t.items()) {
    if (key != "granule" && key != "level") throw Failure{fmt::format("unknown key \"ttl.{}\"", key)};
  }
  if (!t.contains("granule")) throw Failure{"missing \"ttl.granule\""};
  return arch::TtlHint{granule(t["granule"], "ttl.granule"), small_number(t, "level")};
}

arch::RangeFields range(const json& j) {
  arch::RangeFields r;
  if (!j.contains("granule")) throw Failure{"missing \"granule\""};
  r.granule = granule(j["granule"], "granule");
  r.scale = small_number(j, "scale");
  r.num = small_number(j, "num");
  if (j.contains("ttl_level") && !j["ttl_level"].is_null()) r.ttl_level = small_number(j, "ttl_level");
  return r;
}

arch::Op op_from(const json& j) {
  if (!j.is_object()) throw Failure{fmt::format("expected a JSON object, not {}", j.dump())};
  if (!j.contains("op") || !j["op"].is_string()) throw Failure{"missing \"op\" (a mnemonic string)"};
  const std::string name = j["op"].get<std::string>();
  const std::optional<arch::Instr> instr = arch::find_instr(name);
  if (!instr) throw Failure{fmt::format("unknown op \"{}\"", name)};
  const OperandKind kind = arch::operand_kind(*instr);
  const std::vector<std::string_view> keys = input_keys(kind);
  for (const auto& [key, value] : j.items()) {
    if (!contains(keys, key) && !contains(kDerivedKeys, key)) {
      throw Failure{fmt::format("\"{}\" takes no \"{}\" (operand kind {})", arch::mnemonic(*instr),
                                key, arch::operand_kind_name(kind))};
    }
  }
  arch::OperandFields f;
  if (contains(keys, "asid")) {
    const std::uint64_t asid = required_number(j, "asid");
    f.asid = arch::Asid{asid > 0xffff'ffffu ? 0xffff'ffffu : static_cast<std::uint32_t>(asid)};
  }
  for (std::string_view key : {"va", "ipa", "base"}) {
    if (contains(keys, key)) f.address = required_number(j, key);
  }
  if (contains(keys, "ttl")) f.ttl = ttl(j);
  if (contains(keys, "granule")) f.range = range(j);
  const tlbkit::Result<arch::Op> op = arch::encode(*instr, f);
  if (!op) {
    throw Failure{fmt::format("{}: {}", arch::mnemonic(*instr), describe(op.error()))};
  }
  return *op;
}

}  // namespace

json to_json(const arch::Op& op) {
  const arch::DecodedOp d = arch::decode(op);
  const OperandKind kind = arch::operand_kind(op.instr);
  json j{{"op", arch::mnemonic(op.instr)}, {"kind", arch::operand_kind_name(kind)}};
  if (arch::takes_register(op.instr) || op.operand != 0) j["operand"] = hex64(op.operand);
  switch (kind) {
    case OperandKind::none: break;
    case OperandKind::va:
      j["asid"] = d.asid_field;
      page_fields(d, "va", j);
      break;
    case OperandKind::va_all_asid: page_fields(d, "va", j); break;
    case OperandKind::asid: j["asid"] = d.asid_field; break;
    case OperandKind::range:
      j["asid"] = d.asid_field;
      range_fields(d, j);
      break;
    case OperandKind::range_all_asid:
    case OperandKind::ipa_range: range_fields(d, j); break;
    case OperandKind::ipa: page_fields(d, "ipa", j); break;
    case OperandKind::address: j["va"] = hex(d.fields.address); break;
  }
  if (const tlbkit::Result<arch::DecodedOp> checked = arch::decode_checked(op); !checked) {
    j["error"] = describe(checked.error());
  }
  return j;
}

OpFromJson op_from_json(const json& j) {
  try {
    return OpFromJson{op_from(j), {}};
  } catch (const Failure& f) {
    return OpFromJson{std::nullopt, f.message};
  }
}

json catalogue_json() {
  json out = json::array();
  for (const arch::InstrInfo& i : arch::catalogue()) {
    out.push_back(json{{"op", i.mnemonic},
                       {"category", arch::category_name(i.category)},
                       {"kind", arch::operand_kind_name(i.operand)},
                       {"scope", arch::scope_name(i.scope)},
                       {"regime", arch::regime_name(i.regime)},
                       {"leaf_only", i.leaf_only},
                       {"word", fmt::format("{:#010x}", arch::instruction_word(i.instr, 0))}});
  }
  return out;
}

}  // namespace tlbkit::text
