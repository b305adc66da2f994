// Instruction words of the whole catalogue against the GNU assembler, the
// independent oracle: every mnemonic is assembled with aarch64-linux-gnu-as
// and the bytes it emits must equal instruction_word(). The assembler is
// located at configure time (tests/CMakeLists.txt); when it is missing the
// test fails, it does not skip: `make test` installs it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tlbkit/arch/ops.hpp"

#ifndef TLBKIT_AARCH64_AS
#error "tests/CMakeLists.txt must define TLBKIT_AARCH64_AS"
#endif
#ifndef TLBKIT_AARCH64_OBJCOPY
#error "tests/CMakeLists.txt must define TLBKIT_AARCH64_OBJCOPY"
#endif

namespace tlbkit::arch {
namespace {

namespace fs = std::filesystem;

// Hand-written: the mnemonic each enumerator must stand for. If the table
// paired a mnemonic with the wrong enumerator, the assembler would agree
// with the table and only this list would notice.
const std::vector<std::pair<Instr, std::string>> kExpectedMnemonics{
    {Instr::vae1is, "tlbi vae1is"},         {Instr::vale1is, "tlbi vale1is"},
    {Instr::vaae1is, "tlbi vaae1is"},       {Instr::vaale1is, "tlbi vaale1is"},
    {Instr::aside1is, "tlbi aside1is"},     {Instr::vmalle1is, "tlbi vmalle1is"},
    {Instr::vae1, "tlbi vae1"},             {Instr::vale1, "tlbi vale1"},
    {Instr::vaae1, "tlbi vaae1"},           {Instr::vaale1, "tlbi vaale1"},
    {Instr::aside1, "tlbi aside1"},         {Instr::vmalle1, "tlbi vmalle1"},
    {Instr::rvae1is, "tlbi rvae1is"},       {Instr::rvale1is, "tlbi rvale1is"},
    {Instr::rvaae1is, "tlbi rvaae1is"},     {Instr::rvaale1is, "tlbi rvaale1is"},
    {Instr::rvae1, "tlbi rvae1"},           {Instr::rvale1, "tlbi rvale1"},
    {Instr::rvaae1, "tlbi rvaae1"},         {Instr::rvaale1, "tlbi rvaale1"},
    {Instr::ipas2e1is, "tlbi ipas2e1is"},   {Instr::ipas2le1is, "tlbi ipas2le1is"},
    {Instr::ripas2e1is, "tlbi ripas2e1is"}, {Instr::ripas2le1is, "tlbi ripas2le1is"},
    {Instr::vmalls12e1is, "tlbi vmalls12e1is"}, {Instr::alle1is, "tlbi alle1is"},
    {Instr::ipas2e1, "tlbi ipas2e1"},       {Instr::ipas2le1, "tlbi ipas2le1"},
    {Instr::ripas2e1, "tlbi ripas2e1"},     {Instr::ripas2le1, "tlbi ripas2le1"},
    {Instr::vmalls12e1, "tlbi vmalls12e1"}, {Instr::alle1, "tlbi alle1"},
    {Instr::vae2is, "tlbi vae2is"},         {Instr::vale2is, "tlbi vale2is"},
    {Instr::rvae2is, "tlbi rvae2is"},       {Instr::rvale2is, "tlbi rvale2is"},
    {Instr::alle2is, "tlbi alle2is"},       {Instr::vae2, "tlbi vae2"},
    {Instr::vale2, "tlbi vale2"},           {Instr::rvae2, "tlbi rvae2"},
    {Instr::rvale2, "tlbi rvale2"},         {Instr::alle2, "tlbi alle2"},
    {Instr::dsb_ishst, "dsb ishst"},        {Instr::dsb_ish, "dsb ish"},
    {Instr::dsb_nsh, "dsb nsh"},            {Instr::dsb_sy, "dsb sy"},
    {Instr::isb, "isb"},                    {Instr::ic_iallu, "ic iallu"},
    {Instr::ic_ialluis, "ic ialluis"},      {Instr::ic_ivau, "ic ivau"},
    {Instr::dc_civac, "dc civac"},
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A fresh directory for this test's files.
fs::path scratch_dir() {
  const fs::path dir = fs::path(testing::TempDir()) / ("tlbkit_words_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs `command`, returning its exit status; its stderr goes to `log`.
int run(const std::string& command, const fs::path& log) {
  const int status = std::system((command + " 2>'" + log.string() + "'").c_str());
  return status;
}

// Assembles `source` and returns the little-endian words of its .text.
std::vector<std::uint32_t> assemble(const std::string& source) {
  const std::string as = TLBKIT_AARCH64_AS;
  const std::string objcopy = TLBKIT_AARCH64_OBJCOPY;
  EXPECT_TRUE(!as.empty() && fs::exists(as))
      << "aarch64-linux-gnu-as not found (configure saw \"" << as
      << "\"): install binutils-aarch64-linux-gnu (scripts/install-deps.sh) and re-run cmake";
  EXPECT_TRUE(!objcopy.empty() && fs::exists(objcopy))
      << "aarch64-linux-gnu-objcopy not found (configure saw \"" << objcopy << "\")";
  if (!fs::exists(as) || !fs::exists(objcopy)) return {};

  const fs::path dir = scratch_dir();
  const fs::path s = dir / "catalogue.s";
  const fs::path o = dir / "catalogue.o";
  const fs::path bin = dir / "catalogue.bin";
  const fs::path log = dir / "stderr.txt";
  std::ofstream(s) << source;
  if (run("'" + as + "' -o '" + o.string() + "' '" + s.string() + "'", log) != 0) {
    ADD_FAILURE() << "the assembler refused the catalogue:\n" << read_file(log) << "\nsource:\n" << source;
    return {};
  }
  if (run("'" + objcopy + "' -O binary --only-section=.text '" + o.string() + "' '" + bin.string() + "'",
          log) != 0) {
    ADD_FAILURE() << "objcopy failed:\n" << read_file(log);
    return {};
  }
  const std::string bytes = read_file(bin);
  std::vector<std::uint32_t> words;
  for (std::size_t i = 0; i + 4 <= bytes.size(); i += 4) {
    std::uint32_t w = 0;
    for (std::size_t b = 0; b < 4; ++b) {
      w |= std::uint32_t{static_cast<unsigned char>(bytes[i + b])} << (8 * b);
    }
    words.push_back(w);
  }
  EXPECT_EQ(bytes.size() % 4, 0u);
  fs::remove_all(dir);
  return words;
}

// The register operand used for the k-th catalogue entry: varied so that a
// misplaced Rt field shows; 31 is written XZR.
unsigned register_for(std::size_t k) { return static_cast<unsigned>((k * 7 + 3) % 32); }

std::string register_name(unsigned rt) { return rt == 31 ? "xzr" : "x" + std::to_string(rt); }

TEST(InstructionWords, EveryEnumeratorHasTheMnemonicOfItsName) {
  ASSERT_EQ(kExpectedMnemonics.size(), kInstrCount);
  for (const auto& [instr, name] : kExpectedMnemonics) {
    EXPECT_EQ(mnemonic(instr), name);
  }
}

TEST(InstructionWords, EveryCatalogueEntryMatchesTheGnuAssembler) {
  std::ostringstream source;
  source << "\t.arch armv8.4-a\n";  // FEAT_TLBIRANGE
  for (std::size_t k = 0; k < kInstrCount; ++k) {
    const InstrInfo& i = catalogue()[k];
    source << '\t' << i.mnemonic;
    if (takes_register(i.instr)) source << ", " << register_name(register_for(k));
    source << '\n';
  }
  const std::vector<std::uint32_t> words = assemble(source.str());
  ASSERT_EQ(words.size(), kInstrCount);
  for (std::size_t k = 0; k < kInstrCount; ++k) {
    const InstrInfo& i = catalogue()[k];
    EXPECT_EQ(instruction_word(i.instr, register_for(k)), words[k])
        << i.mnemonic << std::hex << ": tlbkit 0x" << instruction_word(i.instr, register_for(k))
        << ", assembler 0x" << words[k];
    if (i.category != Category::barrier) {
      // The SYS fields of the table, read back out of the assembler's word.
      const SysEncoding from_as{static_cast<std::uint8_t>((words[k] >> 16) & 7),
                                static_cast<std::uint8_t>((words[k] >> 12) & 15),
                                static_cast<std::uint8_t>((words[k] >> 8) & 15),
                                static_cast<std::uint8_t>((words[k] >> 5) & 7)};
      EXPECT_EQ(i.sys, from_as) << i.mnemonic;
    }
  }
}

TEST(InstructionWords, OpsWithoutARegisterEncodeRt31WhateverRtIsPassed) {
  EXPECT_EQ(instruction_word(Instr::vmalle1is, 0), instruction_word(Instr::vmalle1is, 5));
  EXPECT_EQ(instruction_word(Instr::vmalle1is, 0) & 31u, 31u);
  EXPECT_EQ(instruction_word(Instr::dsb_ish, 7), 0xD5033B9Fu);
}

TEST(InstructionWords, BarrierWordsFromTheBrief) {
  // Cross-checked above by the assembler; kept as literals for readers.
  EXPECT_EQ(instruction_word(Instr::dsb_ish, 0), 0xD5033B9Fu);
  EXPECT_EQ(instruction_word(Instr::isb, 0), 0xD5033FDFu);
}

}  // namespace
}  // namespace tlbkit::arch
