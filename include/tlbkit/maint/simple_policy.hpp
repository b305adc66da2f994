// The first-cut policy: per-VA TLBIs (with a TTL hint when FEAT_TTL and
// only leaves changed) up to a threshold, else one address-space-wide op.
#pragma once

#include "tlbkit/maint/policy.hpp"

namespace tlbkit::maint {

class SimplePolicy final : public Policy {
 public:
  static constexpr unsigned kDefaultThreshold = 32;
  static constexpr unsigned kMaxThreshold = 200;

  // `threshold`: the most per-VA TLBIs issued before going address-space
  // wide (clamped to kMaxThreshold so a plan always fits).
  explicit SimplePolicy(unsigned threshold = kDefaultThreshold)
      : threshold_(threshold < kMaxThreshold ? threshold : kMaxThreshold) {}

  // Plan shape:
  //   DSB ISHST; TLBI (per VA, one per entry of a leaf range or per page of a
  //   table range; non-leaf forms and no TTL when any table changed) or the
  //   wide op; [stage 2: DSB ISH; TLBI VMALLE1IS]; DSB ISH;
  //   [exec gained: IC IALLUIS; DSB ISH; ISB].
  Status plan(const Pending& pending, const AddressSpace& space, const arch::CpuFeatures& features,
              Plan& plan) const override;

  unsigned threshold() const { return threshold_; }

 private:
  unsigned threshold_;
};

}  // namespace tlbkit::maint
