/* The vector kernels for CPUs with AVX-512F, 16 floats per step: vec_kernel.h's, with GELU,
 * sigmoid and the LSTM kernels written with intrinsics. Compiled with -mavx512f -mfma
 * (CMakeLists.txt); without those flags nn_vec_gelu_avx512 and nn_vec_kernels_avx512 return
 * NULL.
 *
 * Same formulas as vec_kernel.h (GELU: A&S 7.1.26 erf; e^x as 2^n times a polynomial), with FMAs,
 * scalef for the 2^n, and the reciprocal estimate plus one Newton step (relative error ~1e-7)
 * instead of a division, which would otherwise dominate the loop; the last partial vector of a
 * sigmoid or LSTM row under a mask, not through a padded copy. */
#include "vec.h"

#if defined(__AVX512F__) && defined(__FMA__)
#include <immintrin.h>

#define NN_VEC_NAME gelu_avx512_tail
#define VK_SIGMOID sigmoid_avx512
#define VK_LSTM_GATES lstm_gates_avx512
#define VK_LSTM_CELL lstm_cell_avx512
#include "vec_kernel.h"

/* e^x for x in [-104, 0] (the caller clamps): x = n ln2 + r, |r| <= ln2 / 2, e^r by the
 * degree-7 Taylor polynomial of vk_exp1 in FMAs (Horner: Estrin's scheme, with fewer dependent
 * steps, measured 3.1 ulp on the sigmoid against Horner's 2.7), 2^n applied by scalef, which
 * rounds subnormal results correctly. */
static inline __m512 exp16_nonpositive(__m512 x)
{
    __m512 nf = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(nf, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(nf, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(0.000198412701f), _mm512_set1_ps(0.00138888892f));
    p = _mm512_fmadd_ps(r, p, _mm512_set1_ps(0.00833333377f));
    p = _mm512_fmadd_ps(r, p, _mm512_set1_ps(0.0416666679f));
    p = _mm512_fmadd_ps(r, p, _mm512_set1_ps(0.166666672f));
    p = _mm512_fmadd_ps(r, p, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(r, p, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(r, p, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, nf);
}

static inline __m512 gelu16(__m512 v)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 z = _mm512_mul_ps(v, _mm512_set1_ps(0.70710678f));
    __m512 az = _mm512_min_ps(_mm512_abs_ps(z), _mm512_set1_ps(5.0f));
    __m512 d = _mm512_fmadd_ps(_mm512_set1_ps(0.3275911f), az, one);
    __m512 t = _mm512_rcp14_ps(d);
    t = _mm512_mul_ps(t, _mm512_fnmadd_ps(d, t, _mm512_set1_ps(2.0f))); /* Newton step */
    __m512 poly = _mm512_fmadd_ps(t, _mm512_set1_ps(1.061405429f), _mm512_set1_ps(-1.453152027f));
    poly = _mm512_fmadd_ps(t, poly, _mm512_set1_ps(1.421413741f));
    poly = _mm512_fmadd_ps(t, poly, _mm512_set1_ps(-0.284496736f));
    poly = _mm512_fmadd_ps(t, poly, _mm512_set1_ps(0.254829592f));
    poly = _mm512_mul_ps(t, poly);
    __m512 e = exp16_nonpositive(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), az), az));
    __m512 erf_abs = _mm512_fnmadd_ps(poly, e, one);
    /* Give erf the sign of z: flip the sign bit where z is negative. */
    __m512i sign = _mm512_and_si512(_mm512_castps_si512(z), _mm512_set1_epi32((int)0x80000000u));
    __m512 erf_z = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(erf_abs), sign));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(one, erf_z));
}

static void gelu_avx512(float *x, int64_t n)
{
    int64_t k = 0;
    for (; k + 16 <= n; k += 16)
        _mm512_storeu_ps(x + k, gelu16(_mm512_loadu_ps(x + k)));
    gelu_avx512_tail(x + k, n - k);
}

/* sigmoid as vk_sigmoid1 (e = e^-|x|, s = 1 / (1 + e), e * s for negative x), the division a
 * reciprocal estimate plus one Newton step. */
static inline __m512 sigmoid16(__m512 v)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 a = _mm512_abs_ps(v);
    __m512 e = exp16_nonpositive(
        _mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), _mm512_set1_ps(-104.0f)));
    __m512 d = _mm512_add_ps(one, e);
    __m512 s = _mm512_rcp14_ps(d);
    s = _mm512_fmadd_ps(s, _mm512_fnmadd_ps(d, s, one), s); /* Newton step */
    __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
    __m512 y = _mm512_mask_mul_ps(s, neg, s, e);
    __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return _mm512_mask_mov_ps(y, nan, v);
}

/* y[k] = f16(x[k]) for k < n, the last partial vector through masked loads and stores. */
#define AVX512_MAP(name, f16)                                                                      \
    static void name(const float *x, float *y, int64_t n)                                          \
    {                                                                                              \
        int64_t k = 0;                                                                             \
        for (; k + 16 <= n; k += 16)                                                               \
            _mm512_storeu_ps(y + k, f16(_mm512_loadu_ps(x + k)));                                  \
        if (k < n) {                                                                               \
            __mmask16 m = (__mmask16)((1u << (n - k)) - 1);                                        \
            _mm512_mask_storeu_ps(y + k, m, f16(_mm512_maskz_loadu_ps(m, x + k)));                 \
        }                                                                                          \
    }

