// Native CPU kernels for the wasm backend: oneDNN convolutions and sgemm, fused batch/layer norm,
// exact GELU, row sums and the max-pool gradient.
//
// Every function reads and writes float32 typed arrays that are views into the wasm backend's
// WebAssembly.Memory (backend.typedArrayFromHeap), so tensors are used in place, never copied.
// A view taken before the heap grew is detached (length 0, data NULL); each function checks its
// views and throws a JS error naming the operand instead of touching freed memory.
//
// Layouts are TF.js's: activations NHWC, filters [KH, KW, Cin, Cout] (oneDNN's hwio), matrices row-major.
// oneDNN primitives are expensive to create, so they are cached by shape (and thread count).
#include <node_api.h>
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

// Elementwise loops are compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time by the CPU
// (GCC function multi-versioning), so the addon stays portable while vectorising where it can.
#if defined(__x86_64__) && defined(__GNUC__)
#define SSLAD_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SSLAD_VECTOR_CLONES
#endif

namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

// ---------------------------------------------------------------------------------------------
// N-API helpers

struct JsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) throw JsError(std::string("sslad_native: ") + what + " failed");
}

std::vector<napi_value> arguments(napi_env env, napi_callback_info info, size_t expected, const char* fn) {
  size_t argc = expected;
  std::vector<napi_value> argv(expected);
  check(env, napi_get_cb_info(env, info, &argc, argv.data(), nullptr, nullptr), "napi_get_cb_info");
  if (argc < expected) {
    throw JsError(std::string("sslad_native.") + fn + ": expected " + std::to_string(expected) + " arguments, got " +
                  std::to_string(argc));
  }
  return argv;
}

// A float32 view with at least `need` elements, attached to live memory.
float* floats(napi_env env, napi_value value, size_t need, const char* fn, const char* name) {
  bool is_typed = false;
  check(env, napi_is_typedarray(env, value, &is_typed), "napi_is_typedarray");
  std::string where = std::string("sslad_native.") + fn + ": " + name;
  if (!is_typed) throw JsError(where + " is not a typed array");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer;
  size_t offset = 0;
  check(env, napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &offset), "napi_get_typedarray_info");
  if (type != napi_float32_array) throw JsError(where + " is not a Float32Array");
  if (need > 0 && (data == nullptr || length == 0)) {
    throw JsError(where + " is detached (the wasm heap grew after the view was taken)");
  }
  if (length < need) {
    throw JsError(where + " has " + std::to_string(length) + " elements, needs " + std::to_string(need));
  }
  return static_cast<float*>(data);
}

std::vector<int64_t> ints(napi_env env, napi_value value, size_t count, const char* fn) {
  bool is_typed = false;
  check(env, napi_is_typedarray(env, value, &is_typed), "napi_is_typedarray");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (is_typed) check(env, napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &offset), "napi_get_typedarray_info");
  if (!is_typed || type != napi_int32_array || length < count) {
    throw JsError(std::string("sslad_native.") + fn + ": parameters must be an Int32Array of " + std::to_string(count));
  }
  const int32_t* p = static_cast<const int32_t*>(data);
  return std::vector<int64_t>(p, p + count);
}

