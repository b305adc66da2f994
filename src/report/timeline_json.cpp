#include "tlbkit/report/timeline_json.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tlbkit::report {
namespace {

const char* category(sim::TimelineKind k) {
  switch (k) {
    case sim::TimelineKind::plan: return "plan";
    case sim::TimelineKind::tlbi: return "tlbi";
    case sim::TimelineKind::dsb: return "dsb";
    case sim::TimelineKind::barrier: return "isb";
    case sim::TimelineKind::cache: return "cache";
    case sim::TimelineKind::walk: return "walk";
    case sim::TimelineKind::fault: return "fault";
    case sim::TimelineKind::operation: return "operation";
  }
  return "?";
}

// Cycles as microseconds at 1 GHz, exactly (three decimals).
std::string micros(std::uint64_t cycles) { return fmt::format("{}.{:03}", cycles / 1000, cycles % 1000); }

constexpr std::size_t kFlushBytes = 1 << 16;

}  // namespace

std::unique_ptr<TimelineJson> TimelineJson::open(const std::string& path, unsigned pes, std::uint64_t limit,
                                                 std::string& error) {
  std::unique_ptr<trace::OutputFile> out = trace::OutputFile::open(path, error);
  if (!out) return nullptr;
  std::unique_ptr<TimelineJson> t(new TimelineJson(std::move(out), limit));
  t->put("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
  t->put(R"json({"ph":"M","pid":1,"name":"process_name","args":{"name":"simulated machine (1 cycle shown as 1 ns)"}})json");
  for (unsigned pe = 0; pe < pes; ++pe) {
    t->put(fmt::format(",\n{{\"ph\":\"M\",\"pid\":1,\"tid\":{},\"name\":\"thread_name\",\"args\":{{\"name\":\"PE {}\"}}}}",
                       pe, pe));
  }
  return t;
}

void TimelineJson::put(std::string_view text) {
  buffer_ += text;
  if (buffer_.size() >= kFlushBytes && error_.empty()) {
    error_ = out_->write(buffer_);
    buffer_.clear();
  }
}

void TimelineJson::event(const sim::TimelineEvent& e) {
  if (written_ >= limit_) {
    ++dropped_;
    return;
  }
  ++written_;
  const nlohmann::json name = std::string(e.name);  // escaped as JSON
  const bool instant = e.kind == sim::TimelineKind::fault || e.kind == sim::TimelineKind::operation;
  if (instant) {
    put(fmt::format(",\n{{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":{},\"ts\":{},\"cat\":\"{}\",\"name\":{},"
                    "\"args\":{{\"address\":\"{:#x}\"}}}}",
                    e.pe, micros(e.start), category(e.kind), name.dump(), e.address));
    return;
  }
  put(fmt::format(",\n{{\"ph\":\"X\",\"pid\":1,\"tid\":{},\"ts\":{},\"dur\":{},\"cat\":\"{}\",\"name\":{},"
                  "\"args\":{{\"cycles\":{},\"operand\":\"{:#x}\"}}}}",
                  e.pe, micros(e.start), micros(e.duration), category(e.kind), name.dump(), e.duration,
                  e.address));
}

std::string TimelineJson::finish() {
  put(fmt::format("\n],\"otherData\":{{\"cycle_ns\":1,\"events\":{},\"dropped_past_limit\":{}}}}}\n", written_,
                  dropped_));
  if (error_.empty() && !buffer_.empty()) error_ = out_->write(buffer_);
  buffer_.clear();
  if (!error_.empty()) return error_;
  return out_->commit();
}

}  // namespace tlbkit::report
