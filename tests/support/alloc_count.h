/* Heap-allocation counting for tests that prove a code path allocates nothing.
 *
 * A test target set up with aether_count_allocations() (cmake/AetherTest.cmake) has malloc,
 * calloc, realloc, free, aligned_alloc and posix_memalign wrapped at link time. Calls from code
 * linked statically into the test (the project's libraries) go through the wrappers; calls made
 * inside shared libraries, libc included, do not. */
#ifndef AETHER_TEST_ALLOC_COUNT_H
#define AETHER_TEST_ALLOC_COUNT_H

extern int alloc_counting; /* calls are counted while this is non-zero */
extern long alloc_count;   /* calls counted so far (free of NULL is not counted) */

#endif
