// Accesses of the kernel model: the machine translates; a fault is handled
// as a kernel would (demand paging, the zero page, huge pages, copy on
// write, spurious faults) and the access retried once.
#include <fmt/format.h>

#include "kernel.hpp"
#include "tlbkit/maint/spurious_fault.hpp"
#include "tlbkit/text/error.hpp"

namespace tlbkit::replay {

using trace::AccessKind;
using trace::MapFlags;
using trace::Prot;

namespace {

sim::AccessKind machine_kind(AccessKind kind) {
  switch (kind) {
    case AccessKind::read: return sim::AccessKind::read;
    case AccessKind::write: return sim::AccessKind::write;
    case AccessKind::fetch: return sim::AccessKind::fetch;
  }
  return sim::AccessKind::read;
}


}  // namespace

std::string TraceReplayer::Kernel::on(const trace::Access& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  access(*t, e.addr, e.kind);
  return {};
}

void TraceReplayer::Kernel::access(Thread& t, VirtAddr va, AccessKind kind) {
  ++run_.kernel.accesses;
  run_on(t.pe, t);
  // A thread inside its own gather has not returned to user space yet.
  if (batch_ && batch_->owner == t.id) flush_open_batch_early();
  Space& s = *space(t.space);
  const sim::Privilege privilege =
      s.kind == trace::SpaceKind::process ? sim::Privilege::el0 : sim::Privilege::el1;
  // A fault handled may leave a stricter entry in this PE's TLB (a
  // copy-on-write page taken over gains write permission without
  // invalidation): the retry then takes a spurious fault, dropped locally.
  constexpr int kAttempts = 3;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const Result<sim::Access> r = machine_.access(t.pe, va, machine_kind(kind), privilege);
    if (!r.ok()) {
      note(r.error(), fmt::format("access by thread {} at {:#x}", t.id, va));
      return;
    }
    if (r->outcome == sim::AccessOutcome::ok) return;
    if (attempt == kAttempts - 1) {
      run_.problems.push_back(
          fmt::format("access by thread {} at {:#x} still faults after its fault was handled", t.id, va));
      return;
    }
    switch (handle_fault(t, s, va, kind, r->outcome)) {
      case FaultOutcome::handled: ++run_.kernel.faults; break;
      case FaultOutcome::segfault: ++run_.kernel.segfaults; return;
      case FaultOutcome::broken: return;
    }
  }
}

TraceReplayer::Kernel::FaultOutcome TraceReplayer::Kernel::handle_fault(Thread& t, Space& s, VirtAddr va,
                                                                        AccessKind kind,
                                                                        sim::AccessOutcome outcome) {
  const Vma* v = s.vmas.find(va);
  if (v == nullptr || !trace::permits(v->prot, kind)) return FaultOutcome::segfault;
  const VirtAddr page = va & ~(kPage - 1);
  const auto it = s.present_at(page);
  if (it == s.present.end()) {
    fault_in(t, s, *v, page, kind);
    return FaultOutcome::handled;
  }
  Present& p = it->second;
  if (p.visible == Visible::no) {
    const bool opened = enter(t, fmt::format("fault by thread {} (PROT_NONE page back)", t.id));
    p.visible = Visible::yes;
    map_present(s, it->first, p, v->prot);
    leave(opened);
    return FaultOutcome::handled;
  }
  if (kind == AccessKind::write && p.cow == CopyOnWrite::yes) {
    break_cow(t, s, *v, it->first);
    return FaultOutcome::handled;
  }
  if (outcome == sim::AccessOutcome::permission_fault) {
    // The tables allow it: the PE held a stricter entry (permissions were
    // relaxed without invalidation). Drop it locally and retry.
    Plan plan;
    note(maint::on_permission_fault(page, address_space(s, t.pe), plan), "spurious fault");
    note(machine_.execute(t.pe, plan), "spurious fault");
    ++run_.kernel.spurious_faults;
    return FaultOutcome::handled;
  }
  run_.problems.push_back(fmt::format("translation fault at {:#x} in space {} on a page the kernel holds present",
                                      va, s.id));
  return FaultOutcome::broken;
}