AVX512_MAP(sigmoid_avx512, sigmoid16)

/* The lanes of the vector at j of a row of n floats that lie inside the row. */
static inline __mmask16 lanes_below(int64_t j, int64_t n)
{
    return n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
}

/* vk_lstm_gates: each vector of a row once through sigmoid16, its c~ lanes (those at or past
 * nsig) doubled before and mapped by 2s - 1 after, so that a vector straddling the f and c~
 * gates needs no second pass. */
static void lstm_gates_avx512(float *g, int64_t rows, int64_t ldg, int64_t stride, int64_t nsig)
{
    const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
    for (int64_t r = 0; r < rows; r++) {
        float *row = g + r * ldg;
        int64_t j = 0;
        for (; j + 16 <= nsig; j += 16)
            _mm512_storeu_ps(row + j, sigmoid16(_mm512_loadu_ps(row + j)));
        for (; j < stride; j += 16) {
            __mmask16 live = lanes_below(j, stride);
            __mmask16 tanh_lanes = (__mmask16)(~lanes_below(j, nsig > j ? nsig : j));
            __m512 x = _mm512_maskz_loadu_ps(live, row + j);
            __m512 s = sigmoid16(_mm512_mask_add_ps(x, tanh_lanes, x, x));
            _mm512_mask_storeu_ps(row + j, live, _mm512_mask_fmsub_ps(s, tanh_lanes, two, one));
        }
    }
}

/* Lanes lo..hi-1 of a vector (0 <= lo <= hi <= 16). */
static inline __mmask16 lanes_between(int lo, int hi)
{
    return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

/* Where the 16 cells from flat index k (row b, column j of [rows, hid]) take their gates: up to
 * 16 runs of lanes, each inside one row of g. */
struct cell_runs {
    int count;
    __mmask16 mask[16];
    const float *at[16]; /* g's address for lane 0 of the run's loads (its lanes masked) */
};

static inline void cell_runs(const float *g, int64_t ldg, int64_t hid, int64_t b, int64_t j,
                             int lanes, struct cell_runs *runs)
{
    runs->count = 0;
    for (int l = 0; l < lanes;) {
        int len = hid - j < lanes - l ? (int)(hid - j) : lanes - l;
        runs->mask[runs->count] = lanes_between(l, l + len);
        runs->at[runs->count] = g + b * ldg + j - l;
        runs->count++;
        l += len, j += len;
        if (j == hid)
            j = 0, b++;
    }
}

/* Gate `gate` (0 i, 1 o, 2 f, 3 c~) of the 16 cells the runs describe. */
static inline __m512 cell_gate(const struct cell_runs *runs, int64_t hid, int gate)
{
    __m512 v = _mm512_setzero_ps();
    for (int q = 0; q < runs->count; q++)
        v = _mm512_mask_loadu_ps(v, runs->mask[q], runs->at[q] + gate * hid);
    return v;
}

/* vk_lstm_cell over the flat [rows, hid] cells (c and h are contiguous), 16 at a time whatever
 * the row length: a vector that spans two rows loads each row's gates with its own mask, so
 * rows of 24 cells take 1.5 vectors each, not 2. c = f c + i c~, h = o (2 sigmoid(2c) - 1). */
static void lstm_cell_avx512(const float *g, int64_t ldg, float *c, float *h, int64_t rows,
                             int64_t hid)
{
    const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
    const int64_t n = rows * hid;
    int64_t b = 0, j = 0; /* row and column of cell k */
    for (int64_t k = 0; k < n; k += 16) {
        __mmask16 live = lanes_below(k, n);
        struct cell_runs runs;
        cell_runs(g, ldg, hid, b, j, n - k < 16 ? (int)(n - k) : 16, &runs);
        __m512 i = cell_gate(&runs, hid, 0), o = cell_gate(&runs, hid, 1);
        __m512 f = cell_gate(&runs, hid, 2), cc = cell_gate(&runs, hid, 3);
        __m512 cn = _mm512_fmadd_ps(f, _mm512_maskz_loadu_ps(live, c + k), _mm512_mul_ps(i, cc));
        _mm512_mask_storeu_ps(c + k, live, cn);
        __m512 t = _mm512_fmsub_ps(sigmoid16(_mm512_add_ps(cn, cn)), two, one);
        _mm512_mask_storeu_ps(h + k, live, _mm512_mul_ps(o, t));
        j += 16;
        b += j / hid;
        j %= hid;
    }
}

nn_gelu_fn *nn_vec_gelu_avx512(void)
{
    return gelu_avx512;
}

static const struct nn_vec_kernels kernels = {"avx512", NN_VEC_TABLE_ENTRIES};

const struct nn_vec_kernels *nn_vec_kernels_avx512(void)
{
    return &kernels;
}
#else
const struct nn_vec_kernels *nn_vec_kernels_avx512(void)
{
    return 0;
}

nn_gelu_fn *nn_vec_gelu_avx512(void)
{
    return 0;
}
#endif
