/* test_retry.c - the retry rules shared by the remote detector and the
 * webhook: Retry-After and "Try again in N seconds", classification, backoff
 * with jitter, the policy that picks between them, and the circuit breaker. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ad_retry.h"
#include "ad_test.h"

/* ---- Retry-After, classification, backoff ---------------------------------- */

static void test_retry_after(void)
{
    const int64_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
    /* A gateway's 429 envelope (tests/data/azure/err_gateway_429.json). */
    const char *gw = "{\"error\":{\"code\":\"429\",\"message\":\"Rate limit is exceeded. "
                     "Try again in 7 seconds.\"}}";
    size_t len = strlen(gw);

    AD_EXPECT_INT(ad_retry_after_ms("7", NULL, 0, now), ==, 7000);
    AD_EXPECT_INT(ad_retry_after_ms(" 120 \r\n", NULL, 0, now), ==, 120000);
    AD_EXPECT_INT(ad_retry_after_ms("0", NULL, 0, now), ==, 0);
    AD_EXPECT_INT(ad_retry_after_ms("3600", NULL, 0, now), ==, 3600000);
    AD_EXPECT_INT(ad_retry_after_ms("3601", NULL, 0, now), ==, 3600000);
    AD_EXPECT_INT(ad_retry_after_ms("99999999999999999999999", NULL, 0, now), ==, 3600000);
    /* The header wins over the body. */
    AD_EXPECT_INT(ad_retry_after_ms("2", gw, len, now), ==, 2000);

    AD_EXPECT_INT(ad_retry_after_ms("Sun, 06 Nov 1994 08:50:07 GMT", NULL, 0, now), ==, 30000);
    AD_EXPECT_INT(ad_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", NULL, 0, now), ==, 0);
    AD_EXPECT_INT(ad_retry_after_ms("Sat, 05 Nov 1994 08:49:37 GMT", NULL, 0, now), ==, 0);
    AD_EXPECT_INT(ad_retry_after_ms("Mon, 07 Nov 1994 08:49:37 GMT", NULL, 0, now), ==, 3600000);
    AD_EXPECT_INT(ad_retry_after_ms("Fri, 20 Nov 2026 10:00:05 GMT", NULL, 0, 1795168800), ==,
                  5000);

    /* No header, or an unreadable one: the body's text. */
    AD_EXPECT_INT(ad_retry_after_ms(NULL, gw, len, now), ==, 7000);
    AD_EXPECT_INT(ad_retry_after_ms("soon", gw, len, now), ==, 7000);
    AD_EXPECT_INT(ad_retry_after_ms("Sun, 32 Nov 1994 08:49:37 GMT", gw, len, now), ==, 7000);
    AD_EXPECT_INT(ad_retry_after_ms("Sun, 06 Nov 1994 08:49:37 UTC", gw, len, now), ==, 7000);
    AD_EXPECT_INT(ad_retry_after_ms("-5", gw, len, now), ==, 7000);
    AD_EXPECT_INT(ad_retry_after_ms("", gw, len, now), ==, 7000);
    const char *one = "rate limited; TRY AGAIN IN 1 second.";
    AD_EXPECT_INT(ad_retry_after_ms(NULL, one, strlen(one), now), ==, 1000);
    const char *two = "Try again in later. Try again in 12 seconds";
    AD_EXPECT_INT(ad_retry_after_ms(NULL, two, strlen(two), now), ==, 12000);
    const char *big = "Try again in 86400 seconds";
    AD_EXPECT_INT(ad_retry_after_ms(NULL, big, strlen(big), now), ==, 3600000);

    /* Nothing usable. */
    static const char *const none[] = {"", "Try again in seconds", "Try again in 5",
                                       "Try again in 5 minutes", "Try again in"};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        AD_EXPECT_INT(ad_retry_after_ms("nope", none[i], strlen(none[i]), now), ==, -1);
    AD_EXPECT_INT(ad_retry_after_ms(NULL, NULL, 0, now), ==, -1);
    /* The length bounds the search: no read past it. */
    AD_EXPECT_INT(ad_retry_after_ms(NULL, big, 14, now), ==, -1);
}

static void test_classify(void)
{
    static const struct {
        long status;
        enum ad_retry_transport transport;
        enum ad_retry_class want;
    } t[] = {
        {200, false, AD_RETRY_OK},
        {201, false, AD_RETRY_OK},
        {299, false, AD_RETRY_OK},
        {429, false, AD_RETRY_AGAIN},
        {408, false, AD_RETRY_AGAIN},
        {500, false, AD_RETRY_AGAIN},
        {502, false, AD_RETRY_AGAIN},
        {503, false, AD_RETRY_AGAIN},
        {599, false, AD_RETRY_AGAIN},
        {400, false, AD_RETRY_FAIL},
        {401, false, AD_RETRY_FAIL},
        {403, false, AD_RETRY_FAIL},
        {404, false, AD_RETRY_FAIL},
        {413, false, AD_RETRY_FAIL},
        {301, false, AD_RETRY_FAIL},
        {100, false, AD_RETRY_FAIL},
        {0, false, AD_RETRY_FAIL},
        {600, false, AD_RETRY_FAIL},
        {0, true, AD_RETRY_AGAIN},
        {200, true, AD_RETRY_AGAIN},
        {400, true, AD_RETRY_AGAIN},
        /* a permanent transport failure is never retried, whatever the status */
        {0, AD_TRANSPORT_PERMANENT, AD_RETRY_FAIL},
        {503, AD_TRANSPORT_PERMANENT, AD_RETRY_FAIL},
        {200, AD_TRANSPORT_PERMANENT, AD_RETRY_FAIL},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (ad_retry_classify(t[i].status, t[i].transport) != t[i].want)
            AD_FAIL_("classify(%ld, %d) != %d", t[i].status, t[i].transport, (int)t[i].want);
}

static void test_backoff(void)
{
    const int64_t base = 100, max = 30000;
    uint64_t rng = 42;
    for (int round = 0; round < 200; round++) {
        for (unsigned a = 0; a < 70; a++) {
            int64_t d = a < 20 ? base << a : max;
            if (d > max)
                d = max;
            int64_t ms = ad_retry_backoff_ms(a, base, max, &rng);
            if (ms < d / 2 || ms > d)
                AD_FAIL_("attempt %u: %lld not in [%lld, %lld]", a, (long long)ms,
                         (long long)(d / 2), (long long)d);
        }
    }
    /* Deterministic for a seed, and the jitter spans the half-range. */
    uint64_t s1 = 7, s2 = 7;
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t x = ad_retry_backoff_ms(3, base, max, &s1);
        AD_EXPECT_INT(x, ==, ad_retry_backoff_ms(3, base, max, &s2));
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    AD_EXPECT_INT(lo, <, 440);
    AD_EXPECT_INT(hi, >, 760);
    AD_EXPECT_INT(ad_retry_backoff_ms(UINT32_MAX, base, max, &s1), <=, max);
    AD_EXPECT_INT(ad_retry_backoff_ms(UINT32_MAX, 1, INT64_MAX, &s1), >=, INT64_MAX / 2);
    AD_EXPECT_INT(ad_retry_backoff_ms(0, 0, max, &s1), ==, 0);
    AD_EXPECT_INT(ad_retry_backoff_ms(0, -5, max, &s1), ==, 0);
    int64_t capped = ad_retry_backoff_ms(0, 1000, 10, &s1); /* max below base */
    AD_EXPECT(capped >= 5 && capped <= 10);
    AD_EXPECT_INT(ad_retry_backoff_ms(0, 1, 1, &s1), >=, 0);
}

/* The server's delay wins; without one, the policy's backoff (same sequence as
 * ad_retry_backoff_ms() from the same seed). */
static void test_policy(void)
{
    struct ad_retry_policy p;
    uint64_t twin = 99;
    const char *body = "busy. Try again in 3 seconds";

    ad_retry_policy_init(&p, AD_RETRY_BASE_MS, AD_RETRY_CAP_MS, 99);
    AD_EXPECT_INT(ad_retry_delay_ms(&p, 0, "5", NULL, 0, 0), ==, 5000);
    AD_EXPECT_INT(ad_retry_delay_ms(&p, 4, NULL, body, strlen(body), 0), ==, 3000);
    AD_EXPECT_UINT(p.rng, ==, 99); /* no random number drawn */
    for (unsigned a = 0; a < 8; a++) {
        int64_t want = ad_retry_backoff_ms(a, AD_RETRY_BASE_MS, AD_RETRY_CAP_MS, &twin);
        AD_EXPECT_INT(ad_retry_delay_ms(&p, a, "soon", "no hint", 7, 0), ==, want);
        AD_EXPECT_INT(want, <=, AD_RETRY_CAP_MS);
    }
    AD_EXPECT_UINT(p.rng, ==, twin);
    /* Another seed, another sequence. */
    struct ad_retry_policy q;
    ad_retry_policy_init(&q, 1000, 1000000, 100);
    ad_retry_policy_init(&p, 1000, 1000000, 99);
    int same = 0;
    for (int i = 0; i < 20; i++)
        same += ad_retry_delay_ms(&p, 9, NULL, NULL, 0, 0) ==
                ad_retry_delay_ms(&q, 9, NULL, NULL, 0, 0);
    AD_EXPECT_INT(same, <, 20);
}

/* ---- circuit breaker -------------------------------------------------------- */

static void test_breaker(void)
{
    struct ad_retry_breaker b;
    ad_retry_breaker_init(&b, 3, 1000);
    AD_EXPECT_STR(ad_retry_breaker_state_name(b.state), "closed");

    /* Failures must be consecutive. */
    AD_EXPECT(ad_retry_breaker_allow(&b, 0));
    ad_retry_breaker_record(&b, false, 0);
    ad_retry_breaker_record(&b, false, 0);
    ad_retry_breaker_record(&b, true, 0);
    ad_retry_breaker_record(&b, false, 0);
    ad_retry_breaker_record(&b, false, 0);
    AD_EXPECT_INT(b.state, ==, AD_BREAKER_CLOSED);
    ad_retry_breaker_record(&b, false, 100); /* the 3rd in a row */
    AD_EXPECT_INT(b.state, ==, AD_BREAKER_OPEN);
    AD_EXPECT_INT(b.open_until_ms, ==, 1100);

    /* No traffic while open; stragglers are ignored. */
    AD_EXPECT(!ad_retry_breaker_allow(&b, 100));
    AD_EXPECT(!ad_retry_breaker_allow(&b, 1099));
    ad_retry_breaker_record(&b, true, 500);
    AD_EXPECT_INT(b.state, ==, AD_BREAKER_OPEN);

    /* Half-open: exactly one probe. */
    AD_EXPECT(ad_retry_breaker_allow(&b, 1100));
    AD_EXPECT_STR(ad_retry_breaker_state_name(b.state), "half_open");
    AD_EXPECT(!ad_retry_breaker_allow(&b, 1100));
    AD_EXPECT(!ad_retry_breaker_allow(&b, 5000));

    /* A failed probe reopens with the cooldown doubled, up to 16x. */
    ad_retry_breaker_record(&b, false, 1200);
    AD_EXPECT_STR(ad_retry_breaker_state_name(b.state), "open");
    AD_EXPECT_INT(b.cooldown_ms, ==, 2000);
    AD_EXPECT_INT(b.open_until_ms, ==, 3200);
    AD_EXPECT(!ad_retry_breaker_allow(&b, 3199));
    int64_t t = 3200;
    static const int64_t want[] = {4000, 8000, 16000, 16000, 16000};
    for (size_t i = 0; i < 5; i++) {
        AD_EXPECT(ad_retry_breaker_allow(&b, t));
        ad_retry_breaker_record(&b, false, t);
        AD_EXPECT_INT(b.cooldown_ms, ==, want[i]);
        t = b.open_until_ms;
    }

    /* A successful probe closes it and resets the cooldown. */
    AD_EXPECT(ad_retry_breaker_allow(&b, t));
    ad_retry_breaker_record(&b, true, t);
    AD_EXPECT_STR(ad_retry_breaker_state_name(b.state), "closed");
    AD_EXPECT_INT(b.cooldown_ms, ==, 1000);
    AD_EXPECT_UINT(b.failures, ==, 0);
    AD_EXPECT(ad_retry_breaker_allow(&b, t));
    AD_EXPECT(ad_retry_breaker_allow(&b, t));
    for (int i = 0; i < 3; i++)
        ad_retry_breaker_record(&b, false, t);
    AD_EXPECT_INT(b.open_until_ms, ==, t + 1000);

    /* Degenerate settings are clamped. */
    ad_retry_breaker_init(&b, 0, 0);
    AD_EXPECT_UINT(b.threshold, ==, 1);
    ad_retry_breaker_record(&b, false, INT64_MAX - 1);
    AD_EXPECT_INT(b.state, ==, AD_BREAKER_OPEN);
    AD_EXPECT_INT(b.open_until_ms, ==, INT64_MAX);
    AD_EXPECT_STR(ad_retry_breaker_state_name(42), "unknown");
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_retry_after);
    AD_TEST_RUN(argc, argv, test_classify);
    AD_TEST_RUN(argc, argv, test_backoff);
    AD_TEST_RUN(argc, argv, test_policy);
    AD_TEST_RUN(argc, argv, test_breaker);
    return ad_test_done();
}
