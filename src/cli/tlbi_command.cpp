// `tlbkit tlbi encode | decode | list`.
#include "tlbi_command.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "numbers.hpp"
#include "stdout.hpp"
#include "usage_error.hpp"
#include "tlbkit/text/error.hpp"
#include "tlbkit/text/ops_json.hpp"
#include "tlbkit/text/ops_text.hpp"
#include "tlbkit/text/parse.hpp"
#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::cli {
namespace {

using arch::OperandKind;
using nlohmann::json;

// A string option and whether the user gave it.
struct Opt {
  std::string value;
  CLI::Option* option = nullptr;
  bool given() const { return option != nullptr && option->count() > 0; }
};

struct EncodeOptions {
  std::vector<std::string> words;
  Opt asid, va, ipa, granule, ttl_level, scale, num, pages, from_json;
  bool json = false;
};

struct DecodeOptions {
  std::vector<std::string> words;
  bool json = false;
  bool allow_reserved = false;
};

void add_string(CLI::App& cmd, const std::string& name, Opt& opt, const std::string& help) {
  opt.option = cmd.add_option(name, opt.value, help);
}

std::string join(const std::vector<std::string>& words, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) out += ' ';
    out += words[i];
  }
  return out;
}

arch::Instr instr_named(const std::string& name) {
  if (const std::optional<arch::Instr> i = arch::find_instr(name)) return *i;
  throw UsageError(
      fmt::format("unknown op \"{}\" (`tlbkit tlbi list` shows the catalogue)", name));
}

// Field values are read as any 64-bit number (parse_number); the encoder
// refuses those out of the field's range, saying why. Small fields (levels,
// SCALE, NUM): values past 32 bits stay out of range for it to refuse.
unsigned small(const std::string& flag, const std::string& text) {
  const std::uint64_t n = parse_number(flag, text);
  return n > 0xffff'ffffu ? 0xffff'ffffu : static_cast<unsigned>(n);
}

[[noreturn]] void refuse(arch::Instr instr, tlbkit::Error error) {
  throw UsageError(fmt::format("{}: {}", arch::mnemonic(instr), text::describe(error)));
}

// ---- encode from flags ---------------------------------------------------------

// Field flags each operand kind reads.
std::vector<std::string> flags_for(OperandKind kind) {
  switch (kind) {
    case OperandKind::none: return {};
    case OperandKind::va: return {"--asid", "--va", "--ttl-level", "--granule"};
    case OperandKind::va_all_asid: return {"--va", "--ttl-level", "--granule"};
    case OperandKind::asid: return {"--asid"};
    case OperandKind::range:
      return {"--asid", "--va", "--granule", "--ttl-level", "--scale", "--num", "--pages"};
    case OperandKind::range_all_asid:
      return {"--va", "--granule", "--ttl-level", "--scale", "--num", "--pages"};
    case OperandKind::ipa: return {"--ipa", "--ttl-level", "--granule"};
    case OperandKind::ipa_range:
      return {"--ipa", "--granule", "--ttl-level", "--scale", "--num", "--pages"};
    case OperandKind::address: return {"--va"};
  }
  return {};
}

void check_flags(arch::Instr instr, const EncodeOptions& o) {
  const OperandKind kind = arch::operand_kind(instr);
  const std::vector<std::string> allowed = flags_for(kind);
  const std::vector<std::pair<std::string, const Opt*>> all{
      {"--asid", &o.asid},          {"--va", &o.va},       {"--ipa", &o.ipa},
      {"--granule", &o.granule},    {"--ttl-level", &o.ttl_level},
      {"--scale", &o.scale},        {"--num", &o.num},     {"--pages", &o.pages}};
  for (const auto& [flag, opt] : all) {
    if (!opt->given()) continue;
    bool ok = false;
    for (const std::string& a : allowed) ok = ok || a == flag;
    if (ok) continue;
    std::string hint;
    if (flag == "--va" && kind == OperandKind::ipa) hint = " (use --ipa)";
    if (flag == "--va" && kind == OperandKind::ipa_range) hint = " (use --ipa)";
    if (flag == "--ipa" && (kind != OperandKind::none && kind != OperandKind::asid)) hint = " (use --va)";
    if (flag == "--asid" && (kind == OperandKind::va_all_asid || kind == OperandKind::range_all_asid)) {
      hint = arch::info(instr).regime == arch::TlbRegime::el2 ? " (EL2 ops carry no ASID)"
                                                               : " (it matches every ASID)";
    }
    throw UsageError(fmt::format("{} takes no {} (operand kind {}){}", arch::mnemonic(instr), flag,
                                 arch::operand_kind_name(kind), hint));
  }
}

const Opt& required(arch::Instr instr, const Opt& opt, const std::string& flag) {
  if (!opt.given()) throw UsageError(fmt::format("{} needs {}", arch::mnemonic(instr), flag));
  return opt;
}

arch::Granule granule_option(const EncodeOptions& o) {
  if (!o.granule.given()) return arch::Granule::k4K;
  if (const std::optional<arch::Granule> g = text::parse_granule(o.granule.value)) return *g;
  throw UsageError(fmt::format("--granule: \"{}\" is not 4k, 16k or 64k", o.granule.value));
}

