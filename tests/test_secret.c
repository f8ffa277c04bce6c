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
                                         "JAAS"};
    static const char *const plain[] = {"bootstrap.servers",
                                        "sasl.oauthbearer.config",
                                        "sasl.username",
                                        "security.protocol",
                                        "socket.keepalive.enable",
                                        "",
                                        "ke",
                                        "pass word"};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        if (!ad_secret_name(secret[i])) AD_FAIL_("\"%s\" should be a secret name", secret[i]);
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (ad_secret_name(plain[i])) AD_FAIL_("\"%s\" should not be a secret name", plain[i]);
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

int main(int argc, char **argv)
{
    AD_TEST_RUN(argc, argv, test_names);
    AD_TEST_RUN(argc, argv, test_mask_and_show);
    AD_TEST_RUN(argc, argv, test_scrub);
    return ad_test_done();
}
