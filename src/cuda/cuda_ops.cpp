// CudaExecutor::run_op: one graph op -> its kernel launch(es), reading the op's attributes as the host
// reference kernels do (src/exec/kernels_*.cpp). Nothing here synchronises.
#include "core/error.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_executor.h"
#include "cuda/device_kernels.h"

namespace xpusim::cuda {

using graph::OpKind;

void CudaExecutor::run_op(const graph::Graph& g, const graph::Op& op, std::vector<void*>& data) {
  const auto tensor = [&](size_t i) -> const graph::Tensor& {
    return g.tensors[static_cast<size_t>(op.inputs[i])];
  };
  const auto in_f32 = [&](size_t i) {
    return static_cast<const float*>(data[static_cast<size_t>(op.inputs[i])]);
  };
  const auto weight = [&](size_t i) -> const DeviceWeight& { return m_weights_device.get(tensor(i).name); };
  float* out = static_cast<float*>(data[static_cast<size_t>(op.output)]);
  const graph::Tensor& out_tensor = g.tensors[static_cast<size_t>(op.output)];
  const int64_t elements = out_tensor.elements();
  const auto& a = op.attrs;

  switch (op.kind) {
    case OpKind::EMBED_ROWS: {
      const DeviceWeight& table = weight(0);
      const int64_t n = tensor(1).shape[0];
      const auto* ids = static_cast<const int32_t*>(data[static_cast<size_t>(op.inputs[1])]);
      constexpr int64_t kMaxGridY = 65535;
      for (int64_t t0 = 0; t0 < n; t0 += kMaxGridY) {
        const int64_t rows = std::min(kMaxGridY, n - t0);
        launch_embed_rows(table.format, table.data, table.row_bytes, table.tensor_amax, table.rows, ids + t0,
                          rows, table.cols, out + t0 * table.cols, m_stream);
      }
      break;
    }
    case OpKind::ADD:
      launch_pointwise(PointwiseOp::ADD, in_f32(0), in_f32(1), 0, out, elements, m_stream);
      break;
    case OpKind::MUL:
      launch_pointwise(PointwiseOp::MUL, in_f32(0), in_f32(1), 0, out, elements, m_stream);
      break;
    case OpKind::SCALE:
      launch_pointwise(PointwiseOp::SCALE, in_f32(0), nullptr, static_cast<float>(a.scale), out, elements,
                       m_stream);
      break;
    case OpKind::SOFTCAP:
      launch_pointwise(PointwiseOp::SOFTCAP, in_f32(0), nullptr, static_cast<float>(a.softcap), out, elements,
                       m_stream);
      break;
    case OpKind::GELU_TANH:
      launch_pointwise(PointwiseOp::GELU_TANH, in_f32(0), nullptr, 0, out, elements, m_stream);
      break;
    case OpKind::SILU:
      launch_pointwise(PointwiseOp::SILU, in_f32(0), nullptr, 0, out, elements, m_stream);
      break;
    case OpKind::LAYER_NORM: {
      const int64_t width = tensor(0).shape.back();
      launch_layer_norm(in_f32(0), weight(1).f32(), weight(2).f32(), out, tensor(0).elements() / width, width,
                        static_cast<float>(a.eps), m_stream);
      break;
    }
    case OpKind::RMS_NORM: {
      const int64_t width = tensor(0).shape.back();
      launch_rms_norm(in_f32(0), weight(1).f32(), out, tensor(0).elements() / width, width,
                      static_cast<float>(a.eps), a.plus_one, m_stream);
      break;
    }
    case OpKind::LINEAR: {
      const DeviceWeight& w = weight(1);
      const float* bias = op.inputs.size() > 2 ? weight(2).f32() : nullptr;
      const int64_t n = tensor(0).shape[0];
      if (w.format == PackedFormat::BF16 && n >= kGemmMinTokens && m_options.prefill_gemm) {
        auto* x_bf16 = static_cast<uint16_t*>(take(static_cast<size_t>(n * w.cols) * sizeof(uint16_t)));
        launch_to_bf16(in_f32(0), x_bf16, n * w.cols, m_stream);
        m_gemm->run(x_bf16, reinterpret_cast<const uint16_t*>(w.data), out, n, w.cols, w.rows, m_stream);
        if (bias) launch_add_bias_rows(out, bias, n, w.rows, m_stream);
        release(x_bf16);  // stream order: the GEMM has read it before any later kernel can reuse it
      } else {
        GemvArgs args;
        args.format = w.format;
        args.weight = w.data;
        args.row_bytes = w.row_bytes;
        args.tensor_amax = w.tensor_amax;
        args.bias = bias;
        args.x = in_f32(0);
        args.y = out;
        args.n = n;
        args.in = w.cols;
        args.out = w.rows;
        launch_gemv(args, m_stream);
      }
      break;
    }
    case OpKind::ROPE: {
      const auto* positions = static_cast<const int32_t*>(data[static_cast<size_t>(op.inputs[1])]);
      launch_rope(in_f32(0), positions, inv_freq(a), out, tensor(0).shape[0], a.n_heads, a.head_dim,
                  m_stream);
      break;
    }
    case OpKind::KV_STORE: {
      const int64_t n = tensor(0).shape[0], width = tensor(0).shape[1];
      XPUSIM_CUDA_CHECK(cudaMemcpyAsync(out + a.start_pos * width, in_f32(0),
                                        static_cast<size_t>(n * width) * sizeof(float),
                                        cudaMemcpyDeviceToDevice, m_stream));
      break;
    }
    case OpKind::ATTENTION: {
      AttentionArgs args;
      args.q = in_f32(0);
      args.k_cache = in_f32(1);
      args.v_cache = in_f32(2);
      args.out = out;
      args.n = tensor(0).shape[0];
      args.n_heads = a.n_heads;
      args.n_kv_heads = a.n_kv_heads;
      args.head_dim = a.head_dim;
      args.start_pos = a.start_pos;
      args.window = a.window;
      args.scale = static_cast<float>(a.scale);
      args.softcap = static_cast<float>(a.softcap);
      args.splits = attention_splits(args.n, a.start_pos, a.n_heads);
      const int64_t scratch = attention_scratch_floats(args);
      if (scratch > 0) args.scratch = static_cast<float*>(take(static_cast<size_t>(scratch) * sizeof(float)));
      launch_attention(args, m_stream);
      if (args.scratch) release(args.scratch);
      break;
    }
    case OpKind::SLICE_ROWS: {
      const int64_t width = tensor(0).shape[1];
      XPUSIM_CUDA_CHECK(cudaMemcpyAsync(out, in_f32(0) + a.begin * width,
                                        static_cast<size_t>(a.count * width) * sizeof(float),
                                        cudaMemcpyDeviceToDevice, m_stream));
      break;
    }
    case OpKind::RESHAPE:
      break;  // a view: the executor aliased the output
    case OpKind::MOE:
    case OpKind::COUNT:
      fail("cuda target: op '{}' is not implemented on the GPU", graph::op_name(op.kind));
  }
}

}  // namespace xpusim::cuda
