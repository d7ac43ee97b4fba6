/* Blocked single-precision matrix multiply, written in plain C for the compiler to vectorise.
 *
 * Not an ordinary header: the body of one kernel, included once by each gemm_<level>.c, which
 * is compiled with that instruction-set level's flags (gemm.cmake) and first defines
 *   NN_GEMM_NAME  the function's name (sgemm_avx2, sgemm_avx512)
 *   NN_GEMM_PACKED_NAME  the name of its variant over a B packed once (nn_sgemm_packed_fn)
 *   NN_GEMM_MR    rows of C per micro-tile
 *   NN_GEMM_NR    columns of C per micro-tile (a multiple of the vector width)
 *   NN_GEMM_ROW_PANELS  panels of NR columns a one-row product over a packed B sums at once
 *                 (twice that many NR-wide sums must fit the registers beside a row of B)
 *   NN_GEMM_NARROW  optional, 1: panels of 16 or 8 columns where fewer than 25 are left (a
 *                 product with N = 8, 11 or 16 would otherwise compute 32 columns), through
 *                 narrow_tile(width, rows), which the including file defines after this header
 *                 (GCC 12 does not keep a narrow tile's sums in registers when it vectorises
 *                 the plain C of micro_tile at those widths); it reads a row-major B in place
 *                 (b_exact: only the panel's columns), so a small product's partial panel is
 *                 not copied
 *   NN_GEMM_TILE_KERNEL  optional, 1: the MR x NR tiles run tile_kernel(rows, t), which the
 *                 including file defines after this header, instead of micro_tile
 *   NN_GEMM_ROW_KERNEL  optional, 1: one-row products run row_kernel(t, k), defined the same
 *                 way, instead of row_panels
 *                 (GCC 12 compiles micro_tile and row_panels at AVX2's widths to sums that
 *                 live on the stack, a memset per call and a scalar store loop)
 * MR x NR accumulators must fit the level's vector registers with room for one row of B and a
 * broadcast element of A (AVX-512: 12 x 32 floats = 24 of 32 zmm registers).
 *
 * Shape of the computation: C is cut into panels of NR columns and those into tiles of MR rows.
 * For each tile the micro-kernel keeps the MR x NR sums in registers while it walks k, loading
 * one NR-wide row of B and broadcasting MR elements of A per step (an outer product), then
 * applies alpha and beta once. B is read in place when it is row-major and the panel is full;
 * a transposed B or a partial panel is first copied into a zero-padded stack buffer, so the
 * micro-kernel always sees NR contiguous floats per k. A is never copied: the kernel reads it
 * through (row, column) strides, which covers both layouts. k is cut into blocks of KC so the
 * panel of B stays in L1 (256 x 32 floats = 32 KiB). The engine's matrices are small (at most a
 * few hundred rows and columns), so there is no outer blocking for L2/L3.
 *
 * Loops over "rows" and "NR" have bounds known at compile time in every specialisation below;
 * that is what lets the compiler unroll them and keep the accumulators in registers.
 * -ffp-contract=fast (set in gemm.cmake) turns the multiply-adds into FMA instructions. */
#include "gemm_kernel.h"

#if !defined(NN_GEMM_NAME) || !defined(NN_GEMM_PACKED_NAME)
#error "define NN_GEMM_NAME, NN_GEMM_PACKED_NAME, NN_GEMM_MR and NN_GEMM_NR before including gemm_blocked.h"
#endif

#ifndef NN_GEMM_NARROW
#define NN_GEMM_NARROW 0
#endif
#ifndef NN_GEMM_ROW_KERNEL
#define NN_GEMM_ROW_KERNEL 0
#endif
#ifndef NN_GEMM_TILE_KERNEL
#define NN_GEMM_TILE_KERNEL 0
#endif

enum { MR = NN_GEMM_MR, NR = NN_GEMM_NR, KC = 256, ROW_PANELS = NN_GEMM_ROW_PANELS };

