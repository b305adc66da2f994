// JSON form of maintenance operations: every decoded field, and the way back.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tlbkit/arch/ops.hpp"

namespace tlbkit::text {

// `op` as a JSON object:
//   "op"       assembler mnemonic ("tlbi rvae1is", "dsb ish")
//   "kind"     operand kind ("range", ...)
//   "operand"  "0x..." (16 hex digits), for ops that take one
// the encoder inputs, by kind:
//   "asid"                      va, asid, range
//   "va"                        va, va_all_asid, address
//   "ipa"                       ipa
//   "ttl"                       va, va_all_asid, ipa: null or {"granule": "4K", "level": 3}
//   "base", "granule", "scale", "num", "ttl_level" (null or 1..3)    range kinds
// and derived facts that op_from_json ignores:
//   "ttl_field"                 raw TTL bits 47:44 (va, va_all_asid, ipa)
//   "tg", "base_addr", "pages"  raw range fields
//   "covers"                    {"start": "0x...", "end": "0x..."}: addresses covered
//   "error"                     present when the operand is reserved or refused
nlohmann::json to_json(const arch::Op& op);

// The operation described by a JSON object in to_json's form, re-encoded
// from its encoder inputs ("operand" and the derived keys are ignored, so a
// round trip re-derives every bit). Addresses and numbers may be JSON
// numbers or strings in decimal or 0x-hex.
struct OpFromJson {
  std::optional<arch::Op> op;  // set on success
  std::string error;           // otherwise: what is wrong
};
OpFromJson op_from_json(const nlohmann::json& j);

// The catalogue as a JSON array: {"op", "category", "kind", "scope",
// "regime", "leaf_only", "word"} per instruction; "word" is the instruction
// word with X0 for register operands, as "0x........".
nlohmann::json catalogue_json();

}  // namespace tlbkit::text
