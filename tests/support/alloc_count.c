/* The link-time wrappers behind alloc_count.h. */
#include <stddef.h>

#include "alloc_count.h"

int alloc_counting;
long alloc_count;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
void *__wrap_aligned_alloc(size_t align, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);

void *__wrap_malloc(size_t n)
{
    alloc_count += alloc_counting != 0;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    alloc_count += alloc_counting != 0;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    alloc_count += alloc_counting != 0;
    return __real_realloc(p, n);
}

void __wrap_free(void *p)
{
    alloc_count += alloc_counting != 0 && p != NULL;
    __real_free(p);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    alloc_count += alloc_counting != 0;
    return __real_aligned_alloc(align, n);
}

int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
    alloc_count += alloc_counting != 0;
    return __real_posix_memalign(p, align, n);
}
