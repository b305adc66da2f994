#include "tlbkit/sim/profile.hpp"

#include <array>

namespace tlbkit::sim {
namespace {

// Numbers and where they come from: docs/SIMULATOR.md.
constexpr Profile mobile_8() {
  Profile p;
  p.name = "mobile-8";
  p.summary = "8 PEs (phone SoC), Cortex-A76-sized TLBs, cheap broadcast";
  p.pes = 8;
  p.l2_hit = 6;
  p.descriptor_read = 40;
  p.tlbi_local = 10;
  p.tlbi_broadcast = 500;
  p.dsb_local = 20;
  p.dsb_broadcast_base = 500;
  p.dsb_per_pe = 60;
  p.isb = 20;
  p.ic_broadcast = 500;
  p.dc_line = 30;
  return p;
}

constexpr Profile server_64() {
  Profile p = mobile_8();
  p.name = "server-64";
  p.summary = "64 PEs (server), Neoverse-N1-sized TLBs, expensive broadcast and DSB";
  p.pes = 64;
  p.descriptor_read = 60;
  p.tlbi_broadcast = 800;
  p.dsb_broadcast_base = 500;
  p.dsb_per_pe = 40;
  return p;
}

constexpr Profile hvf_shim() {
  Profile p = mobile_8();
  p.name = "hvf-shim";
  p.summary = "mobile-8 where each maintenance request is a trap to an EL1 shim and back";
  p.request_round_trip = 5000;
  return p;
}

constexpr Profile erratum_repeat_tlbi() {
  Profile p = mobile_8();
  p.name = "erratum-repeat-tlbi";
  p.summary = "mobile-8 on cores whose broadcast TLBI;DSB must be issued twice";
  p.tlbi_repeat = 2;
  return p;
}

constexpr std::array<Profile, 4> kProfiles = {mobile_8(), server_64(), hvf_shim(), erratum_repeat_tlbi()};

}  // namespace

std::span<const Profile> profiles() { return kProfiles; }

const Profile* find_profile(std::string_view name) {
  for (const Profile& p : kProfiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace tlbkit::sim
