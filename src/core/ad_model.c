/* ad_model.c - import (and export) of scenario C's M2 model files.
 *
 * Two layouts are accepted, told apart by the first non-blank character:
 *   - JSON lines: one object per line, blank lines skipped;
 *   - '[': one JSON array of objects, which may span lines.
 * Elements of the array are parsed one at a time (jansson with
 * JSON_DISABLE_EOF_CHECK), so a large export never becomes one big tree and
 * every error can name the line where its object starts.
 *
 * Each object: {"id": string | integer, "m2": {"n": integer >= 0,
 * "mean": number, "m2": number >= 0}, "metric": string (optional)}; other
 * members are ignored, duplicate members are an error. */
#include "ad_model.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ad_alloc.h"
#include "ad_err.h"

struct imp {
    const char *name;
    ad_model_entry_cb cb;
    void *ud;
    char *err;
    size_t errlen;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
parse_error(const struct imp *im, size_t line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!im->err || im->errlen == 0)
        return AD_EPARSE;
    n = snprintf(im->err, im->errlen, "%s:%zu: ", im->name, line);
    if (n >= 0 && (size_t)n < im->errlen) {
        va_start(ap, fmt);
        vsnprintf(im->err + n, im->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return AD_EPARSE;
}

/* Returns why (n, mean, m2) is not a valid Welford state, or NULL. */
static const char *model_check(uint64_t n, double mean, double m2)
{
    if (!isfinite(mean))
        return "\"m2.mean\" must be finite";
    if (!isfinite(m2))
        return "\"m2.m2\" must be finite";
    if (m2 < 0)
        return "\"m2.m2\" must be >= 0";
    if (n > (uint64_t)INT64_MAX)
        return "\"m2.n\" is too large";
    if (n == 0 && (mean != 0 || m2 != 0))
        return "\"m2.n\" is 0 but \"m2.mean\" or \"m2.m2\" is not 0";
    if (n == 1 && m2 != 0)
        return "\"m2.n\" is 1 but \"m2.m2\" is not 0";
    return NULL;
}

/* Returns the member MEMBER of the "m2" object when it is a finite number;
 * otherwise writes why to the error buffer and returns NULL. The caller reads
 * the value, so it is assigned on the path that uses it (with a status code
 * and an out-parameter, -O3 could not prove the value set). */
static const json_t *number_member(const struct imp *im, size_t line, const json_t *m2obj,
                                   const char *member)
{
    const json_t *v = json_object_get(m2obj, member);

    if (!v) {
        parse_error(im, line, "missing \"m2.%s\"", member);
        return NULL;
    }
    if (!json_is_number(v)) {
        parse_error(im, line, "\"m2.%s\" must be a number", member);
        return NULL;
    }
    if (!isfinite(json_number_value(v))) {
        parse_error(im, line, "\"m2.%s\" must be finite", member);
        return NULL;
    }
    return v;
}

/* Validates one parsed object and hands it to the callback. */
static int apply_entry(const struct imp *im, const json_t *obj, size_t line)
{
    char idnum[32];
    const char *id, *metric = NULL, *why;
    size_t id_len;
    const json_t *v, *m2obj;
    json_int_t n;
    double mean, m2;
    int rc;

    if (!json_is_object(obj))
        return parse_error(im, line, "expected a JSON object");

    v = json_object_get(obj, "id");
    if (!v)
        return parse_error(im, line, "missing \"id\"");
    if (json_is_string(v)) {
        id = json_string_value(v);
        id_len = json_string_length(v);
        if (id_len == 0)
            return parse_error(im, line, "\"id\" is empty");
    } else if (json_is_integer(v)) {
        int k = snprintf(idnum, sizeof(idnum), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        id = idnum;
        id_len = (size_t)k;
    } else {
        return parse_error(im, line, "\"id\" must be a string or an integer");
    }

    v = json_object_get(obj, "metric");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v))
            return parse_error(im, line, "\"metric\" must be a string");
        metric = json_string_value(v);
        if (*metric == '\0')
            return parse_error(im, line, "\"metric\" is empty");
    }

