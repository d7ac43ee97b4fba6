/* The element-wise kernels, included by vec_*.c, each compiled for one instruction-set level
 * (vec.c plain, vec_avx2.c with -mavx2 -mfma, vec_avx512.c with -mavx512f). Defines
 * NN_VEC_NAME(float *x, int64_t n): x = GELU(x) in place, exact (erf) form, and the static
 * functions vk_exp, vk_tanh, vk_sigmoid, vk_erf and vk_softmax of struct nn_vec_kernels (vec.h).
 *
 * GELU's erf comes from Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7) with a
 * polynomial exp. Everything is written without branches or calls (selects instead of ifs, bit
 * operations for the exponent), so that the compiler vectorises each loop at the width of the
 * level it is built for. The accuracy of each function against libm is measured by
 * tests/onnx/test_vec.c and recorded in docs/engine.md. */
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Defines name(x, y, n): y[k] = f1(x[k]) for k < n (y may be x). Whole blocks of 16 go through
 * the loop the compiler vectorises; the last partial block through a zero-padded copy, so a
 * short row (a recurrent layer's 24 gates) is not left to a scalar loop. Inline, so that a
 * level which replaces one (vec_avx512.c) leaves the other unused without a warning. */
#define VK_MAP(name, f1)                                                                           \
    static inline void name(const float *x, float *y, int64_t n)                                   \
    {                                                                                              \
        int64_t full = n / 16 * 16;                                                                \
        for (int64_t k = 0; k < full; k++)                                                         \
            y[k] = f1(x[k]);                                                                       \
        if (full == n)                                                                             \
            return;                                                                                \
        float t[16] = {0};                                                                         \
        memcpy(t, x + full, (size_t)(n - full) * sizeof *t);                                       \
        for (int j = 0; j < 16; j++)                                                               \
            t[j] = f1(t[j]);                                                                       \
        memcpy(y + full, t, (size_t)(n - full) * sizeof *t);                                       \
    }

/* e^x for x in [-25, 0]: 2^n times a degree-6 polynomial on the remainder. */
static inline float nn_vec_exp_neg(float x)
{
    const float log2e = 1.44269504f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    float t = x * log2e;
    float nf = (t + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = (x - nf * ln2_hi) - nf * ln2_lo;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f +
                                                  r * (0.0416666679f + r * (0.00833333377f +
                                                                            r * 0.00138888892f)))));
    int32_t bits = ((int32_t)nf + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float nn_vec_gelu1(float v)
{
    float z = v * 0.70710678f;
    float az = fabsf(z);
    /* Clamp to 5 (erf(5) is 1 in float; NaN lands there too and stays NaN through v) with an
     * integer compare on the bits: a float compare may trap, which keeps the loop scalar. */
    uint32_t bits;
    memcpy(&bits, &az, sizeof bits);
    bits = bits < 0x40a00000u ? bits : 0x40a00000u;
    memcpy(&az, &bits, sizeof az);
    float t = 1.0f / (1.0f + 0.3275911f * az);
    float poly =
        t * (0.254829592f +
             t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float e = 1.0f - poly * nn_vec_exp_neg(-az * az); /* erf(|z|) */
    /* copysign, not a branch on the sign: the sign of v is random and would mispredict. */
    return 0.5f * v * (1.0f + copysignf(e, z));
}

static void NN_VEC_NAME(float *x, int64_t n)
{
    for (int64_t k = 0; k < n; k++)
        x[k] = nn_vec_gelu1(x[k]);
}

/* 2^n for an integer-valued float n in [-126, 127], from the exponent bits. */
static inline float vk_pow2i(float n)
{
    int32_t bits = ((int32_t)n + 127) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* e^x over the whole float range: x = n ln2 + r, |r| <= ln2 / 2, e^r by its Taylor polynomial
 * of degree 7 (truncation below 1e-8 relative), times 2^n applied as two factors so that
 * results near overflow and in the subnormal range come out right. NaN stays NaN, e^x is +inf
 * from x >= 89 and 0 from x <= -104. */
static inline float vk_exp1(float x)
{
    const float log2e = 1.44269504f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    float xc = x < -104.0f ? -104.0f : x;
    xc = xc > 89.0f ? 89.0f : xc;
    xc = xc != xc ? 0.0f : xc; /* NaN: computed on 0, restored below */
    float nf = (xc * log2e + 12582912.0f) - 12582912.0f;
    float r = (xc - nf * ln2_hi) - nf * ln2_lo;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f +
                                                  r * (0.0416666679f +
                                                       r * (0.00833333377f +
                                                            r * (0.00138888892f +
                                                                 r * 0.000198412701f))))));
    float half = (float)((int32_t)nf >> 1);
    float y = p * vk_pow2i(half) * vk_pow2i(nf - half);
    return x != x ? x : y;
}

