/* ad_alloc.c - allocation wrapper with fault injection (see ad_alloc.h). */
#include "ad_alloc.h"

#include <stdlib.h>
#include <string.h>

/* Per thread: injection is for single-threaded tests, and the checkpoint
 * writer on libuv's thread pool must not race the loop on the counters. */
static _Thread_local uint64_t calls;   /* allocation calls since ad_alloc_fail_at() */
static _Thread_local uint64_t fail_at; /* 0: no injection */
static _Thread_local bool fail_sticky;
static _Thread_local uint64_t failed;   /* injected failures since ad_alloc_fail_at() */
static _Thread_local uint64_t failures; /* every NULL returned, ever */

/* Counts a NULL result. */
static void *counted(void *p)
{
    if (!p)
        failures++;
    return p;
}

/* Counts one allocation call; true when it is to fail. */
static bool inject(void)
{
    calls++;
    if (fail_at == 0 || calls < fail_at || (calls > fail_at && !fail_sticky))
        return false;
    failed++;
    failures++;
    return true;
}

void *ad_malloc(size_t size)
{
    return inject() ? NULL : counted(malloc(size));
}

void *ad_calloc(size_t n, size_t size)
{
    return inject() ? NULL : counted(calloc(n, size));
}

void *ad_realloc(void *p, size_t size)
{
    return inject() ? NULL : counted(realloc(p, size));
}

char *ad_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = ad_malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *ad_strdup(const char *s)
{
    return ad_strndup(s, strlen(s));
}

void ad_free(void *p)
{
    free(p);
}

void ad_alloc_fail_at(uint64_t n, bool sticky)
{
    calls = 0;
    failed = 0;
    fail_at = n;
    fail_sticky = sticky;
}

uint64_t ad_alloc_count(void)
{
    return calls;
}

uint64_t ad_alloc_failed(void)
{
    return failed;
}

uint64_t ad_alloc_failures(void)
{
    return failures;
}
