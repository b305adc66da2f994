#include "window.hpp"

#include "trap.hpp"

namespace realisa {
namespace {

// What a read shows: the word, or a fault.
bool read_matches(const PageExpectation& e, const ProbeResult& r) {
  if (!e.mapped) return r.faulted == 1;
  return r.faulted == 0 && r.value == frame_word(e.pa);
}

bool write_matches(const PageExpectation& e, const ProbeResult& r) {
  return (e.mapped && e.writable) == (r.faulted == 0);
}

// The code stamped into an executable frame returns frame_word's low 16
// bits (code_frame in lane_el1.cpp); a fetch shows it or faults.
bool fetch_matches(const PageExpectation& e, const ProbeResult& r) {
  if (!(e.mapped && e.executable)) return r.faulted == 1;
  return r.faulted == 0 && r.value == (frame_word(e.pa) & 0xffff);
}

void classify(bool matches_now, bool matches_before, Tally& t) {
  ++t.checks;
  if (matches_now) return;
  if (matches_before) {
    ++t.stale;
  } else {
    ++t.wrong;
  }
}

}  // namespace

ProbeResult LocalProber::read(VirtAddr va) const { return realisa_probe_read(va); }
ProbeResult LocalProber::write(VirtAddr va, std::uint64_t value) const { return realisa_probe_write(va, value); }
ProbeResult LocalProber::fetch(VirtAddr va) const { return realisa_probe_exec(va); }

void Window::expect_mapped(unsigned first, unsigned count, PhysAddr pa, bool writable, bool executable) {
  for (unsigned i = 0; i < count; ++i) now_[first + i] = {true, pa + i * kPage, writable, executable};
}

void Window::expect_unmapped(unsigned first, unsigned count) {
  for (unsigned i = 0; i < count; ++i) now_[first + i] = {};
}

void Window::expect_writable(unsigned first, unsigned count, bool writable) {
  for (unsigned i = 0; i < count; ++i) now_[first + i].writable = writable;
}

void Window::expect_executable(unsigned first, unsigned count, bool executable) {
  for (unsigned i = 0; i < count; ++i) now_[first + i].executable = executable;
}

bool operator==(const PageExpectation& a, const PageExpectation& b) {
  return a.mapped == b.mapped && a.pa == b.pa && a.writable == b.writable && a.executable == b.executable;
}

void Window::warm(const Prober& prober, Accesses accesses) const {
  // The pages whose expectation changed since snapshot() last: a TLB holds
  // only so many entries (QEMU's starts at 256 per translation regime and
  // is resized by how it is used), and these are the entries that must
  // still be there when the change is made.
  for (const bool changed : {false, true}) {
    for (unsigned i = 0; i < pages_; ++i) {
      if (!(now_[i] == before_[i]) != changed) continue;
      if (accesses == Accesses::fetches) {
        (void)prober.fetch(va(i));
        continue;
      }
      const ProbeResult r = prober.read(va(i));
      if (accesses == Accesses::reads_and_writes && r.faulted == 0) (void)prober.write(va(i), r.value);
    }
  }
}

Tally Window::check(const Prober& prober, Accesses accesses) const {
  // The pages the change touched first: a TLB holds only so many entries
  // (QEMU's starts at 256 per translation regime), and probing the others
  // first could evict a stale entry before it is looked at.
  Tally t;
  for (const bool changed : {true, false}) {
    for (unsigned i = 0; i < pages_; ++i) {
      if ((now_[i] == before_[i]) == changed) continue;
      check_page(prober, accesses, i, t);
    }
  }
  return t;
}

void Window::check_page(const Prober& prober, Accesses accesses, unsigned i, Tally& t) const {
  const PageExpectation& now = now_[i];
  const PageExpectation& before = before_[i];
  if (accesses == Accesses::fetches) {
    const ProbeResult r = prober.fetch(va(i));
    classify(fetch_matches(now, r), fetch_matches(before, r), t);
    return;
  }
  const ProbeResult r = prober.read(va(i));
  classify(read_matches(now, r), read_matches(before, r), t);
  if (accesses == Accesses::reads_and_writes) {
    // Writes back what the page should hold, so a write that lands
    // changes nothing a later read compares.
    const std::uint64_t word = now.mapped ? frame_word(now.pa) : frame_word(before.pa);
    const ProbeResult w = prober.write(va(i), word);
    classify(write_matches(now, w), write_matches(before, w), t);
  }
}

}  // namespace realisa
