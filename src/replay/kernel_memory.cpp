// Memory calls of the kernel model: VMAs change, and only the pages present
// in them reach the tables.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "kernel.hpp"

namespace tlbkit::replay {

using trace::MapFlags;
using trace::Prot;

namespace {

// Kernel mappings live at the top of the 48-bit space; the simulated PE
// has one stage-1 table (no TTBR1 split), so a process may not map there
// while a kernel space has mappings.
constexpr VirtAddr kKernelWindow = 0xff00'0000'0000;

bool writable(Prot p) { return trace::has(p, Prot::write); }
bool accessible(Prot p) { return p != Prot::none; }

}  // namespace

pt::LeafAttributes TraceReplayer::Kernel::attributes(const Space& s, Prot prot, CopyOnWrite cow) const {
  const bool write = writable(prot) && cow == CopyOnWrite::no;
  const bool exec = trace::has(prot, Prot::exec);
  switch (s.kind) {
    case trace::SpaceKind::process: {
      arch::s1::Attributes a;
      a.access = write ? arch::s1::Access::all_rw : arch::s1::Access::all_ro;
      a.el0_execute = exec ? arch::Execute::allowed : arch::Execute::never;
      a.el1_execute = arch::Execute::never;
      a.scope = arch::s1::Scope::non_global;
      return a;
    }
    case trace::SpaceKind::kernel: {
      arch::s1::Attributes a;
      a.access = write ? arch::s1::Access::el1_rw : arch::s1::Access::el1_ro;
      a.el1_execute = exec ? arch::Execute::allowed : arch::Execute::never;
      a.scope = arch::s1::Scope::global;
      return a;
    }
    case trace::SpaceKind::vm: {
      arch::s2::Attributes a;
      a.memattr = 0xf;
      a.access = write ? arch::s2::Access::rw : arch::s2::Access::ro;
      a.execute = exec ? arch::s2::Execute::all : arch::s2::Execute::none;
      return a;
    }
  }
  return arch::s1::Attributes{};
}

std::string TraceReplayer::Kernel::check_kernel_window(const Space& s, VirtAddr start, VirtAddr end) const {
  if (s.kind == trace::SpaceKind::vm) return {};
  const bool in_window = end > kKernelWindow;
  if (s.kind == trace::SpaceKind::kernel) {
    if (start < kKernelWindow) {
      return fmt::format("kernel mappings must lie at or above {:#x} (the kernel window)", kKernelWindow);
    }
    for (const auto& [id, other] : spaces_) {
      if (other->kind == trace::SpaceKind::process && !other->vmas.within(start, end).empty()) {
        return fmt::format("kernel mapping overlaps process {}'s VMAs (one stage-1 table per PE: no TTBR1 split)", id);
      }
    }
    return {};
  }
  if (!in_window) return {};
  for (const auto& [id, other] : spaces_) {
    if (other->kind == trace::SpaceKind::kernel && !other->vmas.within(start, end).empty()) {
      return fmt::format("process mapping overlaps the kernel's mappings of space {} (no TTBR1 split)", id);
    }
  }
  return {};
}

// ---- calls over VMAs ------------------------------------------------------------

std::vector<std::pair<VirtAddr, VirtAddr>> TraceReplayer::Kernel::vma_pieces(const Space& s, VirtAddr start,
                                                                             VirtAddr end) const {
  // Cut at every VMA edge inside the range: holes are pieces too (a page
  // present there is still unmapped, in a piece of its own).
  std::vector<VirtAddr> cuts{start};
  for (const Vma& v : s.vmas.within(start, end)) {
    if (v.start > cuts.back()) cuts.push_back(v.start);
    if (v.end > cuts.back() && v.end < end) cuts.push_back(v.end);
  }
  cuts.push_back(end);
  std::vector<std::pair<VirtAddr, VirtAddr>> pieces;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    if (cuts[i] < cuts[i + 1]) pieces.emplace_back(cuts[i], cuts[i + 1]);
  }
  return pieces;
}

template <class Change>
void TraceReplayer::Kernel::over_pieces(Space& s, const std::vector<std::pair<VirtAddr, VirtAddr>>& pieces,
                                        maint::CallKind kind, Change change) {
  const bool per_vma = policy_.flush_point() == maint::FlushPoint::per_vma;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto [lo, hi] = pieces[i];
    if (!s.any_present(lo, hi)) continue;
    gather(s).note_call(maint::CallSpan{kind, lo, hi});
    change(lo, hi);
    if (per_vma && i + 1 < pieces.size()) flush_gathers();
  }
}

// ---- present pages ------------------------------------------------------------

