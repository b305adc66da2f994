// Hand-derived descriptor bits for the typed attribute sets of every regime.
//
// Bit positions (Arm ARM, VMSAv8-64 block and page descriptors):
//   stage 1 EL1&0: AttrIndx 4:2, NS 5, AP[2:1] 7:6, SH 9:8, AF 10, nG 11,
//                  DBM 51, Contiguous 52, PXN 53, UXN 54, software 58:55
//   stage 1 EL2:   AttrIndx 4:2, AP[1] 6 (RES1), AP[2] 7 (read-only), SH 9:8,
//                  AF 10, DBM 51, Contiguous 52, XN 54, software 58:55
//   stage 2:       MemAttr 5:2, S2AP 7:6, SH 9:8, AF 10, DBM 51,
//                  Contiguous 52, XN[1:0] 54:53, software 58:55
// Constants used in the derivations:
//   1 << 51 = 0x0008'0000'0000'0000   1 << 52 = 0x0010'0000'0000'0000
//   1 << 53 = 0x0020'0000'0000'0000   1 << 54 = 0x0040'0000'0000'0000
//   0xf << 55 = 0x0780'0000'0000'0000

#include <gtest/gtest.h>

#include <cstdint>

#include "tlbkit/arch/attributes.hpp"
#include "tlbkit/arch/regime.hpp"

