/* Window stage driven by golden scripts in tests/data/window/: each script
 * sets a config, pushes points, advances watermarks, ticks the idle clock and
 * lists after every step the scoring events it must produce, in order. */
#include "ad_test.h"

#include <dirent.h>

#include "ad_err.h"
#include "ad_types.h"
#include "ad_window.h"

/* ad_window_push() with the point's members as arguments. */
static enum ad_push_result wpush(struct ad_window *w, struct ad_part *p, const char *key,
                                 size_t key_len, uint32_t metric, int64_t t_us, double v,
                                 int64_t offset, int64_t now_ms)
{
    struct ad_window_point pt = {key, key_len, metric, t_us, v, offset};
    return ad_window_push(w, p, &pt, now_ms);
}

struct run {
    char got[64][256]; /* events of the current step */
    int ngot;
    double nolearn_above; /* the callback refuses to learn values above this */
};

static const char *const reason_names[] = {"point", "watermark", "idle", "flush", "evict"};

static bool on_event(void *ud, const struct ad_window_event *ev)
{
    struct run *r = ud;
    size_t klen;
    const char *key = ad_series_key(ev->series, &klen);
    if (r->ngot < 64)
        snprintf(r->got[r->ngot++], 256, "%s %u %g %g %g pts=%zu n=%llu mean=%g %s", key,
                 ad_series_metric(ev->series), (double)ev->start_us / 1e6, (double)ev->end_us / 1e6,
                 ev->value, ev->n_points, (unsigned long long)ev->model->n, ev->model->mean,
                 reason_names[ev->reason]);
    return ev->value <= r->nolearn_above;
}

static int64_t secs(const char *s)
{
    return (int64_t)llround(strtod(s, NULL) * 1e6);
}

static void parse_cfg(char *line, struct ad_window_cfg *c, struct run *r)
{
    memset(c, 0, sizeof(*c));
    c->max_series = 1000;
    c->idle_us = 60000000;
    r->nolearn_above = 1e300;
    char *save = NULL;
    for (char *tok = strtok_r(line + 4, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
        char *eq = strchr(tok, '=');
        AD_EXPECT(eq != NULL);
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(tok, "tumbling")) {
            c->tumbling = true;
            c->size_us = secs(v);
        } else if (!strcmp(tok, "agg")) {
            static const char *const aggs[] = {"mean", "min", "max", "sum", "count", "last"};
            for (int i = 0; i < 6; i++)
                if (!strcmp(v, aggs[i]))
                    c->aggregate = i;
        } else if (!strcmp(tok, "sliding")) {
            c->sliding = true;
            c->win_us = secs(v);
        } else if (!strcmp(tok, "slide")) {
            c->slide_us = secs(v);
        } else if (!strcmp(tok, "lateness")) {
            c->lateness_us = secs(v);
        } else if (!strcmp(tok, "idle")) {
            c->idle_us = secs(v);
        } else if (!strcmp(tok, "scope")) {
            c->window_scope = !strcmp(v, "window");
        } else if (!strcmp(tok, "max_series")) {
            c->max_series = strtoull(v, NULL, 10);
        } else if (!strcmp(tok, "nolearn_above")) {
            r->nolearn_above = strtod(v, NULL);
        } else {
            AD_FAIL_("unknown cfg key %s", tok);
        }
    }
}

