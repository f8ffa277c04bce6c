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
 * the injection setting are per thread. */
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

#endif
