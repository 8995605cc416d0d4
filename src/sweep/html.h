// A sweep as one self-contained HTML page: the Pareto front drawn for each pair of the spec's objectives (log
// axes; front points coloured by model, the other points that meet the constraints in grey, every point's
// configuration in its SVG <title>, which browsers show on hover), and the table of best points per
// constraint. Uses the report's SVG helpers (report/svg.h); no script, no external resource.
#pragma once

#include <string>

#include "sweep/evaluate.h"

namespace xpusim::sweep {

std::string to_html(const SweepResult& result);

}  // namespace xpusim::sweep
