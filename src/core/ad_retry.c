/* ad_retry.c - retry classification, server-requested delays, backoff with
 * jitter and the circuit breaker (see include/ad_retry.h and docs/remote.md).
 *
 * No I/O, no clock, no globals: time and random state come in as arguments. */
#include "ad_retry.h"

#include <string.h>

#include "ad_time.h"

/* ------------------------------------------------------------------------ */
/* Server-requested delays                                                   */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Does s (at least len bytes) start with the lowercase ASCII word w? */
static bool starts_ci(const char *s, size_t len, const char *w)
{
    size_t n = strlen(w);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != w[i])
            return false;
    return true;
}

static int64_t secs_to_ms(int64_t s)
{
    if (s < 0)
        return 0;
    return s >= AD_RETRY_MAX_AFTER_MS / 1000 ? AD_RETRY_MAX_AFTER_MS : s * 1000;
}

/* Reads 1+ decimal digits at s[*i] (bounded by len), saturating far above the
 * cap; returns -1 when there is no digit. */
static int64_t read_digits(const char *s, size_t len, size_t *i)
{
    int64_t v = -1;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        v = (v < 0 ? 0 : v) * 10 + (s[*i] - '0');
        if (v > INT64_C(1000000000000))
            v = INT64_C(1000000000000);
        (*i)++;
    }
    return v;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" -> epoch seconds, or -1. */
static int64_t parse_imf_fixdate(const char *s, size_t len)
{
    static const char days[] = "mon tue wed thu fri sat sun ";
    static const char months[] = "jan feb mar apr may jun jul aug sep oct nov dec ";
    char name[5] = {0};
    const char *mp;
    size_t i;
    int64_t f[5];

    if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        s[19] != ':' || s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3))
        return -1;
    for (i = 0; i < 3; i++)
        name[i] = (char)lower((unsigned char)s[i]);
    name[3] = ' ';
    if (!strstr(days, name))
        return -1;
    for (i = 0; i < 3; i++)
        name[i] = (char)lower((unsigned char)s[8 + i]);
    mp = strstr(months, name);
    if (!mp)
        return -1;
    static const size_t at[5] = {5, 12, 17, 20, 23}, width[5] = {2, 4, 2, 2, 2};
    for (int k = 0; k < 5; k++) {
        i = at[k];
        f[k] = read_digits(s, at[k] + width[k], &i);
        if (i != at[k] + width[k])
            return -1;
    }
    /* f: day, year, hour, minute, second */
    if (f[0] < 1 || f[0] > 31 || f[2] > 23 || f[3] > 59 || f[4] > 60)
        return -1;
    return ad_days_from_civil(f[1], (unsigned)((mp - months) / 4 + 1), (unsigned)f[0]) * 86400 +
           f[2] * 3600 + f[3] * 60 + f[4];
}

static int64_t header_delay_ms(const char *h, int64_t now_epoch_s)
{
    size_t len, i = 0;
    int64_t v;

    while (*h == ' ' || *h == '\t')
        h++;
    len = strnlen(h, 256);
    while (len > 0 &&
           (h[len - 1] == ' ' || h[len - 1] == '\t' || h[len - 1] == '\r' || h[len - 1] == '\n'))
        len--;
    v = read_digits(h, len, &i);
    if (v >= 0 && i == len)
        return secs_to_ms(v);
    v = parse_imf_fixdate(h, len);
    return v < 0 ? -1 : secs_to_ms(v - now_epoch_s);
}

int64_t ad_retry_after_ms(const char *retry_after, const char *body, size_t len,
                          int64_t now_epoch_s)
{
    static const char phrase[] = "try again in";

    if (retry_after) {
        int64_t ms = header_delay_ms(retry_after, now_epoch_s);
        if (ms >= 0)
            return ms;
    }
    if (!body)
        return -1;
    if (len > AD_RETRY_MAX_BODY)
        len = AD_RETRY_MAX_BODY;
    for (size_t i = 0; i + sizeof(phrase) - 1 < len; i++) {
        size_t j = i + sizeof(phrase) - 1;
        int64_t v;
        if (!starts_ci(body + i, len - i, phrase))
            continue;
        while (j < len && body[j] == ' ')
            j++;
        v = read_digits(body, len, &j);
        while (j < len && body[j] == ' ')
            j++;
        if (v >= 0 && starts_ci(body + j, len - j, "second"))
            return secs_to_ms(v);
    }
    return -1;
}

