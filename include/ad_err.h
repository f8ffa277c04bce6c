/* ad_err.h - error codes shared by every module.
 *
 * A function that can fail returns 0 or a negative AD_E* code, never 1 for OK.
 * The codes come from one X-macro list that also yields ad_strerror() and
 * ad_err_name(), as in libuv. */
#ifndef AD_ERR_H
#define AD_ERR_H

#define AD_ERRNO_MAP(X)                                                                            \
    X(NOMEM, "out of memory")                                                                      \
    X(INVAL, "invalid argument")                                                                   \
    X(CONFIG, "invalid configuration")                                                             \
    X(IO, "input/output error")                                                                    \
    X(NOENT, "no such file or entry")                                                              \
    X(RANGE, "value out of range")                                                                 \
    X(PARSE, "parse error")                                                                        \
    X(LIMIT, "configured limit exceeded")                                                          \
    X(AGAIN, "resource temporarily unavailable")                                                   \
    X(STATE, "operation not valid in this state")

/* Positive indices first, then the negative codes themselves. */
enum ad_err_index_ {
    AD_EIDX_NONE_ = 0,
#define AD_ERR_IDX_(name, msg) AD_EIDX_##name,
    AD_ERRNO_MAP(AD_ERR_IDX_)
#undef AD_ERR_IDX_
        AD_EIDX_COUNT_
};

enum ad_errno {
    AD_OK = 0,
#define AD_ERR_ENUM_(name, msg) AD_E##name = -AD_EIDX_##name,
    AD_ERRNO_MAP(AD_ERR_ENUM_)
#undef AD_ERR_ENUM_
};

/* Returns a static description of a negative code (or 0). Never NULL. */
const char *ad_strerror(int err);
/* Returns the static name ("AD_ENOMEM") of a negative code (or 0). Never NULL. */
const char *ad_err_name(int err);

#endif