void TraceReplayer::Kernel::fault_in(Thread& t, Space& s, const Vma& v, VirtAddr page, AccessKind kind) {
  const bool anonymous = trace::has(v.flags, MapFlags::anonymous);
  const bool shared = trace::has(v.flags, MapFlags::shared);
  const bool opened = enter(t, fmt::format("fault by thread {} at {:#x}", t.id, page));
  const VirtAddr block = page & ~(kBlock - 1);
  const bool block_fits = block >= v.start && block + kBlock <= v.end && !s.any_present(block, block + kBlock);
  if (trace::has(v.flags, MapFlags::huge) && anonymous &&
      profile_.transparent_huge_pages == sim::Profile::HugePages::on && block_fits) {
    const PhysAddr frame = frames_.allocate(kBlock);
    machine_.contents_written(frame, kBlock);  // zeroed, or the file's contents
    map_present(s, block, Present{frame, frame, kBlock, CopyOnWrite::no, Visible::yes}, v.prot);
    ++run_.kernel.blocks_faulted_in;
  } else if (anonymous && !shared && kind == AccessKind::read && s.kind != trace::SpaceKind::vm) {
    // A read of untouched anonymous memory maps the shared zero page,
    // read-only; the first write copies it.
    map_present(s, page, Present{Frames::kZeroPage, Frames::kZeroPage, kPage, CopyOnWrite::yes, Visible::yes},
                v.prot);
    ++run_.kernel.zero_page_maps;
  } else {
    const PhysAddr frame = frames_.allocate(kPage);
    machine_.contents_written(frame, kPage);  // zeroed, or the file's contents
    map_present(s, page, Present{frame, frame, kPage, CopyOnWrite::no, Visible::yes}, v.prot);
    ++run_.kernel.pages_faulted_in;
  }
  leave(opened);
}

void TraceReplayer::Kernel::break_cow(Thread& t, Space& s, const Vma& v, VirtAddr key) {
  Present p = s.present.at(key);
  const bool opened = enter(t, fmt::format("copy-on-write fault by thread {} at {:#x}", t.id, key));
  maint::Gather& g = gather(s);
  if (p.frame != Frames::kZeroPage && frames_.references(p.frame) == 1 && p.size == frames_.size_of(p.frame)) {
    // The last sharer takes the page over: write permission is gained,
    // which needs no invalidation.
    s.present[key].cow = CopyOnWrite::no;
    note(s.table->protect(key, p.size, pt::AttributeChange::to(attributes(s, v.prot, CopyOnWrite::no)), g),
         "copy-on-write reuse");
    ++run_.kernel.cow_reuses;
    leave(opened);
    return;
  }
  // wp_page_copy: clear the entry, invalidate, then map the copy
  // (break-before-make). A block is copied whole.
  note(s.table->unmap(key, p.size, g), "copy-on-write: clear");
  if (frames_.drop_reference(p.frame)) note(g.free_after_flush(p.frame, frames_.size_of(p.frame)), "copy-on-write");
  s.present.erase(key);
  flush_gathers();
  const PhysAddr frame = frames_.allocate(p.size);
  machine_.contents_written(frame, p.size);  // the copy
  map_present(s, key, Present{frame, frame, p.size, CopyOnWrite::no, Visible::yes}, v.prot);
  ++run_.kernel.cow_copies;
  leave(opened);
}

// ---- the touch model -------------------------------------------------------------

std::uint64_t TraceReplayer::Kernel::next_random() {
  // SplitMix64.
  std::uint64_t z = (random_state_ += 0x9e37'79b9'7f4a'7c15);
  z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9;
  z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11eb;
  return z ^ (z >> 31);
}

void TraceReplayer::Kernel::touch(Thread& t, VirtAddr start, VirtAddr end, Prot prot) {
  if (prot == Prot::none) return;
  const AccessKind kind = trace::has(prot, Prot::write)  ? AccessKind::write
                          : trace::has(prot, Prot::read) ? AccessKind::read
                                                         : AccessKind::fetch;
  std::uint64_t touched = 0;
  for (VirtAddr page = start; page < end && touched < options_.touch_limit; page += kPage) {
    if (next_random() % 100 >= options_.touch_percent) continue;
    ++touched;
    ++run_.kernel.touched;
    access(t, page, kind);
  }
}

}  // namespace tlbkit::replay
