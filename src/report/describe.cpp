#include "tlbkit/report/describe.hpp"

#include <variant>

#include <fmt/format.h>

#include "tlbkit/text/parse.hpp"

namespace tlbkit::report {
namespace {

using arch::Execute;

void add(std::string& out, const std::string& item) {
  if (!out.empty()) out += ", ";
  out += item;
}

// The fields every regime shares, when not at their usual values.
template <class A>
void add_common(std::string& out, const A& a) {
  if (a.shareability == arch::Shareability::non) add(out, "non-shareable");
  if (a.shareability == arch::Shareability::outer) add(out, "outer shareable");
  if (a.access_flag == arch::AccessFlag::clear) add(out, "AF clear");
  if (a.dbm == arch::DirtyBitModifier::on) add(out, "DBM");
  if (a.contiguous == arch::Contiguous::yes) add(out, "contiguous");
  if (a.software != 0) add(out, fmt::format("sw {:#x}", a.software));
}

std::string text_of(const arch::s1::Attributes& a) {
  using arch::s1::Access;
  std::string out;
  switch (a.access) {
    case Access::el1_rw: out = "EL1 rw"; break;
    case Access::all_rw: out = "EL1+EL0 rw"; break;
    case Access::el1_ro: out = "EL1 ro"; break;
    case Access::all_ro: out = "EL1+EL0 ro"; break;
  }
  if (a.el1_execute == Execute::allowed) add(out, "EL1 exec");
  if (a.el0_execute == Execute::allowed) add(out, "EL0 exec");
  if (a.el1_execute == Execute::never && a.el0_execute == Execute::never) add(out, "xn");
  add(out, a.scope == arch::s1::Scope::global ? "global" : "nG");
  add(out, fmt::format("AttrIndx {}", a.mair_index));
  add_common(out, a);
  return out;
}

std::string text_of(const arch::el2::Attributes& a) {
  std::string out = a.access == arch::el2::Access::rw ? "rw" : "ro";
  add(out, a.execute == Execute::allowed ? "exec" : "xn");
  add(out, fmt::format("AttrIndx {}", a.mair_index));
  add_common(out, a);
  return out;
}

std::string text_of(const arch::s2::Attributes& a) {
  using arch::s2::Access;
  std::string out;
  switch (a.access) {
    case Access::none: out = "no access"; break;
    case Access::ro: out = "ro"; break;
    case Access::wo: out = "wo"; break;
    case Access::rw: out = "rw"; break;
  }
  switch (a.execute) {
    case arch::s2::Execute::all: add(out, "exec"); break;
    case arch::s2::Execute::el0_only: add(out, "EL0 exec"); break;
    case arch::s2::Execute::none: add(out, "xn"); break;
    case arch::s2::Execute::el1_only: add(out, "EL1 exec"); break;
  }
  add(out, fmt::format("MemAttr {:#x}", a.memattr));
  add_common(out, a);
  return out;
}

}  // namespace

std::string features_text(const arch::CpuFeatures& f) {
  std::string out;
  auto add_name = [&](const char* name) { out += out.empty() ? name : fmt::format(",{}", name); };
  if (f.ttl == arch::Presence::present) add_name("ttl");
  if (f.tlbi_range == arch::Presence::present) add_name("tlbirange");
  if (f.bbm == arch::BbmLevel::level1) add_name("bbm1");
  if (f.bbm == arch::BbmLevel::level2) add_name("bbm2");
  if (f.fwb == arch::Presence::present) add_name("fwb");
  return out.empty() ? "none" : out;
}

std::string geometry_text(arch::Regime regime, const workload::GeometrySpec& spec) {
  const Result<arch::Geometry> g = workload::make_geometry(spec);
  const bool stage2 = spec.stage == arch::Stage::stage2;
  std::string out = fmt::format("{}, {}-bit {}", arch::regime_name(regime), spec.input_bits, stage2 ? "IPA" : "VA");
  if (!g.ok()) return out + " (invalid geometry)";
  out += fmt::format(", start level {}", g->start_level());
  if (g->root_tables() > 1) out += fmt::format(", {} concatenated root tables", g->root_tables());
  return out;
}

std::string space_text(const maint::AddressSpace& space) {
  switch (space.regime) {
    case arch::Regime::el1_stage1:
      return fmt::format("ASID {}, {}", space.asid,
                         space.global == maint::GlobalEntries::present ? "global entries" : "no global entries");
    case arch::Regime::el2_stage1: return "EL2, no ASID";
    case arch::Regime::stage2: return fmt::format("VMID {}", space.vmid);
  }
  return "?";
}

std::string attributes_text(const workload::StepAttributes& attributes) {
  return std::visit([](const auto& typed) { return text_of(typed); }, attributes);
}

std::string range_text(std::uint64_t start, std::uint64_t size) {
  return fmt::format("[{}, {})", text::hex(start), text::hex_end(start, size));
}

std::string step_text(const workload::Step& step) {
  using workload::StepKind;
  const std::string range = range_text(step.va, step.size);
  const std::string attributes = step.attributes ? attributes_text(*step.attributes) : "no attributes";
  switch (step.kind) {
    case StepKind::map:
      return fmt::format("map {} -> {} ({}{})", range, text::hex(step.pa), attributes,
                         step.blocks == pt::BlockMappings::forbidden ? "; 4 KiB pages only" : "");
    case StepKind::unmap: return fmt::format("unmap {}", range);
    case StepKind::protect: return fmt::format("protect {} to ({})", range, attributes);
    case StepKind::split: return fmt::format("split {} down to level {}", range, step.level);
    case StepKind::promote: return fmt::format("promote {} to a level {} block", text::hex(step.va), step.level);
  }
  return "?";
}

std::string change_text(const pt::Change& c) {
  return fmt::format("L{} {} {} {} oa {}{}", c.level, c.entry == pt::EntryKind::table ? "table" : "leaf",
                     arch::change_kind_name(c.kind), range_text(c.va, c.size), text::hex(c.output),
                     c.exec == arch::ExecGain::yes ? " +exec" : "");
}

}  // namespace tlbkit::report
