// Running a generator into memory and checking its events with the
// independent TraceModel (trace_model.hpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tlbkit/gen/generator.hpp"
#include "tlbkit/trace/event.hpp"
#include "trace_model.hpp"

namespace tlbkit::gen::testing {

// A trace generated into memory, and what its generator returned.
struct Generated {
  std::string result;
  std::vector<trace::Event> events;
};

class CollectingSink final : public trace::Sink {
 public:
  std::vector<trace::Event> events;
  std::string put(const trace::Event& event) override {
    events.push_back(event);
    return {};
  }
};

inline Generated generate(std::string_view name, const Parameters& parameters) {
  const Generator* g = find_generator(name);
  if (g == nullptr) return Generated{"no generator " + std::string(name), {}};
  CollectingSink sink;
  std::string result = g->emit(parameters, sink);
  return Generated{std::move(result), std::move(sink.events)};
}

// What the model says of a trace: the first broken rule ("" if none), what
// is left alive at the end ("" if nothing), and what it counted.
struct Checked {
  std::string broken;
  std::string left;
  TraceFacts facts;
};

inline Checked check(const std::vector<trace::Event>& events, unsigned pes) {
  TraceModel model(pes);
  Checked c;
  for (const trace::Event& e : events) {
    c.broken = model.put(e);
    if (!c.broken.empty()) break;
  }
  c.left = model.finish();
  c.facts = model.facts();
  return c;
}

template <typename E>
std::vector<E> all_of(const std::vector<trace::Event>& events) {
  std::vector<E> found;
  for (const trace::Event& e : events) {
    if (const E* x = std::get_if<E>(&e)) found.push_back(*x);
  }
  return found;
}

}  // namespace tlbkit::gen::testing
