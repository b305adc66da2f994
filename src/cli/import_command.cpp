// `tlbkit import`.
#include "import_command.hpp"

#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "trace_output.hpp"
#include "usage_error.hpp"
#include "tlbkit/importers/strace.hpp"
#include "tlbkit/importers/valgrind.hpp"
#include "tlbkit/trace/input.hpp"

namespace tlbkit::cli {
namespace {

struct ImportOptions {
  std::string input;
  std::string output;
};

using Importer = std::optional<trace::ReadError> (*)(trace::LineSource&, trace::Sink&, importers::ImportStats*);

void run_import(const ImportOptions& o, Importer import, const char* what) {
  std::string error;
  std::unique_ptr<trace::LineSource> lines = trace::open_lines(o.input, error);
  if (!lines) throw UsageError(error);
  std::unique_ptr<trace::OutputFile> out = open_trace_output(o.output);
  trace::TraceWriter writer(*out);
  writer.comment(fmt::format("imported from the {} log {}", what, o.input));
  importers::ImportStats stats;
  if (const std::optional<trace::ReadError> bad = import(*lines, writer, &stats)) throw UsageError(bad->describe());
  commit_trace_output(*out);
  if (o.output != "-") {
    fmt::print(stderr, "tlbkit import {}: {} lines, {} calls, {} ignored, {} events -> {}\n", what, stats.lines,
               stats.calls, stats.ignored, stats.events, o.output);
  }
}

void add_importer(CLI::App& parent, const char* name, const char* help, Importer import) {
  auto o = std::make_shared<ImportOptions>();
  CLI::App* cmd = parent.add_subcommand(name, help);
  cmd->add_option("file", o->input, "The log (plain, .gz or .zst; - for standard input)")->required();
  cmd->add_option("-o,--output", o->output, "The trace to write (.gz / .zst compress; - for standard output)")
      ->required();
  cmd->callback([o, import, name] { run_import(*o, import, name); });
}

}  // namespace

void add_import_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("import", "Turn a log of a real program into a trace");
  cmd->require_subcommand(1);
  add_importer(*cmd, "strace", "A log of strace -f -e trace=%memory,%process", importers::import_strace);
  add_importer(*cmd, "valgrind", "A log of valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes",
               importers::import_valgrind);
}

}  // namespace tlbkit::cli
