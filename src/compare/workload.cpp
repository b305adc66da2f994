#include "tlbkit/compare/workload.hpp"

#include <charconv>
#include <memory>
#include <variant>

#include <fmt/format.h>

#include "tlbkit/gen/suite.hpp"
#include "tlbkit/trace/input.hpp"
#include "tlbkit/trace/reader.hpp"

namespace tlbkit::compare {
namespace {

// A decimal number filling all of `text`.
bool number(std::string_view text, std::uint64_t& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc{} && ptr == end && !text.empty();
}

// "size=N", "seed=N", "pes=N" into `p`.
std::optional<std::string> parameter(std::string_view item, gen::Parameters& p, bool& pes_fixed,
                                     std::string_view spec) {
  const std::size_t eq = item.find('=');
  const std::string_view key = item.substr(0, eq);
  std::uint64_t value = 0;
  if (key != "size" && key != "seed" && key != "pes") {
    return fmt::format("--workload {}: unknown parameter \"{}\" (size, seed, pes)", spec, key);
  }
  if (eq == std::string_view::npos || !number(item.substr(eq + 1), value)) {
    return fmt::format("--workload {}: \"{}\" is not KEY=NUMBER", spec, item);
  }
  if (key == "size") {
    if (value == 0) return fmt::format("--workload {}: size must be at least 1", spec);
    p.size = value;
  } else if (key == "seed") {
    p.seed = value;
  } else {
    if (value < 1 || value > 64) return fmt::format("--workload {}: pes must be 1..64", spec);
    p.pes = static_cast<unsigned>(value);
    pes_fixed = true;
  }
  return std::nullopt;
}

// Collects the kinds of the spaces a trace creates.
class RegimeScan final : public trace::Sink {
 public:
  std::string put(const trace::Event& event) override {
    if (const auto* s = std::get_if<trace::SpaceCreate>(&event)) {
      switch (s->kind) {
        case trace::SpaceKind::process: used = used | baselines::Manages::process_stage1; break;
        case trace::SpaceKind::kernel: used = used | baselines::Manages::kernel_stage1; break;
        case trace::SpaceKind::vm: used = used | baselines::Manages::vm_stage2; break;
      }
    }
    return "";
  }
  baselines::Manages used = baselines::Manages::none;
};

}  // namespace

std::optional<std::string> parse_workload(const std::string& spec, std::vector<Workload>& out) {
  if (spec == "suite") {
    for (const gen::SuiteEntry& e : gen::builtin_workloads()) {
      Workload w;
      w.name = fmt::format("suite:{}", e.name);
      w.generator = gen::find_generator(e.name);
      w.parameters = e.parameters;
      w.pes_fixed = true;  // the suite's parameters are fixed, PEs included
      if (w.generator == nullptr) return fmt::format("suite workload {} has no generator", e.name);
      out.push_back(std::move(w));
    }
    return std::nullopt;
  }
  if (spec.rfind("gen:", 0) != 0) {
    if (spec.empty()) return std::string("--workload: empty name");
    out.push_back(Workload{spec, spec, nullptr, {}, false});
    return std::nullopt;
  }
  const std::string_view rest = std::string_view(spec).substr(4);
  const std::size_t comma = rest.find(',');
  const std::string_view name = rest.substr(0, comma);
  Workload w;
  w.name = spec;
  w.generator = gen::find_generator(name);
  if (w.generator == nullptr) {
    return fmt::format("--workload {}: no generator \"{}\" (tlbkit gen --list)", spec, name);
  }
  std::string_view params = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  while (!params.empty()) {
    const std::size_t next = params.find(',');
    if (auto bad = parameter(params.substr(0, next), w.parameters, w.pes_fixed, spec)) return bad;
    params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
  }
  out.push_back(std::move(w));
  return std::nullopt;
}

std::string emit(const Workload& workload, trace::Sink& sink, unsigned pes) {
  if (workload.generator != nullptr) {
    gen::Parameters p = workload.parameters;
    if (!workload.pes_fixed && pes != 0) p.pes = pes;
    return workload.generator->emit(p, sink);
  }
  std::string error;
  std::unique_ptr<trace::LineSource> lines = trace::open_lines(workload.path, error);
  if (!lines) return error;
  if (const std::optional<trace::ReadError> bad = trace::read_trace(*lines, sink)) return bad->describe();
  return "";
}

std::string regimes_used(const Workload& workload, baselines::Manages& used) {
  RegimeScan scan;
  std::string error = emit(workload, scan);
  used = scan.used;
  return error;
}

}  // namespace tlbkit::compare
