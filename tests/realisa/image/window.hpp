// A window of pages a scenario maps, with what every page must show, and
// the probes that compare the real MMU with it.
#pragma once

#include <cstdint>

#include "platform.hpp"
#include "trap.hpp"

namespace realisa {

// What one page of a window must do when accessed.
struct PageExpectation {
  bool mapped = false;
  PhysAddr pa = 0;  // the page it reaches (its first word is frame_word(pa))
  bool writable = false;
  bool executable = false;
};

// Where a window's accesses are made: on this PE (EL1), by a guest (EL2
// lane), by another PE (SMP lane). Each access returns what it read or
// ran, or a fault.
class Prober {
 public:
  virtual ProbeResult read(VirtAddr va) const = 0;
  virtual ProbeResult write(VirtAddr va, std::uint64_t value) const = 0;
  virtual ProbeResult fetch(VirtAddr va) const = 0;

 protected:
  ~Prober() = default;
};

// Accesses made by this PE at its current EL (trap.hpp's probes).
class LocalProber final : public Prober {
 public:
  ProbeResult read(VirtAddr va) const override;
  ProbeResult write(VirtAddr va, std::uint64_t value) const override;
  ProbeResult fetch(VirtAddr va) const override;
};

// Which accesses a check makes.
enum class Accesses : std::uint8_t { reads, reads_and_writes, fetches };

// What a check found: accesses compared, and those that disagree with the
// expectation, split into stale (they show the state before the last
// change, as a TLB entry that was not invalidated would) and wrong (they
// show neither state).
struct Tally {
  unsigned checks = 0;
  unsigned stale = 0;
  unsigned wrong = 0;
  Tally& operator+=(const Tally& o) {
    checks += o.checks;
    stale += o.stale;
    wrong += o.wrong;
    return *this;
  }
};

class Window;

// Who makes a window's accesses: one prober, or several PEs each checking
// the whole window (SMP lane). check() sums what they found.
class Observers {
 public:
  virtual void warm(const Window& w, Accesses accesses) const = 0;
  virtual Tally check(const Window& w, Accesses accesses) const = 0;

 protected:
  ~Observers() = default;
};

class Window {
 public:
  static constexpr unsigned kMaxPages = 1024;

  Window(VirtAddr base, unsigned pages) : base_(base), pages_(pages) {}

  VirtAddr base() const { return base_; }
  VirtAddr va(unsigned page) const { return base_ + page * kPage; }
  unsigned pages() const { return pages_; }

  // Expectation edits: pages [first, first + count).
  void expect_mapped(unsigned first, unsigned count, PhysAddr pa, bool writable, bool executable = false);
  void expect_unmapped(unsigned first, unsigned count);
  void expect_writable(unsigned first, unsigned count, bool writable);
  void expect_executable(unsigned first, unsigned count, bool executable);

  // Remembers the current expectation as "before" the next change.
  void snapshot() { for (unsigned i = 0; i < pages_; ++i) before_[i] = now_[i]; }

  // Accesses every page so the TLB holds its translation (faults are
  // expected and ignored), the pages whose expectation changed since
  // snapshot() last.
  void warm(const Prober& prober, Accesses accesses) const;
  // Accesses every page and compares with the expectation, the pages whose
  // expectation changed since snapshot() first.
  Tally check(const Prober& prober, Accesses accesses) const;

 private:
  void check_page(const Prober& prober, Accesses accesses, unsigned page, Tally& t) const;

  VirtAddr base_;
  unsigned pages_;
  PageExpectation now_[kMaxPages];
  PageExpectation before_[kMaxPages];
};

// The accesses of one prober.
class ProberObservers final : public Observers {
 public:
  explicit ProberObservers(const Prober& prober) : prober_(prober) {}
  void warm(const Window& w, Accesses accesses) const override { w.warm(prober_, accesses); }
  Tally check(const Window& w, Accesses accesses) const override { return w.check(prober_, accesses); }

 private:
  const Prober& prober_;
};

}  // namespace realisa
