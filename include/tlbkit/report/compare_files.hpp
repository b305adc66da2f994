// A comparison as a report directory (tlbkit compare --report DIR): the
// markdown report, the CSV and JSON it is made from, and a gnuplot script
// with its data for each chart (run from DIR/charts, each writes NAME.svg
// and NAME.png). docs/COMPARE.md, "The report".
#pragma once

#include <string>
#include <vector>

#include "tlbkit/compare/grid.hpp"

namespace tlbkit::report {

struct ReportFile {
  std::string path;  // relative to the report directory ("report.md", "charts/overhead.gp")
  std::string content;
};

// `command`: the command line that regenerates the report (shown in it).
// Files: report.md, comparison.csv, comparison.json, and per chart
// charts/NAME.gp and charts/NAME.dat: group-NN (each row group's cost per
// policy split into maintenance, needed refills, collateral refills and
// other translation, the lower bound beside) and overhead (each policy's
// total over the bound, across the groups).
std::vector<ReportFile> compare_report_files(const compare::GridSpec& spec, const std::vector<compare::Cell>& cells,
                                             const std::vector<compare::GroupBound>& bounds,
                                             const std::string& command);

}  // namespace tlbkit::report
