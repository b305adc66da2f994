// A deliberately broken maintenance policy for checker tests: it plans
// nothing at all, so every invalidation a change needs is forgotten and
// every retired table is freed with its walk-cache entries still live.
#pragma once

#include "tlbkit/maint/policy.hpp"

namespace tlbkit::test {

class ForgetfulPolicy final : public maint::Policy {
 public:
  Status plan(const maint::Pending&, const maint::AddressSpace&, const arch::CpuFeatures&,
              Plan&) const override {
    return ok_status();
  }
};

}  // namespace tlbkit::test
