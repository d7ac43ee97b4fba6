/* The vector kernels for CPUs with AVX2 and FMA, 8 floats per step: vec_kernel.h's, with
 * sigmoid and the LSTM kernels written with intrinsics. Compiled with -mavx2 -mfma
 * (CMakeLists.txt); without those flags nn_vec_gelu_avx2 and nn_vec_kernels_avx2 return NULL.
 *
 * Same formulas as vec_kernel.h (e^x as 2^n times the degree-7 polynomial, 2^n applied as two
 * powers of two so that subnormal results stay right), with FMAs, which the plain C loop does
 * not get (the vector files are built without -ffp-contract=fast); the last partial vector of
 * a row under a mask, not through a padded copy. The division stays a division: AVX2's
 * reciprocal estimate has 12 bits, so a Newton step on it would leave about 1.4e-7 of relative
 * error (estimated, not tried) before e^x's own, close to the sigmoid's 3-ulp bound. */
#include "vec.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#define NN_VEC_NAME gelu_avx2
#define VK_SIGMOID sigmoid_avx2
#define VK_LSTM_GATES lstm_gates_avx2
#define VK_LSTM_CELL lstm_cell_avx2
#include "vec_kernel.h"

/* 2^n for integral n in [-126, 127], built in the exponent bits. */
static inline __m256 pow2i8(__m256 n)
{
    __m256i bits =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_castsi256_ps(bits);
}

/* e^x for x in [-104, 0] (the caller clamps): x = n ln2 + r, |r| <= ln2 / 2, e^r by vk_exp1's
 * polynomial in FMAs (Horner), times 2^(n/2) and 2^(n - n/2), each a normal float. */
static inline __m256 exp8_nonpositive(__m256 x)
{
    __m256 nf = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(nf, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(nf, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_fmadd_ps(r, _mm256_set1_ps(0.000198412701f), _mm256_set1_ps(0.00138888892f));
    p = _mm256_fmadd_ps(r, p, _mm256_set1_ps(0.00833333377f));
    p = _mm256_fmadd_ps(r, p, _mm256_set1_ps(0.0416666679f));
    p = _mm256_fmadd_ps(r, p, _mm256_set1_ps(0.166666672f));
    p = _mm256_fmadd_ps(r, p, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(r, p, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(r, p, _mm256_set1_ps(1.0f));
    /* n / 2 rounded toward zero: both halves are normal powers of two */
    __m256 half = _mm256_round_ps(_mm256_mul_ps(nf, _mm256_set1_ps(0.5f)),
                                  _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    return _mm256_mul_ps(_mm256_mul_ps(p, pow2i8(half)), pow2i8(_mm256_sub_ps(nf, half)));
}

/* sigmoid as vk_sigmoid1: e = e^-|x|, s = 1 / (1 + e), e * s for negative x; NaN stays NaN. */
static inline __m256 sigmoid8(__m256 v)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v);
    __m256 e = exp8_nonpositive(
        _mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), _mm256_set1_ps(-104.0f)));
    __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, e));
    __m256 y =
        _mm256_blendv_ps(s, _mm256_mul_ps(e, s), _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
    return _mm256_blendv_ps(y, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}

/* The lane indices 0..7, and the mask of the lanes of the vector at j that lie below n. */
static inline __m256i lane_index(void)
{
    return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
}

static inline __m256i lanes_below(int64_t j, int64_t n)
{
    int64_t left = n - j;
    int32_t k = left >= 8 ? 8 : left <= 0 ? 0 : (int32_t)left;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), lane_index());
}

static void sigmoid_avx2(const float *x, float *y, int64_t n)
{
    int64_t k = 0;
    for (; k + 8 <= n; k += 8)
        _mm256_storeu_ps(y + k, sigmoid8(_mm256_loadu_ps(x + k)));
    if (k < n) {
        __m256i m = lanes_below(k, n);
        _mm256_maskstore_ps(y + k, m, sigmoid8(_mm256_maskload_ps(x + k, m)));
    }
}

/* vk_lstm_gates: each vector of a row once through sigmoid8, its c~ lanes (those at or past
 * nsig) doubled before and mapped by 2s - 1 after, so that a vector straddling the f and c~
 * gates needs no second pass. */
static void lstm_gates_avx2(float *g, int64_t rows, int64_t ldg, int64_t stride, int64_t nsig)
{
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
    for (int64_t r = 0; r < rows; r++) {
        float *row = g + r * ldg;
        int64_t j = 0;
        for (; j + 8 <= nsig; j += 8)
            _mm256_storeu_ps(row + j, sigmoid8(_mm256_loadu_ps(row + j)));
        for (; j < stride; j += 8) {
            __m256i live = lanes_below(j, stride);
            __m256 tanh_lanes =
                _mm256_castsi256_ps(_mm256_xor_si256(lanes_below(j, nsig), _mm256_set1_epi32(-1)));
            __m256 x = _mm256_maskload_ps(row + j, live);
            __m256 s = sigmoid8(_mm256_blendv_ps(x, _mm256_add_ps(x, x), tanh_lanes));
            _mm256_maskstore_ps(row + j, live,
                                _mm256_blendv_ps(s, _mm256_fmsub_ps(s, two, one), tanh_lanes));
        }
    }
}

/* vk_lstm_cell, a row at a time, 8 cells per step, the row's last partial vector masked:
 * c = f c + i c~, h = o (2 sigmoid(2c) - 1). */
static void lstm_cell_avx2(const float *g, int64_t ldg, float *c, float *h, int64_t rows,
                           int64_t hid)
{
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
    for (int64_t r = 0; r < rows; r++) {
        const float *gi = g + r * ldg, *go = gi + hid, *gf = gi + 2 * hid, *gc = gi + 3 * hid;
        float *cr = c + r * hid, *hr = h + r * hid;
        for (int64_t j = 0; j < hid; j += 8) {
            __m256i live = lanes_below(j, hid);
            __m256 i = _mm256_maskload_ps(gi + j, live), o = _mm256_maskload_ps(go + j, live);
            __m256 f = _mm256_maskload_ps(gf + j, live), cc = _mm256_maskload_ps(gc + j, live);
            __m256 cn = _mm256_fmadd_ps(f, _mm256_maskload_ps(cr + j, live), _mm256_mul_ps(i, cc));
            _mm256_maskstore_ps(cr + j, live, cn);
            __m256 t = _mm256_fmsub_ps(sigmoid8(_mm256_add_ps(cn, cn)), two, one);
            _mm256_maskstore_ps(hr + j, live, _mm256_mul_ps(o, t));
        }
    }
}

nn_gelu_fn *nn_vec_gelu_avx2(void)
{
    return gelu_avx2;
}

static const struct nn_vec_kernels kernels = {"avx2", NN_VEC_TABLE_ENTRIES};

const struct nn_vec_kernels *nn_vec_kernels_avx2(void)
{
    return &kernels;
}
#else
const struct nn_vec_kernels *nn_vec_kernels_avx2(void)
{
    return 0;
}

nn_gelu_fn *nn_vec_gelu_avx2(void)
{
    return 0;
}
#endif