enum ad_retry_class ad_retry_classify(long http_status, enum ad_retry_transport transport)
{
    if (transport == AD_TRANSPORT_PERMANENT)
        return AD_RETRY_FAIL;
    if (transport != AD_TRANSPORT_OK)
        return AD_RETRY_AGAIN;
    if (http_status >= 200 && http_status <= 299)
        return AD_RETRY_OK;
    if (http_status == 408 || http_status == 429 || (http_status >= 500 && http_status <= 599))
        return AD_RETRY_AGAIN;
    return AD_RETRY_FAIL;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

int64_t ad_retry_backoff_ms(unsigned attempt, int64_t base_ms, int64_t max_ms, uint64_t *rng_state)
{
    int64_t d = base_ms, half;

    if (base_ms <= 0 || max_ms <= 0)
        return 0;
    for (unsigned i = 0; i < attempt && d < max_ms; i++)
        d = d > max_ms / 2 ? max_ms : d * 2;
    if (d > max_ms)
        d = max_ms;
    half = d / 2;
    /* The modulo's bias is below 2^-20 for any d under 2^43 ms. */
    return half + (int64_t)(splitmix64(rng_state) % (uint64_t)(d - half + 1));
}

void ad_retry_policy_init(struct ad_retry_policy *p, int64_t base_ms, int64_t max_ms, uint64_t seed)
{
    p->base_ms = base_ms;
    p->max_ms = max_ms;
    p->rng = seed;
}

int64_t ad_retry_delay_ms(struct ad_retry_policy *p, unsigned attempt, const char *retry_after,
                          const char *body, size_t len, int64_t now_epoch_s)
{
    int64_t ms = ad_retry_after_ms(retry_after, body, len, now_epoch_s);
    return ms >= 0 ? ms : ad_retry_backoff_ms(attempt, p->base_ms, p->max_ms, &p->rng);
}

/* ------------------------------------------------------------------------ */
/* Circuit breaker: every state change goes through breaker_set().           */

#define BREAKER_MAX_FACTOR 16

static void breaker_set(struct ad_retry_breaker *b, int state, int64_t now_ms)
{
    b->state = state;
    b->probes_in_flight = 0;
    if (state == AD_BREAKER_OPEN)
        b->open_until_ms = now_ms > INT64_MAX - b->cooldown_ms ? INT64_MAX
                                                               : now_ms + b->cooldown_ms;
    if (state == AD_BREAKER_CLOSED) {
        b->failures = 0;
        b->cooldown_ms = b->base_cooldown_ms;
    }
}

void ad_retry_breaker_init(struct ad_retry_breaker *b, unsigned threshold, int64_t cooldown_ms)
{
    memset(b, 0, sizeof(*b));
    b->threshold = threshold ? threshold : 1;
    b->base_cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 1;
    if (b->base_cooldown_ms > INT64_MAX / BREAKER_MAX_FACTOR)
        b->base_cooldown_ms = INT64_MAX / BREAKER_MAX_FACTOR;
    breaker_set(b, AD_BREAKER_CLOSED, 0);
}

bool ad_retry_breaker_allow(struct ad_retry_breaker *b, int64_t now_ms)
{
    switch (b->state) {
    case AD_BREAKER_CLOSED:
        return true;
    case AD_BREAKER_OPEN:
        if (now_ms < b->open_until_ms)
            return false;
        breaker_set(b, AD_BREAKER_HALF_OPEN, now_ms);
        b->probes_in_flight = 1;
        return true;
    default: /* half-open */
        if (b->probes_in_flight)
            return false;
        b->probes_in_flight = 1;
        return true;
    }
}

void ad_retry_breaker_record(struct ad_retry_breaker *b, bool success, int64_t now_ms)
{
    switch (b->state) {
    case AD_BREAKER_CLOSED:
        if (success) {
            b->failures = 0;
        } else if (++b->failures >= b->threshold) {
            breaker_set(b, AD_BREAKER_OPEN, now_ms);
        }
        break;
    case AD_BREAKER_HALF_OPEN:
        if (success) {
            breaker_set(b, AD_BREAKER_CLOSED, now_ms);
        } else {
            int64_t cap = b->base_cooldown_ms * BREAKER_MAX_FACTOR;
            b->cooldown_ms = b->cooldown_ms > cap / 2 ? cap : b->cooldown_ms * 2;
            breaker_set(b, AD_BREAKER_OPEN, now_ms);
        }
        break;
    default: /* open: a straggler from before it opened */
        break;
    }
}

const char *ad_retry_breaker_state_name(int state)
{
    switch (state) {
    case AD_BREAKER_CLOSED:
        return "closed";
    case AD_BREAKER_OPEN:
        return "open";
    case AD_BREAKER_HALF_OPEN:
        return "half_open";
    default:
        return "unknown";
    }
}