_Static_assert(MR >= 1 && MR <= 12, "1..12 rows per micro-tile");
_Static_assert(ROW_PANELS >= 1 && ROW_PANELS <= 4, "1..4 panels per one-row product");
_Static_assert((int)sizeof(float) * KC * NR <= NN_GEMM_STACK_BYTES, "packed panel fits");

/* Where the micro-kernel reads: element (i, p) of op(A) is a[i * a_row + p * a_col]; row p of the
 * B panel starts at b + p * b_row and holds NR floats. */
struct tile_args {
    int kc;
    const float *a;
    long a_row, a_col;
    const float *b;
    long b_row;
    float alpha, beta;
    float *c;
    long ldc;
    int cols;          /* columns of C to write, 1..NR */
    const float *bias; /* NULL, or the panel's columns of a bias added to every row */
    int b_exact;       /* B's rows may end before the panel's width (narrow tiles only) */
};

/* The accumulators stay in registers only where the row count is a compile-time constant, so
 * each tile_R below must get its own inlined copy of micro_tile. GCC's and clang's heuristics
 * decline that for a function with a dozen callers; the attribute asks for it, and other
 * compilers still get correct (slower) code. */
#if defined(__GNUC__)
#define NN_GEMM_INLINE __attribute__((always_inline)) inline
#else
#define NN_GEMM_INLINE inline
#endif

/* C[rows x cols] = alpha * A[rows x kc] * B[kc x NR] + beta * C. `rows` is a constant in every
 * caller (the tile_R functions below), so this is specialised once per row count. */
static NN_GEMM_INLINE void micro_tile(const int rows, const struct tile_args *t)
{
    float acc[MR][NR];
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < NR; j++)
            acc[i][j] = 0.0f;
    const float *a = t->a;
    const float *b = t->b;
    for (int p = 0; p < t->kc; p++) {
        for (int i = 0; i < rows; i++) {
            const float aip = a[i * t->a_row];
            for (int j = 0; j < NR; j++)
                acc[i][j] += aip * b[j];
        }
        a += t->a_col;
        b += t->b_row;
    }

    /* The test on j keeps every index into acc a constant after unrolling; on AVX-512 the
     * partial panel becomes masked stores (at AVX2's widths it did not: NN_GEMM_TILE_KERNEL). */
    const float alpha = t->alpha, beta = t->beta;
    const int cols = t->cols;
    if (t->bias)
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < NR; j++)
                acc[i][j] = alpha * acc[i][j] + (j < cols ? t->bias[j] : 0.0f);
    const float scale = t->bias ? 1.0f : alpha;
    for (int i = 0; i < rows; i++) {
        float *ci = t->c + i * t->ldc;
        if (beta == 0.0f) {
            for (int j = 0; j < NR; j++)
                if (j < cols)
                    ci[j] = scale * acc[i][j];
        } else {
            for (int j = 0; j < NR; j++)
                if (j < cols)
                    ci[j] = scale * acc[i][j] + beta * ci[j];
        }
    }
}

#if NN_GEMM_TILE_KERNEL
/* micro_tile's contract, `rows` a constant in every caller; defined by the includer. */
static NN_GEMM_INLINE void tile_kernel(const int rows, const struct tile_args *t);
#define NN_GEMM_TILE tile_kernel
#else
#define NN_GEMM_TILE micro_tile
#endif

typedef void tile_fn(const struct tile_args *t);
/* tile_R handles R rows. Row counts above MR are never asked for (the clamp only keeps them
 * well-defined; identical copies are folded by the compiler). */
#define TILE(R)                                                                                    \
    static void tile_##R(const struct tile_args *t)                                                \
    {                                                                                              \
        NN_GEMM_TILE(R <= MR ? R : MR, t);                                                         \
    }
TILE(1)
TILE(2)
TILE(3)
TILE(4)
TILE(5)
TILE(6)
TILE(7)
TILE(8)
TILE(9)
TILE(10)
TILE(11)
TILE(12)
static tile_fn *const tiles[13] = {0,      tile_1, tile_2, tile_3,  tile_4,  tile_5, tile_6,
                                   tile_7, tile_8, tile_9, tile_10, tile_11, tile_12};

