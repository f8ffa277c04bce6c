/* ad_secret.h - the one rule for secrets in the configuration: which names
 * hold one, and how a secret value is shown. --check-config (ad_config_print),
 * the Kafka client settings and any message bound for the log use it, so that
 * they can never disagree. Pure: no allocation, no I/O. */
#ifndef AD_SECRET_H
#define AD_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* True when a setting named name holds a secret: the name contains
 * "password", "secret", "key", "token", "jaas" or "oauthbearer.config", in
 * any case ("sasl.password", "ssl.key.password",
 * "sasl.oauthbearer.client.secret", "sasl.jaas.config",
 * "sasl.oauthbearer.config"). NULL is not a secret name. */
bool ad_secret_name(const char *name);

/* How a secret value is shown: "***" when it is set (non-empty), "" when it
 * is empty or NULL, so a reader can tell the two apart without seeing it.
 * Returns a static string. */
const char *ad_secret_mask(const char *value);

/* The text to show for the value of the setting named name: its mask when
 * the name is a secret one, else value itself (borrowed). */
const char *ad_secret_show(const char *name, const char *value);

/* Replaces every occurrence of value in the NUL-terminated msg (of size
 * bytes) with its mask, in place, for a message that quotes what it was
 * given (a library's error text) before it reaches a log or an error string.
 * A result longer than size is cut short and stays NUL-terminated. An empty
 * or NULL value changes nothing. */
void ad_secret_scrub(char *msg, size_t size, const char *value);

/* Writes to buf (size bytes, NUL-terminated, cut short if it must be) the
 * URL url as it may be shown: scheme://host:port/path, with the userinfo
 * ("user:pass@"), the query and the fragment each replaced by "***"
 * ("u:p@h:8443/x?t=1#f" after the "://" becomes "***@h:8443/x?***#***"); text without "://" is read as starting
 * at the host ("local" stays "local"). Masking a masked URL gives it back
 * unchanged. A NULL url gives "". Returns buf. */
char *ad_secret_url(const char *url, char *buf, size_t size);

/* Like ad_secret_scrub, for a message that may quote the URL url (a
 * library's error text): masks the URL's userinfo, query and fragment
 * wherever they occur in msg. */
void ad_secret_scrub_url(char *msg, size_t size, const char *url);

#endif
