/* test_proc.c - the process_* figures (issue 17, item 23) follow what the
 * process does: a file opened is one more descriptor, memory touched is
 * resident, CPU burnt is counted, and the start time is this process's. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ad_proc.h"
#include "ad_test.h"

static void test_proc(void)
{
    struct ad_proc_stats a, b;
    AD_EXPECT_INT(ad_proc_read(&a), ==, 0);
    AD_EXPECT(a.open_fds >= 3); /* stdin, stdout, stderr */
    AD_EXPECT(a.max_fds >= a.open_fds);
    AD_EXPECT(a.virtual_bytes >= a.resident_bytes && a.resident_bytes > 0);
    double now = (double)time(NULL);
    AD_EXPECT(a.start_time_seconds > now - 600 && a.start_time_seconds <= now + 1);

    int fd = open("/dev/null", O_RDONLY);
    AD_EXPECT(fd >= 0);
    size_t big = (size_t)64 << 20;
    char *m = malloc(big);
    AD_EXPECT(m != NULL);
    memset(m, 1, big);
    volatile double x = 0;
    clock_t c0 = clock();
    while (clock() - c0 < CLOCKS_PER_SEC / 5) /* 0.2 s of CPU */
        x += 1;
    AD_EXPECT(x > 0);
    AD_EXPECT_INT(ad_proc_read(&b), ==, 0);
    AD_EXPECT_NEAR(b.open_fds, a.open_fds + 1, 0.5);
    AD_EXPECT(b.resident_bytes >= a.resident_bytes + (double)(big / 2));
    AD_EXPECT(b.cpu_seconds >= a.cpu_seconds + 0.1);
    AD_EXPECT_NEAR(b.start_time_seconds, a.start_time_seconds, 0.01);
    free(m);
    close(fd);
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_proc);
    return ad_test_done();
}