std::string describe(const arch::RangeDecomposition& d) {
  std::string out;
  for (const arch::RangePiece& p : d.used()) {
    if (!out.empty()) out += ", ";
    out += fmt::format("--scale {} --num {} ({} pages)", p.scale, p.num, p.pages());
  }
  if (d.trailing_single_page) out += (out.empty() ? "" : ", ") + std::string("one single-page by-VA op");
  return out;
}

// SCALE and NUM from --scale/--num, or from --pages when one op covers it.
arch::RangePiece range_piece(arch::Instr instr, const EncodeOptions& o) {
  if (o.pages.given()) {
    if (o.scale.given() || o.num.given()) {
      throw UsageError("give either --pages or --scale and --num, not both");
    }
    const std::uint64_t pages = parse_number("--pages", o.pages.value);
    if (pages == 0) throw UsageError("--pages 0: a range op covers at least 2 pages");
    const tlbkit::Result<arch::RangeDecomposition> d = arch::range_decompose(pages);
    if (!d) throw UsageError(fmt::format("--pages {}: {}", pages, d.error().message));
    if (d->count == 1 && !d->trailing_single_page) return d->pieces[0];
    throw UsageError(fmt::format(
        "--pages {}: no single range op covers exactly {} pages; it takes {} ops: {}", pages, pages,
        d->count + (d->trailing_single_page ? 1 : 0), describe(*d)));
  }
  if (!o.scale.given() || !o.num.given()) {
    throw UsageError(
        fmt::format("{} needs --scale and --num, or --pages", arch::mnemonic(instr)));
  }
  return arch::RangePiece{small("--scale", o.scale.value), small("--num", o.num.value)};
}

arch::OperandFields fields_from_flags(arch::Instr instr, const EncodeOptions& o) {
  const OperandKind kind = arch::operand_kind(instr);
  check_flags(instr, o);
  arch::OperandFields f;
  const bool has_asid =
      kind == OperandKind::va || kind == OperandKind::asid || kind == OperandKind::range;
  if (has_asid) {
    const std::uint64_t asid = parse_number("--asid", required(instr, o.asid, "--asid").value);
    f.asid = arch::Asid{asid > 0xffff'ffffu ? 0xffff'ffffu : static_cast<std::uint32_t>(asid)};
  }
  if (kind == OperandKind::ipa || kind == OperandKind::ipa_range) {
    f.address = parse_number("--ipa", required(instr, o.ipa, "--ipa").value);
  } else if (kind != OperandKind::none && kind != OperandKind::asid) {
    f.address = parse_number("--va", required(instr, o.va, "--va").value);
  }
  const bool page_kind =
      kind == OperandKind::va || kind == OperandKind::va_all_asid || kind == OperandKind::ipa;
  if (page_kind) {
    if (o.granule.given() && !o.ttl_level.given()) {
      throw UsageError(
          "--granule only names the TTL hint's granule: give --ttl-level too (a by-VA or by-IPA "
          "operand holds address >> 12 whatever the granule)");
    }
    if (o.ttl_level.given()) {
      f.ttl = arch::TtlHint{granule_option(o), small("--ttl-level", o.ttl_level.value)};
    }
  }
  const bool range_kind = kind == OperandKind::range || kind == OperandKind::range_all_asid ||
                          kind == OperandKind::ipa_range;
  if (range_kind) {
    const arch::RangePiece piece = range_piece(instr, o);
    arch::RangeFields r;
    r.granule = granule_option(o);
    r.scale = piece.scale;
    r.num = piece.num;
    if (o.ttl_level.given()) r.ttl_level = small("--ttl-level", o.ttl_level.value);
    f.range = r;
  }
  return f;
}

// ---- encode from JSON ------------------------------------------------------------

