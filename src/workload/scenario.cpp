#include "tlbkit/workload/scenario.hpp"

#include <utility>
#include <variant>

namespace tlbkit::workload {

Result<arch::Geometry> make_geometry(const GeometrySpec& spec) {
  if (spec.stage == arch::Stage::stage1) return arch::Geometry::stage1(arch::Granule::k4K, spec.input_bits);
  return arch::Geometry::stage2(arch::Granule::k4K, spec.input_bits, spec.start_level);
}

arch::Regime regime_of(const StepAttributes& attributes) {
  switch (attributes.index()) {
    case 0: return arch::Regime::el1_stage1;
    case 1: return arch::Regime::el2_stage1;
    default: return arch::Regime::stage2;
  }
}

const char* step_kind_name(StepKind kind) {
  switch (kind) {
    case StepKind::map: return "map";
    case StepKind::unmap: return "unmap";
    case StepKind::protect: return "protect";
    case StepKind::split: return "split";
    case StepKind::promote: return "promote";
  }
  return "?";
}

Step Step::map(VirtAddr va, std::uint64_t size, PhysAddr pa, StepAttributes attributes,
               pt::BlockMappings blocks, std::string note) {
  Step s;
  s.kind = StepKind::map;
  s.va = va;
  s.size = size;
  s.pa = pa;
  s.attributes = attributes;
  s.blocks = blocks;
  s.note = std::move(note);
  return s;
}

Step Step::unmap(VirtAddr va, std::uint64_t size, std::string note) {
  Step s;
  s.kind = StepKind::unmap;
  s.va = va;
  s.size = size;
  s.note = std::move(note);
  return s;
}

Step Step::protect(VirtAddr va, std::uint64_t size, StepAttributes attributes, std::string note) {
  Step s;
  s.kind = StepKind::protect;
  s.va = va;
  s.size = size;
  s.attributes = attributes;
  s.note = std::move(note);
  return s;
}

Step Step::split(VirtAddr va, std::uint64_t size, unsigned level, std::string note) {
  Step s;
  s.kind = StepKind::split;
  s.va = va;
  s.size = size;
  s.level = level;
  s.note = std::move(note);
  return s;
}

Step Step::promote(VirtAddr va, unsigned level, std::string note) {
  Step s;
  s.kind = StepKind::promote;
  s.va = va;
  s.level = level;
  s.note = std::move(note);
  return s;
}

std::optional<Scenario> find_builtin(const std::string& name) {
  for (Scenario& s : builtin_suite()) {
    if (s.name == name) return std::move(s);
  }
  return std::nullopt;
}

namespace {

pt::LeafAttributes leaf_attributes(const StepAttributes& attributes) {
  return std::visit([](const auto& typed) { return pt::LeafAttributes(typed); }, attributes);
}

}  // namespace

Status apply_step(pt::Table& table, const Step& step, pt::ChangeSink& sink) {
  const bool needs_attributes = step.kind == StepKind::map || step.kind == StepKind::protect;
  if (needs_attributes && !step.attributes) {
    return Error{Errc::invalid_argument, "step needs attributes"};
  }
  switch (step.kind) {
    case StepKind::map:
      return table.map(step.va, step.pa, step.size, leaf_attributes(*step.attributes), sink,
                       pt::MapOptions{step.blocks});
    case StepKind::unmap: return table.unmap(step.va, step.size, sink);
    case StepKind::protect:
      return table.protect(step.va, step.size, pt::AttributeChange::to(leaf_attributes(*step.attributes)), sink);
    case StepKind::split: return table.split(step.va, step.size, step.level, sink);
    case StepKind::promote: return table.promote(step.va, step.level, sink);
  }
  return Error{Errc::invalid_argument, "unknown step kind"};
}

pt::TableOptions table_options(const arch::CpuFeatures& features) {
  pt::TableOptions t;
  t.bbm = features.bbm;
  t.fwb = features.fwb == arch::Presence::present ? arch::s2::Fwb::enabled : arch::s2::Fwb::disabled;
  return t;
}

}  // namespace tlbkit::workload
