/* nn_sgemm's kernel for CPUs with AVX-512F and FMA (32 registers of 16 floats). 12 x 32
 * micro-tiles: 24 registers of sums, 2 for a row of B, 1 for A; panels of 16 or 8 columns (the
 * last ones of a narrow product) 12 x 16 or 12 x 8 tiles. One-row products over a packed
 * B sum 4 panels at once (16 registers: 128 columns, even and odd k apart). Compiled with -mavx512f
 * -mfma -mprefer-vector-width=512 (gemm.cmake); without those flags it builds nothing and
 * nn_gemm_avx512 returns NULL. */
#include "gemm_kernel.h"

#if defined(__AVX512F__) && defined(__FMA__)
#define NN_GEMM_NAME sgemm_avx512
#define NN_GEMM_PACKED_NAME sgemm_avx512_packed
#define NN_GEMM_MR 12
#define NN_GEMM_NR 32
#define NN_GEMM_ROW_PANELS 4
#define NN_GEMM_NARROW 1
#include "gemm_blocked.h"

#include <immintrin.h>

/* A narrow panel's tile (NN_GEMM_NARROW): rows x 16 sums in one zmm per row, or rows x 8 in one
 * ymm (a zmm would leave half of each FMA's lanes idle). `rows`, `wide` and `masked` are
 * constants in every caller; each k step is one load of B and `rows` broadcasts of A. A
 * row-major B that is not padded (t->b_exact) is read in place under the mask of the panel's
 * columns rather than copied; a padded one with plain loads (a masked zmm load in the 8-wide
 * tile cost 5% of a TinyTimeMixer's time). The store adds bias and beta C under the mask of the
 * columns (8-wide sums are widened to a zmm for it: AVX-512F has no masked ymm store). */
static NN_GEMM_INLINE void narrow_rows(const int rows, const int wide, const int masked,
                                       const struct tile_args *t)
{
    __m512 acc[MR];
    __m256 acc8[MR];
    for (int i = 0; i < rows; i++) {
        acc[i] = _mm512_setzero_ps();
        acc8[i] = _mm256_setzero_ps();
    }
    const float *a = t->a, *b = t->b;
    const __mmask16 cols = (__mmask16)((1u << t->cols) - 1);
    for (int p = 0; p < t->kc; p++) {
        if (wide) {
            const __m512 bv = masked ? _mm512_maskz_loadu_ps(cols, b) : _mm512_loadu_ps(b);
            for (int i = 0; i < rows; i++)
                acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i * t->a_row]), bv, acc[i]);
        } else {
            const __m256 bv = masked ? _mm512_castps512_ps256(_mm512_maskz_loadu_ps(cols, b))
                                     : _mm256_loadu_ps(b);
            for (int i = 0; i < rows; i++)
                acc8[i] = _mm256_fmadd_ps(_mm256_set1_ps(a[i * t->a_row]), bv, acc8[i]);
        }
        a += t->a_col;
        b += t->b_row;
    }
    const __m512 alpha = _mm512_set1_ps(t->alpha), beta = _mm512_set1_ps(t->beta);
    const __m512 bias = t->bias ? _mm512_maskz_loadu_ps(cols, t->bias) : _mm512_setzero_ps();
    for (int i = 0; i < rows; i++) {
        float *ci = t->c + i * t->ldc;
        __m512 v = wide ? acc[i] : _mm512_castps256_ps512(acc8[i]);
        v = _mm512_fmadd_ps(alpha, v, bias);
        if (t->beta != 0.0f)
            v = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(cols, ci), v);
        _mm512_mask_storeu_ps(ci, cols, v);
    }
}

#define NARROW_TILE(R, wide, name)                                                                 \
    static void name(const struct tile_args *t)                                                    \
    {                                                                                              \
        if (t->b_exact)                                                                            \
            narrow_rows(R, wide, 1, t);                                                            \
        else                                                                                       \
            narrow_rows(R, wide, 0, t);                                                            \
    }
#define NARROW(R) NARROW_TILE(R, 1, narrow16_##R) NARROW_TILE(R, 0, narrow8_##R)
NARROW(1)
NARROW(2)
NARROW(3)
NARROW(4)
NARROW(5)
NARROW(6)
NARROW(7)
NARROW(8)
NARROW(9)
NARROW(10)
NARROW(11)
NARROW(12)

static tile_fn *narrow_tile(int width, int rows)
{
    static tile_fn *const w16[13] = {0,           narrow16_1,  narrow16_2, narrow16_3, narrow16_4,
                                     narrow16_5,  narrow16_6,  narrow16_7, narrow16_8, narrow16_9,
                                     narrow16_10, narrow16_11, narrow16_12};
    static tile_fn *const w8[13] = {0,          narrow8_1,  narrow8_2, narrow8_3, narrow8_4,
                                    narrow8_5,  narrow8_6,  narrow8_7, narrow8_8, narrow8_9,
                                    narrow8_10, narrow8_11, narrow8_12};
    return width == 16 ? w16[rows] : w8[rows];
}

nn_sgemm_fn *nn_gemm_avx512(void)
{
    return sgemm_avx512;
}

nn_sgemm_packed_fn *nn_gemm_avx512_packed(void)
{
    return sgemm_avx512_packed;
}
#else
nn_sgemm_packed_fn *nn_gemm_avx512_packed(void)
{
    return 0;
}

nn_sgemm_fn *nn_gemm_avx512(void)
{
    return 0;
}
#endif