static void run_script(const char *path)
{
    FILE *f = fopen(path, "r");
    AD_EXPECT(f != NULL);
    char line[512];
    int lineno = 0, checked = 0;
    struct run r = {0};
    struct ad_window *w = NULL;
    struct ad_window_cfg c;
    int nexp = 0; /* expected lines matched for the current step */

    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (line[0] == '>') {
            const char *want = line + 2;
            if (nexp >= r.ngot)
                AD_FAIL_("%s:%d: expected event \"%s\", got none", path, lineno, want);
            if (strcmp(r.got[nexp], want) != 0)
                AD_FAIL_("%s:%d: event mismatch\n  got:  %s\n  want: %s", path, lineno, r.got[nexp],
                         want);
            nexp++;
            checked++;
            continue;
        }
        if (nexp < r.ngot)
            AD_FAIL_("%s:%d: unexpected event before this line: %s", path, lineno, r.got[nexp]);
        r.ngot = 0;
        nexp = 0;
        char *argv[8] = {0};
        int argc = 0;
        char copy[512];
        snprintf(copy, sizeof(copy), "%s", line);
        if (!strncmp(line, "cfg ", 4)) {
            ad_window_free(w);
            parse_cfg(copy, &c, &r);
            AD_EXPECT_INT(ad_window_new(&c, on_event, &r, &w), ==, 0);
            continue;
        }
        char *save = NULL;
        for (char *t = strtok_r(copy, " ", &save); t && argc < 8; t = strtok_r(NULL, " ", &save))
            argv[argc++] = t;
        AD_EXPECT(w != NULL);
        struct ad_part *p = ad_window_part(w, "t", 0);
        if (!strcmp(argv[0], "push")) {
            /* push KEY METRIC T V OFF NOW [late|dup] ; advance follows */
            AD_EXPECT(argc >= 7);
            enum ad_push_result res = wpush(w, p, argv[1], strlen(argv[1]),
                                            (uint32_t)strtoul(argv[2], NULL, 10), secs(argv[3]),
                                            strtod(argv[4], NULL), strtoll(argv[5], NULL, 10),
                                            strtoll(argv[6], NULL, 10));
            int want = argc > 7 ? (!strcmp(argv[7], "late") ? AD_PUSH_LATE : AD_PUSH_DUPLICATE)
                                : AD_PUSH_OK;
            if ((int)res != want)
                AD_FAIL_("%s:%d: push result %d, want %d", path, lineno, res, want);
            ad_window_advance(w, p, secs(argv[3]));
        } else if (!strcmp(argv[0], "tick")) {
            ad_window_tick(w, strtoll(argv[1], NULL, 10));
        } else if (!strcmp(argv[0], "flush")) {
            ad_window_flush(w);
        } else if (!strcmp(argv[0], "low")) {
            AD_EXPECT_INT(ad_part_low_offset(p), ==, strtoll(argv[1], NULL, 10));
        } else if (!strcmp(argv[0], "stats")) {
            struct ad_window_stats st;
            ad_window_stats(w, &st);
            char got[256];
            snprintf(got, sizeof(got),
                     "late=%llu dup=%llu windows=%llu slides=%llu series=%llu evictions=%llu",
                     (unsigned long long)st.late, (unsigned long long)st.duplicates,
                     (unsigned long long)st.windows, (unsigned long long)st.slides,
                     (unsigned long long)st.series, (unsigned long long)st.evictions);
            if (strcmp(got, line + 6) != 0)
                AD_FAIL_("%s:%d: stats\n  got:  %s\n  want: %s", path, lineno, got, line + 6);
        } else {
            AD_FAIL_("%s:%d: unknown op %s", path, lineno, argv[0]);
        }
    }
    if (nexp < r.ngot)
        AD_FAIL_("%s: unexpected event at end: %s", path, r.got[nexp]);
    fclose(f);
    ad_window_free(w);
    AD_EXPECT_INT(checked, >, 0);
}

static void test_golden_scripts(void)
{
    const char *dir = ad_test_data("window");
    char dpath[4096];
    snprintf(dpath, sizeof(dpath), "%s", dir);
    DIR *d = opendir(dpath);
    AD_EXPECT(d != NULL);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, ".txt"))
            continue;
        char path[4096 + 256];
        snprintf(path, sizeof(path), "%s/%s", dpath, e->d_name);
        run_script(path);
        printf("  script %s ok\n", e->d_name);
        n++;
    }
    closedir(d);
    AD_EXPECT_INT(n, >=, 8);
}

static void test_rejects_bad_cfg(void)
{
    struct ad_window *w;
    struct run r = {0};
    struct ad_window_cfg c = {.tumbling = true,
                              .size_us = 60000000,
                              .sliding = true,
                              .win_us = 90000000,
                              .slide_us = 60000000,
                              .max_series = 1};
    AD_EXPECT_INT(ad_window_new(&c, on_event, &r, &w), ==, AD_EINVAL); /* 90 s % 60 s */
    c.sliding = false;
    c.window_scope = true;
    AD_EXPECT_INT(ad_window_new(&c, on_event, &r, &w), ==, AD_EINVAL);
    c.window_scope = false;
    c.max_series = 0;
    AD_EXPECT_INT(ad_window_new(&c, on_event, &r, &w), ==, AD_EINVAL);
}