void TraceReplayer::Kernel::split_present_at(Space& s, VirtAddr at) {
  const auto it = s.present_at(at);
  if (it == s.present.end()) return;
  const VirtAddr base = it->first;
  const Present block = it->second;
  if (block.size == kPage || at == base) return;
  s.present.erase(it);
  for (std::uint64_t off = 0; off < block.size; off += kPage) {
    Present p = block;
    p.pa = block.pa + off;
    p.size = kPage;
    s.present[base + off] = p;
  }
  frames_.add_reference(block.frame, static_cast<unsigned>(block.size / kPage - 1));
}

void TraceReplayer::Kernel::drop_present(Space& s, VirtAddr start, VirtAddr end) {
  split_present_at(s, start);
  split_present_at(s, end);
  const auto first = s.present.lower_bound(start);
  const auto last = s.present.lower_bound(end);
  if (first == last) return;
  maint::Gather& g = gather(s);
  // One call per run of adjacent present pages, as zap_pte_range clears
  // only present entries: a single call over the whole span would let the
  // engine unhook whole tables over the holes, reported as one change of
  // the table's span (1 GiB, 512 GiB), which a per-page policy then walks
  // page by page.
  for (auto run = first; run != last;) {
    const VirtAddr from = run->first;
    VirtAddr to = from + run->second.size;
    auto next = std::next(run);
    while (next != last && next->first == to) {
      to += next->second.size;
      ++next;
    }
    note(s.table->unmap(from, to - from, g), fmt::format("unmap of [{:#x}, {:#x}) in space {}", from, to, s.id));
    run = next;
  }
  for (auto it = first; it != last; ++it) {
    if (frames_.drop_reference(it->second.frame)) {
      note(g.free_after_flush(it->second.frame, frames_.size_of(it->second.frame)), "freeing a page");
    }
  }
  s.present.erase(first, last);
}

void TraceReplayer::Kernel::reprotect_present(Space& s, VirtAddr start, VirtAddr end) {
  split_present_at(s, start);
  split_present_at(s, end);
  auto it = s.present.lower_bound(start);
  const auto last = s.present.lower_bound(end);
  while (it != last) {
    const Vma* v = s.vmas.find(it->first);
    const Prot prot = v == nullptr ? Prot::none : v->prot;
    Present& p = it->second;
    if (p.visible == Visible::no) {  // mapped again at its next fault
      ++it;
      continue;
    }
    maint::Gather& g = gather(s);
    if (!accessible(prot)) {
      // PROT_NONE: the descriptor goes invalid, the page stays.
      note(s.table->unmap(it->first, p.size, g), "mprotect(PROT_NONE)");
      p.visible = Visible::no;
      ++it;
      continue;
    }
    // A run of adjacent pages with the same rights and copy-on-write state
    // is one protect call.
    const VirtAddr run_start = it->first;
    VirtAddr run_end = it->first + p.size;
    const CopyOnWrite cow = p.cow;
    auto next = std::next(it);
    while (next != last && next->first == run_end && next->second.cow == cow && next->second.visible == Visible::yes) {
      const Vma* nv = s.vmas.find(next->first);
      if (nv == nullptr || nv->prot != prot) break;
      run_end += next->second.size;
      ++next;
    }
    note(s.table->protect(run_start, run_end - run_start, pt::AttributeChange::to(attributes(s, prot, cow)), g),
         fmt::format("mprotect of [{:#x}, {:#x}) in space {}", run_start, run_end, s.id));
    it = next;
  }
}

void TraceReplayer::Kernel::map_present(Space& s, VirtAddr va, const Present& p, Prot prot) {
  if (p.visible == Visible::yes) {
    note(s.table->map(va, p.pa, p.size, attributes(s, prot, p.cow), gather(s)),
         fmt::format("map of {:#x} in space {}", va, s.id));
  }
  s.present[va] = p;
  run_.kernel.peak_present_pages = std::max<std::uint64_t>(run_.kernel.peak_present_pages, s.present.size());
}

void TraceReplayer::Kernel::grow_vma(Thread& t, Space& s, VirtAddr start, VirtAddr end, Prot prot, MapFlags flags) {
  s.vmas.insert(Vma{start, end, prot, flags});
  if (touch_model_) touch(t, start, end, prot);
}

// ---- the calls ------------------------------------------------------------------

