/* ad_secret.c - the one rule for secrets in the configuration. */
#include "ad_secret.h"

#include <string.h>

static const char *const secret_words[] = {"password", "secret", "key",
                                           "token",    "jaas",   "oauthbearer.config"};

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does s start with the lowercase word w, in any case? */
static bool starts_ci(const char *s, const char *w)
{
    for (; *w; s++, w++)
        if (lower(*s) != *w)
            return false;
    return true;
}

bool ad_secret_name(const char *name)
{
    if (!name)
        return false;
    for (const char *p = name; *p; p++)
        for (size_t i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++)
            if (starts_ci(p, secret_words[i]))
                return true;
    return false;
}

const char *ad_secret_mask(const char *value)
{
    return value && *value ? "***" : "";
}

const char *ad_secret_show(const char *name, const char *value)
{
    return ad_secret_name(name) ? ad_secret_mask(value) : value;
}

void ad_secret_scrub(char *msg, size_t size, const char *value)
{
    size_t vl = value ? strlen(value) : 0, ml;
    const char *mask = ad_secret_mask(value);
    size_t kl = strlen(mask);
    bool cut = false;
    char *p;

    if (!msg || size == 0 || vl == 0)
        return;
    ml = strnlen(msg, size - 1);
    msg[ml] = '\0';
    for (p = strstr(msg, value); p; p = strstr(p, value)) {
        size_t at = (size_t)(p - msg), tail = ml - at - vl; /* bytes after the value */
        size_t keep = kl;
        if (at + keep > size - 1)
            keep = size - 1 - at;
        if (tail > size - 1 - at - keep) {
            tail = size - 1 - at - keep;
            cut = true;
        }
        memmove(p + keep, p + vl, tail);
        memcpy(p, mask, keep);
        ml = at + keep + tail;
        msg[ml] = '\0';
        p += keep;
    }
    /* A cut may have left the start of a further occurrence at the end. */
    for (size_t k = cut ? (vl - 1 < ml ? vl - 1 : ml) : 0; k > 0; k--)
        if (memcmp(msg + ml - k, value, k) == 0) {
            memset(msg + ml - k, '*', k);
            break;
        }
}

/* The parts of a URL that may carry a credential, as offsets into it. */
struct url_parts {
    size_t auth;     /* start of the authority (after "://") */
    size_t user_end; /* end of the userinfo (its '@'), or auth when none */
    size_t query;    /* the '?', or len when none */
    size_t frag;     /* the '#', or len when none */
    size_t len;
};

static void url_split(const char *url, struct url_parts *u)
{
    const char *sep = strstr(url, "://");
    size_t host_end, at;

    u->len = strlen(url);
    u->auth = sep ? (size_t)(sep - url) + 3 : 0;
    host_end = u->auth + strcspn(url + u->auth, "/?#");
    u->user_end = u->auth;
    for (at = u->auth; at < host_end; at++) /* the last '@' ends the userinfo */
        if (url[at] == '@')
            u->user_end = at;
    u->frag = u->auth + strcspn(url + u->auth, "#");
    u->query = u->auth + strcspn(url + u->auth, "?#");
    if (u->query > u->frag)
        u->query = u->frag;
}

/* Appends n bytes of s to buf at *at, within size (one byte kept for NUL). */
static void put(char *buf, size_t size, size_t *at, const char *s, size_t n)
{
    if (*at + n > size - 1)
        n = size - 1 - *at;
    memcpy(buf + *at, s, n);
    *at += n;
}

char *ad_secret_url(const char *url, char *buf, size_t size)
{
    struct url_parts u;
    size_t at = 0;

    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    if (!url)
        return buf;
    url_split(url, &u);
    put(buf, size, &at, url, u.auth);
    if (u.user_end > u.auth) {
        put(buf, size, &at, "***", 3);
        put(buf, size, &at, url + u.user_end, u.query - u.user_end);
    } else {
        put(buf, size, &at, url + u.auth, u.query - u.auth);
    }
    if (u.query < u.frag)
        put(buf, size, &at, "?***", u.frag - u.query > 1 ? 4 : 1);
    if (u.frag < u.len)
        put(buf, size, &at, "#***", u.len - u.frag > 1 ? 4 : 1);
    buf[at] = '\0';
    return buf;
}

void ad_secret_scrub_url(char *msg, size_t size, const char *url)
{
    struct url_parts u;
    char part[1024];

    if (!msg || size == 0 || !url || !*url)
        return;
    url_split(url, &u);
    /* The userinfo, the query and the fragment, each without its separator. */
    const size_t from[] = {u.auth, u.query + 1, u.frag + 1};
    const size_t to[] = {u.user_end, u.frag, u.len};
    for (size_t i = 0; i < 3; i++) {
        size_t n = to[i] > from[i] ? to[i] - from[i] : 0;
        if (n == 0 || n >= sizeof(part)) {
            if (n >= sizeof(part))
                ad_secret_scrub(msg, size, url); /* too long to split */
            continue;
        }
        memcpy(part, url + from[i], n);
        part[n] = '\0';
        ad_secret_scrub(msg, size, part);
    }
}