/* Many series churning through a small cap: memory stays bounded and every
 * series that was evicted had its open window scored first. */
static void test_eviction_churn(void)
{
    struct ad_window *w;
    struct run r = {0};
    struct ad_window_cfg c = {.tumbling = true,
                              .size_us = 60000000,
                              .max_series = 100,
                              .idle_us = 3600000000LL};
    AD_EXPECT_INT(ad_window_new(&c, on_event, &r, &w), ==, 0);
    struct ad_part *p = ad_window_part(w, "t", 0);
    char key[32];
    uint64_t events = 0;
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        r.ngot = 0;
        AD_EXPECT_INT(wpush(w, p, key, strlen(key), 0, 1000000, 1.0, i, i), ==, AD_PUSH_OK);
        events += (uint64_t)r.ngot;
    }
    struct ad_window_stats st;
    ad_window_stats(w, &st);
    AD_EXPECT_UINT(st.series, ==, 100);
    AD_EXPECT_UINT(st.evictions, ==, 99900);
    AD_EXPECT_UINT(events, ==, 99900);
    ad_window_free(w);
}

/* A store for evicted series, as the pipeline's is: keeps copies. */
struct saved {
    char key[32];
    struct ad_series_state st;
    int evicted_with_part; /* partition number, -1 for none */
};
struct store {
    struct saved v[16];
    int n, loads;
};

static void store_evicted(void *ud, const struct ad_part *p, const struct ad_series_state *st)
{
    struct store *s = ud;
    struct saved *sv = &s->v[s->n++ % 16];
    snprintf(sv->key, sizeof(sv->key), "%.*s", (int)st->key_len, st->key);
    sv->st = *st;
    sv->st.key = sv->key;
    sv->st.ring = NULL;
    sv->st.rlen = 0;
    sv->evicted_with_part = p ? ad_part_partition(p) : -1;
}

static int store_load(void *ud, const struct ad_part *p, const char *key, size_t key_len,
                      uint32_t metric, struct ad_series_state *st)
{
    struct store *s = ud;
    s->loads++;
    for (int i = s->n - 1; i >= 0 && i >= s->n - 16; i--) {
        struct saved *sv = &s->v[i % 16];
        if (strlen(sv->key) == key_len && !memcmp(sv->key, key, key_len) &&
            sv->st.metric == metric) {
            *st = sv->st;
            return 0;
        }
    }
    return AD_ENOENT;
}

/* An evicted series hands its state to the store, and resumes from it when it
 * is seen again: its model goes on counting where it stopped. */