json read_json(const std::string& path) {
  std::string content;
  if (path == "-") {
    content.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError(fmt::format("--from-json: cannot read \"{}\"", path));
    content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  json j = json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw UsageError(fmt::format("--from-json: \"{}\" is not valid JSON", path));
  return j;
}

arch::Op op_from(const json& j, const std::string& where) {
  text::OpFromJson r = text::op_from_json(j);
  if (!r.op) throw UsageError(fmt::format("--from-json: {}{}", where, r.error));
  return *r.op;
}

void run_encode_from_json(const EncodeOptions& o) {
  if (!o.words.empty()) throw UsageError("--from-json takes no op: the JSON names it");
  for (const Opt* opt : {&o.asid, &o.va, &o.ipa, &o.granule, &o.ttl_level, &o.scale, &o.num, &o.pages}) {
    if (opt->given()) throw UsageError("--from-json takes no field flags: the JSON holds the fields");
  }
  const json input = read_json(o.from_json.value);
  std::vector<arch::Op> ops;
  if (input.is_array()) {
    if (input.empty()) throw UsageError("--from-json: the array is empty");
    for (std::size_t i = 0; i < input.size(); ++i) {
      ops.push_back(op_from(input[i], fmt::format("element {}: ", i)));
    }
  } else {
    ops.push_back(op_from(input, ""));
  }
  std::string out;
  if (o.json) {
    json result = json::array();
    for (const arch::Op& op : ops) result.push_back(text::to_json(op));
    out = (input.is_array() ? result : result[0]).dump(2) + "\n";
  } else {
    for (const arch::Op& op : ops) out += text::to_asm(op) + "\n";
  }
  write_stdout(out);
}

void run_encode(const EncodeOptions& o) {
  if (o.from_json.given()) return run_encode_from_json(o);
  if (o.words.empty()) throw UsageError("encode needs an op (e.g. vae1is) or --from-json");
  const arch::Instr instr = instr_named(join(o.words, o.words.size()));
  const tlbkit::Result<arch::Op> op = arch::encode(instr, fields_from_flags(instr, o));
  if (!op) refuse(instr, op.error());
  write_stdout(o.json ? text::to_json(*op).dump(2) + "\n" : text::to_asm(*op) + "\n");
}

// ---- decode --------------------------------------------------------------------------

arch::Op op_to_decode(const std::vector<std::string>& words) {
  if (words.empty()) throw UsageError("decode needs an op and its operand, e.g. decode vae1is 0x5000000010000");
  // "dsb ish" may come as two words.
  if (const std::optional<arch::Instr> whole = arch::find_instr(join(words, words.size()));
      whole && !arch::takes_register(*whole)) {
    return arch::Op{*whole, 0};
  }
  if (words.size() == 1) {
    const arch::Instr instr = instr_named(words[0]);
    if (!arch::takes_register(instr)) return arch::Op{instr, 0};
    throw UsageError(fmt::format("decode {} needs the operand value", arch::mnemonic(instr)));
  }
  const arch::Instr instr = instr_named(join(words, words.size() - 1));
  return arch::Op{instr, parse_number("operand", words.back())};
}

void run_decode(const DecodeOptions& o) {
  const arch::Op op = op_to_decode(o.words);
  const tlbkit::Result<arch::DecodedOp> checked = arch::decode_checked(op);
  if (!checked && !o.allow_reserved) {
    throw UsageError(fmt::format("{} {}: {} (--allow-reserved shows its fields anyway)", arch::mnemonic(op.instr),
                                 text::hex64(op.operand), text::describe(checked.error())));
  }
  write_stdout(o.json ? text::to_json(op).dump(2) + "\n" : text::to_asm(op) + "\n");
}

}  // namespace

void add_tlbi_command(CLI::App& app) {
  CLI::App* tlbi = app.add_subcommand("tlbi", "Encode, decode and list TLBI, barrier and cache ops");
  tlbi->require_subcommand(1);

  auto enc = std::make_shared<EncodeOptions>();
  CLI::App* encode = tlbi->add_subcommand("encode", "Encode an op's operand from its fields");
  encode->add_option("op", enc->words, "Op mnemonic: vae1is, \"tlbi rvae1is\", \"dsb ish\", ...");
  add_string(*encode, "--asid", enc->asid, "ASID (0..65535)");
  add_string(*encode, "--va", enc->va, "VA (by-VA and IC/DC ops) or range base VA");
  add_string(*encode, "--ipa", enc->ipa, "IPA (IPAS2* ops) or range base IPA (RIPAS2* ops)");
  add_string(*encode, "--granule", enc->granule, "Granule of the TTL hint / range TG: 4k, 16k, 64k (default 4k)");
  add_string(*encode, "--ttl-level", enc->ttl_level, "TTL hint: level (1..3) of the entry; none if omitted");
  add_string(*encode, "--scale", enc->scale, "Range SCALE (0..3)");
  add_string(*encode, "--num", enc->num, "Range NUM (0..31)");
  add_string(*encode, "--pages", enc->pages, "Range length in granules, when one op covers it exactly");
  add_string(*encode, "--from-json", enc->from_json, "Re-encode decode's JSON (object or array) from FILE or - (stdin)");
  encode->add_flag("--json", enc->json, "Print JSON instead of assembler");
  encode->callback([enc] { run_encode(*enc); });

  auto dec = std::make_shared<DecodeOptions>();
  CLI::App* decode = tlbi->add_subcommand("decode", "Decode an operand into its fields");
  decode->add_option("op_and_operand", dec->words, "Op mnemonic, then the operand value (0x-hex or decimal)");
  decode->add_flag("--json", dec->json, "Print JSON instead of assembler");
  decode->add_flag("--allow-reserved", dec->allow_reserved,
                   "Show reserved or refused operands instead of failing");
  decode->callback([dec] { run_decode(*dec); });

  auto list_json = std::make_shared<bool>(false);
  CLI::App* list = tlbi->add_subcommand("list", "List the catalogue");
  list->add_flag("--json", *list_json, "Print JSON");
  list->callback([list_json] {
    write_stdout(*list_json ? text::catalogue_json().dump(2) + "\n" : text::catalogue_table());
  });
}

}  // namespace tlbkit::cli
