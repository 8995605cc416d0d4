#include "sweep/evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "chips/loader.h"
#include "core/error.h"
#include "model/presets.h"
#include "sweep/pareto.h"

namespace xpusim::sweep {

namespace {

constexpr size_t kChunk =
    32;  // points a worker takes at a time: small enough to balance, large enough to not contend
constexpr double kSecondsPerYear = 365.25 * 86400;

model::ModelConfig load_model_config(const std::string& name) {
  std::optional<model::ModelConfig> config = model::find_timing_config(name);
  if (!config)
    fail("sweep: unknown model '{}': give a preset name (xpusim models) or a folder with a config.json",
         name);
  return *config;
}

std::string format_number(double value) { return fmt::format("{}", value); }

double sum(const std::vector<double>& values) {
  double total = 0;
  for (double v : values) total += v;
  return total;
}

}  // namespace

std::optional<double> PointRow::objective(Objective which) const {
  if (!ran()) return std::nullopt;
  switch (which) {
    case Objective::TTFT:
      return ttft_s * 1e3;
    case Objective::TPOT:
      return tpot_s * 1e3;
    case Objective::TOKENS_PER_S_PER_USER:
      return tpot_s > 0 ? 1 / tpot_s : 0;
    case Objective::TOKENS_PER_S_PER_CHIP:
      return chips_used > 0 ? tokens_per_s / chips_used : 0;
    case Objective::TOKENS_PER_JOULE:
      return tokens_per_joule;
    case Objective::USD_PER_MTOK:
      return usd_per_mtok;
  }
  return std::nullopt;
}

struct SweepEvaluator::Impl {
  CostModelFactory factory;
  std::vector<model::ModelConfig> models;
  std::vector<chips::ChipSpec> variants;
  std::vector<std::string> variant_labels;
  std::vector<uint32_t> variant_of_point;
};

namespace {

// The overrides of one point: its chip-count value and each override axis's value.
std::vector<chips::KeyOverride> overrides_of(const SweepSpec& spec, const AxisLayout& layout,
                                             const Point& point) {
  std::vector<chips::KeyOverride> overrides;
  for (size_t i = 0; i < spec.overrides.size(); ++i) {
    const OverrideAxis& axis = spec.overrides[i];
    const uint32_t index = point[AxisLayout::kFirstOverride + i];
    if (axis.texts.empty())
      overrides.push_back({axis.key, axis.values[index], axis.scale, {}});
    else
      overrides.push_back({axis.key, 0, false, axis.texts[index]});
  }
  if (!spec.chip_counts.empty())
    overrides.push_back({"system.chips_per_system",
                         static_cast<double>(spec.chip_counts[point[layout.chip_count()]]), false});
  return overrides;
}

std::string variant_label(const std::string& chip, const std::vector<chips::KeyOverride>& overrides) {
  if (overrides.empty()) return chip;
  std::vector<std::string> parts;
  for (const chips::KeyOverride& o : overrides)
    parts.push_back(
        fmt::format("{}{}{}", o.key, o.scale ? "=x" : "=", o.text.empty() ? format_number(o.value) : o.text));
  return fmt::format("{}[{}]", chip, fmt::join(parts, ","));
}

}  // namespace

SweepEvaluator::SweepEvaluator(SweepSpec spec, CostModelFactory factory)
    : m_spec(std::move(spec)), m_impl(std::make_unique<Impl>()) {
  m_impl->factory = std::move(factory);
  for (const std::string& name : m_spec.models) m_impl->models.push_back(load_model_config(name));
  m_points = draw_points(m_spec);
  const AxisLayout layout = axis_layout(m_spec);
  std::map<std::vector<uint32_t>, uint32_t> variant_index;
  m_impl->variant_of_point.reserve(m_points.size());
  for (const Point& point : m_points) {
    std::vector<uint32_t> key(point.begin() + AxisLayout::kChip,
                              point.begin() + static_cast<long>(layout.precision()));
    auto [it, inserted] = variant_index.emplace(key, static_cast<uint32_t>(m_impl->variants.size()));
    if (inserted) {
      const std::string& chip = m_spec.chips[point[AxisLayout::kChip]];
      const std::vector<chips::KeyOverride> overrides = overrides_of(m_spec, layout, point);
      try {
        m_impl->variants.push_back(chips::load_chip_with_overrides(chip, overrides));
      } catch (const Error& error) {
        fail("sweep: chip {}: {}", variant_label(chip, overrides), error.what());
      }
      m_impl->variant_labels.push_back(variant_label(chip, overrides));
    }
    m_impl->variant_of_point.push_back(it->second);
  }
}

SweepEvaluator::~SweepEvaluator() = default;

namespace {

// One worker's cost models, kept across its points (building one places the model on the chip; a step is
// cheap).
class CostModelCache {
 public:
  using Key =
      std::tuple<uint32_t, uint32_t, uint32_t, uint32_t, int64_t>;  // model, variant, precision, kv, reserve
  struct Entry {
    std::unique_ptr<chips::CostModel> model;
    std::string error;
  };
  Entry& get(const Key& key, const std::function<std::unique_ptr<chips::CostModel>()>& make) {
    auto it = m_entries.find(key);
    if (it != m_entries.end()) return it->second;
    Entry entry;
    try {
      entry.model = make();
      if (!entry.model) entry.error = "no cost model for this chip";
    } catch (const std::exception& error) {
      entry.error = error.what();
    }
    return m_entries.emplace(key, std::move(entry)).first->second;
  }

