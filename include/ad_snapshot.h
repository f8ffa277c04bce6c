/* ad_snapshot.h - a checkpoint taken by a forked child, redis' BGSAVE way:
 * fork() gives the child a copy-on-write image of the pipeline as it is at
 * that instant; the child serializes one partition's checkpoint from it and
 * writes the file durably (ad_state_write) while the parent goes on
 * consuming. The loop pays for the fork (copying page tables: milliseconds
 * for gigabytes) and for the pages it writes to while the child runs, not for
 * the serialization (about a second per million series).
 *
 * The child calls no library that has threads of its own (no librdkafka, no
 * libuv, no LMDB: the evicted series' store is synced through its file
 * descriptor), allocates only through glibc's malloc (which is fork-safe) and
 * leaves with _exit(). */
#ifndef AD_SNAPSHOT_H
#define AD_SNAPSHOT_H

#include <stdint.h>
#include <sys/types.h>

#include "ad_pipeline.h"

struct ad_snapshot {
    pid_t pid;
    int fd;          /* readable (a result record, or EOF) when the child is done */
    uint64_t series; /* out of ad_snapshot_finish() */
    uint64_t bytes;
    uint64_t sum; /* the file's checksum (ad_ckpt_sum), out of ad_snapshot_finish() */
};

/* Forks a child that writes the checkpoint req asks for into dir (sealed;
 * req->unsealed and req->each are ignored; a delta log beside it is removed
 * once it is durable: the file is a new base); sync_fd (or -1) is fdatasync'ed
 * first. Returns 0 with s->pid and s->fd set, or AD_EIO (fork or pipe
 * failed: take the checkpoint another way). */
int ad_snapshot_start(struct ad_pipeline *p, const char *dir, const struct ad_ckpt_req *req,
                      int sync_fd, struct ad_snapshot *s);

/* Reaps the child once s->fd is readable (blocks until then otherwise).
 * Returns 0 when the checkpoint is durable, or AD_EIO with the child's
 * reason in err. Closes s->fd. */
int ad_snapshot_finish(struct ad_snapshot *s, char *err, size_t errlen);

#endif
