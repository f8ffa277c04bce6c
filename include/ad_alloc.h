/* ad_alloc.h - the one allocator of the core (and the io layer), with a
 * fault-injection hook for tests (curl's "torture" runs are the model).
 *
 * ad_malloc/ad_calloc/ad_realloc/ad_strdup/ad_strndup behave as their libc
 * namesakes and ad_free as free(): NULL on failure, ownership passes to the
 * caller, ad_free(NULL) is a no-op. ad_realloc leaves the old block intact on
 * failure.
 *
 * Fault injection: ad_alloc_fail_at(n, sticky) makes the n-th allocation from
 * now (1-based) fail, and with sticky every one after it as well; n = 0 turns
 * injection off. ad_alloc_count() is the number of allocation calls since the
 * last ad_alloc_fail_at() (or the start), failed or not, and
 * ad_alloc_failed() how many were failed on purpose. ad_alloc_failures()
 * counts every NULL these functions ever returned (injected or real): a
 * caller of a library that allocates through them (jansson, when the app or
 * a test installs them with json_set_alloc_funcs) compares it before and
 * after a call to tell "out of memory" from other failures. All counters and
 * the injection setting are per thread.
 *
 * Arena: ad_alloc_arena_set(buf, len) makes this thread's allocations
 * (ad_malloc, ad_calloc, ad_realloc of NULL, ad_strdup, ad_strndup) carve
 * their blocks out of the caller's buffer [buf, buf + len) instead of the heap (a bump arena: 16-byte aligned
 * blocks, NULL once it is full, never a heap block), until
 * ad_alloc_arena_set(NULL, 0) removes it. ad_free of an arena block does
 * nothing (the whole arena is dropped at once, by its owner); ad_realloc of
 * one fails (NULL, the block intact); heap blocks stay heap blocks, so one
 * allocated before the arena is installed may be freed while it is. The
 * fault injection and the counters see arena calls as any other. The arena
 * does not nest: installing one replaces the previous one, and the call
 * returns the bytes that one had handed out (its high-water mark). The
 * buffer stays the caller's; blocks from it must not be used, or freed,
 * after it is removed. */
#ifndef AD_ALLOC_H
#define AD_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *ad_malloc(size_t size);
void *ad_calloc(size_t n, size_t size);
void *ad_realloc(void *p, size_t size);
char *ad_strdup(const char *s);
char *ad_strndup(const char *s, size_t n);
void ad_free(void *p);

void ad_alloc_fail_at(uint64_t n, bool sticky);
uint64_t ad_alloc_count(void);
uint64_t ad_alloc_failed(void);
uint64_t ad_alloc_failures(void);

size_t ad_alloc_arena_set(void *buf, size_t len);

#endif