static void test_store_resume(void)
{
    struct ad_window *w;
    struct run r = {0};
    struct store s = {0};
    r.nolearn_above = 1e300;
    struct ad_window_cfg c = {.tumbling = true,
                              .size_us = 60000000,
                              .max_series = 2,
                              .idle_us = 3600000000LL};
    AD_EXPECT_INT(ad_window_new(&c, on_event, &r, &w), ==, 0);
    struct ad_window_store ws = {store_evicted, store_load, &s};
    ad_window_set_store(w, &ws);
    struct ad_part *p = ad_window_part(w, "t", 3);
    int64_t off = 0;
    /* a: three windows closed by the watermark (n = 3 after the third). */
    for (int m = 0; m < 4; m++) {
        AD_EXPECT_INT(wpush(w, p, "a", 1, 0, m * 60000000LL + 1, 10.0 + m, off++, m), ==,
                      AD_PUSH_OK);
        ad_window_advance(w, p, m * 60000000LL + 1);
    }
    AD_EXPECT_INT(s.loads, ==, 1); /* asked once, when a was created */
    /* b and c push a out: its open window (minute 3) is scored first. */
    r.ngot = 0;
    AD_EXPECT_INT(wpush(w, p, "b", 1, 0, 240000001, 1.0, off++, 10), ==, AD_PUSH_OK);
    AD_EXPECT_INT(wpush(w, p, "c", 1, 0, 240000002, 1.0, off++, 11), ==, AD_PUSH_OK);
    AD_EXPECT_INT(s.n, ==, 1);
    AD_EXPECT_STR(s.v[0].key, "a");
    AD_EXPECT_INT(s.v[0].evicted_with_part, ==, 3);
    AD_EXPECT_UINT(s.v[0].st.life.n, ==, 4);
    AD_EXPECT_INT(s.v[0].st.model_off, ==, 3);
    AD_EXPECT_INT(s.v[0].st.closed_until, ==, 240000000);
    AD_EXPECT_INT(r.ngot, ==, 1);
    AD_EXPECT(strstr(r.got[0], "evict") != NULL);
    /* a again, two windows later: resumed, its model still n = 4. */
    r.ngot = 0;
    AD_EXPECT_INT(wpush(w, p, "a", 1, 0, 360000001, 99.0, off++, 12), ==, AD_PUSH_OK);
    struct ad_window_stats st;
    ad_window_stats(w, &st);
    AD_EXPECT_UINT(st.resumed, ==, 1);
    AD_EXPECT_UINT(st.evictions, ==, 2); /* a, then b for a's return */
    ad_window_flush(w);
    int seen = 0;
    for (int i = 0; i < r.ngot; i++)
        if (r.got[i][0] == 'a') {
            AD_EXPECT(strstr(r.got[i], "n=4 ") != NULL);
            seen++;
        }
    AD_EXPECT_INT(seen, ==, 1);
    /* A point of the window closed by the eviction is late, not a new window. */
    AD_EXPECT_INT(wpush(w, p, "b", 1, 0, 240000003, 1.0, off++, 13), ==, AD_PUSH_LATE);
    ad_window_free(w);
}

static int export_cb(void *ud, const struct ad_series_state *st)
{
    struct ad_series_state *out = ud;
    *out = *st;
    out->key = NULL;
    out->ring = NULL;
    return 0;
}

/* Export: the dirty flag says what changed since the previous export, and a
 * series with an open window is saved without its de-duplication mark. */
static void test_export_dirty(void)
{
    struct ad_window *w;
    struct run r = {0};
    struct ad_series_state st;
    struct ad_window_cfg c = {.tumbling = true,
                              .size_us = 60000000,
                              .max_series = 10,
                              .idle_us = 3600000000LL};
    AD_EXPECT_INT(ad_window_new(&c, on_event, &r, &w), ==, 0);
    struct ad_part *p = ad_window_part(w, "t", 0);
    AD_EXPECT_INT(wpush(w, p, "a", 1, 0, 1000000, 1.0, 0, 0), ==, AD_PUSH_OK);
    AD_EXPECT_INT(ad_window_part_export(w, p, true, export_cb, &st), ==, 0);
    AD_EXPECT(!st.dirty);                    /* nothing closed yet */
    AD_EXPECT_INT(st.last_t, ==, INT64_MIN); /* a window is open */
    ad_window_advance(w, p, 61000000);       /* closes minute 0 */
    AD_EXPECT_INT(ad_window_part_export(w, p, true, export_cb, &st), ==, 0);
    AD_EXPECT(st.dirty);
    AD_EXPECT_INT(st.last_t, ==, 1000000); /* no window open: the mark is kept */
    AD_EXPECT_INT(ad_window_part_export(w, p, true, export_cb, &st), ==, 0);
    AD_EXPECT(!st.dirty);
    st.dirty = true; /* restored as dirty: exported as dirty */
    st.key = "z";
    st.key_len = 1;
    AD_EXPECT_INT(ad_window_restore(w, p, &st), ==, 0);
    ad_window_free(w);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_golden_scripts);
    AD_TEST_RUN(argc, argv, test_rejects_bad_cfg);
    AD_TEST_RUN(argc, argv, test_eviction_churn);
    AD_TEST_RUN(argc, argv, test_store_resume);
    AD_TEST_RUN(argc, argv, test_export_dirty);
    return ad_test_done();
}
