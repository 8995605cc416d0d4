// Terminal behaviour of every command through the built binary (tests/data/models/llama, so it is fast):
// --csv prints a header and one row per table row and parses as CSV; --json with --csv is an error; output
// through a pipe carries no ANSI escapes and no progress-bar carriage returns; --quiet leaves stderr empty.
// Also the shared CSV writer (report/table.h) on fields that need quoting.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "report/table.h"

#include "cli_runner.h"

namespace {

const std::string kModel = std::string(XPUSIM_TEST_DATA) + "/models/llama";

struct Output {
  int status = -1;
  std::string out, err;
};

// Runs `xpusim ARGS` with stdout and stderr both on pipes/files (never a terminal).
Output run_xpusim(const std::string& args) {
  const std::filesystem::path err_file = std::filesystem::temp_directory_path() /
                                         ("xpusim_terminal_test_" + std::to_string(::getpid()) + ".err");
  const xpusim::testing::CliOutput piped = xpusim::testing::run_xpusim(args, "2>" + err_file.string());
  Output result;
  result.status = piped.status;
  result.out = piped.text;
  std::ifstream err(err_file);
  std::stringstream text;
  text << err.rdbuf();
  result.err = text.str();
  std::filesystem::remove(err_file);
  return result;
}

// RFC 4180 parser: records of fields; fails the test on a malformed record (unterminated quote, text after
// a closing quote).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, after_quote = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
        after_quote = true;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty() && !after_quote) {
      quoted = true;
    } else if (c == ',' || c == '\n') {
      record.push_back(field);
      field.clear();
      after_quote = false;
      if (c == '\n') {
        records.push_back(record);
        record.clear();
      }
    } else {
      EXPECT_FALSE(after_quote) << "text after a closing quote in: " << text;
      field += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quote in: " << text;
  EXPECT_TRUE(field.empty() && record.empty()) << "CSV does not end with a newline: " << text;
  return records;
}

// Parses out.out as CSV and checks the header and that every row has as many fields as the header.
std::vector<std::vector<std::string>> expect_csv(const Output& out, const std::string& first_column,
                                                 size_t rows) {
  EXPECT_EQ(out.status, 0) << out.err;
  const auto records = parse_csv(out.out);
  EXPECT_EQ(records.size(), rows + 1) << out.out;
  if (records.empty()) return records;
  EXPECT_EQ(records[0][0], first_column) << out.out;
  for (const auto& record : records) EXPECT_EQ(record.size(), records[0].size()) << out.out;
  return records;
}

TEST(CliTerminal, CsvWriterQuotesPerRfc4180) {
  EXPECT_EQ(xpusim::report::csv_field("plain"), "plain");
  EXPECT_EQ(xpusim::report::csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(xpusim::report::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(xpusim::report::csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(xpusim::report::csv_row({"x", "1,5", ""}), "x,\"1,5\",\n");
  const auto parsed = parse_csv(xpusim::report::csv_row({"a,b", "c\"d", "e"}));
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0], (std::vector<std::string>{"a,b", "c\"d", "e"}));
}

TEST(CliTerminal, ChipsAndModelsCsvHaveARowPerPreset) {
  const Output chips_json = run_xpusim("chips --json");
  ASSERT_EQ(chips_json.status, 0) << chips_json.err;
  const auto chips =
      expect_csv(run_xpusim("chips --csv"), "name", nlohmann::json::parse(chips_json.out).size());
  ASSERT_GT(chips.size(), 1u);
  EXPECT_EQ(chips[1][0], nlohmann::json::parse(chips_json.out)[0]["name"]);

  const Output models_json = run_xpusim("models --json");
  ASSERT_EQ(models_json.status, 0) << models_json.err;
  const auto models =
      expect_csv(run_xpusim("models --csv"), "name", nlohmann::json::parse(models_json.out).size());
  ASSERT_GT(models.size(), 1u);
  EXPECT_EQ(models[1][8], std::to_string(nlohmann::json::parse(models_json.out)[0]["params"].get<int64_t>()));
}

TEST(CliTerminal, QuantCsvHasTheReferenceAndEachFormat) {
  const auto rows = expect_csv(
      run_xpusim("quant --quiet --model " + kModel + " --formats q8_0,ue-int4 --text-tokens 16 --csv"),
      "format", 3);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1][0], "bf16");
  EXPECT_EQ(rows[2][0], "q8_0");
  EXPECT_EQ(rows[3][0], "ue-int4");
  EXPECT_GT(std::stod(rows[3][5]), 0) << "ue-int4 logit KL";
  const auto list = parse_csv(run_xpusim("quant --list --csv").out);
  ASSERT_GT(list.size(), 5u);
  EXPECT_EQ(list[0], (std::vector<std::string>{"format", "bits_per_element", "description"}));
}