double number(napi_env env, napi_value value, const char* fn, const char* name) {
  double out = 0;
  if (napi_get_value_double(env, value, &out) != napi_ok) {
    throw JsError(std::string("sslad_native.") + fn + ": " + name + " must be a number");
  }
  return out;
}

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// Wraps a kernel body: C++ and oneDNN errors become JS exceptions.
template <typename F>
napi_value guarded(napi_env env, const char* fn, F body) {
  try {
    return body();
  } catch (const dnnl::error& e) {
    napi_throw_error(env, nullptr, (std::string("sslad_native.") + fn + ": oneDNN: " + e.what()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// oneDNN state

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

int g_threads = 1;

// im2col scratch, reused across calls (grows to the largest layer).
std::vector<float>& scratch() {
  static std::vector<float> s;
  return s;
}

void sgemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
           float beta, float* c, int64_t ldc) {
  dnnl_status_t status = dnnl_sgemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  if (status != dnnl_success) throw JsError("sslad_native: dnnl_sgemm failed with status " + std::to_string(status));
}

// ---------------------------------------------------------------------------------------------
// Convolution geometry, as the JS side computes it from TF.js's conv info.

struct Geometry {
  int64_t n, h, w, cin, kh, kw, cout, ho, wo, sh, sw, top, bottom, left, right;
  explicit Geometry(const std::vector<int64_t>& p)
      : n(p[0]), h(p[1]), w(p[2]), cin(p[3]), kh(p[4]), kw(p[5]), cout(p[6]), ho(p[7]), wo(p[8]), sh(p[9]), sw(p[10]),
        top(p[11]), bottom(p[12]), left(p[13]), right(p[14]) {}
  size_t x_size() const { return size_t(n * h * w * cin); }
  size_t w_size() const { return size_t(kh * kw * cin * cout); }
  size_t y_size() const { return size_t(n * ho * wo * cout); }
  std::string key(const char* op) const {
    std::string k(op);
    for (int64_t v : {n, h, w, cin, kh, kw, cout, ho, wo, sh, sw, top, bottom, left, right}) k += ":" + std::to_string(v);
    return k + "@" + std::to_string(g_threads);
  }
  memory::dims src_dims() const { return {n, cin, h, w}; }
  memory::dims wei_dims() const { return {cout, cin, kh, kw}; }
  memory::dims dst_dims() const { return {n, cout, ho, wo}; }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims pad_l() const { return {top, left}; }
  memory::dims pad_r() const { return {bottom, right}; }
  // 1×1, stride 1, no padding: the columns are x itself.
  bool pointwise() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && top == 0 && left == 0 && ho == h && wo == w; }
};

// One operand of a primitive: the user's memory (a TF.js tensor on the wasm heap, plain layout) and,
// where oneDNN chose another layout, its own buffer plus the reorder between the two.
struct Operand {
  memory user;
  memory own;
  dnnl::reorder reorder;
  bool reordered = false;

  Operand() = default;
  Operand(const memory::desc& user_md, const memory::desc& chosen, bool is_input) {
    user = memory(user_md, engine(), DNNL_MEMORY_NONE);
    if (chosen != user_md) {
      own = memory(chosen, engine());
      reorder = is_input ? dnnl::reorder(user, own) : dnnl::reorder(own, user);
      reordered = true;
    }
  }
  memory& used() { return reordered ? own : user; }
  void bring_in(float* data) {
    user.set_data_handle(data);
    if (reordered) reorder.execute(stream(), user, own);
  }
  void attach(float* data) { user.set_data_handle(data); }
  void send_out() {
    if (reordered) reorder.execute(stream(), own, user);
  }
};

// A convolution primitive (forward, backward data or backward weights): two inputs, one output.
struct ConvPrimitive {
  dnnl::primitive prim;
  Operand in1, in2, out;
  int arg1, arg2, arg_out;

  void run(float* a, float* b, float* c) {
    in1.bring_in(a);
    in2.bring_in(b);
    out.attach(c);
    prim.execute(stream(), {{arg1, in1.used()}, {arg2, in2.used()}, {arg_out, out.used()}});
    out.send_out();
    stream().wait();
  }
};

enum class ConvOp { forward, backward_data, backward_weights };

std::unordered_map<std::string, std::unique_ptr<ConvPrimitive>>& conv_cache() {
  static std::unordered_map<std::string, std::unique_ptr<ConvPrimitive>> cache;
  return cache;
}

ConvPrimitive& conv_primitive(const Geometry& g, ConvOp op) {
  static const char* names[] = {"fwd", "bwd_data", "bwd_weights"};
  std::string key = g.key(names[int(op)]);
  auto& cache = conv_cache();
  auto found = cache.find(key);
  if (found != cache.end()) return *found->second;

  memory::desc src_user(g.src_dims(), dt::f32, tag::nhwc);
  memory::desc wei_user(g.wei_dims(), dt::f32, tag::hwio);
  memory::desc dst_user(g.dst_dims(), dt::f32, tag::nhwc);
  // format_tag::any: oneDNN's blocked layouts are several times faster than its kernels on plain NHWC.
  memory::desc src_any(g.src_dims(), dt::f32, tag::any);
  memory::desc wei_any(g.wei_dims(), dt::f32, tag::any);
  memory::desc dst_any(g.dst_dims(), dt::f32, tag::any);
  auto algo = dnnl::algorithm::convolution_direct;
  dnnl::convolution_forward::desc fwd_desc(dnnl::prop_kind::forward_training, algo, src_any, wei_any, dst_any, g.strides(),
                                           g.pad_l(), g.pad_r());
  dnnl::convolution_forward::primitive_desc fwd_pd(fwd_desc, engine());

  auto made = std::make_unique<ConvPrimitive>();
  switch (op) {
    case ConvOp::forward:
      made->prim = dnnl::convolution_forward(fwd_pd);
      made->in1 = Operand(src_user, fwd_pd.src_desc(), true);
      made->in2 = Operand(wei_user, fwd_pd.weights_desc(), true);
      made->out = Operand(dst_user, fwd_pd.dst_desc(), false);
      made->arg1 = DNNL_ARG_SRC;
      made->arg2 = DNNL_ARG_WEIGHTS;
      made->arg_out = DNNL_ARG_DST;
      break;
    case ConvOp::backward_data: {
      dnnl::convolution_backward_data::desc desc(algo, src_any, wei_any, dst_any, g.strides(), g.pad_l(), g.pad_r());
      dnnl::convolution_backward_data::primitive_desc pd(desc, engine(), fwd_pd);
      made->prim = dnnl::convolution_backward_data(pd);
      made->in1 = Operand(dst_user, pd.diff_dst_desc(), true);
      made->in2 = Operand(wei_user, pd.weights_desc(), true);
      made->out = Operand(src_user, pd.diff_src_desc(), false);
      made->arg1 = DNNL_ARG_DIFF_DST;
      made->arg2 = DNNL_ARG_WEIGHTS;
      made->arg_out = DNNL_ARG_DIFF_SRC;
      break;
    }
    case ConvOp::backward_weights: {
      dnnl::convolution_backward_weights::desc desc(algo, src_any, wei_any, dst_any, g.strides(), g.pad_l(), g.pad_r());
      dnnl::convolution_backward_weights::primitive_desc pd(desc, engine(), fwd_pd);
      made->prim = dnnl::convolution_backward_weights(pd);
      made->in1 = Operand(src_user, pd.src_desc(), true);
      made->in2 = Operand(dst_user, pd.diff_dst_desc(), true);
      made->out = Operand(wei_user, pd.diff_weights_desc(), false);
      made->arg1 = DNNL_ARG_SRC;
      made->arg2 = DNNL_ARG_DIFF_DST;
      made->arg_out = DNNL_ARG_DIFF_WEIGHTS;
      break;
    }
  }
  auto& slot = cache[key];
  slot = std::move(made);
  return *slot;
}

// ---------------------------------------------------------------------------------------------
// Column (im2col + sgemm) formulation: faster than oneDNN's convolution where the output has only a
// few pixels and many channels (ResNet stage 4 at 64×64 input: 2×2 pixels, 512 channels).

// cols [N·Ho·Wo, Kh·Kw·Cin], zeros where the window covers padding.
void im2col(const Geometry& g, const float* x, float* cols) {
  const int64_t row = g.kh * g.kw * g.cin;
#pragma omp parallel for if (g_threads > 1) schedule(static)
  for (int64_t p = 0; p < g.n * g.ho * g.wo; p++) {
    const int64_t b = p / (g.ho * g.wo), oy = (p / g.wo) % g.ho, ox = p % g.wo;
    float* to = cols + p * row;
    for (int64_t ky = 0; ky < g.kh; ky++) {
      const int64_t y = oy * g.sh + ky - g.top;
      for (int64_t kx = 0; kx < g.kw; kx++, to += g.cin) {
        const int64_t xx = ox * g.sw + kx - g.left;
        if (y < 0 || y >= g.h || xx < 0 || xx >= g.w) {
          std::memset(to, 0, sizeof(float) * g.cin);
        } else {
          std::memcpy(to, x + ((b * g.h + y) * g.w + xx) * g.cin, sizeof(float) * g.cin);
        }
      }
    }
  }
}

// dx += scatter of the column gradient (dx zeroed first).
void col2im(const Geometry& g, const float* cols, float* dx) {
  const int64_t row = g.kh * g.kw * g.cin;
  std::memset(dx, 0, sizeof(float) * g.x_size());
  // Parallel over images: pixels of one image overlap, different images never do.
#pragma omp parallel for if (g_threads > 1) schedule(static)
  for (int64_t b = 0; b < g.n; b++) {
    for (int64_t oy = 0; oy < g.ho; oy++) {
      for (int64_t ox = 0; ox < g.wo; ox++) {
        const float* from = cols + ((b * g.ho + oy) * g.wo + ox) * row;
        for (int64_t ky = 0; ky < g.kh; ky++) {
          const int64_t y = oy * g.sh + ky - g.top;
          for (int64_t kx = 0; kx < g.kw; kx++, from += g.cin) {
            const int64_t xx = ox * g.sw + kx - g.left;
            if (y < 0 || y >= g.h || xx < 0 || xx >= g.w) continue;
            float* to = dx + ((b * g.h + y) * g.w + xx) * g.cin;
            for (int64_t c = 0; c < g.cin; c++) to[c] += from[c];
          }
        }
      }
    }
  }
}

float* columns_buffer(const Geometry& g) {
  auto& s = scratch();
  size_t need = size_t(g.n * g.ho * g.wo * g.kh * g.kw * g.cin);
  if (s.size() < need) s.resize(need);
  return s.data();
}

void conv_forward_columns(const Geometry& g, const float* x, const float* w, float* y) {
  const int64_t pixels = g.n * g.ho * g.wo, row = g.kh * g.kw * g.cin;
  const float* cols = x;
  if (!g.pointwise()) {
    float* buf = columns_buffer(g);
    im2col(g, x, buf);
    cols = buf;
  }
  sgemm('N', 'N', pixels, g.cout, row, cols, row, w, g.cout, 0.0f, y, g.cout);
}

void conv_backward_data_columns(const Geometry& g, const float* dy, const float* w, float* dx) {
  const int64_t pixels = g.n * g.ho * g.wo, row = g.kh * g.kw * g.cin;
  if (g.pointwise()) {
    sgemm('N', 'T', pixels, row, g.cout, dy, g.cout, w, g.cout, 0.0f, dx, row);
    return;
  }
  float* cols = columns_buffer(g);
  sgemm('N', 'T', pixels, row, g.cout, dy, g.cout, w, g.cout, 0.0f, cols, row);
  col2im(g, cols, dx);
}

void conv_backward_weights_columns(const Geometry& g, const float* x, const float* dy, float* dw) {
  const int64_t pixels = g.n * g.ho * g.wo, row = g.kh * g.kw * g.cin;
  const float* cols = x;
  if (!g.pointwise()) {
    float* buf = columns_buffer(g);
    im2col(g, x, buf);
    cols = buf;
  }
  sgemm('T', 'N', row, g.cout, pixels, cols, row, dy, g.cout, 0.0f, dw, g.cout);
}

// Formulation chosen by the caller (lib/backend/kernels/native.ts): 2 = columns + sgemm, otherwise oneDNN's convolution.
bool use_columns(const Geometry&, int64_t mode) { return mode == 2; }

napi_value Conv2d(napi_env env, napi_callback_info info) {
  return guarded(env, "conv2d", [&]() {
    auto argv = arguments(env, info, 4, "conv2d");
    auto p = ints(env, argv[3], 16, "conv2d");
    Geometry g(p);
    const int64_t mode = p[15];
    float* x = floats(env, argv[0], g.x_size(), "conv2d", "x");
    float* w = floats(env, argv[1], g.w_size(), "conv2d", "filter");
    float* y = floats(env, argv[2], g.y_size(), "conv2d", "output");
    if (use_columns(g, mode)) conv_forward_columns(g, x, w, y);
    else conv_primitive(g, ConvOp::forward).run(x, w, y);
    return undefined(env);
  });
}

napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  return guarded(env, "conv2dBackpropInput", [&]() {
    auto argv = arguments(env, info, 4, "conv2dBackpropInput");
    auto p = ints(env, argv[3], 16, "conv2dBackpropInput");
    Geometry g(p);
    float* dy = floats(env, argv[0], g.y_size(), "conv2dBackpropInput", "dy");
    float* w = floats(env, argv[1], g.w_size(), "conv2dBackpropInput", "filter");
    float* dx = floats(env, argv[2], g.x_size(), "conv2dBackpropInput", "output");
    if (use_columns(g, p[15])) conv_backward_data_columns(g, dy, w, dx);
    else conv_primitive(g, ConvOp::backward_data).run(dy, w, dx);
    return undefined(env);
  });
}

napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  return guarded(env, "conv2dBackpropFilter", [&]() {
    auto argv = arguments(env, info, 4, "conv2dBackpropFilter");
    auto p = ints(env, argv[3], 16, "conv2dBackpropFilter");
    Geometry g(p);
    float* x = floats(env, argv[0], g.x_size(), "conv2dBackpropFilter", "x");
    float* dy = floats(env, argv[1], g.y_size(), "conv2dBackpropFilter", "dy");
    float* dw = floats(env, argv[2], g.w_size(), "conv2dBackpropFilter", "output");
    if (use_columns(g, p[15])) conv_backward_weights_columns(g, x, dy, dw);
    else conv_primitive(g, ConvOp::backward_weights).run(x, dy, dw);
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------
// BatchMatMul: c[i] = op(a[i])·op(b[i]) with batch broadcasting of a batch of 1, row-major.
// Parameters [batchA, batchB, m, n, k, transposeA, transposeB].

napi_value BatchMatMul(napi_env env, napi_callback_info info) {
  return guarded(env, "batchMatMul", [&]() {
    auto argv = arguments(env, info, 4, "batchMatMul");
    auto p = ints(env, argv[3], 7, "batchMatMul");
    const int64_t batch_a = p[0], batch_b = p[1], m = p[2], n = p[3], k = p[4];
    const bool ta = p[5] != 0, tb = p[6] != 0;
    if (batch_a != batch_b && batch_a != 1 && batch_b != 1) throw JsError("sslad_native.batchMatMul: batch sizes do not broadcast");
    const int64_t batch = std::max(batch_a, batch_b);
    float* a = floats(env, argv[0], size_t(batch_a * m * k), "batchMatMul", "a");
    float* b = floats(env, argv[1], size_t(batch_b * k * n), "batchMatMul", "b");
    float* c = floats(env, argv[2], size_t(batch * m * n), "batchMatMul", "output");
    const int64_t lda = ta ? m : k, ldb = tb ? k : n;
    if (batch_b == 1 && !ta) {
      // One right operand: every batch entry of a becomes rows of one product.
      sgemm('N', tb ? 'T' : 'N', batch * m, n, k, a, lda, b, ldb, 0.0f, c, n);
      return undefined(env);
    }
    for (int64_t i = 0; i < batch; i++) {
      const float* ai = a + (batch_a == 1 ? 0 : i * m * k);
      const float* bi = b + (batch_b == 1 ? 0 : i * k * n);
      sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, ai, lda, bi, ldb, 0.0f, c + i * m * n, n);
    }
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------
// Train-mode batch norm over rows × channels (channels innermost), same maths as batch_norm.ts.
// Sums run in float over blocks of rows and are flushed to double, so they vectorise and stay accurate.

constexpr int64_t kBlockRows = 64;

// x, weight, bias, y, mean, variance, rows, channels, eps
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  return guarded(env, "batchNormTrain", [&]() {
    auto argv = arguments(env, info, 9, "batchNormTrain");
    const int64_t rows = int64_t(number(env, argv[6], "batchNormTrain", "rows"));
    const int64_t ch = int64_t(number(env, argv[7], "batchNormTrain", "channels"));
    const double eps = number(env, argv[8], "batchNormTrain", "eps");
    const float* x = floats(env, argv[0], size_t(rows * ch), "batchNormTrain", "x");
    const float* w = floats(env, argv[1], size_t(ch), "batchNormTrain", "weight");
    const float* b = floats(env, argv[2], size_t(ch), "batchNormTrain", "bias");
    float* y = floats(env, argv[3], size_t(rows * ch), "batchNormTrain", "y");
    float* mean = floats(env, argv[4], size_t(ch), "batchNormTrain", "mean");
    float* var = floats(env, argv[5], size_t(ch), "batchNormTrain", "variance");
    // Shifted sums (shift = the first row) keep E[x²] − E[x]² accurate when |mean| ≫ std.
    std::vector<double> sum(ch, 0.0), sum_sq(ch, 0.0);
    std::vector<float> bs(ch), bq(ch);
    for (int64_t r0 = 0; r0 < rows; r0 += kBlockRows) {
      std::fill(bs.begin(), bs.end(), 0.0f);
      std::fill(bq.begin(), bq.end(), 0.0f);
      const int64_t r1 = std::min(rows, r0 + kBlockRows);
      for (int64_t r = r0; r < r1; r++) {
        const float* xr = x + r * ch;
        for (int64_t c = 0; c < ch; c++) {
          const float d = xr[c] - x[c];
          bs[c] += d;
          bq[c] += d * d;
        }
      }
      for (int64_t c = 0; c < ch; c++) {
        sum[c] += bs[c];
        sum_sq[c] += bq[c];
      }
    }
    std::vector<float> scale(ch), shift(ch);
    for (int64_t c = 0; c < ch; c++) {
      const double m = sum[c] / double(rows);
      const double v = std::max(sum_sq[c] / double(rows) - m * m, 0.0);
      mean[c] = float(double(x[c]) + m);
      var[c] = float(v);
      scale[c] = float(double(w[c]) / std::sqrt(v + eps));
      shift[c] = b[c] - mean[c] * scale[c];
    }
    for (int64_t r = 0; r < rows; r++) {
      const float* xr = x + r * ch;
      float* yr = y + r * ch;
      for (int64_t c = 0; c < ch; c++) yr[c] = xr[c] * scale[c] + shift[c];
    }
    return undefined(env);
  });
}

// dy, x, mean, variance, weight, dx, dweight, dbias, rows, channels, eps
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  return guarded(env, "batchNormTrainGrad", [&]() {
    auto argv = arguments(env, info, 11, "batchNormTrainGrad");
    const int64_t rows = int64_t(number(env, argv[8], "batchNormTrainGrad", "rows"));
    const int64_t ch = int64_t(number(env, argv[9], "batchNormTrainGrad", "channels"));
    const double eps = number(env, argv[10], "batchNormTrainGrad", "eps");
    const float* dy = floats(env, argv[0], size_t(rows * ch), "batchNormTrainGrad", "dy");
    const float* x = floats(env, argv[1], size_t(rows * ch), "batchNormTrainGrad", "x");
    const float* mu = floats(env, argv[2], size_t(ch), "batchNormTrainGrad", "mean");
    const float* var = floats(env, argv[3], size_t(ch), "batchNormTrainGrad", "variance");
    const float* w = floats(env, argv[4], size_t(ch), "batchNormTrainGrad", "weight");
    float* dx = floats(env, argv[5], size_t(rows * ch), "batchNormTrainGrad", "dx");
    float* dw = floats(env, argv[6], size_t(ch), "batchNormTrainGrad", "dweight");
    float* db = floats(env, argv[7], size_t(ch), "batchNormTrainGrad", "dbias");
    std::vector<double> sum_dy(ch, 0.0), sum_dyxc(ch, 0.0);
    std::vector<float> bs(ch), bx(ch);
    for (int64_t r0 = 0; r0 < rows; r0 += kBlockRows) {
      std::fill(bs.begin(), bs.end(), 0.0f);
      std::fill(bx.begin(), bx.end(), 0.0f);
      const int64_t r1 = std::min(rows, r0 + kBlockRows);
      for (int64_t r = r0; r < r1; r++) {
        const float* g = dy + r * ch;
        const float* xr = x + r * ch;
        for (int64_t c = 0; c < ch; c++) {
          bs[c] += g[c];
          bx[c] += g[c] * (xr[c] - mu[c]);
        }
      }
      for (int64_t c = 0; c < ch; c++) {
        sum_dy[c] += bs[c];
        sum_dyxc[c] += bx[c];
      }
    }
    // dx = a·dy + k·x + k0 per channel.
    std::vector<float> a(ch), k(ch), k0(ch);
    for (int64_t c = 0; c < ch; c++) {
      const double inv = 1.0 / std::sqrt(double(var[c]) + eps);
      db[c] = float(sum_dy[c]);
      dw[c] = float(sum_dyxc[c] * inv);
      const double ac = double(w[c]) * inv;
      const double kc = -ac * inv * inv * (sum_dyxc[c] / double(rows));
      a[c] = float(ac);
      k[c] = float(kc);
      k0[c] = float(-ac * (sum_dy[c] / double(rows)) - kc * double(mu[c]));
    }
    for (int64_t r = 0; r < rows; r++) {
      const float* g = dy + r * ch;
      const float* xr = x + r * ch;
      float* out = dx + r * ch;
      for (int64_t c = 0; c < ch; c++) out[c] = a[c] * g[c] + k[c] * xr[c] + k0[c];
    }
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------
// LayerNorm over the last axis, same maths as layer_norm.ts.

// x, weight, bias, y, rstd, rows, d, eps
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  return guarded(env, "layerNorm", [&]() {
    auto argv = arguments(env, info, 8, "layerNorm");
    const int64_t rows = int64_t(number(env, argv[5], "layerNorm", "rows"));
    const int64_t d = int64_t(number(env, argv[6], "layerNorm", "d"));
    const double eps = number(env, argv[7], "layerNorm", "eps");
    const float* x = floats(env, argv[0], size_t(rows * d), "layerNorm", "x");
    const float* w = floats(env, argv[1], size_t(d), "layerNorm", "weight");
    const float* b = floats(env, argv[2], size_t(d), "layerNorm", "bias");
    float* y = floats(env, argv[3], size_t(rows * d), "layerNorm", "y");
    float* rstd = floats(env, argv[4], size_t(rows), "layerNorm", "rstd");
#pragma omp parallel for if (g_threads > 1) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      const float* xr = x + r * d;
      float* yr = y + r * d;
      double sum = 0;
      for (int64_t c = 0; c < d; c++) sum += xr[c];
      const float mean = float(sum / double(d));
      double sq = 0;
      for (int64_t c = 0; c < d; c++) {
        const float t = xr[c] - mean;
        sq += double(t) * t;
      }
      const float inv = float(1.0 / std::sqrt(sq / double(d) + eps));
      rstd[r] = inv;
      for (int64_t c = 0; c < d; c++) yr[c] = (xr[c] - mean) * inv * w[c] + b[c];
    }
    return undefined(env);
  });
}

// dy, x, rstd, weight, dx, dweight, dbias, rows, d
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  return guarded(env, "layerNormGrad", [&]() {
    auto argv = arguments(env, info, 9, "layerNormGrad");
    const int64_t rows = int64_t(number(env, argv[7], "layerNormGrad", "rows"));
    const int64_t d = int64_t(number(env, argv[8], "layerNormGrad", "d"));
    const float* dy = floats(env, argv[0], size_t(rows * d), "layerNormGrad", "dy");
    const float* x = floats(env, argv[1], size_t(rows * d), "layerNormGrad", "x");
    const float* rstd = floats(env, argv[2], size_t(rows), "layerNormGrad", "rstd");
    const float* w = floats(env, argv[3], size_t(d), "layerNormGrad", "weight");
    float* dx = floats(env, argv[4], size_t(rows * d), "layerNormGrad", "dx");
    float* dw = floats(env, argv[5], size_t(d), "layerNormGrad", "dweight");
    float* db = floats(env, argv[6], size_t(d), "layerNormGrad", "dbias");
    std::vector<double> dw_acc(d, 0.0), db_acc(d, 0.0);
    std::vector<float> bw(d), bb(d), xhat(d);
    for (int64_t r0 = 0; r0 < rows; r0 += kBlockRows) {
      std::fill(bw.begin(), bw.end(), 0.0f);
      std::fill(bb.begin(), bb.end(), 0.0f);
      const int64_t r1 = std::min(rows, r0 + kBlockRows);
      for (int64_t r = r0; r < r1; r++) {
        const float* xr = x + r * d;
        const float* g = dy + r * d;
        double sum = 0;
        for (int64_t c = 0; c < d; c++) sum += xr[c];
        const float mean = float(sum / double(d));
        const float inv = rstd[r];
        float g_sum = 0, gx_sum = 0;
        for (int64_t c = 0; c < d; c++) {
          const float h = (xr[c] - mean) * inv;
          xhat[c] = h;
          const float gw = g[c] * w[c];
          g_sum += gw;
          gx_sum += gw * h;
          bw[c] += g[c] * h;
          bb[c] += g[c];
        }
        const float g_mean = g_sum / float(d), gx_mean = gx_sum / float(d);
        float* out = dx + r * d;
        for (int64_t c = 0; c < d; c++) out[c] = inv * (g[c] * w[c] - g_mean - xhat[c] * gx_mean);
      }
      for (int64_t c = 0; c < d; c++) {
        dw_acc[c] += bw[c];
        db_acc[c] += bb[c];
      }
    }
    for (int64_t c = 0; c < d; c++) {
      dw[c] = float(dw_acc[c]);
      db[c] = float(db_acc[c]);
    }
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------
// Exact GELU, 0.5·x·(1 + erf(x/√2)), and its derivative Φ(x) + x·φ(x), elementwise.

// exp(x) for x ≤ 0 (as GELU needs), branch-free so that it vectorises: 2^n · p(r), r = x − n·ln2, |r| ≤ ln2/2.
// Relative error < 2e-7 on [-87, 0]; below that it returns 0.
inline float exp_nonpositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  // Round to nearest by the 1.5·2^23 trick (no floor call, which keeps the loop from vectorising).
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits;
  std::memcpy(&bits, &p, sizeof bits);
  bits += int32_t(n) << 23;
  std::memcpy(&p, &bits, sizeof bits);
  return p;
}

// Φ(x) = 0.5·(1 + erf(x/√2)) by Abramowitz & Stegun 7.1.26 on |x|/√2 (absolute error < 1.5e-7 in erf).
inline float normal_cdf(float x) {
  const float z = std::fabs(x) * float(M_SQRT1_2);
  const float t = 1.0f / (1.0f + 0.3275911f * z);
  const float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float erf_abs = 1.0f - poly * exp_nonpositive(-z * z);
  return 0.5f * (1.0f + (x < 0.0f ? -erf_abs : erf_abs));
}

SSLAD_VECTOR_CLONES void gelu_loop(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i] * normal_cdf(x[i]);
}

SSLAD_VECTOR_CLONES void gelu_grad_loop(const float* dy, const float* x, float* dx, int64_t n) {
  const float inv_sqrt_2pi = 0.3989422804014327f;
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    dx[i] = dy[i] * (normal_cdf(v) + v * inv_sqrt_2pi * exp_nonpositive(-0.5f * v * v));
  }
}

// Split across the threads in contiguous chunks (one chunk when single-threaded).
template <typename F>
void chunked(int64_t n, F body) {
  const int64_t parts = g_threads > 1 && n > 65536 ? g_threads : 1;
#pragma omp parallel for if (parts > 1) schedule(static)
  for (int64_t part = 0; part < parts; part++) {
    const int64_t begin = n * part / parts, end = n * (part + 1) / parts;
    body(begin, end - begin);
  }
}

// x, y, n
napi_value Gelu(napi_env env, napi_callback_info info) {
  return guarded(env, "gelu", [&]() {
    auto argv = arguments(env, info, 3, "gelu");
    const int64_t n = int64_t(number(env, argv[2], "gelu", "n"));
    const float* x = floats(env, argv[0], size_t(n), "gelu", "x");
    float* y = floats(env, argv[1], size_t(n), "gelu", "y");
    chunked(n, [&](int64_t at, int64_t count) { gelu_loop(x + at, y + at, count); });
    return undefined(env);
  });
}

// dy, x, dx, n
napi_value GeluGrad(napi_env env, napi_callback_info info) {
  return guarded(env, "geluGrad", [&]() {
    auto argv = arguments(env, info, 4, "geluGrad");
    const int64_t n = int64_t(number(env, argv[3], "geluGrad", "n"));
    const float* dy = floats(env, argv[0], size_t(n), "geluGrad", "dy");
    const float* x = floats(env, argv[1], size_t(n), "geluGrad", "x");
    float* dx = floats(env, argv[2], size_t(n), "geluGrad", "dx");
    chunked(n, [&](int64_t at, int64_t count) { gelu_grad_loop(dy + at, x + at, dx + at, count); });
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------
// out = a·x + b·y, elementwise (optimiser updates, EMA teachers): one pass instead of two multiplies and an add.

SSLAD_VECTOR_CLONES void axpby_loop(float a, const float* x, float b, const float* y, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = a * x[i] + b * y[i];
}

// x, y, out, a, b, n
napi_value Axpby(napi_env env, napi_callback_info info) {
  return guarded(env, "axpby", [&]() {
    auto argv = arguments(env, info, 6, "axpby");
    const float a = float(number(env, argv[3], "axpby", "a"));
    const float b = float(number(env, argv[4], "axpby", "b"));
    const int64_t n = int64_t(number(env, argv[5], "axpby", "n"));
    const float* x = floats(env, argv[0], size_t(n), "axpby", "x");
    const float* y = floats(env, argv[1], size_t(n), "axpby", "y");
    float* out = floats(env, argv[2], size_t(n), "axpby", "output");
    chunked(n, [&](int64_t at, int64_t count) { axpby_loop(a, x + at, b, y + at, out + at, count); });
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------
// Sum over leading rows: x [rows, inner] → [inner] (bias gradients, full reductions with inner = 1).

// x, out, rows, inner
napi_value SumRows(napi_env env, napi_callback_info info) {
  return guarded(env, "sumRows", [&]() {
    auto argv = arguments(env, info, 4, "sumRows");
    const int64_t rows = int64_t(number(env, argv[2], "sumRows", "rows"));
    const int64_t inner = int64_t(number(env, argv[3], "sumRows", "inner"));
    const float* x = floats(env, argv[0], size_t(rows * inner), "sumRows", "x");
    float* out = floats(env, argv[1], size_t(inner), "sumRows", "output");
    if (inner == 1) {
      double total = 0;
      for (int64_t r0 = 0; r0 < rows; r0 += 4096) {
        float block = 0;
        for (int64_t r = r0; r < std::min(rows, r0 + 4096); r++) block += x[r];
        total += block;
      }
      out[0] = float(total);
      return undefined(env);
    }
    std::vector<double> acc(inner, 0.0);
    std::vector<float> block(inner);
    for (int64_t r0 = 0; r0 < rows; r0 += kBlockRows) {
      std::fill(block.begin(), block.end(), 0.0f);
      for (int64_t r = r0; r < std::min(rows, r0 + kBlockRows); r++) {
        const float* xr = x + r * inner;
        for (int64_t c = 0; c < inner; c++) block[c] += xr[c];
      }
      for (int64_t c = 0; c < inner; c++) acc[c] += block[c];
    }
    for (int64_t c = 0; c < inner; c++) out[c] = float(acc[c]);
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------
// MaxPoolGrad, NHWC: each output cell's gradient goes to the first maximum of its window (row-major),
// padded cells never winning — the rule of PyTorch, TF.js's cpu backend and max_pool_grad.ts.
// Parameters [n, h, w, c, ho, wo, kh, kw, sh, sw, top, left].

// One image: running maxima per channel as selects (vectorises), then one scatter per output cell.
SSLAD_VECTOR_CLONES void max_pool_grad_image(const float* x, const float* dy, float* dx, int64_t h, int64_t w, int64_t c,
                                             int64_t ho, int64_t wo, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                                             int64_t top, int64_t left, float* best, int32_t* where) {
  for (int64_t oy = 0; oy < ho; oy++) {
    for (int64_t ox = 0; ox < wo; ox++) {
      for (int64_t ch = 0; ch < c; ch++) {
        best[ch] = -INFINITY;
        where[ch] = -1;
      }
      for (int64_t ky = 0; ky < kh; ky++) {
        const int64_t y = oy * sh - top + ky;
        if (y < 0 || y >= h) continue;
        for (int64_t kx = 0; kx < kw; kx++) {
          const int64_t xx = ox * sw - left + kx;
          if (xx < 0 || xx >= w) continue;
          const int32_t base = int32_t((y * w + xx) * c);
          const float* row = x + base;
          for (int64_t ch = 0; ch < c; ch++) {
            // Strictly greater: the first maximum keeps the gradient.
            const bool greater = row[ch] > best[ch];
            best[ch] = greater ? row[ch] : best[ch];
            where[ch] = greater ? base + int32_t(ch) : where[ch];
          }
        }
      }
      const float* g = dy + (oy * wo + ox) * c;
      for (int64_t ch = 0; ch < c; ch++)
        if (where[ch] >= 0) dx[where[ch]] += g[ch];
    }
  }
}

// dy, x, dx, params
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, "maxPoolGrad", [&]() {
    auto argv = arguments(env, info, 4, "maxPoolGrad");
    auto p = ints(env, argv[3], 12, "maxPoolGrad");
    const int64_t n = p[0], h = p[1], w = p[2], c = p[3], ho = p[4], wo = p[5], kh = p[6], kw = p[7], sh = p[8], sw = p[9],
                  top = p[10], left = p[11];
    if (h * w * c >= (int64_t(1) << 31)) throw JsError("sslad_native.maxPoolGrad: one image has more than 2^31 elements");
    const float* dy = floats(env, argv[0], size_t(n * ho * wo * c), "maxPoolGrad", "dy");
    const float* x = floats(env, argv[1], size_t(n * h * w * c), "maxPoolGrad", "x");
    float* dx = floats(env, argv[2], size_t(n * h * w * c), "maxPoolGrad", "output");
    std::memset(dx, 0, sizeof(float) * size_t(n * h * w * c));
#pragma omp parallel for if (g_threads > 1) schedule(static)
    for (int64_t b = 0; b < n; b++) {
      std::vector<float> best(c);
      std::vector<int32_t> where(c);
      max_pool_grad_image(x + b * h * w * c, dy + b * ho * wo * c, dx + b * h * w * c, h, w, c, ho, wo, kh, kw, sh, sw, top,
                          left, best.data(), where.data());
    }
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------
// Engine information and settings

const char* isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "all";
  }
}

void set_string(napi_env env, napi_value obj, const char* key, const std::string& value) {
  napi_value v;
  napi_create_string_utf8(env, value.c_str(), value.size(), &v);
  napi_set_named_property(env, obj, key, v);
}

void set_number(napi_env env, napi_value obj, const char* key, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, key, v);
}

napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, "info", [&]() {
    const dnnl_version_t* v = dnnl_version();
    napi_value obj;
    napi_create_object(env, &obj);
    set_string(env, obj, "engine", "oneDNN");
    set_string(env, obj, "version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
    set_string(env, obj, "isa", isa_name(dnnl_get_effective_cpu_isa()));
    set_string(env, obj, "runtime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB" : "sequential");
    set_number(env, obj, "threads", g_threads);
    set_number(env, obj, "cachedPrimitives", double(conv_cache().size()));
    return obj;
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, "setThreads", [&]() {
    auto argv = arguments(env, info, 1, "setThreads");
    const double n = number(env, argv[0], "setThreads", "threads");
    if (!(n >= 1 && n <= 1024) || n != std::floor(n)) throw JsError("sslad_native.setThreads: threads must be a whole number ≥ 1");
    g_threads = int(n);
    omp_set_num_threads(g_threads);
    return undefined(env);
  });
}

napi_value Init(napi_env env, napi_value exports) {
  omp_set_num_threads(g_threads);
  const napi_property_descriptor props[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchMatMul", nullptr, BatchMatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrain", nullptr, BatchNormTrain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrainGrad", nullptr, BatchNormTrainGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNorm", nullptr, LayerNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNormGrad", nullptr, LayerNormGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gelu", nullptr, Gelu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"geluGrad", nullptr, GeluGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumRows", nullptr, SumRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"axpby", nullptr, Axpby, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
