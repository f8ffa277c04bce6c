/* ad_config_copy.c - a deep copy of a config: every string and list, and the
 * loader's origins (where each option was set), so that the copy validates,
 * prints and reports errors as the original does. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup */
#endif

#include "ad_config_int.h"

#include <stdlib.h>
#include <string.h>

#include "ad_err.h"

/* Duplicates s into *out; NULL stays NULL. 0 or AD_ENOMEM. */
static int dup_str(char **out, const char *s)
{
    *out = s ? strdup(s) : NULL;
    return s && !*out ? AD_ENOMEM : 0;
}

/* The owned parts of one option of src into dst (whose owned fields
 * ad_config_copy() has emptied: NULL strings, empty lists). dst's field is
 * valid (freeable) on any return. */
static int copy_field(struct ad_config *dst, const struct ad_config *src, const struct ad_option *o)
{
    void *f = ad_config_field(dst, o);
    const void *sf = ad_config_cfield(src, o);
    int rc = 0;

    switch (o->type) {
    case AD_OPT_STRING:
    case AD_OPT_SECRET:
        return dup_str(f, *(char *const *)sf);
    case AD_OPT_STRLIST: {
        struct ad_strlist *l = f;
        const struct ad_strlist *sl = sf;
        if (sl->n && !(l->v = calloc(sl->n, sizeof(*l->v))))
            return AD_ENOMEM;
        for (; rc == 0 && l->n < sl->n; l->n++)
            rc = dup_str(&l->v[l->n], sl->v[l->n]);
        return rc;
    }
    case AD_OPT_KVLIST: {
        struct ad_kvlist *l = f;
        const struct ad_kvlist *sl = sf;
        if (sl->n &&
            (!(l->k = calloc(sl->n, sizeof(*l->k))) || !(l->v = calloc(sl->n, sizeof(*l->v)))))
            return AD_ENOMEM;
        for (; rc == 0 && l->n < sl->n; l->n++)
            if ((rc = dup_str(&l->k[l->n], sl->k[l->n])) == 0)
                rc = dup_str(&l->v[l->n], sl->v[l->n]);
        return rc;
    }
    default:
        return 0;
    }
}

/* The origins: the interned source names, and each position's name mapped
 * to the copy's. */
static int copy_origin(struct ad_config *dst, const struct ad_config_origin *so)
{
    size_t size = sizeof(*so) + ad_config_table_len_ * sizeof(so->pos[0]);
    struct ad_config_origin *o = malloc(size);

    if (!(dst->origin_ = o))
        return AD_ENOMEM;
    memcpy(o, so, size);
    o->names = NULL;
    o->nnames = 0;
    if (so->nnames && !(o->names = calloc(so->nnames, sizeof(*o->names))))
        return AD_ENOMEM;
    for (; o->nnames < so->nnames; o->nnames++)
        if (!(o->names[o->nnames] = strdup(so->names[o->nnames])))
            return AD_ENOMEM;
    for (size_t i = 0; i < ad_config_table_len_; i++)
        for (size_t j = 0; o->pos[i].src && j < so->nnames; j++)
            if (o->pos[i].src == so->names[j]) {
                o->pos[i].src = o->names[j];
                break;
            }
    return 0;
}

int ad_config_copy(struct ad_config *dst, const struct ad_config *src)
{
    int rc = 0;

    memcpy(dst, src, sizeof(*dst));
    /* Nothing of src's is owned by dst until it is duplicated. */
    dst->origin_ = NULL;
    dst->source_name_ = NULL;
    for (size_t i = 0; i < ad_config_table_len_; i++) {
        const struct ad_option *o = &ad_config_table_[i];
        void *f = ad_config_field(dst, o);
        if (o->type == AD_OPT_STRING || o->type == AD_OPT_SECRET)
            *(char **)f = NULL;
        else if (o->type == AD_OPT_STRLIST)
            *(struct ad_strlist *)f = (struct ad_strlist){0, NULL};
        else if (o->type == AD_OPT_KVLIST)
            *(struct ad_kvlist *)f = (struct ad_kvlist){0, NULL, NULL};
    }
    for (size_t i = 0; rc == 0 && i < ad_config_table_len_; i++)
        rc = copy_field(dst, src, &ad_config_table_[i]);
    if (rc == 0 && src->origin_)
        rc = copy_origin(dst, src->origin_);
    if (rc == 0)
        rc = dup_str(&dst->source_name_, src->source_name_);
    if (rc)
        goto err;
    return 0;
err:
    ad_config_free(dst);
    return rc;
}