namespace tlbkit::arch {
namespace {

// ------------------------------------------------------ stage 1, EL1&0

TEST(Stage1Attributes, DefaultsEncodeKernelDataPage) {
  // AttrIndx 0, SH inner (11 -> 0x300), AP 00, AF (0x400), PXN, UXN, global.
  // 0x300 | 0x400 = 0x700; PXN | UXN = 0x0060'0000'0000'0000.
  const auto d = s1::encode(s1::Attributes{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Descriptor{0x0060'0000'0000'0700});
}

TEST(Stage1Attributes, ReadOnlyEl0ExecutableUserPageEncodesAp11AndClearsUxn) {
  s1::Attributes a;
  a.mair_index = 1;                   // 001 << 2 = 0x004
  a.access = s1::Access::all_ro;      // AP 11 << 6 = 0x0c0
  a.el1_execute = Execute::never;     // PXN 1 << 53
  a.el0_execute = Execute::allowed;   // UXN clear
  a.scope = s1::Scope::non_global;    // nG 0x800
  // 0x004 | 0x0c0 | 0x300 (SH inner) | 0x400 (AF) | 0x800 = 0xfc4
  const auto d = s1::encode(a);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Descriptor{0x0020'0000'0000'0fc4});
}

TEST(Stage1Attributes, EveryFieldAtItsMaximumLandsInItsOwnBits) {
  s1::Attributes a;
  a.mair_index = 7;                          // 111 << 2 = 0x01c
  a.shareability = Shareability::outer;      // 10 << 8 = 0x200
  a.access = s1::Access::all_rw;             // 01 << 6 = 0x040
  a.el1_execute = Execute::allowed;          // PXN clear
  a.el0_execute = Execute::allowed;          // UXN clear
  a.scope = s1::Scope::non_global;           // 0x800
  a.access_flag = AccessFlag::clear;         // AF clear
  a.dbm = DirtyBitModifier::on;              // 1 << 51
  a.contiguous = Contiguous::yes;            // 1 << 52
  a.software = 0xf;                          // 0xf << 55
  // high: 0x0780 + 0x0010 + 0x0008 = 0x0798; low: 0x01c + 0x040 + 0x200 + 0x800 = 0xa5c
  const auto d = s1::encode(a);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Descriptor{0x0798'0000'0000'0a5c});
}

TEST(Stage1Attributes, NonShareableEl1ReadOnlyExecutableKernelText) {
  s1::Attributes a;
  a.shareability = Shareability::non;  // SH 00
  a.access = s1::Access::el1_ro;       // AP 10 -> 0x080
  a.el1_execute = Execute::allowed;    // PXN clear; UXN stays set
  a.software = 0x5;                    // 0101 << 55 = 2^57 + 2^55 = 0x0280'0000'0000'0000
  // 0x080 | 0x400 (AF) = 0x480; UXN 0x0040'..., software 0x0280'...
  const auto d = s1::encode(a);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Descriptor{0x02c0'0000'0000'0480});
}

TEST(Stage1Attributes, DecodeReadsEveryField) {
  // 0x0020'0000'0000'0fc4 from ReadOnlyEl0ExecutableUserPage..., plus DBM and
  // software 0x3 (0x0180'0000'0000'0000), plus OA bits that decode must ignore.
  const Descriptor d = 0x01a8'0000'8000'0fc7;  // 0x0020 + 0x0008 + 0x0180 = 0x01a8
  const s1::Attributes a = s1::decode(d);
  EXPECT_EQ(a.mair_index, 1);
  EXPECT_EQ(a.shareability, Shareability::inner);
  EXPECT_EQ(a.access, s1::Access::all_ro);
  EXPECT_EQ(a.el1_execute, Execute::never);
  EXPECT_EQ(a.el0_execute, Execute::allowed);
  EXPECT_EQ(a.scope, s1::Scope::non_global);
  EXPECT_EQ(a.access_flag, AccessFlag::set);
  EXPECT_EQ(a.dbm, DirtyBitModifier::on);
  EXPECT_EQ(a.contiguous, Contiguous::no);
  EXPECT_EQ(a.software, 3);
}

TEST(Stage1Attributes, DecodeOfEncodeIsIdentityOverEveryEnumeratorCombination) {
  const Shareability shs[] = {Shareability::non, Shareability::outer, Shareability::inner};
  const s1::Access accesses[] = {s1::Access::el1_rw, s1::Access::all_rw, s1::Access::el1_ro,
                                 s1::Access::all_ro};
  const Execute execs[] = {Execute::allowed, Execute::never};
  const s1::Scope scopes[] = {s1::Scope::global, s1::Scope::non_global};
  const AccessFlag afs[] = {AccessFlag::clear, AccessFlag::set};
  const DirtyBitModifier dbms[] = {DirtyBitModifier::off, DirtyBitModifier::on};
  const Contiguous contigs[] = {Contiguous::no, Contiguous::yes};
  int checked = 0;
  for (std::uint8_t mair = 0; mair < 8; ++mair)
    for (Shareability sh : shs)
      for (s1::Access ap : accesses)
        for (Execute pxn : execs)
          for (Execute uxn : execs)
            for (s1::Scope ng : scopes)
              for (AccessFlag af : afs)
                for (DirtyBitModifier dbm : dbms)
                  for (Contiguous c : contigs)
                    for (std::uint8_t sw = 0; sw < 16; ++sw) {
                      s1::Attributes a;
                      a.mair_index = mair;
                      a.shareability = sh;
                      a.access = ap;
                      a.el1_execute = pxn;
                      a.el0_execute = uxn;
                      a.scope = ng;
                      a.access_flag = af;
                      a.dbm = dbm;
                      a.contiguous = c;
                      a.software = sw;
                      const auto d = s1::encode(a);
                      ASSERT_TRUE(d.ok());
                      ASSERT_EQ(*d & ~s1::kAttributeMask, 0u) << std::hex << *d;
                      ASSERT_EQ(s1::decode(*d), a) << std::hex << *d;
                      ++checked;
                    }
  EXPECT_EQ(checked, 8 * 3 * 4 * 2 * 2 * 2 * 2 * 2 * 2 * 16);
}

TEST(Stage1Attributes, MairIndexEightIsInvalidArgument) {
  s1::Attributes a;
  a.mair_index = 8;
  const auto d = s1::encode(a);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Errc::invalid_argument);
}

TEST(Stage1Attributes, SoftwareSixteenIsInvalidArgument) {
  s1::Attributes a;
  a.software = 16;
  const auto d = s1::encode(a);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Errc::invalid_argument);
}

TEST(Stage1Attributes, AttributeMaskCoversExactlyTheStage1Fields) {
  // 4:2 0x1c, NS 0x20, AP 0xc0, SH 0x300, AF 0x400, nG 0x800 -> 0xffc;
  // DBM|Contig|PXN|UXN = 0x0078'..., software 0x0780'... -> 0x07f8'...
  EXPECT_EQ(s1::kAttributeMask, Descriptor{0x07f8'0000'0000'0ffc});
  EXPECT_EQ(attribute_mask(Regime::el1_stage1), Descriptor{0x07f8'0000'0000'0ffc});
}

// ---------------------------------------------------------- stage 1, EL2

TEST(El2Attributes, DefaultsSetApRes1AndXn) {
  // AP[1] RES1 (0x040) | SH inner 0x300 | AF 0x400 = 0x740; XN 1 << 54.
  const auto d = el2::encode(el2::Attributes{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Descriptor{0x0040'0000'0000'0740});
}

TEST(El2Attributes, ReadOnlyExecutableSetsAp2AtBit7AndClearsXn) {
  el2::Attributes a;
  a.mair_index = 2;                      // 010 << 2 = 0x008
  a.shareability = Shareability::non;    // 0
  a.access = el2::Access::ro;            // AP[2] 0x080
  a.execute = Execute::allowed;          // XN clear
  // 0x008 | 0x040 (AP[1] RES1) | 0x080 | 0x400 (AF) = 0x4c8
  const auto d = el2::encode(a);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Descriptor{0x0000'0000'0000'04c8});
}

TEST(El2Attributes, EveryFieldAtItsMaximumLandsInItsOwnBits) {
  el2::Attributes a;
  a.mair_index = 7;                      // 0x01c
  a.shareability = Shareability::outer;  // 0x200
  a.access = el2::Access::ro;            // 0x080
  a.execute = Execute::never;            // 1 << 54
  a.access_flag = AccessFlag::clear;
  a.dbm = DirtyBitModifier::on;          // 1 << 51
  a.contiguous = Contiguous::yes;        // 1 << 52
  a.software = 0xf;                      // 0x0780'...
  // high: 0x0780 + 0x0040 + 0x0010 + 0x0008 = 0x07d8
  // low: 0x01c + 0x040 (RES1) + 0x080 + 0x200 = 0x2dc
  const auto d = el2::encode(a);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Descriptor{0x07d8'0000'0000'02dc});
}

TEST(El2Attributes, NeverSetsNgOrPxn) {
  // EL2 without E2H has no ASIDs and no EL0: bits 11 and 53 stay clear.
  const auto d = el2::encode(el2::Attributes{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d & 0x800u, 0u);
  EXPECT_EQ(*d & (std::uint64_t{1} << 53), 0u);
}

TEST(El2Attributes, DecodeOfEncodeIsIdentityOverEveryEnumeratorCombination) {
  const Shareability shs[] = {Shareability::non, Shareability::outer, Shareability::inner};
  const el2::Access accesses[] = {el2::Access::rw, el2::Access::ro};
  const Execute execs[] = {Execute::allowed, Execute::never};
  const AccessFlag afs[] = {AccessFlag::clear, AccessFlag::set};
  const DirtyBitModifier dbms[] = {DirtyBitModifier::off, DirtyBitModifier::on};
  const Contiguous contigs[] = {Contiguous::no, Contiguous::yes};
  int checked = 0;
  for (std::uint8_t mair = 0; mair < 8; ++mair)
    for (Shareability sh : shs)
      for (el2::Access ap : accesses)
        for (Execute xn : execs)
          for (AccessFlag af : afs)
            for (DirtyBitModifier dbm : dbms)
              for (Contiguous c : contigs)
                for (std::uint8_t sw = 0; sw < 16; ++sw) {
                  el2::Attributes a;
                  a.mair_index = mair;
                  a.shareability = sh;
                  a.access = ap;
                  a.execute = xn;
                  a.access_flag = af;
                  a.dbm = dbm;
                  a.contiguous = c;
                  a.software = sw;
                  const auto d = el2::encode(a);
                  ASSERT_TRUE(d.ok());
                  ASSERT_NE(*d & el2::kApRes1Bit, 0u);  // RES1 always set
                  ASSERT_EQ(*d & ~el2::kAttributeMask, 0u) << std::hex << *d;
                  ASSERT_EQ(el2::decode(*d), a) << std::hex << *d;
                  ++checked;
                }
  EXPECT_EQ(checked, 8 * 3 * 2 * 2 * 2 * 2 * 2 * 16);
}

TEST(El2Attributes, MairIndexEightIsInvalidArgument) {
  el2::Attributes a;
  a.mair_index = 8;
  const auto d = el2::encode(a);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Errc::invalid_argument);
}

TEST(El2Attributes, SoftwareSixteenIsInvalidArgument) {
  el2::Attributes a;
  a.software = 16;
  const auto d = el2::encode(a);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Errc::invalid_argument);
}

// ------------------------------------------------------------------ stage 2

TEST(Stage2Attributes, DefaultsEncodeNormalWriteBackReadWriteNoExecute) {
  // MemAttr 0xf << 2 = 0x3c, S2AP 11 << 6 = 0xc0, SH 0x300, AF 0x400 -> 0x7fc;
  // XN 10 << 53 = 1 << 54 = 0x0040'0000'0000'0000.
  const auto d = s2::encode(s2::Attributes{});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Descriptor{0x0040'0000'0000'07fc});
}

TEST(Stage2Attributes, ReadOnlyDeviceEl0OnlyExecuteEncodesXn01) {
  s2::Attributes a;
  a.memattr = 0x1;                       // Device-nGnRE: 0001 << 2 = 0x04
  a.access = s2::Access::ro;             // S2AP 01 -> 0x40
  a.shareability = Shareability::non;    // 0
  a.execute = s2::Execute::el0_only;     // XN 01 -> 1 << 53
  // 0x004 | 0x040 | 0x400 (AF) = 0x444
  const auto d = s2::encode(a);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Descriptor{0x0020'0000'0000'0444});
}

TEST(Stage2Attributes, XnEncodingsAre00All01El0Only10None11El1Only) {
  s2::Attributes a;
  a.execute = s2::Execute::all;
  EXPECT_EQ(*s2::encode(a) & s2::kXnMask, 0u);
  a.execute = s2::Execute::el0_only;
  EXPECT_EQ(*s2::encode(a) & s2::kXnMask, Descriptor{0x0020'0000'0000'0000});  // 01
  a.execute = s2::Execute::none;
  EXPECT_EQ(*s2::encode(a) & s2::kXnMask, Descriptor{0x0040'0000'0000'0000});  // 10
  a.execute = s2::Execute::el1_only;
  EXPECT_EQ(*s2::encode(a) & s2::kXnMask, Descriptor{0x0060'0000'0000'0000});  // 11
}

TEST(Stage2Attributes, S2apEncodingsAre00None01Ro10Wo11Rw) {
  s2::Attributes a;
  a.access = s2::Access::none;
  EXPECT_EQ(*s2::encode(a) & s2::kS2apMask, 0x00u);
  a.access = s2::Access::ro;
  EXPECT_EQ(*s2::encode(a) & s2::kS2apMask, 0x40u);
  a.access = s2::Access::wo;
  EXPECT_EQ(*s2::encode(a) & s2::kS2apMask, 0x80u);
  a.access = s2::Access::rw;
  EXPECT_EQ(*s2::encode(a) & s2::kS2apMask, 0xc0u);
}

TEST(Stage2Attributes, EveryFieldAtItsMaximumLandsInItsOwnBits) {
  s2::Attributes a;
  a.memattr = 0xa;                       // 1010 << 2 = 0x28
  a.access = s2::Access::wo;             // 0x80
  a.shareability = Shareability::outer;  // 0x200
  a.execute = s2::Execute::el1_only;     // 11 << 53 = 0x0060'...
  a.access_flag = AccessFlag::clear;
  a.dbm = DirtyBitModifier::on;          // 0x0008'...
  a.contiguous = Contiguous::yes;        // 0x0010'...
  a.software = 0xf;                      // 0x0780'...
  // high: 0x0780 + 0x0060 + 0x0010 + 0x0008 = 0x07f8; low: 0x28 + 0x80 + 0x200 = 0x2a8
  const auto d = s2::encode(a);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Descriptor{0x07f8'0000'0000'02a8});
}

TEST(Stage2Attributes, DecodeOfEncodeIsIdentityOverEveryEnumeratorCombination) {
  const s2::Access accesses[] = {s2::Access::none, s2::Access::ro, s2::Access::wo,
                                 s2::Access::rw};
  const Shareability shs[] = {Shareability::non, Shareability::outer, Shareability::inner};
  const s2::Execute execs[] = {s2::Execute::all, s2::Execute::el0_only, s2::Execute::none,
                               s2::Execute::el1_only};
  const AccessFlag afs[] = {AccessFlag::clear, AccessFlag::set};
  const DirtyBitModifier dbms[] = {DirtyBitModifier::off, DirtyBitModifier::on};
  const Contiguous contigs[] = {Contiguous::no, Contiguous::yes};
  int checked = 0;
  for (std::uint8_t memattr = 0; memattr < 16; ++memattr)
    for (s2::Access ap : accesses)
      for (Shareability sh : shs)
        for (s2::Execute xn : execs)
          for (AccessFlag af : afs)
            for (DirtyBitModifier dbm : dbms)
              for (Contiguous c : contigs)
                for (std::uint8_t sw = 0; sw < 16; ++sw) {
                  s2::Attributes a;
                  a.memattr = memattr;
                  a.access = ap;
                  a.shareability = sh;
                  a.execute = xn;
                  a.access_flag = af;
                  a.dbm = dbm;
                  a.contiguous = c;
                  a.software = sw;
                  const auto d = s2::encode(a);
                  ASSERT_TRUE(d.ok());
                  ASSERT_EQ(*d & ~s2::kAttributeMask, 0u) << std::hex << *d;
                  ASSERT_EQ(s2::decode(*d), a) << std::hex << *d;
                  ++checked;
                }
  EXPECT_EQ(checked, 16 * 4 * 3 * 4 * 2 * 2 * 2 * 16);
}

TEST(Stage2Attributes, MemAttrSixteenIsInvalidArgument) {
  s2::Attributes a;
  a.memattr = 16;
  const auto d = s2::encode(a);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Errc::invalid_argument);
}

TEST(Stage2Attributes, SoftwareSixteenIsInvalidArgument) {
  s2::Attributes a;
  a.software = 16;
  const auto d = s2::encode(a);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Errc::invalid_argument);
}

TEST(Stage2Attributes, AttributeMaskHasNoNgAndTwoXnBits) {
  // MemAttr 0x3c | S2AP 0xc0 | SH 0x300 | AF 0x400 = 0x7fc (no bit 11);
  // DBM|Contig|XN[1:0] = 0x0078'..., software 0x0780'... -> 0x07f8'...
  EXPECT_EQ(s2::kAttributeMask, Descriptor{0x07f8'0000'0000'07fc});
  EXPECT_EQ(attribute_mask(Regime::stage2), Descriptor{0x07f8'0000'0000'07fc});
}

// ------------------------------------------------- stage-2 memory types

struct MemoryTypeVector {
  s2::MemoryType type;
  s2::Fwb mode;
  std::uint8_t memattr;
};

TEST(Stage2MemoryType, WithoutFwbNormalWriteBackIsF_NonCacheable5_DeviceNGnRE1) {
  // MemAttr[3:2] outer, [1:0] inner: 11 WB, 01 NC; outer 00 = Device, [1:0] type.
  const MemoryTypeVector vectors[] = {
      {s2::MemoryType::normal_write_back, s2::Fwb::disabled, 0xf},     // 11 11
      {s2::MemoryType::normal_non_cacheable, s2::Fwb::disabled, 0x5},  // 01 01
      {s2::MemoryType::device_nGnRE, s2::Fwb::disabled, 0x1},          // 00 01
      {s2::MemoryType::device_nGnRnE, s2::Fwb::disabled, 0x0},         // 00 00
  };
  for (const auto& v : vectors) {
    const auto m = s2::encode_memory_type(v.type, v.mode);
    ASSERT_TRUE(m.ok()) << static_cast<int>(v.type);
    EXPECT_EQ(*m, v.memattr) << static_cast<int>(v.type);
  }
}

TEST(Stage2MemoryType, WithFwbNormalWriteBackIs6_NonCacheable5_Device1_UseStage1Is7) {
  // FEAT_S2FWB: MemAttr[2] = 1 Normal ([1:0] 01 NC, 10 WB, 11 stage 1 decides);
  // MemAttr[2] = 0 Device ([1:0] type).
  const MemoryTypeVector vectors[] = {
      {s2::MemoryType::normal_write_back, s2::Fwb::enabled, 0x6},     // 0110
      {s2::MemoryType::normal_non_cacheable, s2::Fwb::enabled, 0x5},  // 0101
      {s2::MemoryType::device_nGnRE, s2::Fwb::enabled, 0x1},          // 0001
      {s2::MemoryType::device_nGnRnE, s2::Fwb::enabled, 0x0},         // 0000
      {s2::MemoryType::normal_use_stage1, s2::Fwb::enabled, 0x7},     // 0111
  };
  for (const auto& v : vectors) {
    const auto m = s2::encode_memory_type(v.type, v.mode);
    ASSERT_TRUE(m.ok()) << static_cast<int>(v.type);
    EXPECT_EQ(*m, v.memattr) << static_cast<int>(v.type);
  }
}

TEST(Stage2MemoryType, UseStage1WithoutFwbIsUnsupported) {
  const auto m = s2::encode_memory_type(s2::MemoryType::normal_use_stage1, s2::Fwb::disabled);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, Errc::unsupported);
}

TEST(Stage2Cacheability, WithoutFwbAnyWriteThroughOrWriteBackHalfIsCacheable) {
  EXPECT_FALSE(s2::is_cacheable(0x0, s2::Fwb::disabled));  // Device-nGnRnE
  EXPECT_FALSE(s2::is_cacheable(0x1, s2::Fwb::disabled));  // Device-nGnRE
  EXPECT_FALSE(s2::is_cacheable(0x3, s2::Fwb::disabled));  // Device-GRE
  EXPECT_FALSE(s2::is_cacheable(0x5, s2::Fwb::disabled));  // outer NC, inner NC
  EXPECT_TRUE(s2::is_cacheable(0xf, s2::Fwb::disabled));   // outer WB, inner WB
  EXPECT_TRUE(s2::is_cacheable(0xa, s2::Fwb::disabled));   // outer WT, inner WT
  EXPECT_TRUE(s2::is_cacheable(0x6, s2::Fwb::disabled));   // outer NC, inner WT
  EXPECT_TRUE(s2::is_cacheable(0x7, s2::Fwb::disabled));   // outer NC, inner WB
  EXPECT_TRUE(s2::is_cacheable(0xd, s2::Fwb::disabled));   // outer WB, inner NC
  EXPECT_TRUE(s2::is_cacheable(0x9, s2::Fwb::disabled));   // outer WT, inner NC
}

TEST(Stage2Cacheability, WithFwbOnlyForcedWriteBackAndUseStage1AreCacheable) {
  EXPECT_FALSE(s2::is_cacheable(0x0, s2::Fwb::enabled));  // Device-nGnRnE
  EXPECT_FALSE(s2::is_cacheable(0x1, s2::Fwb::enabled));  // Device-nGnRE
  EXPECT_FALSE(s2::is_cacheable(0x3, s2::Fwb::enabled));  // Device-GRE
  EXPECT_FALSE(s2::is_cacheable(0x5, s2::Fwb::enabled));  // Normal NC
  EXPECT_TRUE(s2::is_cacheable(0x6, s2::Fwb::enabled));   // Normal WB (forced)
  EXPECT_TRUE(s2::is_cacheable(0x7, s2::Fwb::enabled));   // stage 1 may make it WB
}

TEST(Stage2Cacheability, TheSameMemAttrReadsDifferentlyWithAndWithoutFwb) {
  // 0xf: WB/WB without FWB; with FWB MemAttr[2] = 1, [1:0] = 11 -> use stage 1.
  EXPECT_TRUE(s2::is_cacheable(0xf, s2::Fwb::disabled));
  // 0x1: Device both ways.
  EXPECT_FALSE(s2::is_cacheable(0x1, s2::Fwb::enabled));
  // 0x9 (1001): outer WT without FWB -> cacheable; with FWB MemAttr[2] = 0 -> Device.
  EXPECT_TRUE(s2::is_cacheable(0x9, s2::Fwb::disabled));
  EXPECT_FALSE(s2::is_cacheable(0x9, s2::Fwb::enabled));
}

}  // namespace
}  // namespace tlbkit::arch
