// Spaces, threads, contexts and batches of the kernel model.
#include <bit>
#include <variant>

#include <fmt/format.h>

#include "kernel.hpp"
#include "tlbkit/text/error.hpp"
#include "tlbkit/workload/scenario.hpp"

namespace tlbkit::replay {

namespace {

percpu::IdWidth width_of(unsigned bits) { return bits == 8 ? percpu::IdWidth::bits8 : percpu::IdWidth::bits16; }

unsigned pes_of(const sim::Profile& profile, const ReplayOptions& options) {
  return options.pes == 0 ? profile.pes : options.pes;
}

// Stage 1: 48-bit VAs (four levels); stage 2: 48-bit IPAs from level 0.
workload::GeometrySpec geometry_of(trace::SpaceKind kind) {
  workload::GeometrySpec g;
  if (kind == trace::SpaceKind::vm) {
    g.stage = arch::Stage::stage2;
    g.input_bits = 48;
    g.start_level = 0;
  }
  return g;
}

// Where a space loaded on the PEs of `loaded_on` may hold translations,
// for a plan run on `issuer`.
maint::Reach reach_of(std::uint64_t loaded_on, unsigned issuer) {
  maint::Reach r;
  r.pes = static_cast<std::uint16_t>(std::popcount(loaded_on));
  const std::uint64_t others = loaded_on & ~(std::uint64_t{1} << issuer);
  r.holders = others == 0 ? maint::Holders::issuing_pe_only : maint::Holders::any_pe;
  return r;
}

}  // namespace

TraceReplayer::TraceReplayer(const maint::Policy& policy, const sim::Profile& profile, const ReplayOptions& options)
    : kernel_(std::make_unique<Kernel>(policy, profile, options)) {}

TraceReplayer::~TraceReplayer() = default;

std::string TraceReplayer::put(const trace::Event& event) { return kernel_->put(event); }

ReplayRun TraceReplayer::finish() { return kernel_->finish(); }

TraceReplayer::Kernel::Kernel(const maint::Policy& policy, const sim::Profile& profile, const ReplayOptions& options)
    : policy_(policy),
      profile_(profile),
      options_(options),
      pes_(pes_of(profile, options)),
      memory_(sim::PhysicalMemory::kDefaultBase, options.table_pages),
      machine_(memory_, profile,
               sim::MachineOptions{pes_, options.features.bbm, sim::MachineOptions::Visibility::checked, {},
                                   options.drop, options.timeline, options.execution}),
      frame_sink_(machine_, frames_),
      asid_cpus_(new percpu::PerCpuIds[pes_]),
      vmid_cpus_(new percpu::PerCpuIds[pes_]),
      asids_(width_of(options.asid_bits != 0 ? options.asid_bits : profile.asid_bits), percpu::IdKind::asid,
             std::span<percpu::PerCpuIds>(asid_cpus_.get(), pes_)),
      vmids_(width_of(options.vmid_bits != 0 ? options.vmid_bits : profile.vmid_bits), percpu::IdKind::vmid,
             std::span<percpu::PerCpuIds>(vmid_cpus_.get(), pes_)),
      running_(pes_),
      loaded_(pes_),
      random_state_(options.touch_seed) {
  options_.features.processing_elements = pes_;
  options_.features.asid_bits = asids_.bits();
  options_.features.vmid_bits = vmids_.bits();
  run_.pes = pes_;
}

std::string TraceReplayer::Kernel::put(const trace::Event& event) {
  if (std::holds_alternative<trace::OptionNoAccesses>(event) && seen_event_) {
    return "an option must come before the first event";
  }
  seen_event_ = true;
  ++run_.kernel.events;
  return std::visit([this](const auto& e) { return on(e); }, event);
}

// ---- lookups -----------------------------------------------------------------

Thread* TraceReplayer::Kernel::thread(ThreadId id) {
  const auto it = threads_.find(id);
  return it == threads_.end() ? nullptr : &it->second;
}

Space* TraceReplayer::Kernel::space(SpaceId id) {
  const auto it = spaces_.find(id);
  return it == spaces_.end() ? nullptr : it->second.get();
}

maint::AddressSpace TraceReplayer::Kernel::address_space(const Space& s, unsigned issuer) const {
  maint::AddressSpace a;
  switch (s.kind) {
    case trace::SpaceKind::process:
      a.regime = arch::Regime::el1_stage1;
      a.asid = asids_.id_of(s.ids.value.load(std::memory_order_relaxed));
      a.reach = reach_of(s.loaded_on, issuer);
      break;
    case trace::SpaceKind::kernel:
      // Every PE runs with the kernel's global entries.
      a.regime = arch::Regime::el1_stage1;
      a.global = maint::GlobalEntries::present;
      break;
    case trace::SpaceKind::vm:
      a.regime = arch::Regime::stage2;
      a.vmid = vmids_.id_of(s.ids.value.load(std::memory_order_relaxed));
      a.reach = reach_of(s.loaded_on, issuer);
      break;
  }
  return a;
}

void TraceReplayer::Kernel::note(const Status& s, const std::string& what) {
  if (!s.ok()) run_.problems.push_back(fmt::format("{}: {}", what, text::describe(s.error())));
}

// ---- spaces --------------------------------------------------------------------

Space* TraceReplayer::Kernel::create_space(SpaceId id, trace::SpaceKind kind) {
  const Result<arch::Geometry> geometry = workload::make_geometry(geometry_of(kind));
  const arch::Regime regime = kind == trace::SpaceKind::vm ? arch::Regime::stage2 : arch::Regime::el1_stage1;
  Result<pt::Table> table = pt::Table::create(regime, *geometry, memory_, workload::table_options(options_.features));
  if (!table.ok()) {
    note(table.error(), fmt::format("space {}: its root table", id));
    return nullptr;
  }
  auto s = std::make_unique<Space>();
  s->id = id;
  s->kind = kind;
  s->table.emplace(std::move(*table));
  Space* created = s.get();
  spaces_[id] = std::move(s);
  ++run_.kernel.spaces;
  return created;
}

std::string TraceReplayer::Kernel::on(const trace::SpaceCreate& e) {
  if (space(e.space) != nullptr) return fmt::format("space {} exists already", e.space);
  create_space(e.space, e.kind);
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::SpaceDestroy& e) {
  Space* s = space(e.space);
  if (s == nullptr) return fmt::format("no space {}", e.space);
  // Its threads end with it (a VM destroyed with its vCPUs).
  unsigned pe = 0;
  std::vector<ThreadId> members;
  for (const auto& [id, t] : threads_) {
    if (t.space == e.space) members.push_back(id);
  }
  if (!members.empty()) pe = threads_.at(members.front()).pe;
  for (ThreadId id : members) end_thread(id);
  destroy_space(e.space, pe);
  return {};
}

void TraceReplayer::Kernel::destroy_space(SpaceId id, unsigned pe) {
  Space* s = space(id);
  if (s == nullptr) return;
  if (batch_) flush_open_batch_early();
  open_batch(pe, 0, fmt::format("teardown of space {}", id), false);
  maint::Gather& g = gather(*s);
  // exit_mmap: every translation cleared (for stage 2 without FWB the
  // engine also reports the data-cache maintenance of the memory), the
  // space invalidated whole, then the pages freed. A page is freed only by
  // a flush that follows its clearing: the held list may fill and flush
  // early, and a flush ends whole-space coverage, so it is asked for again
  // before the tables are released.
  g.cover_whole_space();
  if (!s->present.empty()) {
    note(s->table->unmap(0, s->table->geometry().input_size(), g), fmt::format("teardown of space {}", id));
  }
  for (const auto& [va, p] : s->present) {
    if (frames_.drop_reference(p.frame)) note(g.free_after_flush(p.frame, frames_.size_of(p.frame)), "teardown");
  }
  s->present.clear();
  g.cover_whole_space();
  s->table->release(g);
  close_batch();
  if (s->kind == trace::SpaceKind::process) asids_.release(s->ids);
  if (s->kind == trace::SpaceKind::vm) vmids_.release(s->ids);
  for (std::optional<SpaceId>& l : loaded_) {
    if (l == id) l.reset();
  }
  spaces_.erase(id);
}

// ---- threads -------------------------------------------------------------------

void TraceReplayer::Kernel::start_thread(ThreadId id, SpaceId space_id, unsigned pe) {
  Thread t;
  t.id = id;
  t.space = space_id;
  // Default placement: threads in the order they start, round robin.
  t.pe = pe == trace::ThreadStart::kAnyPe ? static_cast<unsigned>(threads_started_ % pes_) : pe;
  threads_[id] = t;
  ++threads_started_;
  ++run_.kernel.threads;
  ++space(space_id)->threads;
}

void TraceReplayer::Kernel::end_thread(ThreadId id) {
  Thread* t = thread(id);
  if (t == nullptr) return;
  if (batch_ && batch_->owner == id && batch_->explicit_gather) flush_open_batch_early();
  if (running_[t->pe] == id) running_[t->pe].reset();
  if (Space* s = space(t->space)) --s->threads;
  threads_.erase(id);
}

std::string TraceReplayer::Kernel::on(const trace::ThreadStart& e) {
  if (thread(e.thread) != nullptr) return fmt::format("thread {} exists already", e.thread);
  if (space(e.space) == nullptr) return fmt::format("no space {}", e.space);
  if (e.pe != trace::ThreadStart::kAnyPe && e.pe >= pes_) {
    return fmt::format("PE {} is beyond the machine's {} PEs", e.pe, pes_);
  }
  start_thread(e.thread, e.space, e.pe);
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::Switch& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  if (e.pe >= pes_) return fmt::format("PE {} is beyond the machine's {} PEs", e.pe, pes_);
  if (running_[t->pe] == t->id) running_[t->pe].reset();
  t->pe = e.pe;
  run_on(e.pe, *t);
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::Exit& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  const SpaceId sid = t->space;
  const unsigned pe = t->pe;
  end_thread(e.thread);
  Space* s = space(sid);
  if (s != nullptr && s->threads == 0 && s->kind == trace::SpaceKind::process) destroy_space(sid, pe);
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::Exec& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  if (space(e.space) != nullptr) return fmt::format("space {} exists already", e.space);
  Space* old = space(t->space);
  if (old->kind != trace::SpaceKind::process) return fmt::format("thread {} is not in a process", e.thread);
  if (create_space(e.space, trace::SpaceKind::process) == nullptr) return {};
  const SpaceId old_id = t->space;
  --old->threads;
  t->space = e.space;
  ++space(e.space)->threads;
  if (old->threads == 0) destroy_space(old_id, t->pe);
  ++run_.kernel.memory_calls;
  return {};
}

// ---- contexts ------------------------------------------------------------------

void TraceReplayer::Kernel::run_on(unsigned pe, Thread& t) {
  if (batch_ && batch_->pe == pe && running_[pe] != t.id && batch_->owner != t.id) flush_open_batch_early();
  running_[pe] = t.id;
  if (loaded_[pe] != t.space) load_space(pe, *space(t.space));
}

void TraceReplayer::Kernel::load_space(unsigned pe, Space& s) {
  sim::PeContext ctx;
  const auto switch_ids = [&](percpu::IdAllocatorCore& ids, percpu::IdKind kind) -> std::uint16_t {
    const Result<percpu::SwitchResult> r = ids.switch_to(pe, s.ids);
    if (!r.ok()) {
      note(r.error(), fmt::format("switch of PE {} to space {}", pe, s.id));
      return 0;
    }
    if (r->flush == percpu::LocalFlush::all_ids) {
      Plan plan;
      note(percpu::append_local_flush(kind, plan), "local flush after an id rollover");
      note(machine_.execute(pe, plan), "local flush after an id rollover");
      ++run_.kernel.rollover_flushes;
    }
    return r->id;
  };
  switch (s.kind) {
    case trace::SpaceKind::process:
      ctx.stage1 = s.table->geometry();
      ctx.stage1_root = s.table->root();
      ctx.asid = switch_ids(asids_, percpu::IdKind::asid);
      break;
    case trace::SpaceKind::kernel:
      ctx.stage1 = s.table->geometry();
      ctx.stage1_root = s.table->root();
      break;
    case trace::SpaceKind::vm:
      ctx.stage2 = s.table->geometry();
      ctx.stage2_root = s.table->root();
      ctx.vmid = switch_ids(vmids_, percpu::IdKind::vmid);
      break;
  }
  run_.kernel.asid_generations = asids_.generation();
  run_.kernel.vmid_generations = vmids_.generation();
  note(machine_.set_context(pe, ctx), fmt::format("context of PE {}", pe));
  loaded_[pe] = s.id;
  s.loaded_on |= std::uint64_t{1} << pe;
  // A plan of the open batch must reach this PE too (its gather may have
  // recorded changes before this PE could cache the old translations).
  if (batch_) {
    const auto open = batch_->gathers.find(s.id);
    if (open != batch_->gathers.end()) open->second->set_reach(address_space(s, batch_->pe).reach);
  }
  ++run_.kernel.context_switches;
}

void TraceReplayer::Kernel::load_for_maintenance(Space& s) {
  // Stage-2 TLBIs act on the VMID the PE has loaded (VTTBR_EL2): KVM
  // loads the guest's (__tlb_switch_to_guest) before it invalidates. The
  // PE's own thread gets its space back at its next event.
  if (s.kind == trace::SpaceKind::vm && loaded_[batch_->pe] != s.id) load_space(batch_->pe, s);
}

// ---- batches -------------------------------------------------------------------

void TraceReplayer::Kernel::open_batch(unsigned pe, ThreadId owner, std::string label, bool explicit_gather) {
  batch_.emplace();
  batch_->pe = pe;
  batch_->owner = owner;
  batch_->explicit_gather = explicit_gather;
  machine_.begin_operation(pe, fmt::format("event {}: {}", run_.kernel.events, label));
  ++run_.kernel.operations;
}

maint::Gather& TraceReplayer::Kernel::gather(Space& s) {
  load_for_maintenance(s);
  std::unique_ptr<maint::Gather>& g = batch_->gathers[s.id];
  if (!g) {
    g = std::make_unique<maint::Gather>(address_space(s, batch_->pe), options_.features, policy_, machine_.executor(batch_->pe),
                                        memory_, &frame_sink_);
  }
  return *g;
}

void TraceReplayer::Kernel::flush_gathers() {
  for (auto& [id, g] : batch_->gathers) {
    if (Space* s = space(id)) load_for_maintenance(*s);
    note(g->finish(), fmt::format("maintenance of space {}", id));
  }
}

void TraceReplayer::Kernel::close_batch() {
  flush_gathers();
  batch_->gathers.clear();
  batch_.reset();
  machine_.end_operation();
}

void TraceReplayer::Kernel::flush_open_batch_early() {
  if (!batch_) return;
  if (batch_->explicit_gather) {
    if (Thread* owner = thread(batch_->owner)) owner->gather_flushed_early = true;
    ++run_.kernel.implicit_flushes;
  }
  close_batch();
}

bool TraceReplayer::Kernel::enter(Thread& t, const std::string& label) {
  run_on(t.pe, t);
  if (batch_ && batch_->owner == t.id && batch_->explicit_gather) return false;
  if (batch_) flush_open_batch_early();
  open_batch(t.pe, t.id, label, false);
  return true;
}

void TraceReplayer::Kernel::leave(bool opened) {
  if (opened) close_batch();
}

std::string TraceReplayer::Kernel::on(const trace::GatherBegin& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  if (batch_ && batch_->owner == e.thread && batch_->explicit_gather) {
    return fmt::format("thread {} opens a gather inside its open gather", e.thread);
  }
  run_on(t->pe, *t);
  if (batch_) flush_open_batch_early();
  t->gather_flushed_early = false;
  open_batch(t->pe, t->id, fmt::format("gather by thread {}", t->id), true);
  return {};
}

std::string TraceReplayer::Kernel::on(const trace::Flush& e) {
  Thread* t = thread(e.thread);
  if (t == nullptr) return fmt::format("no thread {}", e.thread);
  if (batch_ && batch_->owner == e.thread && batch_->explicit_gather) {
    close_batch();
    return {};
  }
  if (t->gather_flushed_early) {
    t->gather_flushed_early = false;
    return {};
  }
  return fmt::format("flush without an open gather of thread {}", e.thread);
}

std::string TraceReplayer::Kernel::on(const trace::OptionNoAccesses&) {
  touch_model_ = true;
  return {};
}

// ---- the end ---------------------------------------------------------------------

ReplayRun TraceReplayer::Kernel::finish() {
  if (batch_) close_batch();
  std::vector<SpaceId> left;
  for (const auto& [id, s] : spaces_) left.push_back(id);
  for (SpaceId id : left) {
    std::vector<ThreadId> members;
    for (const auto& [tid, t] : threads_) {
      if (t.space == id) members.push_back(tid);
    }
    for (ThreadId tid : members) end_thread(tid);
    destroy_space(id, 0);
  }
  for (const sim::Misuse& m : memory_.misuses()) run_.problems.push_back("memory: " + sim::describe(m));
  if (memory_.counters().live_pages != 0) {
    run_.problems.push_back(
        fmt::format("memory: {} table page(s) still allocated after every space was torn down",
                    memory_.counters().live_pages));
  }
  if (frames_.live_frames() != 0) {
    run_.problems.push_back(
        fmt::format("memory: {} data frame(s) still allocated after every space was torn down", frames_.live_frames()));
  }
  run_.counters = machine_.counters();
  run_.violations = machine_.violations();
  run_.machine_events = machine_.events();
  return std::move(run_);
}

}  // namespace tlbkit::replay
