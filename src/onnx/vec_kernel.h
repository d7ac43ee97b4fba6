/* The element-wise GELU kernel, included by vec_*.c, each compiled for one instruction-set level
 * (vec.c plain, vec_avx2.c with -mavx2 -mfma, vec_avx512.c with -mavx512f). Defines
 * NN_VEC_NAME(float *x, int64_t n): x = GELU(x) in place, exact (erf) form.
 *
 * erf comes from Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7) with a polynomial exp,
 * written without branches or calls so that the compiler vectorises the loop. */
#include <math.h>
#include <stdint.h>
#include <string.h>

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
