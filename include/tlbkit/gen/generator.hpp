// Generators: one parameterised workload trace per behaviour of the
// background documents (docs/GENERATORS.md). Deterministic: equal
// parameters give byte-identical traces.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tlbkit/trace/event.hpp"

namespace tlbkit::gen {

struct Parameters {
  std::uint64_t size = 0;  // 0: the generator's default; its meaning is the generator's (pages, processes, ...)
  unsigned pes = 4;        // PEs the threads are placed on (1..64)
  std::uint64_t seed = 1;
};

struct Generator {
  std::string_view name;     // "relro-storm"
  std::string_view summary;  // one line: the behaviour and its source document
  std::string_view size_means;  // what --size counts ("libraries loaded")
  std::uint64_t default_size = 0;
  // Emits the trace's events to `sink`. Returns an empty string or the
  // sink's refusal.
  std::string (*emit)(const Parameters& parameters, trace::Sink& sink);
};

// Every generator, in a fixed order.
std::span<const Generator> generators();
// The generator called `name`, or nullptr.
const Generator* find_generator(std::string_view name);

}  // namespace tlbkit::gen
