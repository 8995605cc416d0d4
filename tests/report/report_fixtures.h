// A small, deterministic CostModel for report tests: two memory levels (sram, dram), weights in dram, ops
// "linear" (memory-bound in decode, compute-bound in prefill) and "attention", time = max(compute, memory).
// Lets the renderers be tested without the real family models. make_report()/full_report() build the
// fixtures shared by the renderer tests and the browser test.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "chips/cost_model.h"
#include "core/error.h"
#include "report/compare_data.h"
#include "report/html.h"

namespace xpusim::report::testing {

inline chips::ChipSpec fake_chip(const std::string& name, chips::Family family, int units) {
  chips::ChipSpec chip;
  chip.name = name;
  chip.family = family;
  chip.clock_mhz = 1000;
  chip.compute.unit_name = "core";
  chip.compute.units = units;
  chip.compute.matrix_engines_per_unit = 2;
  chip.memory.push_back({"sram", chips::MemoryKind::SRAM, "", 1 << 20, 1, 1000, {}, {}});
  chip.memory.push_back({"dram", chips::MemoryKind::DRAM, "LPDDR5", 8e9, 1, 100, {}, {}});
  return chip;
}

class FakeCostModel : public chips::CostModel {
 public:
  // peak in FLOP/s, dram bandwidth in B/s, static power in W.
  FakeCostModel(const std::string& chip, double peak, double dram_bandwidth, double static_w)
      : m_static_w(static_w) {
    m_plan.chip = chip;
    m_plan.weight_level = "dram";
    m_plan.weight_bytes = 2e8;
    m_plan.weight_format = "bf16";
    m_plan.peak_flops = peak;
    m_plan.levels = {{"sram", chips::MemoryKind::SRAM, 1 << 20, dram_bandwidth * 10},
                     {"dram", chips::MemoryKind::DRAM, 8e9, dram_bandwidth}};
  }
  const chips::SystemPlan& plan() const override { return m_plan; }
  chips::StepCost step(const chips::StepShape& shape) override {
    const double tokens = static_cast<double>(shape.total_new_tokens());
    chips::StepCost cost;
    for (const char* type : {"linear", "attention"}) {
      chips::OpCost op;
      op.op_type = type;
      op.label = type;
      op.flops = (type == std::string("linear") ? 2 * 1e8 : 1e6) * tokens;
      const double dram = type == std::string("linear") ? m_plan.weight_bytes : 1e5 * tokens;
      op.bytes_per_level = {dram * 2, dram};
      const double compute_s = op.flops / m_plan.peak_flops,
                   memory_s = dram / m_plan.levels[1].bandwidth_bytes_per_s;
      op.seconds = std::max(compute_s, memory_s);
      op.bound = compute_s > memory_s ? chips::Bound::COMPUTE : chips::Bound::MEMORY;
      op.bound_level = 1;
      op.energy.compute_j = op.flops * 1e-12;
      op.energy.offchip_memory_j = dram * 1e-11;
      op.energy.static_j = m_static_w * op.seconds;
      cost.seconds += op.seconds;
      cost.flops += op.flops;
      cost.energy += op.energy;
      cost.ops.push_back(op);
    }
    cost.bytes_per_level = {0, 0};
    cost.bound = chips::Bound::MEMORY;
    return cost;
  }

 private:
  chips::SystemPlan m_plan;
  double m_static_w;
};

// "fast" has 10x the bandwidth but burns 100 W static; "frugal" is slow and idles at 1 W; "broken" throws.
inline CompareReport make_report() {
  CompareReport report;
  report.model = "tiny<model>";
  report.model_source = "config only";
  report.shape = {1, 16, 8};
  report.prompt = "Say <hi> & bye";
  report.generated_text = "Hello <b>world</b>";
  const std::vector<chips::ChipSpec> chip_list = {fake_chip("fast", chips::Family::GPU, 100),
                                                  fake_chip("frugal", chips::Family::NPU, 8),
                                                  fake_chip("broken", chips::Family::UE, 1)};
  CostModelFactory factory = [](const chips::ChipSpec& chip, const model::ModelConfig&,
                                const std::string&) -> std::unique_ptr<chips::CostModel> {
    if (chip.name == "fast") return std::make_unique<FakeCostModel>(chip.name, 1e15, 1e12, 100);
    if (chip.name == "frugal") return std::make_unique<FakeCostModel>(chip.name, 1e13, 1e11, 1);
    fail("{}: the engine compiler has not landed", chip.name);
  };
  std::vector<size_t> progress;
  run_compare(report, chip_list, model::ModelConfig{}, factory,
              [&](size_t done, size_t total, const std::string&) {
                EXPECT_EQ(total, 3u);
                progress.push_back(done);
              });
  EXPECT_EQ(progress, (std::vector<size_t>{1, 2, 3}));
  return report;
}

inline HtmlReport full_report() {
  HtmlReport html;
  html.compare = make_report();
  ServingSection serving;
  serving.chip = "fast";
  serving.model = "tiny";
  serving.workload = "3 requests";
  serving.runs.push_back({"paged", {0.1, 0.2, 0.3}, {0.01, 0.02, 0.015}, {0, 1, 2}, {0.1, 0.5, 0.2}});
  serving.runs.push_back({"contiguous", {0.2, 0.4, 0.5}, {0.02, 0.03, 0.02}, {0, 1, 2}, {0.3, 0.9, 0.4}});
  html.serving = serving;
  TimelineSection timeline;
  timeline.title = "ue test";
  timeline.clock_mhz = 300;
  timeline.tracks = {{"dma", {{0, 100, "load"}, {150, 300, "load"}}}, {"matrix", {{100, 250, "matmul"}}}};
  html.timeline = timeline;
  return html;
}

}  // namespace xpusim::report::testing
