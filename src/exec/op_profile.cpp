#include "exec/op_profile.h"

#include <algorithm>

#include "core/dtype.h"
#include "exec/fast_linear.h"
#include "exec/simd/simd_kernels.h"
#include "graph/op.h"
#include "numerics/format_table.h"

namespace xpusim::exec {
namespace {

std::string label_of(const KernelArgs& args) {
  std::string label(graph::op_name(args.op.kind));
  if (args.op.kind != graph::OpKind::LINEAR || args.in.size() < 2 || !args.in[1]->weight) return label;
  const model::TensorView& weight = *args.in[1]->weight;
  label += ' ';
  label += weight.dtype == DType::NUMERICS ? std::string(numerics::format_name(weight.numerics_format))
                                           : std::string(dtype_info(weight.dtype).name);
  const int64_t tokens = args.in[0]->tensor->shape[0];
  if (tokens >= kGemmMinTokens) return label + " gemm";
  const Activations activations = is_lm_head(weight) ? Activations::kFp32 : default_activations();
  return label + (is_lm_head(weight) ? " head " : " gemv ") +
         linear_path_name(decode_path(weight, simd::simd_kernels(), activations));
}

}  // namespace

void OpProfile::add(const KernelArgs& args, std::chrono::steady_clock::duration elapsed) {
  const std::string label = label_of(args);
  Entry& entry = m_entries[label];
  entry.label = label;
  ++entry.calls;
  entry.seconds += std::chrono::duration<double>(elapsed).count();
}

std::vector<OpProfile::Entry> OpProfile::sorted() const {
  std::vector<Entry> out;
  for (const auto& [label, entry] : m_entries) out.push_back(entry);
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
  return out;
}

double OpProfile::total_seconds() const {
  double total = 0;
  for (const auto& [label, entry] : m_entries) total += entry.seconds;
  return total;
}

}  // namespace xpusim::exec