#if NN_GEMM_NARROW
_Static_assert(NR == 32, "narrow panels of 16 and 8 columns within panels of 32");
/* The tile of `rows` rows (1..MR) of a panel of `width` (16 or 8) columns. */
static tile_fn *narrow_tile(int width, int rows);
#endif

/* The width of the next panel when `left` columns remain: NR, or with NN_GEMM_NARROW 16 for
 * 9..24 columns (17..24 then end with a panel of 8) and 8 for up to 8. */
static int panel_width(int left)
{
#if NN_GEMM_NARROW
    if (left <= 24)
        return left <= 8 ? 8 : 16;
#else
    (void)left;
#endif
    return NR;
}

/* The tile of `rows` rows of a panel `width` columns wide. */
static tile_fn *tile_for(int width, int rows)
{
#if NN_GEMM_NARROW
    if (width < NR)
        return narrow_tile(width, rows);
#else
    (void)width;
#endif
    return tiles[rows];
}

/* Copies columns j0..j0+cols-1 of op(B) rows p0..p0+kc-1 into dst[kc][NR], zero-padding the
 * columns past cols so the micro-kernel can always read NR of them. One conditional loop per
 * row rather than a copy plus a fill: the compiler turned those into memcpy/memset (rep movs,
 * rep stos), whose start-up cost per 128-byte row doubled the time of a 64x60x60 product. */
static void pack_b(float *dst, int trans_b, const float *b, long ldb, int p0, int kc, int j0,
                   int cols)
{
    for (int p = 0; p < kc; p++) {
        float *row = dst + (long)p * NR;
        if (trans_b) {
            const float *src = b + (long)j0 * ldb + p0 + p;
            for (int j = 0; j < NR; j++)
                row[j] = j < cols ? src[(long)j * ldb] : 0.0f;
        } else {
            const float *src = b + (long)(p0 + p) * ldb + j0;
            for (int j = 0; j < NR; j++)
                row[j] = j < cols ? src[j] : 0.0f;
        }
    }
}

/* b_padded: B is row-major with ldb >= n rounded up to NR and zeros past column n (packed once
 * by nn_gemm_pack_b), so every panel, the last partial one included, is read in place. */
static void gemm_body(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                      int lda, const float *b, int ldb, float beta, float *c, int ldc, int b_padded,
                      const float *bias)
{
    float packed[KC * NR];
    const long a_row = trans_a ? 1 : lda, a_col = trans_a ? lda : 1;

    for (int p0 = 0; p0 < k; p0 += KC) {
        struct tile_args t;
        t.kc = k - p0 < KC ? k - p0 : KC;
        t.a_col = a_col;
        t.a_row = a_row;
        t.alpha = alpha;
        t.beta = p0 == 0 ? beta : 1.0f; /* later k blocks add to the first one's result */
        t.ldc = ldc;
        for (int j0 = 0; j0 < n; j0 += t.cols) {
            const int width = panel_width(n - j0);
            t.cols = n - j0 < width ? n - j0 : width;
            t.bias = bias && p0 == 0 ? bias + j0 : 0; /* added once, with the first k block */
            const int in_place = b_padded || (!trans_b && (t.cols == NR || width < NR));
            t.b_exact = in_place && !b_padded && t.cols < width;
            if (in_place) {
                t.b = b + (long)p0 * ldb + j0;
                t.b_row = ldb;
            } else {
                pack_b(packed, trans_b, b, ldb, p0, t.kc, j0, t.cols);
                t.b = packed;
                t.b_row = NR;
            }
            for (int i0 = 0; i0 < m; i0 += MR) {
                const int rows = m - i0 < MR ? m - i0 : MR;
                t.a = a + i0 * a_row + p0 * a_col;
                t.c = c + (long)i0 * ldc + j0;
                tile_for(width, rows)(&t);
            }
        }
    }
}

static void NN_GEMM_NAME(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                         int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    gemm_body(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 0, 0);
}