std::string TraceReplayer::Kernel::on(const trace::Mmap& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  Space& s = *space(t->space);
  const VirtAddr end = e.addr + e.length;
  if (std::string refusal = check_kernel_window(s, e.addr, end); !refusal.empty()) return refusal;
  ++run_.kernel.memory_calls;
  const bool opened = enter(*t, fmt::format("mmap by thread {}", t->id));
  over_pieces(s, vma_pieces(s, e.addr, end), maint::CallKind::unmap,  // what MAP_FIXED replaces
              [&](VirtAddr lo, VirtAddr hi) { drop_present(s, lo, hi); });
  s.vmas.remove(e.addr, end);
  leave(opened);
  grow_vma(*t, s, e.addr, end, e.prot, e.flags);
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::Munmap& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  Space& s = *space(t->space);
  ++run_.kernel.memory_calls;
  const bool opened = enter(*t, fmt::format("munmap by thread {}", t->id));
  over_pieces(s, vma_pieces(s, e.addr, e.addr + e.length), maint::CallKind::unmap,
              [&](VirtAddr lo, VirtAddr hi) { drop_present(s, lo, hi); });
  s.vmas.remove(e.addr, e.addr + e.length);
  leave(opened);
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::Mprotect& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  Space& s = *space(t->space);
  const VirtAddr end = e.addr + e.length;
  ++run_.kernel.memory_calls;
  // Pages that were not accessible and now are (for the touch model).
  std::vector<Vma> gained;
  if (touch_model_ && accessible(e.prot)) {
    for (const Vma& v : s.vmas.within(e.addr, end)) {
      if (!accessible(v.prot)) gained.push_back(v);
    }
  }
  const bool opened = enter(*t, fmt::format("mprotect by thread {}", t->id));
  const std::vector<std::pair<VirtAddr, VirtAddr>> pieces = vma_pieces(s, e.addr, end);  // before they change
  s.vmas.protect(e.addr, end, e.prot);
  over_pieces(s, pieces, maint::CallKind::protect, [&](VirtAddr lo, VirtAddr hi) { reprotect_present(s, lo, hi); });
  leave(opened);
  for (const Vma& v : gained) touch(*t, v.start, v.end, e.prot);
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::MadviseDontneed& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  Space& s = *space(t->space);
  ++run_.kernel.memory_calls;
  const bool opened = enter(*t, fmt::format("madvise(DONTNEED) by thread {}", t->id));
  over_pieces(s, vma_pieces(s, e.addr, e.addr + e.length), maint::CallKind::unmap,
              [&](VirtAddr lo, VirtAddr hi) { drop_present(s, lo, hi); });
  leave(opened);
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::Reclaim& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  Space* s = space(e.space);
  if (s == nullptr) return fmt::format("no space {}", e.space);
  ++run_.kernel.memory_calls;
  const bool opened = enter(*t, fmt::format("reclaim by thread {} in space {}", t->id, e.space));
  // One piece: reclaim walks pages, not VMAs (no tlb_end_vma), so even a
  // per-VMA policy flushes it once, at the end of the reclaimer's batch.
  const VirtAddr end = e.addr + e.length;
  over_pieces(*s, {{e.addr, end}}, maint::CallKind::reclaim, [&](VirtAddr lo, VirtAddr hi) { drop_present(*s, lo, hi); });
  leave(opened);
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::Brk& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  Space& s = *space(t->space);
  if (s.kind != trace::SpaceKind::process) return fmt::format("brk in space {}, which is not a process", s.id);
  ++run_.kernel.memory_calls;
  if (!s.brk_start) {
    s.brk_start = e.addr;
    s.brk_end = e.addr;
    return {};
  }
  if (e.addr < *s.brk_start) return fmt::format("brk {:#x} below the heap's start {:#x}", e.addr, *s.brk_start);
  const VirtAddr old_end = (s.brk_end + kPage - 1) & ~(kPage - 1);
  const VirtAddr new_end = (e.addr + kPage - 1) & ~(kPage - 1);
  s.brk_end = e.addr;
  if (new_end > old_end) {
    const bool opened = enter(*t, fmt::format("brk by thread {}", t->id));
    drop_present(s, old_end, new_end);
    s.vmas.remove(old_end, new_end);
    leave(opened);
    grow_vma(*t, s, old_end, new_end, Prot::read | Prot::write, MapFlags::anonymous);
  } else if (new_end < old_end) {
    const bool opened = enter(*t, fmt::format("brk by thread {}", t->id));
    drop_present(s, new_end, old_end);
    s.vmas.remove(new_end, old_end);
    leave(opened);
  }
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::Mremap& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  Space& s = *space(t->space);
  const VirtAddr old_end = e.old_addr + e.old_length;
  // A real trace may move memory the trace never showed being mapped (made
  // before the trace starts, or by racing threads whose calls strace
  // orders otherwise): the kernel accepted the call, so the VMA existed.
  // It is taken as private anonymous read-write memory, with nothing present.
  const Vma* found = s.vmas.find(e.old_addr);
  if (found == nullptr) ++run_.kernel.implied_vmas;
  const Vma vma = found != nullptr ? *found
                                   : Vma{e.old_addr, old_end, Prot::read | Prot::write, MapFlags::anonymous};
  const VirtAddr new_end = e.new_addr + e.new_length;
  if (std::string refusal = check_kernel_window(s, e.new_addr, new_end); !refusal.empty()) return refusal;
  ++run_.kernel.memory_calls;
  const std::uint64_t kept = std::min(e.old_length, e.new_length);
  const bool opened = enter(*t, fmt::format("mremap by thread {}", t->id));
  if (e.new_addr == e.old_addr) {
    if (e.new_length < e.old_length) {
      drop_present(s, e.old_addr + e.new_length, old_end);
      s.vmas.remove(e.old_addr + e.new_length, old_end);
    } else {
      drop_present(s, old_end, new_end);
      s.vmas.remove(old_end, new_end);
    }
    leave(opened);
    if (e.new_length > e.old_length) grow_vma(*t, s, old_end, new_end, vma.prot, vma.flags);
    return {};
  }
  // Move: clear the destination, take the kept pages out of the old place,
  // flush (no translation of the old place may survive the move), then map
  // them at the new place (move_page_tables).
  drop_present(s, e.new_addr, new_end);
  s.vmas.remove(e.new_addr, new_end);
  drop_present(s, e.old_addr + kept, old_end);
  split_present_at(s, e.old_addr);
  split_present_at(s, e.old_addr + kept);
  std::vector<std::pair<VirtAddr, Present>> moving(s.present.lower_bound(e.old_addr),
                                                   s.present.lower_bound(e.old_addr + kept));
  if (!moving.empty()) {
    const VirtAddr from = moving.front().first;
    const VirtAddr to = moving.back().first + moving.back().second.size;
    note(s.table->unmap(from, to - from, gather(s)), "mremap: unmap of the old place");
    s.present.erase(s.present.lower_bound(e.old_addr), s.present.lower_bound(e.old_addr + kept));
  }
  s.vmas.remove(e.old_addr, old_end);
  flush_gathers();
  const std::uint64_t delta = e.new_addr - e.old_addr;  // modulo 2^64
  for (auto& [va, p] : moving) {
    const VirtAddr to = va + delta;
    if (p.size == kBlock && (to % kBlock) != 0) {
      // A block cannot land misaligned: it moves as pages.
      frames_.add_reference(p.frame, static_cast<unsigned>(kBlock / kPage - 1));
      for (std::uint64_t off = 0; off < kBlock; off += kPage) {
        Present page = p;
        page.pa = p.pa + off;
        page.size = kPage;
        map_present(s, to + off, page, vma.prot);
      }
      continue;
    }
    map_present(s, to, p, vma.prot);
  }
  s.vmas.insert(Vma{e.new_addr, e.new_addr + kept, vma.prot, vma.flags});
  leave(opened);
  if (e.new_length > kept) grow_vma(*t, s, e.new_addr + kept, new_end, vma.prot, vma.flags);
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::Fork& e) {
  Thread* parent = thread(e.parent);
  if (parent == nullptr) return fmt::format("no thread {}", e.parent);
  if (thread(e.child) != nullptr) return fmt::format("thread {} exists already", e.child);
  if (space(e.child_space) != nullptr) return fmt::format("space {} exists already", e.child_space);
  Space& ps = *space(parent->space);
  if (ps.kind != trace::SpaceKind::process) return fmt::format("thread {} is not in a process", e.parent);
  Space* cs = create_space(e.child_space, trace::SpaceKind::process);
  if (cs == nullptr) return {};
  ++run_.kernel.memory_calls;
  const bool opened = enter(*parent, fmt::format("fork by thread {}", parent->id));
  for (const Vma& v : ps.vmas.within(0, ~VirtAddr{0})) cs->vmas.insert(v);
  cs->brk_start = ps.brk_start;
  cs->brk_end = ps.brk_end;
  // copy_page_range: private pages are shared copy-on-write (the parent's
  // writable ones write-protected, which needs maintenance); shared VMAs
  // are not copied, their pages fault in again in the child.
  for (auto& [va, p] : ps.present) {
    const Vma* v = ps.vmas.find(va);
    if (v == nullptr || trace::has(v->flags, MapFlags::shared)) continue;
    if (p.cow == CopyOnWrite::no && writable(v->prot) && p.visible == Visible::yes) {
      p.cow = CopyOnWrite::yes;
      note(ps.table->protect(va, p.size, pt::AttributeChange::to(attributes(ps, v->prot, p.cow)), gather(ps)),
           "fork: write-protect");
    }
    p.cow = CopyOnWrite::yes;
    frames_.add_reference(p.frame);
    map_present(*cs, va, p, v->prot);
  }
  leave(opened);
  start_thread(e.child, e.child_space, trace::ThreadStart::kAnyPe);
  return {};
}

}  // namespace tlbkit::replay
