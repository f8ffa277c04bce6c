/* ad_apiguard.h - the admission rules of the REST API (docs/api.md), as pure
 * pieces the server (src/io/ad_apiserve.c) calls on the loop: the key check
 * and the count of requests each client has in flight. No I/O, no clock.
 *
 * Ownership: arguments are borrowed for the call; a client table owns its
 * entries (copies of the addresses) until ad_clients_free(). */
#ifndef AD_APIGUARD_H
#define AD_APIGUARD_H

#include <stdbool.h>
#include <stddef.h>

/* True when the given key equals want. The time taken depends on the lengths
 * only, never on where the bytes first differ. */
bool ad_key_equal(const char *given, size_t glen, const char *want);

/* True when given equals one of the n keys (each compared in full, so the
 * time does not tell which one matched). n == 0: no key is accepted. */
bool ad_key_match(const char *given, size_t glen, const char *const *keys, size_t n);

/* Requests in flight per client address. */
struct ad_clients;

/* Returns NULL on allocation failure. */
struct ad_clients *ad_clients_new(void);
void ad_clients_free(struct ad_clients *t);

/* Counts one more request for addr when it has fewer than limit in flight:
 * returns 0; AD_EAGAIN when it already has limit (nothing counted), AD_ENOMEM.
 * limit 0 means no bound. */
int ad_clients_acquire(struct ad_clients *t, const char *addr, unsigned limit);

/* Ends one request of addr (a no-op for an address with none). */
void ad_clients_release(struct ad_clients *t, const char *addr);

/* Requests addr has in flight; clients with any in flight. */
unsigned ad_clients_count(const struct ad_clients *t, const char *addr);
size_t ad_clients_size(const struct ad_clients *t);

#endif
