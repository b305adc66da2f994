// `tlbkit record`.
#include "record_command.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trace_output.hpp"
#include "usage_error.hpp"
#include "tlbkit/importers/strace.hpp"
#include "tlbkit/importers/valgrind.hpp"
#include "tlbkit/trace/input.hpp"

extern char** environ;

namespace tlbkit::cli {
namespace {

struct RecordOptions {
  std::string output;
  bool accesses = false;
  std::vector<std::string> command;
};

// A private directory for the raw log, removed however the command ends.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = fmt::format("{}/tlbkit-record-XXXXXX", tmp != nullptr && *tmp != '\0' ? tmp : "/tmp");
    if (mkdtemp(pattern.data()) == nullptr) {
      throw UsageError(fmt::format("record: cannot create a temporary directory: {}", std::strerror(errno)));
    }
    path_ = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `argv` (searched in PATH) and waits for it; its exit status, or
// 128 + the signal that ended it. Throws UsageError when it cannot start.
int run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  if (spawned != 0) {
    throw UsageError(fmt::format("record: cannot run {}: {} (scripts/install-deps.sh installs it)", argv[0],
                                 std::strerror(spawned)));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw UsageError(fmt::format("record: waiting for {}: {}", argv[0], std::strerror(errno)));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

void run_record(const RecordOptions& o) {
  if (o.command.empty()) throw UsageError("record: name the program after --");
  const std::string output =
      o.output.empty() ? std::filesystem::path(o.command.front()).filename().string() + ".tlbt.zst" : o.output;
  TemporaryDirectory dir;
  const std::string log = dir.path() + "/log";
  std::vector<std::string> argv;
  if (o.accesses) {
    argv = {"valgrind", "--tool=lackey", "--trace-mem=yes", "--trace-syscalls=yes", "--log-file=" + log};
  } else {
    argv = {"strace", "-f", "-e", "trace=%memory,%process", "-o", log, "--"};
  }
  argv.insert(argv.end(), o.command.begin(), o.command.end());
  const int status = run(argv);
  if (!std::filesystem::exists(log) || std::filesystem::file_size(log) == 0) {
    throw UsageError(fmt::format("record: {} exited with status {} and wrote an empty log (could {} be run?)",
                                 argv.front(), status, o.command.front()));
  }

  std::string error;
  std::unique_ptr<trace::LineSource> lines = trace::open_lines(log, error);
  if (!lines) throw UsageError(error);
  std::unique_ptr<trace::OutputFile> out = open_trace_output(output);
  trace::TraceWriter writer(*out);
  std::string described;
  for (const std::string& word : o.command) described += (described.empty() ? "" : " ") + word;
  writer.comment(fmt::format("recorded with {}: {}", o.accesses ? "valgrind lackey" : "strace", described));
  importers::ImportStats stats;
  const std::optional<trace::ReadError> bad = o.accesses ? importers::import_valgrind(*lines, writer, &stats)
                                                         : importers::import_strace(*lines, writer, &stats);
  if (bad) throw UsageError(bad->describe());
  commit_trace_output(*out);
  fmt::print(stderr, "tlbkit record: {} exited with status {}; {} calls, {} events -> {}\n", o.command.front(),
             status, stats.calls, stats.events, output);
}

}  // namespace

void add_record_command(CLI::App& app) {
  auto o = std::make_shared<RecordOptions>();
  CLI::App* cmd = app.add_subcommand("record", "Run a program under strace (or valgrind) and write its trace");
  cmd->add_option("-o,--output", o->output, "The trace to write (default: CMD's name + .tlbt.zst)");
  cmd->add_flag("--accesses", o->accesses, "Record every access too (valgrind lackey; much slower)");
  cmd->add_option("command", o->command, "-- CMD ARGS...")->required();
  cmd->callback([o] { run_record(*o); });
}

}  // namespace tlbkit::cli
