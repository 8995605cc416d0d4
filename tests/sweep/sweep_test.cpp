// The sweep library: spec parsing and its errors, point drawing (grid, random, Latin hypercube), chip-key
// overrides through the chip validation, agreement with `compare`'s estimates, the Pareto front against brute
// force, and the same bytes for any worker count.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "chips/cost_model.h"
#include "chips/loader.h"
#include "core/error.h"
#include "model/presets.h"
#include "sweep/evaluate.h"
#include "sweep/html.h"
#include "sweep/output.h"
#include "sweep/pareto.h"
#include "sweep/points.h"
#include "sweep/spec.h"

namespace xpusim::sweep {
namespace {

std::unique_ptr<chips::CostModel> family_factory(const chips::ChipSpec& chip,
                                                 const model::ModelConfig& config,
                                                 const std::string& precision,
                                                 const chips::CostOptions& options) {
  return chips::make_cost_model(chip, config, precision, options);
}

void expect_spec_error(const std::string& text, const std::string& fragment) {
  try {
    parse_spec(text, "spec.toml");
    FAIL() << "no error for:\n" << text;
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

constexpr const char* kSmallSpec = R"(
[sweep]
name = "small"
[axes]
models = ["smollm2-135m", "llama-3.2-1b"]
chips = ["gpu-h100-sxm", "tpu-v5e", "npu-apple-m4"]
precision = ["default", "fp8-e4m3"]
batch = { from = 1, to = 16, factor = 4 }
prompt_len = [64]
gen_len = [16]
[axes.scale]
"efficiency.gemm_fraction" = [1, 0.5]
[constraints]
max_tpot_ms = 20
[objectives]
pareto = ["tpot_ms", "tokens_per_joule"]
)";

TEST(SweepSpec, ParsesAxesRangesAndObjectives) {
  const SweepSpec spec = parse_spec(R"(
[axes]
models = ["llama-3.2-1b"]
chips = ["gpu-h100-sxm"]
batch = { from = 1, to = 256, factor = 2 }
gen_len = { from = 16, to = 64, step = 16 }
precision = ["default", "nvfp4"]
[axes.set]
"system.partition" = ["tensor", "pipeline"]
[axes.scale]
"memory.hbm.bandwidth_gbps" = [0.5, 1, 2]
[objectives]
pareto = ["ttft_ms", "tokens_per_s_per_chip", "usd_per_mtok"]
)",
                                    "spec.toml");
  EXPECT_EQ(spec.batches, (std::vector<int64_t>{1, 2, 4, 8, 16, 32, 64, 128, 256}));
  EXPECT_EQ(spec.gen_lens, (std::vector<int64_t>{16, 32, 48, 64}));
  EXPECT_EQ(spec.precisions, (std::vector<std::string>{"", "nvfp4"}));
  ASSERT_EQ(spec.overrides.size(), 2u);
  EXPECT_FALSE(spec.overrides[0].scale);
  EXPECT_EQ(spec.overrides[0].texts, (std::vector<std::string>{"tensor", "pipeline"}));
  EXPECT_TRUE(spec.overrides[1].scale);
  EXPECT_EQ(spec.pareto.size(), 3u);
  EXPECT_EQ(draw_points(spec).size(), 9u * 4 * 2 * 2 * 3);
}

TEST(SweepSpec, BadInputNamesTheProblem) {
  const std::string axes = "[axes]\nmodels = [\"llama-3.2-1b\"]\nchips = [\"gpu-h100-sxm\"]\n";
  expect_spec_error("[sweep]\nname = \"x\"\n", "needs an [axes] table");
  expect_spec_error(axes + "colour = 1\n", "unknown key 'colour' in [axes]");
  expect_spec_error(axes + "precision = [\"fp7\"]\n", "precision 'fp7' is not a number format");
  expect_spec_error(axes + "kv_dtype = [\"int3\"]\n", "kv_dtype");
  expect_spec_error(axes + "batch = [0]\n", "'batch' takes integers >= 1");
  expect_spec_error(axes + "[objectives]\npareto = [\"speed\", \"tpot_ms\"]\n", "unknown objective 'speed'");
  expect_spec_error(axes + "[objectives]\npareto = [\"tpot_ms\"]\n", "2 or 3 objectives");
  expect_spec_error("[sweep]\nsampling = \"random\"\n" + axes, "samples = N is required");
  expect_spec_error(axes + "[constraints]\nmax_tpot_ms = -1\n", "'max_tpot_ms' must be > 0");
  expect_spec_error("[axes\n", "TOML syntax error");
}

TEST(SweepPoints, GridVariesTheLastAxisFastest) {
  SweepSpec spec = parse_spec(kSmallSpec, "spec.toml");
  const std::vector<Point> points = draw_points(spec);
  const std::vector<size_t> sizes = axis_sizes(spec);
  size_t total = 1;
  for (size_t s : sizes) total *= s;
  ASSERT_EQ(points.size(), total);
  const AxisLayout layout = axis_layout(spec);
  EXPECT_EQ(points[0][layout.batch()], 0u);
  EXPECT_EQ(points[1][layout.batch()], 1u);
  EXPECT_EQ(points.back()[AxisLayout::kModel], 1u);
  std::vector<Point> sorted = points;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end()) << "grid points repeat";
}

TEST(SweepPoints, RandomAndLatinHypercubeFollowTheSeed) {
  SweepSpec spec = parse_spec(kSmallSpec, "spec.toml");
  spec.samples = 60;
  for (Sampling sampling : {Sampling::RANDOM, Sampling::LATIN_HYPERCUBE}) {
    spec.sampling = sampling;
    spec.seed = 7;
    const std::vector<Point> a = draw_points(spec), b = draw_points(spec);
    spec.seed = 8;
    const std::vector<Point> c = draw_points(spec);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    ASSERT_EQ(a.size(), 60u);
  }
  // Latin hypercube: 60 samples over an axis of 3 chips use each chip exactly 20 times.
  spec.sampling = Sampling::LATIN_HYPERCUBE;
  std::map<uint32_t, int> uses;
  for (const Point& p : draw_points(spec)) ++uses[p[AxisLayout::kChip]];
  EXPECT_EQ(uses, (std::map<uint32_t, int>{{0, 20}, {1, 20}, {2, 20}}));
}

TEST(ChipOverrides, GoThroughTheChipValidation) {
  const chips::ChipSpec base = chips::load_chip("gpu-h100-sxm");
  const chips::ChipSpec doubled = chips::load_chip_with_overrides(
      "gpu-h100-sxm", {{"memory.hbm.bandwidth_gbps", 2, true}, {"power.tdp_w", 350, false}});
  EXPECT_DOUBLE_EQ(doubled.memory.back().bandwidth_gbps, 2 * base.memory.back().bandwidth_gbps);
  EXPECT_EQ(doubled.power.tdp_w, 350);
  const chips::ChipSpec eight =
      chips::load_chip_with_overrides("gpu-h100-sxm", {{"system.chips_per_system", 8, false}});
  EXPECT_EQ(eight.system.chips_per_system, 8);
  auto expect_error = [](const std::vector<chips::KeyOverride>& overrides, const std::string& fragment) {
    try {
      chips::load_chip_with_overrides("gpu-h100-sxm", overrides);
      FAIL() << "no error, expected " << fragment;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
    }
  };
  expect_error({{"memory.hbm2.bandwidth_gbps", 1, false}}, "no memory level named 'hbm2'");
  expect_error({{"memory.hbm.bandwidth_gbps", -5, false}}, "bandwidth_gbps");
  expect_error({{"compute.units", 0.3, true}}, "takes an integer");
  expect_error({{"power.colour", 1, false}}, "colour");
  expect_error({{"name", 1, false}}, "cannot be changed");
  expect_error({{"system.partition", 0, false, "diagonal"}}, "diagonal");
  const chips::ChipSpec pipeline =
      chips::load_chip_with_overrides("gpu-h100-sxm", {{"system.partition", 0, false, "pipeline"}});
  EXPECT_EQ(pipeline.system.partition, chips::Partition::PIPELINE);
}

TEST(SweepEvaluate, AgreesWithCompareAndIsTheSameForAnyWorkerCount) {
  const SweepSpec spec = parse_spec(kSmallSpec, "spec.toml");
  const SweepEvaluator evaluator(spec, family_factory);
  const SweepResult one = evaluator.run(1);
  const SweepResult three = evaluator.run(3);
  EXPECT_EQ(to_csv(one), to_csv(three));
  EXPECT_EQ(to_json(one).dump(), to_json(three).dump());
  EXPECT_EQ(to_html(one), to_html(three));

  // Point 0 is smollm2-135m on gpu-h100-sxm, default weights, batch 1: the same as a fresh cost model.
  const model::ModelConfig config = *model::find_timing_config("smollm2-135m");
  chips::CostOptions options;
  options.kv_reserve_tokens = 64 + 16;
  auto fresh = chips::make_cost_model(chips::load_chip("gpu-h100-sxm"), config, "", options);
  const chips::RunEstimate expected = chips::estimate_run(*fresh, {1, 64, 16});
  ASSERT_TRUE(one.rows[0].ran()) << one.rows[0].error;
  EXPECT_EQ(one.rows[0].ttft_s, expected.ttft_s);
  EXPECT_EQ(one.rows[0].tpot_s, expected.tpot_s);
  EXPECT_EQ(one.rows[0].tokens_per_joule, expected.tokens_per_joule);

  size_t front = 0;
  for (const PointRow& row : one.rows) {
    front += row.on_front;
    if (row.on_front) {
      EXPECT_TRUE(row.meets_constraints);
    }
    if (row.meets_constraints) {
      EXPECT_LE(row.tpot_s * 1e3, 20);
    }
  }
  EXPECT_GT(front, 0u);
  const std::string html = to_html(one);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<title>#"), std::string::npos);
  EXPECT_NE(html.find("Best points per constraint"), std::string::npos);
}

TEST(SweepEvaluate, UnknownModelOrBadOverrideFailsBeforeAnyPointRuns) {
  SweepSpec spec = parse_spec(kSmallSpec, "spec.toml");
  spec.models = {"no-such-model"};
  EXPECT_THROW(SweepEvaluator(spec, family_factory), Error);
  spec = parse_spec(kSmallSpec, "spec.toml");
  spec.overrides[0].key = "memory.sram9.capacity_mb";
  EXPECT_THROW(SweepEvaluator(spec, family_factory), Error);
}

// Brute force: a row is on the front iff no other candidate is at least as good in every objective and
// better in one.
TEST(Pareto, MatchesBruteForceInTwoAndThreeObjectives) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> value(1, 12);  // small range: many ties
  for (size_t objectives : {2u, 3u}) {
    std::vector<PointRow> rows(300);
    for (PointRow& row : rows) {
      row.chips_used = 1;
      row.ttft_s = value(rng) * 1e-3;
      row.tokens_per_joule = value(rng);
      row.tpot_s = value(rng) * 1e-3;
      row.meets_constraints = value(rng) > 2;
    }
    const std::vector<Objective> list =
        objectives == 2
            ? std::vector<Objective>{Objective::TTFT, Objective::TOKENS_PER_JOULE}
            : std::vector<Objective>{Objective::TTFT, Objective::TOKENS_PER_JOULE, Objective::TPOT};
    mark_pareto_front(list, rows);
    auto costs = [&](const PointRow& r) {
      std::vector<double> c;
      for (Objective o : list) c.push_back(objective_info(o).maximize ? -*r.objective(o) : *r.objective(o));
      return c;
    };
    for (size_t i = 0; i < rows.size(); ++i) {
      bool dominated = false;
      for (size_t j = 0; j < rows.size() && !dominated; ++j) {
        if (!rows[j].meets_constraints) continue;
        const auto a = costs(rows[j]), b = costs(rows[i]);
        bool le = true, lt = false;
        for (size_t k = 0; k < a.size(); ++k) {
          le = le && a[k] <= b[k];
          lt = lt || a[k] < b[k];
        }
        dominated = le && lt;
      }
      EXPECT_EQ(rows[i].on_front, rows[i].meets_constraints && !dominated) << "row " << i;
    }
  }
}

}  // namespace
}  // namespace xpusim::sweep
