// The executor every lane runs plans through: the native executor, or, to
// show that a lane can fail, the native executor with a class of
// instructions dropped or narrowed (docs/REAL-ISA.md, "Teeth").
#pragma once

#include <cstdint>
#include <string_view>

#include "tlbkit/exec/native.hpp"
#include "tlbkit/plan/executor.hpp"

namespace realisa {

enum class Mode : std::uint8_t {
  normal,      // every op as planned
  drop_tlbi,   // no TLBI is issued
  drop_dsb,    // no DSB is issued
  local_only,  // every broadcast op (IS TLBI, DSB ISH, IC IALLUIS) issued as its local form
};

std::string_view mode_name(Mode mode);
// The mode called `name`; false when there is none.
bool parse_mode(std::string_view name, Mode& mode);

// The ops an executor issued, by class (after the mode's dropping).
struct OpCounts {
  std::uint64_t tlbi = 0;
  std::uint64_t range_tlbi = 0;  // FEAT_TLBIRANGE forms
  std::uint64_t dsb = 0;
  std::uint64_t cache = 0;  // IC and DC
  std::uint64_t dropped = 0;
};

class TeethExecutor final : public tlbkit::Executor {
 public:
  explicit TeethExecutor(Mode mode) : mode_(mode) {}
  // Issues `plan`'s ops one by one through the native executor, as the
  // mode says.
  void execute(const tlbkit::Plan& plan) override;
  // What was issued since the last call, and the count restarted.
  OpCounts take_counts();

 private:
  Mode mode_;
  tlbkit::exec::NativeExecutor native_;
  OpCounts counts_;
};

}  // namespace realisa