/* One row of C over a packed B (a matrix-vector product, e.g. a recurrent step at batch 1).
 * The MR x NR tile would run it as NR / vector-width chains of k dependent multiply-adds; here
 * `panels` panels of NR columns (a constant in every caller) are summed at once, even and odd
 * k in two separate sums, so 2 * panels * NR / width chains overlap. */
static NN_GEMM_INLINE void row_panels(const int panels, const struct tile_args *t, int k)
{
    float even[ROW_PANELS][NR], odd[ROW_PANELS][NR];
    const float *a = t->a, *b = t->b;
    const long a_col = t->a_col, b_row = t->b_row;
    /* An odd k starts the even sums at row 0, so the loop below always takes rows in pairs. */
    const int first = k & 1;
    const float a_first = first ? a[0] : 0.0f;
    for (int q = 0; q < panels; q++)
        for (int j = 0; j < NR; j++) {
            even[q][j] = first ? a_first * b[q * NR + j] : 0.0f;
            odd[q][j] = 0.0f;
        }
    for (int p = first; p < k; p += 2) {
        const float a0 = a[p * a_col], a1 = a[(p + 1) * a_col];
        const float *b0 = b + p * b_row, *b1 = b0 + b_row;
        for (int q = 0; q < panels; q++)
            for (int j = 0; j < NR; j++) {
                even[q][j] += a0 * b0[q * NR + j];
                odd[q][j] += a1 * b1[q * NR + j];
            }
    }
    /* As in micro_tile: constant indices into the sums, masked stores past cols. */
    const float alpha = t->alpha, beta = t->beta;
    const int cols = t->cols;
    float *c = t->c;
    const float *bias = t->bias;
    for (int q = 0; q < panels; q++)
        for (int j = 0; j < NR; j++)
            if (q * NR + j < cols) {
                float v = alpha * (even[q][j] + odd[q][j]) + (bias ? bias[q * NR + j] : 0.0f);
                c[q * NR + j] = beta == 0.0f ? v : v + beta * c[q * NR + j];
            }
}

#if NN_GEMM_ROW_KERNEL
/* ROW_PANELS panels of a one-row product (t->cols of them written), defined by the includer. */
static void row_kernel(const struct tile_args *t, int k);
#else
typedef void row_fn(const struct tile_args *t, int k);
#define ROW(P)                                                                                     \
    static void row_##P(const struct tile_args *t, int k)                                          \
    {                                                                                              \
        row_panels(P <= ROW_PANELS ? P : ROW_PANELS, t, k);                                        \
    }
ROW(1)
ROW(2)
ROW(3)
ROW(4)
static row_fn *const rows_of_panels[5] = {0, row_1, row_2, row_3, row_4};
#endif

/* C[1 x n] = alpha * a * B + beta * C (+ bias) over the packed B (row stride ldbp, zeros past
 * n). */
static void gemm_one_row(int n, int k, float alpha, const float *a, long a_col, const float *bp,
                         int ldbp, float beta, float *c, const float *bias)
{
    struct tile_args t = {0};
    t.a = a;
    t.a_col = a_col;
    t.b_row = ldbp;
    t.alpha = alpha;
    t.beta = beta;
    for (int j0 = 0; j0 < n; j0 += ROW_PANELS * NR) {
        const int cols = n - j0 < ROW_PANELS * NR ? n - j0 : ROW_PANELS * NR;
        t.b = bp + j0;
        t.c = c + j0;
        t.cols = cols;
        t.bias = bias ? bias + j0 : 0;
#if NN_GEMM_ROW_KERNEL
        row_kernel(&t, k);
#else
        rows_of_panels[(cols + NR - 1) / NR](&t, k);
#endif
    }
}

static void NN_GEMM_PACKED_NAME(int trans_a, int m, int n, int k, float alpha, const float *a,
                                int lda, const float *bp, int ldbp, float beta, float *c, int ldc,
                                const float *bias)
{
    if (m == 1)
        gemm_one_row(n, k, alpha, a, trans_a ? lda : 1, bp, ldbp, beta, c, bias);
    else
        gemm_body(trans_a, 0, m, n, k, alpha, a, lda, bp, ldbp, beta, c, ldc, 1, bias);
}
