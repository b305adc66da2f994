// Validation of attribute arguments shared by map and protect. Engine-internal.
#pragma once

#include "tlbkit/pt/table.hpp"

namespace tlbkit::pt::detail {

// # Errors
// invalid_argument: attributes of another regime, an unencodable typed set,
// or bits outside the regime's attribute fields. unsupported: the
// contiguous hint.
inline Status check_attribute_bits(Regime regime, Descriptor bits) {
  if ((bits & ~arch::attribute_mask(regime)) != 0) {
    return Error{Errc::invalid_argument, "attribute bits outside the regime's attribute fields"};
  }
  if ((bits & arch::kContiguousBit) != 0) {
    return Error{Errc::unsupported, "the contiguous hint is not managed by the engine yet"};
  }
  return ok_status();
}

inline Status check_leaf_attributes(Regime regime, const LeafAttributes& attributes) {
  if (const Error* error = attributes.error()) return *error;
  if (attributes.regime() != regime) {
    return Error{Errc::invalid_argument, "attributes belong to another translation regime"};
  }
  return check_attribute_bits(regime, attributes.bits());
}

}  // namespace tlbkit::pt::detail
