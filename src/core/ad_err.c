#include "ad_err.h"

const char *ad_strerror(int err)
{
    switch (err) {
    case AD_OK:
        return "success";
#define AD_ERR_CASE_(name, msg)                                                                    \
    case AD_E##name:                                                                               \
        return msg;
        AD_ERRNO_MAP(AD_ERR_CASE_)
#undef AD_ERR_CASE_
    default:
        return "unknown error";
    }
}

const char *ad_err_name(int err)
{
    switch (err) {
    case AD_OK:
        return "AD_OK";
#define AD_ERR_NAME_(name, msg)                                                                    \
    case AD_E##name:                                                                               \
        return "AD_E" #name;
        AD_ERRNO_MAP(AD_ERR_NAME_)
#undef AD_ERR_NAME_
    default:
        return "AD_EUNKNOWN";
    }
}