VK_MAP(vk_exp, vk_exp1)

/* tanh: its odd Taylor polynomial up to x^21 for |x| < 0.55 (truncation below 1e-9 relative;
 * below that 1 - 2 / (e^2|x| + 1) would cancel), else that formula with the sign of x; +-1 for
 * large |x|. */
static inline float vk_tanh1(float x)
{
    float a = fabsf(x), x2 = x * x;
    float small =
        x * (1.0f +
             x2 * (-0.333333333f +
                   x2 * (0.133333333f +
                         x2 * (-0.053968254f +
                               x2 * (0.0218694885f +
                                     x2 * (-0.00886323553f +
                                           x2 * (0.00359212804f +
                                                 x2 * (-0.00145583439f +
                                                       x2 * (0.000590027441f +
                                                             x2 * (-0.000239129114f +
                                                                   x2 * 9.69153796e-05f))))))))));
    float e = vk_exp1(2.0f * (a < 20.0f ? a : 20.0f));
    float big = copysignf(1.0f - 2.0f / (e + 1.0f), x);
    float y = a < 0.55f ? small : big;
    return x != x ? x : y;
}

VK_MAP(vk_tanh, vk_tanh1)

/* sigmoid: e = e^-|x|, s = 1 / (1 + e); s for x >= 0, e * s below (no overflow, and the tiny
 * values of very negative x keep their relative accuracy). */
static inline float vk_sigmoid1(float x)
{
    float e = vk_exp1(-fabsf(x));
    float s = 1.0f / (1.0f + e);
    float y = x >= 0.0f ? s : e * s;
    return x != x ? x : y;
}

VK_MAP(vk_sigmoid, vk_sigmoid1)

/* tanh(x) as 2 sigmoid(2x) - 1: the sigmoid's cost, an absolute error up to 1.8e-7 near +-1
 * (the relative error near 0 is larger). For the LSTM kernels below, whose states are multiplied and
 * summed. */
static inline float vk_tanh_by_sigmoid1(float x)
{
    return 2.0f * vk_sigmoid1(2.0f * x) - 1.0f;
}

VK_MAP(vk_tanh_by_sigmoid, vk_tanh_by_sigmoid1)

/* An LSTM step's gates in place: rows of `stride` floats, `ldg` apart, sigmoid over the first
 * nsig of each row (i, o, f), tanh by sigmoid over the rest (c~). */
static inline void vk_lstm_gates(float *g, int64_t rows, int64_t ldg, int64_t stride, int64_t nsig)
{
    for (int64_t r = 0; r < rows; r++) {
        float *row = g + r * ldg;
        vk_sigmoid(row, row, nsig);
        vk_tanh_by_sigmoid(row + nsig, row + nsig, stride - nsig);
    }
}

/* The LSTM cell of `rows` rows after its gates: g rows [i o f c~] (4 * hid floats, ldg apart,
 * activated), c and h rows of hid floats, contiguous: c = f c + i c~, h = o tanh(c) (tanh by
 * sigmoid). */
static inline void vk_lstm_cell(const float *g, int64_t ldg, float *c, float *h, int64_t rows,
                                int64_t hid)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *gi = g + r * ldg, *go = gi + hid, *gf = gi + 2 * hid, *gc = gi + 3 * hid;
        float *cr = c + r * hid, *hr = h + r * hid;
        for (int64_t k = 0; k < hid; k++)
            cr[k] = gf[k] * cr[k] + gi[k] * gc[k];
        vk_tanh_by_sigmoid(cr, hr, hid);
        for (int64_t k = 0; k < hid; k++)
            hr[k] *= go[k];
    }
}

/* erf: the Maclaurin series of erf up to x^21 for |x| < 0.9 (relative truncation below 2e-9),
 * else 1 - A&S 7.1.26's erfc with the sign of x (absolute error 1.5e-7 on values >= 0.79). */