TEST(CliTerminal, ServeSimBenchAndEngineRunCsv) {
  const auto latency = expect_csv(
      run_xpusim("serve-sim --quiet --model " + kModel + " --chip gpu-h100-sxm --requests 12 --csv"),
      "metric", 4);
  ASSERT_EQ(latency.size(), 5u);
  EXPECT_EQ(latency[1][0], "ttft");
  EXPECT_GT(std::stod(latency[4][1]), 0) << "mean E2E";

  const auto bench = expect_csv(
      run_xpusim("bench --quiet --model " + kModel + " -p 8 -n 4 --reps 1 --threads 1 --csv"), "test", 2);
  ASSERT_EQ(bench.size(), 3u);
  EXPECT_EQ(bench[1][0], "pp8");
  EXPECT_EQ(bench[2][0], "tg4");

  const std::string run = "run --quiet --model " + kModel + " --chip ue-ku5p --prompt hello -n 3 ";
  const Output json = run_xpusim(run + "--json");
  ASSERT_EQ(json.status, 0) << json.err;
  const auto ops = expect_csv(run_xpusim(run + "--csv"), "op_type",
                              nlohmann::json::parse(json.out)["time_by_op_type"].size());
  EXPECT_GT(ops.size(), 2u);
}

TEST(CliTerminal, JsonWithCsvIsAnError) {
  for (const std::string& args :
       std::vector<std::string>{"chips", "models", "quant --list", "compare --model llama-3.2-1b",
                                "serve-sim --chip gpu-h100-sxm --model " + kModel, "bench --model " + kModel,
                                "run --chip ue-ku5p --prompt hi --model " + kModel}) {
    const Output out = run_xpusim(args + " --json --csv");
    EXPECT_NE(out.status, 0) << args;
    EXPECT_NE(out.err.find("either --json or --csv"), std::string::npos) << args << ": " << out.err;
    EXPECT_TRUE(out.out.empty()) << args << ": " << out.out;
  }
}

// Without --quiet: the bar and colours must still stay off when nothing is a terminal.
TEST(CliTerminal, PipedOutputHasNoEscapesOrCarriageReturns) {
  for (const std::string& args : std::vector<std::string>{
           "chips", "models", "quant --model " + kModel + " --formats q8_0 --text-tokens 16",
           "compare --model llama-3.2-1b --chips gpu-h100-sxm,tpu-v5e --gen-len 4",
           "serve-sim --chip gpu-h100-sxm --requests 8 --model " + kModel,
           "bench -p 8 -n 4 --reps 1 --threads 1 --model " + kModel,
           "run --prompt hello -n 3 --model " + kModel,
           "run --chip ue-ku5p --prompt hello -n 3 --model " + kModel}) {
    const Output out = run_xpusim(args);
    ASSERT_EQ(out.status, 0) << args << ": " << out.err;
    EXPECT_FALSE(out.out.empty()) << args;
    for (const std::string* text : {&out.out, &out.err}) {
      EXPECT_EQ(text->find('\x1b'), std::string::npos) << args << ": " << *text;
      EXPECT_EQ(text->find('\r'), std::string::npos) << args << ": " << *text;
    }
  }
}

TEST(CliTerminal, QuietLeavesStderrEmpty) {
  for (const std::string& args :
       std::vector<std::string>{"quant --quiet --model " + kModel + " --formats q8_0 --text-tokens 16",
                                "serve-sim --quiet --chip gpu-h100-sxm --requests 8 --model " + kModel,
                                "bench --quiet -p 8 -n 4 --reps 1 --threads 1 --model " + kModel,
                                "run --quiet --prompt hello -n 3 --model " + kModel,
                                "run --quiet --chip ue-ku5p --prompt hello -n 3 --model " + kModel,
                                // A preset without its checkpoint runs synthetic weights: the note it prints
                                // goes away with --quiet.
                                "run --quiet --prompt hello -n 2 --model gpt2"}) {
    const Output out = run_xpusim(args);
    EXPECT_EQ(out.status, 0) << args << ": " << out.err;
    EXPECT_EQ(out.err, "") << args;
    EXPECT_FALSE(out.out.empty()) << args;
  }
}

}  // namespace
