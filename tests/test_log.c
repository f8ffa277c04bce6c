/* test_log.c - the log's line formats (issue 17, item 23): the journald
 * form ("<N>" priority prefix, no timestamp) only when stderr IS the stream
 * JOURNAL_STREAM names (device:inode, as systemd documents), the text form
 * otherwise, and JSON lines with log.format json. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ad_log.h"
#include "ad_test.h"

static char out[8192];

/* Points stderr at a fresh temporary file; returns it (and its device:inode
 * in stream, the way systemd writes JOURNAL_STREAM). */
static int capture_begin(int *saved, char *stream, size_t len)
{
    char path[] = "/tmp/test_log.XXXXXX";
    int fd = mkstemp(path);
    AD_EXPECT(fd >= 0);
    unlink(path);
    struct stat st;
    AD_EXPECT(fstat(fd, &st) == 0);
    snprintf(stream, len, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    fflush(stderr);
    *saved = dup(2);
    AD_EXPECT(*saved >= 0 && dup2(fd, 2) == 2);
    return fd;
}

/* Puts stderr back and reads what was written into out. */
static void capture_end(int fd, int saved)
{
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(fd, out, sizeof(out) - 1, 0);
    out[n > 0 ? n : 0] = 0;
    close(fd);
}

static void log_with_stream(const char *journal_stream)
{
    char stream[64];
    int saved, fd = capture_begin(&saved, stream, sizeof(stream));
    if (journal_stream)
        setenv("JOURNAL_STREAM", strcmp(journal_stream, "self") == 0 ? stream : journal_stream, 1);
    else
        unsetenv("JOURNAL_STREAM");
    ad_log_init();
    AD_INFO("test", "hello %d", 42);
    capture_end(fd, saved);
}

static void test_journal_stream_checked(void)
{
    /* Not under journald: the text form with a timestamp. */
    log_with_stream(NULL);
    AD_EXPECT(out[0] == '2');
    AD_EXPECT_CONTAINS(out, "Z info  [test] hello 42\n");
    /* JOURNAL_STREAM inherited from a parent run by systemd, but stderr
     * redirected to a file: still the text form. */
    log_with_stream("8:12345");
    AD_EXPECT(out[0] == '2');
    AD_EXPECT_CONTAINS(out, "Z info  [test] hello 42\n");
    log_with_stream("garbage");
    AD_EXPECT(out[0] == '2');
    /* stderr is the stream named: the journald form. */
    log_with_stream("self");
    AD_EXPECT_STR(out, "<6>[test] hello 42\n");
}

static void test_json(void)
{
    ad_log_set_format(AD_LOG_FORMAT_JSON);
    log_with_stream(NULL);
    json_error_t je;
    json_t *o = json_loads(out, 0, &je);
    AD_EXPECT(o != NULL);
    AD_EXPECT(out[strlen(out) - 1] == '\n' && strchr(out, '\n') == out + strlen(out) - 1);
    AD_EXPECT_STR(json_string_value(json_object_get(o, "level")), "info");
    AD_EXPECT_STR(json_string_value(json_object_get(o, "module")), "test");
    AD_EXPECT_STR(json_string_value(json_object_get(o, "msg")), "hello 42");
    const char *t = json_string_value(json_object_get(o, "time"));
    AD_EXPECT(t != NULL && strlen(t) == 24 && t[10] == 'T' && t[23] == 'Z');
    json_decref(o);

    /* Quotes, control characters and bytes that are not UTF-8 stay one
     * valid JSON line. */
    char stream[64];
    int saved, fd = capture_begin(&saved, stream, sizeof(stream));
    AD_WARN("x", "a \"q\" \\ tab\there\nnext \x01 \xc3\xa9 bad \xff end");
    capture_end(fd, saved);
    o = json_loads(out, 0, &je);
    AD_EXPECT(o != NULL);
    AD_EXPECT(strchr(out, '\n') == out + strlen(out) - 1);
    AD_EXPECT_STR(json_string_value(json_object_get(o, "msg")),
                  "a \"q\" \\ tab\there\nnext \x01 \xc3\xa9 bad \xef\xbf\xbd end");
    AD_EXPECT_STR(json_string_value(json_object_get(o, "level")), "warn");
    json_decref(o);

    /* Fields: an object of strings and numbers; the text form shows the
     * message alone. */
    const struct ad_log_field f[] = {{"reason", "invalid_json", 0},
                                     {"topic", "t\"x", 0},
                                     {"offset", NULL, -12345678901LL}};
    fd = capture_begin(&saved, stream, sizeof(stream));
    AD_LOGF(AD_LOG_WARN, "decode", f, 3, "record rejected: %s", "invalid_json");
    capture_end(fd, saved);
    o = json_loads(out, 0, &je);
    AD_EXPECT(o != NULL);
    json_t *fo = json_object_get(o, "fields");
    AD_EXPECT(json_is_object(fo) && json_object_size(fo) == 3);
    AD_EXPECT_STR(json_string_value(json_object_get(fo, "reason")), "invalid_json");
    AD_EXPECT_STR(json_string_value(json_object_get(fo, "topic")), "t\"x");
    AD_EXPECT(json_integer_value(json_object_get(fo, "offset")) == -12345678901LL);
    AD_EXPECT_STR(json_string_value(json_object_get(o, "msg")), "record rejected: invalid_json");
    json_decref(o);
    ad_log_set_format(AD_LOG_FORMAT_TEXT);
    fd = capture_begin(&saved, stream, sizeof(stream));
    AD_LOGF(AD_LOG_WARN, "decode", f, 3, "record rejected: %s", "invalid_json");
    capture_end(fd, saved);
    AD_EXPECT_CONTAINS(out, "Z warn  [decode] record rejected: invalid_json\n");
    ad_log_set_format(AD_LOG_FORMAT_JSON);

    /* A message longer than a line stays one valid JSON object. */
    char big[3000];
    memset(big, '"', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    fd = capture_begin(&saved, stream, sizeof(stream));
    AD_LOGF(AD_LOG_WARN, "decode", f, 3, "%s", big);
    capture_end(fd, saved);
    o = json_loads(out, 0, &je);
    AD_EXPECT(o != NULL);
    AD_EXPECT(json_object_size(json_object_get(o, "fields")) == 3);
    json_decref(o);
    fd = capture_begin(&saved, stream, sizeof(stream));
    AD_WARN("decode", "%s", big);
    capture_end(fd, saved);
    o = json_loads(out, 0, &je);
    AD_EXPECT(o != NULL);
    json_decref(o);

    /* Under journald: the priority prefix, then the object. */
    log_with_stream("self");
    AD_EXPECT(strncmp(out, "<6>{\"time\":\"", 12) == 0);
    o = json_loads(out + 3, 0, &je);
    AD_EXPECT(o != NULL);
    json_decref(o);
    ad_log_set_format(AD_LOG_FORMAT_TEXT);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_journal_stream_checked);
    AD_TEST_RUN(argc, argv, test_json);
    return ad_test_done();
}
