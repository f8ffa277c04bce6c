/* ad_secret.c - the one rule for secrets in the configuration. */
#include "ad_secret.h"

#include <string.h>

static const char *const secret_words[] = {"password", "secret", "key", "token", "jaas"};

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does s start with the lowercase word w, in any case? */
static bool starts_ci(const char *s, const char *w)
{
    for (; *w; s++, w++)
        if (lower(*s) != *w) return false;
    return true;
}

bool ad_secret_name(const char *name)
{
    if (!name) return false;
    for (const char *p = name; *p; p++)
        for (size_t i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++)
            if (starts_ci(p, secret_words[i])) return true;
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

    if (!msg || size == 0 || vl == 0) return;
    ml = strnlen(msg, size - 1);
    msg[ml] = '\0';
    for (p = strstr(msg, value); p; p = strstr(p, value)) {
        size_t at = (size_t)(p - msg), tail = ml - at - vl; /* bytes after the value */
        size_t keep = kl;
        if (at + keep > size - 1) keep = size - 1 - at;
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