    m2obj = json_object_get(obj, "m2");
    if (!m2obj)
        return parse_error(im, line, "missing \"m2\"");
    if (!json_is_object(m2obj))
        return parse_error(im, line, "\"m2\" must be an object");

    v = json_object_get(m2obj, "n");
    if (!v)
        return parse_error(im, line, "missing \"m2.n\"");
    if (!json_is_integer(v))
        return parse_error(im, line, "\"m2.n\" must be an integer");
    n = json_integer_value(v);
    if (n < 0)
        return parse_error(im, line, "\"m2.n\" must be >= 0, got %" JSON_INTEGER_FORMAT, n);
    if (!(v = number_member(im, line, m2obj, "mean")))
        return AD_EPARSE;
    mean = json_number_value(v);
    if (!(v = number_member(im, line, m2obj, "m2")))
        return AD_EPARSE;
    m2 = json_number_value(v);
    if (m2 < 0)
        return parse_error(im, line, "\"m2.m2\" must be >= 0, got %.17g", m2);
    if ((why = model_check((uint64_t)n, mean, m2)) != NULL)
        return parse_error(im, line, "%s", why);

    rc = im->cb(im->ud, id, id_len, metric, (uint64_t)n, mean, m2);
    if (rc != 0 && im->err && im->errlen) {
        /* The id as a printable excerpt: messages stay on one line. */
        char shown[65];
        size_t k;
        for (k = 0; k < id_len && k < sizeof(shown) - 1; k++) {
            unsigned char c = (unsigned char)id[k];
            shown[k] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
        shown[k] = '\0';
        snprintf(im->err, im->errlen, "%s:%zu: entry \"%s\"%s refused: %s", im->name, line, shown,
                 id_len > k ? "..." : "", ad_strerror(rc));
    }
    return rc;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int import_lines(const struct imp *im, const char *buf, size_t len, size_t off)
{
    size_t line = 1;

    while (off < len) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - buf) : len, k = off;

        while (k < end && is_blank(buf[k]))
            k++;
        if (k < end) {
            json_error_t jerr;
            json_t *j = json_loadb(buf + off, end - off, JSON_REJECT_DUPLICATES, &jerr);
            int rc;

            if (!j)
                return parse_error(im, line, "invalid JSON: %s", jerr.text);
            rc = apply_entry(im, j, line);
            json_decref(j);
            if (rc)
                return rc;
        }
        off = nl ? end + 1 : len;
        line++;
    }
    return 0;
}

/* Skips blanks from *off, counting newlines into *line. */
static void skip_blanks(const char *buf, size_t len, size_t *off, size_t *line)
{
    while (*off < len && is_blank(buf[*off])) {
        if (buf[*off] == '\n')
            (*line)++;
        (*off)++;
    }
}

static int import_array(const struct imp *im, const char *buf, size_t len, size_t off, size_t line)
{
    size_t count = 0;

    off++; /* '[' */
    skip_blanks(buf, len, &off, &line);
    if (off < len && buf[off] == ']') {
        off++;
        goto tail;
    }
    for (;;) {
        json_error_t jerr;
        json_t *j;
        size_t start_line;
        int rc;

        skip_blanks(buf, len, &off, &line);
        if (off >= len)
            return parse_error(im, line, "unterminated array (missing ']')");
        if (buf[off] == ']')
            return parse_error(im, line, "trailing comma before ']'");
        if (buf[off] != '{')
            return parse_error(im, line, "array element %zu is not a JSON object", count + 1);
        start_line = line;
        j = json_loadb(buf + off, len - off, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES,
                       &jerr);
        if (!j) {
            size_t at = jerr.line > 0 ? start_line + (size_t)jerr.line - 1 : start_line;
            return parse_error(im, at, "invalid JSON: %s", jerr.text);
        }
        /* jerr.position is the byte just past the element's '}'. */
        for (size_t e = off + (size_t)jerr.position; off < e; off++)
            if (buf[off] == '\n')
                line++;
        rc = apply_entry(im, j, start_line);
        json_decref(j);
        if (rc)
            return rc;
        count++;

        skip_blanks(buf, len, &off, &line);
        if (off >= len)
            return parse_error(im, line, "unterminated array (missing ']')");
        if (buf[off] == ']') {
            off++;
            break;
        }
        if (buf[off] != ',')
            return parse_error(im, line, "expected ',' or ']' after array element %zu", count);
        off++;
    }
tail:
    skip_blanks(buf, len, &off, &line);
    if (off < len)
        return parse_error(im, line, "unexpected data after the array");
    return 0;
}

