#include "tlbkit/maint/plan_tail.hpp"

#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::maint {

using arch::Instr;

Status append_clean(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                    Plan& plan) {
  if (pending.clean.empty()) return ok_status();
  const std::uint64_t line = features.dcache_line == 0 ? 64 : features.dcache_line;
  for (const PhysRange& r : pending.clean) {
    const VirtAddr first = r.pa + space.linear_map_offset;
    const Result<arch::Op> op = arch::encode_address(Instr::dc_civac, first);
    if (!op.ok()) return op.error();
    const std::uint64_t lines = (r.size + line - 1) / line;
    const Status s = plan.append_repeated(*op, static_cast<std::uint32_t>(lines), line);
    if (!s.ok()) return s;
  }
  return plan.append(arch::make_op(Instr::dsb_ish));
}

Status append_icache(const Pending& pending, Plan& plan) {
  if (pending.exec != ExecGain::yes) return ok_status();
  for (const Instr i : {Instr::ic_ialluis, Instr::dsb_ish, Instr::isb}) {
    const Status s = plan.append(arch::make_op(i));
    if (!s.ok()) return s;
  }
  return ok_status();
}

Status append_tail(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
                   Plan& plan) {
  // Most batches need neither part: answered before any call.
  if (pending.clean.empty() && pending.exec != ExecGain::yes) return ok_status();
  const Status cleaned = append_clean(pending, space, features, plan);
  if (!cleaned.ok()) return cleaned;
  return append_icache(pending, plan);
}

}  // namespace tlbkit::maint
