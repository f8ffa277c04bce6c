/* ad_state_int.h - what ad_state.c and ad_state_delta.c share inside the
 * io layer (not part of ad_state.h's interface). */
#ifndef AD_STATE_INT_H
#define AD_STATE_INT_H

/* fsyncs the directory that holds path (its part before the last '/'; "."
 * without one, "/" for a file at the root), so that a rename, creation or
 * removal in it is durable. Returns 0 or -1 (errno set). */
int ad_state_fsync_parent(const char *path);

#endif