int ad_model_import_buffer(const char *name, const char *buf, size_t len,
                           const struct ad_model_import *to, char *err, size_t errlen)
{
    struct imp im = {name ? name : "model", to->cb, to->ud, err, errlen};
    size_t off = 0, line = 1;

    if (len > AD_MODEL_MAX_BYTES) {
        if (err && errlen)
            snprintf(err, errlen, "%s: larger than %zu bytes", im.name, (size_t)AD_MODEL_MAX_BYTES);
        return AD_ELIMIT;
    }
    /* A UTF-8 byte order mark, as some Windows tools write. */
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        off = 3;
    size_t first = off;
    skip_blanks(buf, len, &first, &line);
    if (first < len && buf[first] == '[')
        return import_array(&im, buf, len, first, line);
    return import_lines(&im, buf, len, off);
}

/* ---- files and directories ---------------------------------------------- */

/* If name is "<anything>-<digits>.json", stores the number and returns 1. */
static int model_file_epoch(const char *name, uint64_t *out)
{
    size_t len = strlen(name), end, k;
    uint64_t v = 0;

    if (name[0] == '.' || len < 7 || strcmp(name + len - 5, ".json") != 0)
        return 0;
    end = len - 5;
    k = end;
    while (k > 0 && name[k - 1] >= '0' && name[k - 1] <= '9')
        k--;
    if (k == end || k == 0 || name[k - 1] != '-')
        return 0;
    for (size_t i = k; i < end; i++) {
        unsigned d = (unsigned)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* Picks the newest model file of dir into out (a malloc'd path). */
static int pick_newest(const char *dir, char **out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *best = NULL;
    uint64_t best_epoch = 0;
    int rc = 0;

    if (!d) {
        int saved = errno;
        snprintf(err, errlen, "%s: %s", dir, strerror(saved));
        return saved == ENOENT ? AD_ENOENT : AD_EIO;
    }
    while ((e = readdir(d)) != NULL) {
        uint64_t epoch;
        struct stat st;
        size_t need;
        char *p;

        if (!model_file_epoch(e->d_name, &epoch))
            continue;
        if (best && (epoch < best_epoch ||
                     (epoch == best_epoch && strcmp(e->d_name, strrchr(best, '/') + 1) <= 0)))
            continue;
        need = strlen(dir) + 1 + strlen(e->d_name) + 1;
        p = ad_malloc(need);
        if (!p) {
            rc = AD_ENOMEM;
            snprintf(err, errlen, "%s: out of memory", dir);
            break;
        }
        snprintf(p, need, "%s/%s", dir, e->d_name);
        /* Only regular files (or links to them): a Spark output directory
         * of the same name is not a model file. */
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            ad_free(p);
            continue;
        }
        ad_free(best);
        best = p;
        best_epoch = epoch;
    }
    closedir(d);
    if (rc == 0 && !best) {
        snprintf(err, errlen, "%s: no model file named <prefix>-<epoch ms>.json", dir);
        rc = AD_ENOENT;
    }
    if (rc) {
        ad_free(best);
        return rc;
    }
    *out = best;
    return 0;
}

/* Reads a whole file (at most AD_MODEL_MAX_BYTES) into a malloc'd buffer. */
static int read_file(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
    struct stat st;
    size_t cap, len = 0;
    char *buf;
    int fd;

    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int saved = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(saved));
        return saved == ENOENT ? AD_ENOENT : AD_EIO;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return AD_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", path, strerror(EISDIR));
        close(fd);
        return AD_EIO;
    }
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > AD_MODEL_MAX_BYTES) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, (size_t)AD_MODEL_MAX_BYTES);
        close(fd);
        return AD_ELIMIT;
    }
    /* One byte more than the file's size, so EOF is seen without growing. */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
    buf = ad_malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        close(fd);
        return AD_ENOMEM;
    }
    for (;;) {
        ssize_t r;

        if (len == cap) {
            size_t ncap = cap * 2;
            char *nb;

            if (cap > AD_MODEL_MAX_BYTES) {
                snprintf(err, errlen, "%s: larger than %zu bytes", path,
                         (size_t)AD_MODEL_MAX_BYTES);
                ad_free(buf);
                close(fd);
                return AD_ELIMIT;
            }
            if (ncap > AD_MODEL_MAX_BYTES + 1)
                ncap = AD_MODEL_MAX_BYTES + 1;
            nb = ad_realloc(buf, ncap);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory", path);
                ad_free(buf);
                close(fd);
                return AD_ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            ad_free(buf);
            close(fd);
            return AD_EIO;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (len > AD_MODEL_MAX_BYTES) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, (size_t)AD_MODEL_MAX_BYTES);
        ad_free(buf);
        return AD_ELIMIT;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

int ad_model_import_file(const char *path, const struct ad_model_import *im, char *err,
                         size_t errlen)
{
    struct stat st;
    char *picked = NULL, *buf = NULL;
    const char *file = path;
    size_t len = 0;
    int rc;

    if (stat(path, &st) != 0) {
        int saved = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(saved));
        return saved == ENOENT ? AD_ENOENT : AD_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = pick_newest(path, &picked, err, errlen);
        if (rc)
            return rc;
        file = picked;
    }
    rc = read_file(file, &buf, &len, err, errlen);
    if (rc == 0) {
        if (im->chosen && im->chosenlen)
            snprintf(im->chosen, im->chosenlen, "%s", file);
        rc = ad_model_import_buffer(file, buf, len, im, err, errlen);
    }
    ad_free(buf);
    ad_free(picked);
    return rc;
}

