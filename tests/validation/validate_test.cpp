// The validation ledger and `xpusim validate`: CSV parsing (RFC 4180 quoting, errors with line and column),
// the committed ledger's rows all parse and at least 60 run, and the regression guard: no family's median
// |error| may rise above the figure recorded in validation/guard.toml.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "core/error.h"
#include "validation/summary.h"

namespace xpusim::validation {
namespace {

std::string header() {
  std::string out;
  for (const auto* columns : {&ledger_columns(), &xpusim_columns()})
    for (const std::string& column : *columns) out += (out.empty() ? "" : ",") + column;
  return out + "\n";
}

// One row: ledger fields then xpusim fields, in column order.
std::string row(const std::string& id, const std::string& metric, const std::string& value,
                const std::string& xpusim) {
  return id + ",gpu-datacenter,\"H100, SXM\",1,none,model,bf16,bf16,bf16,stack,1,128,128," + metric + "," +
         value + ",tok/s,,\"[P1] source, with \"\"quotes\"\"\",notes," + xpusim + "\n";
}

TEST(ValidationCsv, QuotedFieldsCommasQuotesAndNewlines) {
  const auto records = parse_csv("a,\"b,c\",\"d\"\"e\"\n\"multi\nline\",x,y\n", "t.csv");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields[1], "b,c");
  EXPECT_EQ(records[0].fields[2], "d\"e");
  EXPECT_EQ(records[1].fields[0], "multi\nline");
  EXPECT_EQ(records[1].line, 2);
  EXPECT_THROW(parse_csv("a,\"open\n", "t.csv"), Error);
}

TEST(ValidationCsv, RowsParseAndBadValuesNameLineAndColumn) {
  const std::string xpusim = "gpu-h100-sxm,llama-3.2-1b,bf16,,,1,,1,,static,1,128,128,,,";
  const auto points = parse_points(header() + row("T1", "decode_tps_per_user", "100", xpusim), "t.csv");
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].chip_text, "H100, SXM");
  EXPECT_EQ(points[0].source, "[P1] source, with \"quotes\"");
  EXPECT_EQ(points[0].chips, 1);
  EXPECT_DOUBLE_EQ(points[0].measured, 100);
  try {
    parse_points(header() + row("T1", "decode_tps_per_user", "fast", xpusim), "t.csv");
    FAIL() << "a non-numeric value must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv:2: column 'value'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_points("id,family\nV1,gpu\n", "t.csv"), Error);  // missing columns
  const std::string bad_mode = "gpu-h100-sxm,llama-3.2-1b,bf16,,,1,,1,,batchy,1,128,128,,,";
  EXPECT_THROW(parse_points(header() + row("T1", "tpot_ms", "5", bad_mode), "t.csv"), Error);
}

TEST(ValidationPredict, StaticDecodeRowRunsAndSkipsCarryTheirReason) {
  const std::string runnable = "gpu-h100-sxm,llama-3.2-1b,bf16,,,1,,1,,static,1,128,128,,,";
  const std::string skipped = ",,,,,,,,,,,,,,,beam search is not modelled";
  const auto points = parse_points(header() + row("T1", "decode_tps_per_user", "300", runnable) +
                                       row("T2", "decode_tps_per_user", "300", skipped),
                                   "t.csv");
  const ValidationRun run = run_validation(points, "t.csv", "");
  ASSERT_EQ(run.rows.size(), 2u);
  EXPECT_TRUE(run.rows[0].prediction.ran) << run.rows[0].prediction.why;
  EXPECT_GT(run.rows[0].prediction.predicted, 0);
  EXPECT_FALSE(run.rows[1].prediction.ran);
  EXPECT_EQ(run.rows[1].prediction.why, "beam search is not modelled");
  ASSERT_EQ(run.families.size(), 1u);
  EXPECT_EQ(run.families[0].runnable, 1);
  EXPECT_EQ(run.families[0].unrunnable.size(), 1u);
  EXPECT_THROW(run_validation(points, "t.csv", "no-such-family"), Error);
}

// The families whose rows are static runs or single requests (seconds in all). gpu-datacenter and tpu rows
// run thousands of requests through the serving simulator (minutes on a 2-core machine): `xpusim validate
// --check` guards them (docs/validation.md).
TEST(ValidationLedger, CommittedLedgerStaysWithinItsGuard) {
  const auto all = load_points(default_points_path());
  EXPECT_EQ(all.size(), 69u);
  int skipped = 0;
  std::vector<Point> points;
  for (const Point& point : all) {
    skipped += point.skip.empty() ? 0 : 1;
    if (point.family != "gpu-datacenter" && point.family != "tpu") points.push_back(point);
  }
  EXPECT_LE(skipped, 9);  // at least 60 of 69 rows are expressible
  const ValidationRun run = run_validation(points, default_points_path().string(), "");
  for (const RowResult& row : run.rows) {
    if (!row.prediction.ran) {
      EXPECT_FALSE(row.point.skip.empty()) << row.point.id << ": " << row.prediction.why;
    }
  }
  const auto violations = guard_violations(run, load_guard(default_guard_path()));
  for (const std::string& violation : violations) ADD_FAILURE() << violation;
}

TEST(ValidationCli, ValidateFamilyJsonAndBadLedger) {
  const auto result = testing::run_xpusim("validate --family gpu-edge --json", "2>/dev/null");
  ASSERT_EQ(result.status, 0) << result.text;
  EXPECT_NE(result.text.find("\"median_abs_error\""), std::string::npos);
  const auto bad = testing::run_xpusim("validate --points /no/such/file.csv");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.text.find("cannot open"), std::string::npos) << bad.text;
}

}  // namespace
}  // namespace xpusim::validation