 private:
  std::map<Key, Entry> m_entries;
};

void fill_estimate(PointRow& row, const chips::RunEstimate& estimate, const chips::ChipSpec& chip,
                   const SweepSpec& spec) {
  const chips::SystemPlan& plan = estimate.plan;
  row.chips_used = plan.chips_used;
  row.weight_format = plan.weight_format;
  row.weight_level = plan.weight_level;
  row.bound = chips::bound_name(estimate.dominant_bound);
  row.ttft_s = estimate.ttft_s;
  row.tpot_s = estimate.tpot_s;
  row.tokens_per_s = estimate.tokens_per_s;
  row.decode_tokens_per_s = estimate.decode_tokens_per_s;
  row.energy_per_token_j = estimate.energy_per_token_j;
  row.compute_j = estimate.energy_per_token.compute_j;
  row.onchip_memory_j = estimate.energy_per_token.onchip_memory_j;
  row.offchip_memory_j = estimate.energy_per_token.offchip_memory_j;
  row.links_j = estimate.energy_per_token.links_j;
  row.static_j = estimate.energy_per_token.static_j;
  row.tokens_per_joule = estimate.tokens_per_joule;
  row.utilization = estimate.utilization;
  row.weight_bytes = plan.weight_bytes;
  row.kv_bytes_per_token = plan.kv_bytes_per_token;
  row.kv_capacity_tokens = plan.kv_capacity_tokens;
  row.prefill_flops = estimate.prefill.flops;
  row.decode_flops = estimate.decode.flops;
  row.prefill_bytes = sum(estimate.prefill.bytes_per_level);
  row.decode_bytes = sum(estimate.decode.bytes_per_level);
  row.link_bytes = estimate.prefill.link_bytes + estimate.decode.link_bytes;
  row.power_w = estimate.energy_per_token_j * estimate.tokens_per_s;
  row.power_w_per_chip = plan.chips_used > 0 ? row.power_w / plan.chips_used : row.power_w;
  // Energy per token (J) -> kWh per million tokens (1e6 / 3.6e6) x price.
  row.electricity_usd_per_mtok = estimate.energy_per_token_j / 3.6 * spec.electricity_usd_per_kwh;
  if (chip.cost.price_usd && estimate.tokens_per_s > 0) {
    const double capex_usd_per_s =
        plan.chips_used * *chip.cost.price_usd / (spec.amortization_years * kSecondsPerYear);
    row.usd_per_mtok = capex_usd_per_s / estimate.tokens_per_s * 1e6 + row.electricity_usd_per_mtok;
  }
  const double kv_needed =
      static_cast<double>(estimate.shape.batch * (estimate.shape.prompt_len + estimate.shape.gen_len));
  row.fits = plan.kv_capacity_tokens <= 0 || kv_needed <= plan.kv_capacity_tokens;
}

}  // namespace

std::vector<PointRow> SweepEvaluator::evaluate(size_t begin, size_t end, int workers,
                                               const SweepProgress& progress) const {
  end = std::min(end, m_points.size());
  begin = std::min(begin, end);
  const size_t count = end - begin;
  std::vector<PointRow> rows(count);
  const AxisLayout layout = axis_layout(m_spec);
  std::atomic<size_t> next{0};
  std::mutex progress_mutex;
  size_t done = 0;
  auto work = [&] {
    CostModelCache cache;
    for (size_t start = next.fetch_add(kChunk); start < count; start = next.fetch_add(kChunk)) {
      const size_t stop = std::min(count, start + kChunk);
      for (size_t i = start; i < stop; ++i) {
        const Point& point = m_points[begin + i];
        PointRow& row = rows[i];
        row.point = point;
        const uint32_t variant = m_impl->variant_of_point[begin + i];
        const chips::ChipSpec& chip = m_impl->variants[variant];
        row.chip_label = m_impl->variant_labels[variant];
        const chips::RunShape shape{m_spec.batches[point[layout.batch()]],
                                    m_spec.prompt_lens[point[layout.prompt_len()]],
                                    m_spec.gen_lens[point[layout.gen_len()]]};
        chips::CostOptions options;
        options.kv_dtype = m_spec.kv_dtypes[point[layout.kv_dtype()]];
        options.kv_reserve_tokens = shape.batch * (shape.prompt_len + shape.gen_len);
        const std::string& precision = m_spec.precisions[point[layout.precision()]];
        const CostModelCache::Key key{point[AxisLayout::kModel], variant, point[layout.precision()],
                                      point[layout.kv_dtype()],
                                      chip.system.auto_size ? options.kv_reserve_tokens : 0};
        const model::ModelConfig& config = m_impl->models[point[AxisLayout::kModel]];
        CostModelCache::Entry& entry =
            cache.get(key, [&] { return m_impl->factory(chip, config, precision, options); });
        if (!entry.error.empty()) {
          row.error = entry.error;
          continue;
        }
        try {
          fill_estimate(row, chips::estimate_run(*entry.model, shape), chip, m_spec);
        } catch (const std::exception& error) {
          row.error = error.what();
        }
      }
      if (progress) {
        std::lock_guard lock(progress_mutex);
        done += stop - start;
        progress(done, count);
      }
    }
  };
  const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
  const size_t threads = std::clamp<size_t>(workers > 0 ? static_cast<size_t>(workers) : hardware, 1,
                                            std::max<size_t>(1, (count + kChunk - 1) / kChunk));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  return rows;
}

void apply_constraints(const SweepSpec& spec, std::vector<PointRow>& rows) {
  const Constraints& c = spec.constraints;
  for (PointRow& row : rows) {
    bool ok = row.ran() && (!c.memory_fit || row.fits);
    if (ok && c.max_ttft_ms) ok = row.ttft_s * 1e3 <= *c.max_ttft_ms;
    if (ok && c.max_tpot_ms) ok = row.tpot_s * 1e3 <= *c.max_tpot_ms;
    if (ok && c.max_power_w_per_chip) ok = row.power_w_per_chip <= *c.max_power_w_per_chip;
    row.meets_constraints = ok;
  }
}

SweepResult SweepEvaluator::run(int workers, const SweepProgress& progress) const {
  SweepResult result;
  result.spec = m_spec;
  result.axis_names = axis_names(m_spec);
  result.rows = evaluate(0, m_points.size(), workers, progress);
  apply_constraints(m_spec, result.rows);
  mark_pareto_front(m_spec.pareto, result.rows);
  return result;
}

}  // namespace xpusim::sweep