/* ---- export ------------------------------------------------------------- */

int ad_model_format_line(struct ad_buf *out, const struct ad_model_entry *e)
{
    const char *id = e->id, *metric = e->metric;
    size_t id_len = e->id_len, start = out->len;
    uint64_t n = e->n;
    double mean = e->mean, m2 = e->m2;
    int rc;

    /* Refuse what the import would refuse, so every line written reads back. */
    if (!id || id_len == 0 || memchr(id, '\0', id_len) || (metric && *metric == '\0') ||
        model_check(n, mean, m2))
        return AD_EINVAL;
    rc = ad_buf_adds(out, "{\"id\":");
    if (rc == 0)
        rc = ad_buf_add_json_str(out, id, id_len);
    if (rc == 0 && metric) {
        rc = ad_buf_adds(out, ",\"metric\":");
        if (rc == 0)
            rc = ad_buf_add_json_str(out, metric, strlen(metric));
    }
    if (rc == 0)
        rc = ad_buf_printf(out, ",\"m2\":{\"n\":%" PRIu64 ",\"mean\":", n);
    if (rc == 0)
        rc = ad_buf_add_double(out, mean);
    if (rc == 0)
        rc = ad_buf_adds(out, ",\"m2\":");
    if (rc == 0)
        rc = ad_buf_add_double(out, m2);
    if (rc == 0)
        rc = ad_buf_adds(out, "}}\n");
    return rc ? ad_buf_rollback(out, start, rc) : 0;
}