static inline float vk_erf1(float x)
{
    float a = fabsf(x), x2 = x * x;
    float series =
        x * (1.12837917f +
             x2 * (-0.376126389f +
                   x2 * (0.112837917f +
                         x2 * (-0.0268661706f +
                               x2 * (0.00522397763f +
                                     x2 * (-0.000854832702f +
                                           x2 * (0.00012055333f +
                                                 x2 * (-1.49256504e-05f +
                                                       x2 * (1.64621144e-06f +
                                                             x2 * (-1.63658447e-07f +
                                                                   x2 * 1.48071928e-08f))))))))));
    float ac = a < 5.0f ? a : 5.0f;
    float t = 1.0f / (1.0f + 0.3275911f * ac);
    float poly =
        t * (0.254829592f +
             t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float tail = copysignf(1.0f - poly * vk_exp1(-ac * ac), x);
    float y = a < 0.9f ? series : tail;
    return x != x ? x : y;
}

VK_MAP(vk_erf, vk_erf1)

/* y = softmax(x) over n contiguous floats (y may be x): the maximum and the sum in 16 partial
 * lanes so that both loops vectorise, e^(x - max) by vk_exp1, one multiply by 1 / sum. */
static void vk_softmax(const float *x, float *y, int64_t n)
{
    if (n <= 0)
        return;
    float mx[16];
    for (int k = 0; k < 16; k++)
        mx[k] = x[0];
    int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        for (int k = 0; k < 16; k++)
            mx[k] = x[j + k] > mx[k] ? x[j + k] : mx[k];
    float m = mx[0];
    for (int k = 1; k < 16; k++)
        m = mx[k] > m ? mx[k] : m;
    for (; j < n; j++)
        m = x[j] > m ? x[j] : m;
    float acc[16] = {0};
    j = 0;
    for (; j + 16 <= n; j += 16)
        for (int k = 0; k < 16; k++) {
            float e = vk_exp1(x[j + k] - m);
            y[j + k] = e;
            acc[k] += e;
        }
    float sum = 0.0f;
    for (; j < n; j++) {
        y[j] = vk_exp1(x[j] - m);
        sum += y[j];
    }
    for (int k = 0; k < 16; k++)
        sum += acc[k];
    float inv = 1.0f / sum;
    for (j = 0; j < n; j++)
        y[j] *= inv;
}

/* y[j] = x[j] + ... + x[j + k - 1] for j < width, in registers: each tap is one load and one
 * add per vector, with no store. The even and the odd taps go to two sums, added at the end, so
 * that two chains of dependent adds run side by side. Inlined with a constant width so that the
 * sums stay registers. */
static inline void vk_window_block(const float *x, float *y, int64_t k, const int width)
{
    float even[32], odd[32];
    for (int j = 0; j < width; j++)
        even[j] = odd[j] = 0.0f;
    int64_t t = 0;
    for (; t + 2 <= k; t += 2)
        for (int j = 0; j < width; j++) {
            even[j] += x[t + j];
            odd[j] += x[t + 1 + j];
        }
    for (int j = 0; j < width; j++)
        y[j] = (t < k ? even[j] + x[t + j] : even[j]) + odd[j];
}

/* y[o] = x[o] + x[o + 1] + ... + x[o + k - 1] for o < n (the sums of a stride-1 moving
 * average). Blocks of the widest of 32, 16 or 8 outputs that fits, the last
 * one overlapping the one before (it recomputes the same sums), so that no output is left to a
 * scalar loop whose k dependent adds would each wait for the previous one. */
static void vk_window_sum(const float *x, float *y, int64_t n, int64_t k)
{
    const int widths[3] = {32, 16, 8};
    for (int w = 0; w < 3; w++) {
        int width = widths[w];
        if (n < width)
            continue;
        for (int64_t o = 0;; o += width) {
            int64_t at = o + width <= n ? o : n - width;
            if (width == 32)
                vk_window_block(x + at, y + at, k, 32);
            else if (width == 16)
                vk_window_block(x + at, y + at, k, 16);
            else
                vk_window_block(x + at, y + at, k, 8);
            if (at + width >= n)
                return;
        }
    }
    for (int64_t o = 0; o < n; o++)
        vk_window_block(x + o, y + o, k, 1);
}

/* The table of struct nn_vec_kernels; a level with its own version of a kernel (vec_avx512.c)
 * names it before including this file. */
#ifndef VK_SIGMOID
#define VK_SIGMOID vk_sigmoid
#endif
#ifndef VK_LSTM_GATES
#define VK_LSTM_GATES vk_lstm_gates
#endif
#ifndef VK_LSTM_CELL
#define VK_LSTM_CELL vk_lstm_cell
#endif
#define NN_VEC_TABLE_ENTRIES                                                                       \
    vk_exp, vk_tanh, VK_SIGMOID, vk_erf, vk_softmax, vk_window_sum, VK_LSTM_GATES, VK_LSTM_CELL
