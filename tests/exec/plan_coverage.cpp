#include "exec/plan_coverage.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <sstream>
#include <utility>

#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::exec::test {
namespace {

using arch::Instr;
using arch::OperandKind;

constexpr std::uint64_t kPage = 4096;

enum class Reach : std::uint8_t { everything, asid_wide, pages };

// What one TLBI removes (as a replacement) or must remove (as an original).
struct Effect {
  Reach reach = Reach::pages;
  std::optional<std::uint16_t> asid;  // nullopt: every ASID
  std::uint64_t first = 0;            // pages: first and last byte named
  std::uint64_t last = 0;
  bool leaf_only = false;
  std::optional<std::pair<arch::Granule, unsigned>> ttl;
  arch::Scope scope = arch::Scope::inner_shareable;
};

std::optional<Effect> effect_of(const arch::Op& op) {
  const arch::InstrInfo& info = arch::info(op.instr);
  if (info.category != arch::Category::tlbi || info.regime != arch::TlbRegime::el1_stage1) {
    return std::nullopt;
  }
  const arch::DecodedOp d = arch::decode(op);
  Effect e;
  e.leaf_only = info.leaf_only;
  e.scope = info.scope;
  switch (info.operand) {
    case OperandKind::none: e.reach = Reach::everything; return e;
    case OperandKind::asid:
      e.reach = Reach::asid_wide;
      e.asid = d.asid_field;
      return e;
    case OperandKind::va:
    case OperandKind::va_all_asid:
      if (info.operand == OperandKind::va) e.asid = d.asid_field;
      e.first = d.start;
      e.last = d.start + (kPage - 1);
      if (d.fields.ttl) e.ttl = std::pair{d.fields.ttl->granule, d.fields.ttl->level};
      return e;
    case OperandKind::range:
    case OperandKind::range_all_asid:
      if (info.operand == OperandKind::range) e.asid = d.asid_field;
      if (d.size == 0) return std::nullopt;  // TG 00: names nothing
      e.first = d.start;
      e.last = d.start + (d.size - 1);
      if (d.fields.range && d.fields.range->ttl_level) {
        e.ttl = std::pair{d.fields.range->granule, *d.fields.range->ttl_level};
      }
      return e;
    default: return std::nullopt;
  }
}

bool wide_enough(const Effect& by, const Effect& need) {
  return static_cast<int>(by.scope) >= static_cast<int>(need.scope);
}

bool pages_compatible(const Effect& by, const Effect& need) {
  if (by.reach != Reach::pages || !wide_enough(by, need)) return false;
  if (by.asid && by.asid != need.asid) return false;
  if (by.leaf_only && !need.leaf_only) return false;
  return !by.ttl || by.ttl == need.ttl;
}

// [need.first, need.last] lies in the union of the compatible intervals.
bool pages_covered(const Effect& need, const std::vector<Effect>& by) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
  for (const Effect& e : by) {
    if (pages_compatible(e, need)) spans.emplace_back(e.first, e.last);
  }
  std::sort(spans.begin(), spans.end());
  std::uint64_t next = need.first;  // first byte not yet covered
  for (const auto& [first, last] : spans) {
    if (first > next) break;
    if (last >= need.last) return true;
    if (last + 1 > next) next = last + 1;
  }
  return false;
}

bool covered(const Effect& need, const std::vector<Effect>& by) {
  for (const Effect& e : by) {
    if (e.reach == Reach::everything && wide_enough(e, need)) return true;
  }
  switch (need.reach) {
    case Reach::everything: return false;
    case Reach::asid_wide:
      return std::any_of(by.begin(), by.end(), [&](const Effect& e) {
        return e.reach == Reach::asid_wide && e.asid == need.asid && wide_enough(e, need);
      });
    case Reach::pages: return pages_covered(need, by);
  }
  return false;
}

bool has_icache_op(const std::vector<arch::Op>& ops) {
  return std::any_of(ops.begin(), ops.end(), [](const arch::Op& op) {
    return op.instr == Instr::ic_iallu || op.instr == Instr::ic_ialluis || op.instr == Instr::ic_ivau;
  });
}

}  // namespace

std::vector<arch::Op> ops_of(const Plan& plan) {
  std::vector<arch::Op> out;
  for (const arch::Op& op : plan.ops()) out.push_back(op);
  return out;
}

Plan plan_of(const std::vector<arch::Op>& ops) {
  // Plan::append never starts a loop from single ops (it takes a step each,
  // and a plan holds kMaxSteps), so each run of one instruction with a
  // constant operand distance goes in as one step, the way a policy's
  // append_repeated puts it: the plan's ops are `ops`, whatever its steps.
  Plan plan;
  for (std::size_t i = 0; i < ops.size();) {
    std::size_t end = i + 1;
    std::uint64_t stride = 0;
    if (end < ops.size() && ops[end].instr == ops[i].instr) {
      stride = ops[end].operand - ops[i].operand;  // modulo 2^64, as Step::at adds it
      while (end < ops.size() && ops[end].instr == ops[i].instr &&
             ops[end].operand == ops[end - 1].operand + stride) {
        ++end;
      }
    }
    if (!plan.append_repeated(ops[i], static_cast<std::uint32_t>(end - i), stride).ok()) break;
    i = end;
  }
  return plan;
}

std::string uncovered(const std::vector<arch::Op>& original, const std::vector<arch::Op>& replacement) {
  std::vector<Effect> by;
  for (const arch::Op& op : replacement) {
    if (const std::optional<Effect> e = effect_of(op)) by.push_back(*e);
  }
  for (const arch::Op& op : original) {
    const arch::InstrInfo& info = arch::info(op.instr);
    if (info.category != arch::Category::tlbi) continue;
    std::ostringstream why;
    why << info.mnemonic << " 0x" << std::hex << op.operand;
    const std::optional<Effect> need = effect_of(op);
    if (!need) return why.str() + ": not an EL1&0 stage-1 TLBI the check understands";
    if (!covered(*need, by)) return why.str() + " is not covered";
  }
  const bool has_ialluis = std::any_of(replacement.begin(), replacement.end(),
                                       [](const arch::Op& op) { return op.instr == Instr::ic_ialluis; });
  if (has_icache_op(original) && !has_ialluis) return "I-cache maintenance is not covered";
  return {};
}

}  // namespace tlbkit::exec::test
