/* The one rule for secrets: which setting names hold one, how a secret value
 * is shown, and how a message that quotes one is scrubbed. */
#include "ad_test.h"

#include "ad_secret.h"

static void test_names(void)
{
    static const char *const secret[] = {"sasl.password",
                                         "ssl.key.password",
                                         "SSL.KEY.PASSWORD",
                                         "sasl.jaas.config",
                                         "sasl.oauthbearer.client.secret",
                                         "sasl.oauthbearer.token.endpoint.url",
                                         "ssl.keystore.password",
                                         "Authorization-Key",
                                         "x-api-TOKEN",
                                         "key",
                                         "JAAS",
                                         "sasl.oauthbearer.config"};
    static const char *const plain[] = {"bootstrap.servers",
                                        "sasl.oauthbearer.method",
                                        "sasl.username",
                                        "security.protocol",
                                        "socket.keepalive.enable",
                                        "",
                                        "ke",
                                        "pass word"};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        if (!ad_secret_name(secret[i]))
            AD_FAIL_("\"%s\" should be a secret name", secret[i]);
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (ad_secret_name(plain[i]))
            AD_FAIL_("\"%s\" should not be a secret name", plain[i]);
    AD_EXPECT(!ad_secret_name(NULL));
}

static void test_mask_and_show(void)
{
    AD_EXPECT_STR(ad_secret_mask("hunter2"), "***");
    AD_EXPECT_STR(ad_secret_mask(""), "");
    AD_EXPECT_STR(ad_secret_mask(NULL), "");
    AD_EXPECT_STR(ad_secret_show("sasl.password", "hunter2"), "***");
    AD_EXPECT_STR(ad_secret_show("sasl.password", ""), "");
    AD_EXPECT_STR(ad_secret_show("client.id", "anomalyd"), "anomalyd");
}

static void test_scrub(void)
{
    char m[64];

    snprintf(m, sizeof(m), "Invalid value \"hunter2\" for \"x\" (hunter2)");
    ad_secret_scrub(m, sizeof(m), "hunter2");
    AD_EXPECT_STR(m, "Invalid value \"***\" for \"x\" (***)");

    /* A value shorter than its mask: the message grows, within its size. */
    snprintf(m, sizeof(m), "a=q b=q");
    ad_secret_scrub(m, sizeof(m), "q");
    AD_EXPECT_STR(m, "a=*** b=***");

    /* Cut short at the buffer's end, NUL-terminated, never the secret. */
    char small[10];
    snprintf(small, sizeof(small), "v=ab;w=ab");
    ad_secret_scrub(small, sizeof(small), "ab");
    AD_EXPECT_STR(small, "v=***;w=*");
    snprintf(small, sizeof(small), "12345678q");
    ad_secret_scrub(small, sizeof(small), "q");
    AD_EXPECT_STR(small, "12345678*");

    /* Nothing to do: no value, an empty one, or no occurrence. */
    snprintf(m, sizeof(m), "no secret here");
    ad_secret_scrub(m, sizeof(m), "");
    ad_secret_scrub(m, sizeof(m), NULL);
    ad_secret_scrub(m, sizeof(m), "hunter2");
    AD_EXPECT_STR(m, "no secret here");
    ad_secret_scrub(NULL, 0, "x");
}

/* A URL is shown as scheme://host:port/path: userinfo, query, fragment masked. */
static void test_url(void)
{
    static const struct {
        const char *url, *shown;
    } cases[] = {
        {"https://hook.example:8443/x/y", "https://hook.example:8443/x/y"},
        {"https://user:pa55@hook.example:8443/x?token=T0KEN&a=b",
         "https://***@hook.example:8443/x?***"},
        {"http://h/p#frag", "http://h/p#***"},
        {"http://u@h?q#f", "http://***@h?***#***"},
        {"http://a@b@h/x@y", "http://***@h/x@y"}, /* the last '@' of the authority */
        {"http://h/x?", "http://h/x?"},
        {"local", "local"},
        {"", ""},
    };
    char buf[128];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        AD_EXPECT_STR(ad_secret_url(cases[i].url, buf, sizeof(buf)), cases[i].shown);
        /* Masking a masked URL changes nothing. */
        char again[128];
        AD_EXPECT_STR(ad_secret_url(buf, again, sizeof(again)), cases[i].shown);
    }
    AD_EXPECT_STR(ad_secret_url(NULL, buf, sizeof(buf)), "");
    /* Cut short, NUL-terminated, and never a credential. */
    char small[12];
    AD_EXPECT_STR(ad_secret_url("https://u:secretpw@h/x", small, sizeof(small)), "https://***");

    /* A library message that quotes the URL or its parts. */
    char m[160];
    snprintf(m, sizeof(m), "URL https://user:pa55@h:1/x?token=T0KEN rejected; user:pa55");
    ad_secret_scrub_url(m, sizeof(m), "https://user:pa55@h:1/x?token=T0KEN");
    AD_EXPECT_STR(m, "URL https://***@h:1/x?*** rejected; ***");
    snprintf(m, sizeof(m), "Could not resolve host: h");
    ad_secret_scrub_url(m, sizeof(m), "https://h/x");
    AD_EXPECT_STR(m, "Could not resolve host: h");
}

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_names);
    AD_TEST_RUN(argc, argv, test_mask_and_show);
    AD_TEST_RUN(argc, argv, test_scrub);
    AD_TEST_RUN(argc, argv, test_url);
    return ad_test_done();
}
