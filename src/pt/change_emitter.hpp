// Coalesces the per-slot change records of one operation into runs and
// hands them to the caller's sink. Engine-internal.
#pragma once

#include <cstdint>

#include "tlbkit/pt/change.hpp"

namespace tlbkit::pt::detail {

using arch::ChangeKind;
using arch::ExecGain;
using arch::PhysAddr;
using arch::VirtAddr;

// What a record says besides its addresses.
struct ChangeClass {
  std::uint8_t level;
  EntryKind entry;
  ChangeKind kind;
  ExecGain exec;
  pt::CacheMaintenance cmo = pt::CacheMaintenance::none;
  pt::Beneath beneath = pt::Beneath::unseen;
};

class ChangeEmitter {
 public:
  explicit ChangeEmitter(ChangeSink& sink) : sink_(sink) {}
  ChangeEmitter(const ChangeEmitter&) = delete;
  ChangeEmitter& operator=(const ChangeEmitter&) = delete;
  ~ChangeEmitter() { flush(); }

  // A deferred change of [va, va + size); merged with the previous one when
  // it continues it. Takes scalars, not a Change: this runs once per
  // descriptor, and copying small structs through the stack stalls on
  // store forwarding.
  void record(VirtAddr va, std::uint64_t size, ChangeClass what, PhysAddr output) {
    const std::uint32_t signature = signature_of(what);
    if (pending_size_ != 0 && signature == pending_signature_ && va == pending_va_ + pending_size_ &&
        (what.entry == EntryKind::table || output == pending_output_ + pending_size_)) {
      pending_size_ += size;
      return;
    }
    flush();
    pending_va_ = va;
    pending_size_ = size;
    pending_signature_ = signature;
    pending_class_ = what;
    pending_output_ = output;
  }

  // A break that must be invalidated now; earlier records go out first so
  // the sink sees changes in the order they were made.
  void invalidate_now(VirtAddr va, std::uint64_t size, ChangeClass what, PhysAddr output) {
    flush();
    sink_.invalidate_now(make_change(va, size, what, output));
  }

  void retire_table(PhysAddr table, unsigned pages) {
    flush();
    sink_.retire_table(table, pages);
  }

  void flush() {
    if (pending_size_ != 0) sink_.record(make_change(pending_va_, pending_size_, pending_class_, pending_output_));
    pending_size_ = 0;
  }

 private:
  static std::uint32_t signature_of(ChangeClass c) {
    return std::uint32_t{c.level} | static_cast<std::uint32_t>(c.entry) << 6 |
           static_cast<std::uint32_t>(c.kind) << 8 | static_cast<std::uint32_t>(c.exec) << 16 |
           static_cast<std::uint32_t>(c.cmo) << 24 | static_cast<std::uint32_t>(c.beneath) << 28;
  }
  static Change make_change(VirtAddr va, std::uint64_t size, ChangeClass what, PhysAddr output) {
    Change c;
    c.va = va;
    c.size = size;
    c.level = what.level;
    c.entry = what.entry;
    c.kind = what.kind;
    c.exec = what.exec;
    c.cmo = what.cmo;
    c.beneath = what.beneath;
    c.output = output;
    return c;
  }

  ChangeSink& sink_;
  VirtAddr pending_va_ = 0;
  std::uint64_t pending_size_ = 0;
  std::uint32_t pending_signature_ = 0;
  ChangeClass pending_class_{};
  PhysAddr pending_output_ = 0;
};

}  // namespace tlbkit::pt::detail
