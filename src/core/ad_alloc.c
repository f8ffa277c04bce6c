/* ad_alloc.c - allocation wrapper with fault injection (see ad_alloc.h). */
#include "ad_alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Per thread: injection is for single-threaded tests, and the checkpoint
 * writer on libuv's thread pool must not race the loop on the counters. */
static _Thread_local uint64_t calls;   /* allocation calls since ad_alloc_fail_at() */
static _Thread_local uint64_t fail_at; /* 0: no injection */
static _Thread_local bool fail_sticky;
static _Thread_local uint64_t failed;   /* injected failures since ad_alloc_fail_at() */
static _Thread_local uint64_t failures; /* every NULL returned, ever */

/* The bump arena (ad_alloc_arena_set()); arena_buf NULL: the heap. Per
 * thread too: a pool thread's arena is its own, and other threads keep the
 * heap while one is installed. */
static _Thread_local unsigned char *arena_buf;
static _Thread_local size_t arena_len, arena_used;

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

static bool in_arena(const void *p)
{
    const unsigned char *c = p;

    return arena_buf && c >= arena_buf && c < arena_buf + arena_len;
}

/* The next size bytes of the arena rounded up to 16, or NULL when they do
 * not fit (or size is 0). */
static void *arena_take(size_t size)
{
    size_t need = (size + 15) & ~(size_t)15;

    if (size == 0 || need < size || need > arena_len - arena_used)
        return NULL;
    void *p = arena_buf + arena_used;
    arena_used += need;
    return p;
}

static void *arena_zeroed(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = arena_take(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

size_t ad_alloc_arena_set(void *buf, size_t len)
{
    size_t used = arena_used;

    arena_buf = buf;
    arena_len = buf ? len : 0;
    arena_used = 0;
    return used;
}

void *ad_malloc(size_t size)
{
    if (inject())
        return NULL;
    return counted(arena_buf ? arena_take(size) : malloc(size));
}

void *ad_calloc(size_t n, size_t size)
{
    if (inject())
        return NULL;
    return counted(arena_buf ? arena_zeroed(n, size) : calloc(n, size));
}

void *ad_realloc(void *p, size_t size)
{
    if (inject())
        return NULL;
    if (in_arena(p))
        return counted(NULL); /* the block's size is not kept: cannot move it */
    if (arena_buf && !p)
        return counted(arena_take(size));
    return counted(realloc(p, size));
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
    if (!in_arena(p))
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
