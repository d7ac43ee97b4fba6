/* nn_sgemm's kernel for CPUs with AVX2 and FMA (16 registers of 8 floats). 3 x 32 micro-tiles:
 * 12 registers of sums; the row of B is read as memory operands of the FMAs. (6 x 16, the
 * classic shape, made GCC 12 vectorise along k instead, at a tenth of the speed.) One-row
 * products over a packed B: one 32-column panel, even and odd k apart (8 registers of sums), in
 * intrinsics (NN_GEMM_ROW_KERNEL). Compiled with
 * -mavx2 -mfma (gemm.cmake); without those flags it builds nothing and nn_gemm_avx2 returns NULL.
 */
#include "gemm_kernel.h"

#if defined(__AVX2__) && defined(__FMA__)
#define NN_GEMM_NAME sgemm_avx2
#define NN_GEMM_PACKED_NAME sgemm_avx2_packed
#define NN_GEMM_MR 3
#define NN_GEMM_NR 32
#define NN_GEMM_ROW_PANELS 1
#define NN_GEMM_ROW_KERNEL 1
#define NN_GEMM_TILE_KERNEL 1
#include "gemm_blocked.h"

#include <immintrin.h>

/* The mask of the lanes of the vector at column 8 q that lie below `cols`. */
static inline __m256i columns_below(int cols, int q)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8 * q),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Stores one vector of a product's sums: c = alpha sum + bias (+ beta c), the lanes past the
 * columns (`live`) untouched; a whole vector without the mask. Both kernels' epilogue. */
static inline void store_sums(float *c, __m256 sum, const struct tile_args *t, int q, int whole,
                              __m256i live)
{
    const __m256 bias = t->bias ? _mm256_maskload_ps(t->bias + 8 * q, live) : _mm256_setzero_ps();
    __m256 v = _mm256_fmadd_ps(_mm256_set1_ps(t->alpha), sum, bias);
    if (t->beta != 0.0f)
        v = _mm256_fmadd_ps(_mm256_set1_ps(t->beta),
                            whole ? _mm256_loadu_ps(c) : _mm256_maskload_ps(c, live), v);
    if (whole)
        _mm256_storeu_ps(c, v);
    else
        _mm256_maskstore_ps(c, live, v);
}

/* Loops over rows and vectors unrolled before GCC decides where the sums live: without it GCC
 * 12 keeps them on the stack and stores every one on every k step. */
#define UNROLLED _Pragma("GCC unroll 12")

/* micro_tile in intrinsics: rows x 32 sums in 4 registers per row (12 of the 16 at 3 rows); each
 * k step loads each vector of B's row once and broadcasts `rows` elements of A (16 registers in
 * all). The store adds the bias (masked to the columns) and beta C; full vectors are stored
 * whole, the last partial one under the mask. */
static NN_GEMM_INLINE void tile_kernel(const int rows, const struct tile_args *t)
{
    __m256 acc[MR][4];
    UNROLLED
    for (int i = 0; i < rows; i++) {
        UNROLLED
        for (int q = 0; q < 4; q++)
            acc[i][q] = _mm256_setzero_ps();
    }
    const float *a = t->a, *b = t->b;
    const long a_row = t->a_row, a_col = t->a_col, b_row = t->b_row;
    const int kc = t->kc, cols = t->cols;
    for (int p = 0; p < kc; p++) {
        __m256 ai[MR];
        UNROLLED
        for (int i = 0; i < rows; i++)
            ai[i] = _mm256_broadcast_ss(a + i * a_row);
        UNROLLED
        for (int q = 0; q < 4; q++) {
            const __m256 bq = _mm256_loadu_ps(b + 8 * q);
            UNROLLED
            for (int i = 0; i < rows; i++)
                acc[i][q] = _mm256_fmadd_ps(ai[i], bq, acc[i][q]);
        }
        a += a_col;
        b += b_row;
    }
    /* Every vector through the store, those past cols under an empty mask. */
    UNROLLED
    for (int q = 0; q < 4; q++) {
        const int whole = cols >= 8 * (q + 1);
        const __m256i live = columns_below(cols, q);
        UNROLLED
        for (int i = 0; i < rows; i++)
            store_sums(t->c + i * t->ldc + 8 * q, acc[i][q], t, q, whole, live);
    }
}

/* row_panels for one panel: c[j] = alpha * (sum over p of a[p] b[p][j]) + bias[j] (+ beta c[j])
 * for j < t->cols, the sums of even and odd p apart, as there. B is packed (zeros past its
 * columns), so the panel's 32 floats of every row can be loaded whole; bias and C only under
 * the mask of the columns. */
static void row_kernel(const struct tile_args *t, int k)
{
    const float *a = t->a, *b = t->b;
    const long a_col = t->a_col, b_row = t->b_row;
    __m256 even[4], odd[4];
    /* An odd k starts the even sums at row 0, so the loop below always takes rows in pairs. */
    const int first = k & 1;
    const __m256 a_first = _mm256_set1_ps(first ? a[0] : 0.0f);
    for (int q = 0; q < 4; q++) {
        even[q] = first ? _mm256_mul_ps(a_first, _mm256_loadu_ps(b + 8 * q)) : _mm256_setzero_ps();
        odd[q] = _mm256_setzero_ps();
    }
    for (int p = first; p < k; p += 2) {
        const __m256 a0 = _mm256_broadcast_ss(a + p * a_col);
        const __m256 a1 = _mm256_broadcast_ss(a + (p + 1) * a_col);
        const float *b0 = b + p * b_row, *b1 = b0 + b_row;
        for (int q = 0; q < 4; q++) {
            even[q] = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b0 + 8 * q), even[q]);
            odd[q] = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b1 + 8 * q), odd[q]);
        }
    }
    for (int q = 0; q < 4 && 8 * q < t->cols; q++)
        store_sums(t->c + 8 * q, _mm256_add_ps(even[q], odd[q]), t, q, t->cols >= 8 * (q + 1),
                   columns_below(t->cols, q));
}

nn_sgemm_fn *nn_gemm_avx2(void)
{
    return sgemm_avx2;
}

nn_sgemm_packed_fn *nn_gemm_avx2_packed(void)
{
    return sgemm_avx2_packed;
}
#else
nn_sgemm_packed_fn *nn_gemm_avx2_packed(void)
{
    return 0;
}

nn_sgemm_fn *nn_gemm_avx2(void)
{
    return 0;
}
#endif
