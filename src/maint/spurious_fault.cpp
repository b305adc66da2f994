#include "tlbkit/maint/spurious_fault.hpp"

#include "tlbkit/arch/tlbi.hpp"

namespace tlbkit::maint {

using arch::Instr;

Status on_permission_fault(VirtAddr va, const AddressSpace& space, Plan& plan) {
  const VirtAddr page = va & ~VirtAddr{0xfff};
  Status s = ok_status();
  switch (space.regime) {
    case arch::Regime::el1_stage1:
      s = plan.append(arch::encode_va(Instr::vale1, arch::Asid{space.asid}, page, arch::kNoTtl));
      break;
    case arch::Regime::el2_stage1:
      s = plan.append(arch::encode_va_all_asid(Instr::vale2, page, arch::kNoTtl));
      break;
    case arch::Regime::stage2:
      s = plan.append(arch::encode_ipa(Instr::ipas2le1, page, arch::kNoTtl));
      if (s.ok()) s = plan.append(arch::make_op(Instr::dsb_nsh));
      // Combined stage 1+2 entries may hold the stricter stage-2 permission.
      if (s.ok()) s = plan.append(arch::make_op(Instr::vmalle1));
      break;
  }
  if (!s.ok()) return s;
  return plan.append(arch::make_op(Instr::dsb_nsh));
}

}  // namespace tlbkit::maint
