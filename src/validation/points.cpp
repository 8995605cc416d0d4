// Ledger parsing (see points.h).
#include "validation/points.h"

#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"

namespace xpusim::validation {

const std::vector<std::string>& ledger_columns() {
  static const std::vector<std::string> columns = {"id",
                                                   "family",
                                                   "chip",
                                                   "chips",
                                                   "parallelism",
                                                   "model",
                                                   "weights",
                                                   "activations",
                                                   "kv_dtype",
                                                   "stack",
                                                   "batch_or_concurrency",
                                                   "input_len",
                                                   "output_len",
                                                   "metric",
                                                   "value",
                                                   "unit",
                                                   "power_w",
                                                   "source",
                                                   "notes"};
  return columns;
}

const std::vector<std::string>& xpusim_columns() {
  static const std::vector<std::string> columns = {
      "x_chip",   "x_model",    "x_weights",     "x_activations", "x_kv_dtype", "x_chips",
      "x_cores",  "x_replicas", "x_stack",       "x_mode",        "x_batch",    "x_input",
      "x_output", "x_requests", "x_step_tokens", "x_skip"};
  return columns;
}

std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& source) {
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  bool quoted = false, field_started = false;
  int line = 1;
  record.line = 1;
  auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    const bool blank = record.fields.size() == 1 && record.fields[0].empty();
    if (!blank) records.push_back(std::move(record));
    record = CsvRecord{};
    record.line = line;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      end_record();
    } else if (c == '"') {
      fail("{}:{}: a quote inside an unquoted field (RFC 4180: quote the whole field and double the quote)",
           source, line);
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (quoted) fail("{}:{}: a quoted field is not closed before the end of the file", source, record.line);
  if (field_started || !record.fields.empty()) end_record();
  return records;
}

namespace {

struct RowReader {
  const std::map<std::string, size_t>& index;
  const CsvRecord& record;
  const std::string& source;

  const std::string& text(const std::string& column) const {
    static const std::string empty;
    const size_t at = index.at(column);
    return at < record.fields.size() ? record.fields[at] : empty;
  }
  [[noreturn]] void bad(const std::string& column, const std::string& why) const {
    fail("{}:{}: column '{}' = '{}': {}", source, record.line, column, text(column), why);
  }
  double number(const std::string& column) const {
    const std::string& value = text(column);
    double out = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), out);
    if (value.empty() || error != std::errc() || end != value.data() + value.size())
      bad(column, "expected a number");
    return out;
  }
  int64_t integer(const std::string& column, int64_t fallback, int64_t low, int64_t high) const {
    const std::string& value = text(column);
    if (value.empty()) return fallback;
    int64_t out = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), out);
    if (error != std::errc() || end != value.data() + value.size()) bad(column, "expected a whole number");
    if (out < low || out > high) bad(column, fmt::format("out of range [{}, {}]", low, high));
    return out;
  }
};

Point read_point(const RowReader& row) {
  Point p;
  p.line = row.record.line;
  p.id = row.text("id");
  if (p.id.empty()) row.bad("id", "every row needs an id");
  p.family = row.text("family");
  p.chip_text = row.text("chip");
  p.model_text = row.text("model");
  p.stack_text = row.text("stack");
  p.metric = row.text("metric");
  p.unit = row.text("unit");
  p.source = row.text("source");
  p.notes = row.text("notes");
  p.measured = row.number("value");
  if (!(p.measured > 0)) row.bad("value", "a measurement must be > 0");
  if (!row.text("power_w").empty()) p.measured_power_w = row.number("power_w");
  p.skip = row.text("x_skip");
  p.chip = row.text("x_chip");
  p.model = row.text("x_model");
  p.weights = row.text("x_weights");
  p.activations = row.text("x_activations");
  p.kv_dtype = row.text("x_kv_dtype");
  p.stack = row.text("x_stack");
  if (!p.skip.empty()) return p;
  if (p.chip.empty()) row.bad("x_chip", "a runnable row names a chip preset (or give x_skip)");
  if (p.model.empty()) row.bad("x_model", "a runnable row names a model preset or config folder");
  p.chips = static_cast<int>(row.integer("x_chips", 0, 0, 100000));
  p.cores = static_cast<int>(row.integer("x_cores", 0, 0, 100000));
  p.replicas = static_cast<int>(row.integer("x_replicas", 1, 1, 100000));
  const std::string& mode = row.text("x_mode");
  if (mode == "static" || mode.empty())
    p.mode = Mode::STATIC;
  else if (mode == "serving")
    p.mode = Mode::SERVING;
  else
    row.bad("x_mode", "expected static or serving");
  p.batch = row.integer("x_batch", 1, 1, 1 << 20);
  if (row.text("x_input") == "sharegpt") {
    p.sharegpt = true;
    if (row.text("x_output") != "sharegpt")
      row.bad("x_output", "x_input = sharegpt needs x_output = sharegpt");
    if (p.mode != Mode::SERVING) row.bad("x_input", "sharegpt lengths need x_mode = serving");
  } else {
    p.input = row.integer("x_input", 128, 0, 1 << 22);
    p.output = row.integer("x_output", 128, 0, 1 << 22);
  }
  p.requests = row.integer("x_requests", 0, 0, 1 << 22);
  p.step_tokens = row.integer("x_step_tokens", 0, 0, 1 << 22);
  return p;
}

}  // namespace

std::vector<Point> parse_points(std::string_view csv_text, const std::string& source) {
  const std::vector<CsvRecord> records = parse_csv(csv_text, source);
  if (records.empty()) fail("{}: empty file (expected a header row and measurements)", source);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < records[0].fields.size(); ++i) index[records[0].fields[i]] = i;
  for (const auto* columns : {&ledger_columns(), &xpusim_columns()})
    for (const std::string& column : *columns)
      if (!index.count(column))
        fail("{}:1: missing column '{}' (a ledger needs the columns of validation/points.csv)", source,
             column);
  std::vector<Point> points;
  for (size_t r = 1; r < records.size(); ++r)
    points.push_back(read_point(RowReader{index, records[r], source}));
  return points;
}

std::vector<Point> load_points(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open the ledger", path.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse_points(text.str(), path.string());
}

}  // namespace xpusim::validation
