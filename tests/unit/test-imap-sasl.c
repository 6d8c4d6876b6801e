/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib-object.h>
#include <string.h>

#include "pr-error.h"
#include "pr-imap-sasl.h"

/* RFC 7677 section 3 */
#define RFC7677_NONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC7677_SERVER_FIRST                                                                       \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC7677_CLIENT_FINAL                                                                       \
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+"           \
	"Ute9ytag9zjfMH"                                                                           \
	"gsqmmiz7AndVQ="
#define RFC7677_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static GBytes *
bytes_from_str(const gchar *str)
{
	return g_bytes_new(str, strlen(str));
}

static void
assert_bytes(GBytes *bytes, const gchar *expected, gsize len)
{
	gsize got_len = 0;
	const gchar *got;

	g_assert_nonnull(bytes);
	got = g_bytes_get_data(bytes, &got_len);
	g_assert_cmpmem(got, got_len, expected, len);
}

/* One step with a text challenge (NULL for the initial step). */
static GBytes *
step_str(PrImapSasl *sasl, const gchar *challenge, GError **error)
{
	g_autoptr(GBytes) c = challenge != NULL ? bytes_from_str(challenge) : NULL;
	return pr_imap_sasl_step(sasl, c, error);
}

static PrImapSasl *
sasl_new(const gchar *mech, const gchar *user, const gchar *secret)
{
	g_autoptr(GError) error = NULL;
	PrImapSasl *sasl = pr_imap_sasl_new(mech, user, secret, "imap.example.com", 993, &error);
	g_assert_no_error(error);
	g_assert_nonnull(sasl);
	return sasl;
}

static void
test_sasl_supported(void)
{
	g_assert_true(pr_imap_sasl_is_supported("PLAIN"));
	g_assert_true(pr_imap_sasl_is_supported("plain"));
	g_assert_true(pr_imap_sasl_is_supported("LOGIN"));
	g_assert_true(pr_imap_sasl_is_supported("CRAM-MD5"));
	g_assert_true(pr_imap_sasl_is_supported("scram-sha-256"));
	g_assert_true(pr_imap_sasl_is_supported("XOAUTH2"));
	g_assert_true(pr_imap_sasl_is_supported("OAUTHBEARER"));
	g_assert_false(pr_imap_sasl_is_supported("SCRAM-SHA-1"));
	g_assert_false(pr_imap_sasl_is_supported("GSSAPI"));
	g_assert_false(pr_imap_sasl_is_supported(""));
	g_assert_false(pr_imap_sasl_is_supported(NULL));
}

static void
assert_choose(const gchar *wanted, const gchar *const *offered, const gchar *expected)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *got = pr_imap_sasl_choose(wanted, offered, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(got, ==, expected);
}

static void
assert_choose_error(const gchar *wanted, const gchar *const *offered, gint code)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *got = pr_imap_sasl_choose(wanted, offered, &error);
	g_assert_error(error, PR_ERROR, code);
	g_assert_null(got);
}

static void
test_sasl_choose(void)
{
	const gchar *all[] = { "XOAUTH2", "CRAM-MD5", "LOGIN", "PLAIN", "SCRAM-SHA-256", NULL };
	const gchar *no_scram[] = { "LOGIN", "PLAIN", "CRAM-MD5", NULL };
	const gchar *login_cram[] = { "CRAM-MD5", "login", NULL };
	const gchar *cram[] = { "CRAM-MD5", NULL };
	const gchar *oauth[] = { "XOAUTH2", "OAUTHBEARER", NULL };
	const gchar *prefixed[] = { "AUTH=PLAIN", "AUTH=SCRAM-SHA-1", NULL };
	const gchar *none[] = { NULL };
	g_autoptr(GError) error = NULL;
	g_autofree gchar *got = NULL;

	assert_choose("auto", all, "SCRAM-SHA-256");
	assert_choose("AUTO", no_scram, "PLAIN");
	assert_choose("auto", login_cram, "LOGIN");
	assert_choose("auto", cram, "CRAM-MD5");
	assert_choose("auto", prefixed, "PLAIN");
	/* auto never picks OAuth: a password is not a token */
	assert_choose_error("auto", oauth, PR_ERROR_LOGIN_FAILED);
	/* nothing offered: the caller falls back to the LOGIN command */
	assert_choose("auto", none, NULL);
	assert_choose("auto", NULL, NULL);

	assert_choose("plain", all, "PLAIN");
	assert_choose("login", all, "LOGIN");
	assert_choose("cram-md5", all, "CRAM-MD5");
	assert_choose("scram-sha-256", all, "SCRAM-SHA-256");
	assert_choose("xoauth2", oauth, "XOAUTH2");
	assert_choose("oauthbearer", oauth, "OAUTHBEARER");
	assert_choose("SCRAM-SHA-256", all, "SCRAM-SHA-256");

	/* an explicit choice that is not offered fails and says which */
	got = pr_imap_sasl_choose("scram-sha-256", no_scram, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_LOGIN_FAILED);
	g_assert_nonnull(strstr(error->message, "SCRAM-SHA-256"));
	g_assert_null(got);
	assert_choose_error("xoauth2", all + 1, PR_ERROR_LOGIN_FAILED);
	assert_choose_error("plain", none, PR_ERROR_LOGIN_FAILED);
	assert_choose_error("plain", NULL, PR_ERROR_LOGIN_FAILED);

	assert_choose_error("gssapi", all, PR_ERROR_INVALID_ARGUMENT);
	assert_choose_error("", all, PR_ERROR_INVALID_ARGUMENT);
	assert_choose_error("scram-sha-1", all, PR_ERROR_INVALID_ARGUMENT);
}

static void
test_sasl_new_invalid(void)
{
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;
	g_autoptr(GError) e3 = NULL;
	g_autoptr(GError) e4 = NULL;
	g_autoptr(GError) e5 = NULL;
	g_autoptr(PrImapSasl) s1 = pr_imap_sasl_new("GSSAPI", "u", "p", NULL, 0, &e1);
	g_autoptr(PrImapSasl) s2 = pr_imap_sasl_new("PLAIN", NULL, "p", NULL, 0, &e2);
	g_autoptr(PrImapSasl) s3 = pr_imap_sasl_new("PLAIN", "u", NULL, NULL, 0, &e3);
	g_autoptr(PrImapSasl) s4 = pr_imap_sasl_new("XOAUTH2", "u\001auth=x", "t", NULL, 0, &e4);
	g_autoptr(PrImapSasl) s5 = pr_imap_sasl_new("PLAIN", "\xff", "p", NULL, 0, &e5);

	g_assert_null(s1);
	g_assert_error(e1, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	g_assert_null(s2);
	g_assert_error(e2, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	g_assert_null(s3);
	g_assert_error(e3, PR_ERROR, PR_ERROR_NO_PASSWORD);
	g_assert_null(s4);
	g_assert_error(e4, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	g_assert_null(s5);
	g_assert_error(e5, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
}

static void
test_sasl_plain(void)
{
	g_autoptr(PrImapSasl) sasl = sasl_new("plain", "joe", "p a\"ss wörd");
	g_autoptr(PrImapSasl) sasl2 = sasl_new("PLAIN", "joe", "secret");
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) r1 = NULL;
	g_autoptr(GBytes) r2 = NULL;
	g_autoptr(GBytes) r3 = NULL;

	g_assert_cmpstr(pr_imap_sasl_get_mechanism(sasl), ==, "PLAIN");
	g_assert_true(pr_imap_sasl_has_initial_response(sasl));
	g_assert_false(pr_imap_sasl_is_complete(sasl));
	r1 = pr_imap_sasl_step(sasl, NULL, &error);
	g_assert_no_error(error);
	assert_bytes(r1, "\0joe\0p a\"ss wörd", 17);
	g_assert_true(pr_imap_sasl_is_complete(sasl));
	/* no second round */
	r2 = step_str(sasl, "", &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	g_assert_null(r2);
	g_clear_error(&error);

	/* without SASL-IR the server sends an empty challenge first */
	r3 = step_str(sasl2, "", &error);
	g_assert_no_error(error);
	assert_bytes(r3, "\0joe\0secret", 11);
}

static void
test_sasl_login(void)
{
	g_autoptr(PrImapSasl) sasl = sasl_new("LOGIN", "joe", "secret");
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) r0 = NULL;
	g_autoptr(GBytes) r1 = NULL;
	g_autoptr(GBytes) r2 = NULL;
	g_autoptr(GBytes) r3 = NULL;

	g_assert_false(pr_imap_sasl_has_initial_response(sasl));
	r0 = pr_imap_sasl_step(sasl, NULL, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	g_assert_null(r0);
	g_clear_error(&error);

	/* answered by order: these prompts are deliberately the wrong way round */
	r1 = step_str(sasl, "Password:", &error);
	g_assert_no_error(error);
	assert_bytes(r1, "joe", 3);
	g_assert_false(pr_imap_sasl_is_complete(sasl));
	r2 = step_str(sasl, "Username:", &error);
	g_assert_no_error(error);
	assert_bytes(r2, "secret", 6);
	g_assert_true(pr_imap_sasl_is_complete(sasl));
	r3 = step_str(sasl, "More:", &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	g_assert_null(r3);
}

/* RFC 2195 section 2 */
static void
test_sasl_cram_md5(void)
{
	g_autoptr(PrImapSasl) sasl = sasl_new("CRAM-MD5", "tim", "tanstaaftanstaaf");
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) r1 = NULL;
	g_autoptr(GBytes) r2 = NULL;
	const gchar *expected = "tim b913a602c7eda7a495b4e6e7334d3890";

	g_assert_false(pr_imap_sasl_has_initial_response(sasl));
	r1 = step_str(sasl, "<1896.697170952@postoffice.reston.mci.net>", &error);
	g_assert_no_error(error);
	assert_bytes(r1, expected, strlen(expected));
	g_assert_true(pr_imap_sasl_is_complete(sasl));
	r2 = step_str(sasl, "<1896.697170952@postoffice.reston.mci.net>", &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	g_assert_null(r2);
}

static void
test_sasl_xoauth2(void)
{
	g_autoptr(PrImapSasl) sasl = sasl_new("XOAUTH2", "someuser@example.com", "ya29.vF9dft4");
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) r1 = NULL;
	g_autoptr(GBytes) r2 = NULL;
	g_autoptr(GBytes) r3 = NULL;
	const gchar *expected = "user=someuser@example.com\001auth=Bearer ya29.vF9dft4\001\001";

	g_assert_true(pr_imap_sasl_has_initial_response(sasl));
	r1 = pr_imap_sasl_step(sasl, NULL, &error);
	g_assert_no_error(error);
	assert_bytes(r1, expected, strlen(expected));
	g_assert_true(pr_imap_sasl_is_complete(sasl));

	/* error challenge: an empty response, then the server's NO ends it */
	r2 = step_str(sasl,
		      "{\"status\":\"401\",\"schemes\":\"Bearer\",\"scope\":\"https://"
		      "mail.google.com/\"}",
		      &error);
	g_assert_no_error(error);
	assert_bytes(r2, "", 0);
	g_assert_false(pr_imap_sasl_is_complete(sasl));
	r3 = step_str(sasl, "{}", &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_LOGIN_FAILED);
	g_assert_null(r3);
}

/* RFC 7628 section 4.1, with our host and port */
static void
test_sasl_oauthbearer(void)
{
	g_autoptr(PrImapSasl) sasl = sasl_new(
		"OAUTHBEARER", "user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
	g_autoptr(PrImapSasl) escaped = NULL;
	g_autoptr(PrImapSasl) nohost = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) r1 = NULL;
	g_autoptr(GBytes) r2 = NULL;
	g_autoptr(GBytes) r3 = NULL;
	g_autoptr(GBytes) e1 = NULL;
	g_autoptr(GBytes) n1 = NULL;
	const gchar *expected = "n,a=user@example.com,\001host=imap.example.com\001port=993\001"
				"auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\001\001";
	const gchar *expected_escaped = "n,a=a=3Db=2Cc,\001host=imap.example.com\001port=993\001"
					"auth=Bearer t\001\001";
	const gchar *expected_nohost = "n,a=u,\001auth=Bearer t\001\001";

	r1 = pr_imap_sasl_step(sasl, NULL, &error);
	g_assert_no_error(error);
	assert_bytes(r1, expected, strlen(expected));
	g_assert_true(pr_imap_sasl_is_complete(sasl));
	r2 = step_str(sasl,
		      "{\"status\":\"invalid_token\",\"scope\":\"example_scope\","
		      "\"openid-configuration\":\"https://example.com/.well-known/"
		      "openid-configuration\"}",
		      &error);
	g_assert_no_error(error);
	assert_bytes(r2, "\001", 1);
	g_assert_false(pr_imap_sasl_is_complete(sasl));
	r3 = step_str(sasl, "{}", &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_LOGIN_FAILED);
	g_assert_null(r3);
	g_clear_error(&error);

	escaped = sasl_new("OAUTHBEARER", "a=b,c", "t");
	e1 = pr_imap_sasl_step(escaped, NULL, &error);
	g_assert_no_error(error);
	assert_bytes(e1, expected_escaped, strlen(expected_escaped));

	nohost = pr_imap_sasl_new("OAUTHBEARER", "u", "t", NULL, 0, &error);
	g_assert_no_error(error);
	n1 = pr_imap_sasl_step(nohost, NULL, &error);
	g_assert_no_error(error);
	assert_bytes(n1, expected_nohost, strlen(expected_nohost));
}

static PrImapSasl *
scram_new(const gchar *user, const gchar *password, const gchar *nonce)
{
	PrImapSasl *sasl = sasl_new("SCRAM-SHA-256", user, password);
	if (nonce != NULL)
		pr_imap_sasl_set_nonce_for_testing(sasl, nonce);
	return sasl;
}

/* Runs the RFC 7677 exchange up to the client-final message. */
static PrImapSasl *
scram_rfc7677_to_final(void)
{
	PrImapSasl *sasl = scram_new("user", "pencil", RFC7677_NONCE);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) first = NULL;
	g_autoptr(GBytes) final = NULL;

	first = pr_imap_sasl_step(sasl, NULL, &error);
	g_assert_no_error(error);
	assert_bytes(first, "n,,n=user,r=" RFC7677_NONCE, strlen("n,,n=user,r=" RFC7677_NONCE));
	final = step_str(sasl, RFC7677_SERVER_FIRST, &error);
	g_assert_no_error(error);
	assert_bytes(final, RFC7677_CLIENT_FINAL, strlen(RFC7677_CLIENT_FINAL));
	g_assert_false(pr_imap_sasl_is_complete(sasl));
	return sasl;
}

static void
test_sasl_scram_rfc7677(void)
{
	g_autoptr(PrImapSasl) sasl = scram_rfc7677_to_final();
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) last = NULL;
	g_autoptr(GBytes) extra = NULL;

	g_assert_true(pr_imap_sasl_has_initial_response(sasl));
	last = step_str(sasl, RFC7677_SERVER_FINAL, &error);
	g_assert_no_error(error);
	assert_bytes(last, "", 0);
	g_assert_true(pr_imap_sasl_is_complete(sasl));
	extra = step_str(sasl, RFC7677_SERVER_FINAL, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	g_assert_null(extra);
}

/* Computed independently with Python's hashlib: escaping in the user name, UTF-8 in the
 * password, an extension attribute after i=. */
static void
test_sasl_scram_escaping(void)
{
	g_autoptr(PrImapSasl) sasl =
		scram_new("jo,e=x@example.com", "pässwörd", "fyko+d2lbbFgONRv9qkxdawL");
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) first = NULL;
	g_autoptr(GBytes) final = NULL;
	g_autoptr(GBytes) last = NULL;
	const gchar *expected_first = "n,,n=jo=2Ce=3Dx@example.com,r=fyko+d2lbbFgONRv9qkxdawL";
	const gchar *expected_final = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
				      "p=lH2QaHRuRll+fDIjJZAzuso06mOuNPh6FAss5Zrqu0M=";

	first = pr_imap_sasl_step(sasl, NULL, &error);
	g_assert_no_error(error);
	assert_bytes(first, expected_first, strlen(expected_first));
	final = step_str(
		sasl,
		"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,x=ext",
		&error);
	g_assert_no_error(error);
	assert_bytes(final, expected_final, strlen(expected_final));
	last = step_str(sasl, "v=azI2XG7HOCo25WE4Wdw+//0xDuGzhXz6T4MQchttL+Y=", &error);
	g_assert_no_error(error);
	g_assert_true(pr_imap_sasl_is_complete(sasl));
}

static void
test_sasl_scram_random_nonce(void)
{
	g_autoptr(PrImapSasl) a = scram_new("user", "pencil", NULL);
	g_autoptr(PrImapSasl) b = scram_new("user", "pencil", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) fa = pr_imap_sasl_step(a, NULL, &error);
	g_autoptr(GBytes) fb = pr_imap_sasl_step(b, NULL, &error);
	g_autofree gchar *sa = NULL;
	g_autofree gchar *sb = NULL;
	gsize la = 0;
	gsize lb = 0;
	const gchar *da = g_bytes_get_data(fa, &la);
	const gchar *db = g_bytes_get_data(fb, &lb);

	g_assert_no_error(error);
	sa = g_strndup(da, la);
	sb = g_strndup(db, lb);
	/* "n,,n=user,r=" then base64 of 24 bytes: 32 characters */
	g_assert_true(g_str_has_prefix(sa, "n,,n=user,r="));
	g_assert_cmpuint(strlen(sa), ==, 12 + 32);
	g_assert_null(strchr(sa + 12, ','));
	g_assert_null(strchr(sa + 12, '='));
	g_assert_cmpstr(sa, !=, sb);
}

/* Each bad server-first message fails the login and the exchange stays failed. */
static void
test_sasl_scram_bad_server_first(void)
{
	const gchar *bad[] = {
		"",
		"r=" RFC7677_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==",	       /* no i= */
		"r=" RFC7677_NONCE "xyz,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==",    /* order */
		"r=" RFC7677_NONCE ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",       /* not extended */
		"r=XXXXXXXXXXXXXXXXXXXXxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", /* not ours */
		"r=" RFC7677_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095",    /* too few */
		"r=" RFC7677_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001", /* too many */
		"r=" RFC7677_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999",
		"r=" RFC7677_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=04096",
		"r=" RFC7677_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096x",
		"r=" RFC7677_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
		"r=" RFC7677_NONCE "xyz,s=W22Za!0SNY7soEsUEjb6gQ==,i=4096", /* bad base64 */
		"r=" RFC7677_NONCE "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096",  /* bad length */
		"r=" RFC7677_NONCE "xyz,s=,i=4096",			    /* empty salt */
		"m=required,r=" RFC7677_NONCE
		"xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", /* mandatory ext */
		"e=other-error",
	};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(PrImapSasl) sasl = scram_new("user", "pencil", RFC7677_NONCE);
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) first = pr_imap_sasl_step(sasl, NULL, &error);
		g_autoptr(GBytes) final = NULL;
		g_autoptr(GBytes) again = NULL;

		g_assert_no_error(error);
		final = step_str(sasl, bad[i], &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_LOGIN_FAILED);
		g_assert_null(final);
		g_clear_error(&error);
		again = step_str(sasl, RFC7677_SERVER_FIRST, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_LOGIN_FAILED);
		g_assert_null(again);
		g_assert_false(pr_imap_sasl_is_complete(sasl));
	}
}

static void
test_sasl_scram_bad_server_final(void)
{
	const gchar *bad[] = {
		"v=6rrjTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", /* one bit off */
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=", /* non-zero padding bits */
		"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl9", /* truncated */
		"v=",
		"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=x",
		"e=invalid-proof",
		"x=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		"",
	};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(PrImapSasl) sasl = scram_rfc7677_to_final();
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) last = step_str(sasl, bad[i], &error);

		g_assert_error(error, PR_ERROR, PR_ERROR_LOGIN_FAILED);
		g_assert_null(last);
		g_assert_false(pr_imap_sasl_is_complete(sasl));
	}
}

static void
test_sasl_scram_error_message(void)
{
	g_autoptr(PrImapSasl) sasl = scram_rfc7677_to_final();
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) last = step_str(sasl, "e=invalid-proof", &error);

	g_assert_error(error, PR_ERROR, PR_ERROR_LOGIN_FAILED);
	g_assert_nonnull(strstr(error->message, "invalid-proof"));
	g_assert_null(strstr(error->message, "pencil"));
	g_assert_null(last);
}

/* An embedded NUL would hide the rest of the message from the parser. */
static void
test_sasl_scram_nul(void)
{
	g_autoptr(PrImapSasl) sasl = scram_new("user", "pencil", RFC7677_NONCE);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) first = pr_imap_sasl_step(sasl, NULL, &error);
	g_autoptr(GBytes) challenge = g_bytes_new(RFC7677_SERVER_FIRST "\0,x=y",
						  sizeof(RFC7677_SERVER_FIRST "\0,x=y") - 1);
	g_autoptr(GBytes) final = pr_imap_sasl_step(sasl, challenge, &error);

	g_assert_error(error, PR_ERROR, PR_ERROR_LOGIN_FAILED);
	g_assert_null(final);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap/sasl/supported", test_sasl_supported);
	g_test_add_func("/imap/sasl/choose", test_sasl_choose);
	g_test_add_func("/imap/sasl/new-invalid", test_sasl_new_invalid);
	g_test_add_func("/imap/sasl/plain", test_sasl_plain);
	g_test_add_func("/imap/sasl/login", test_sasl_login);
	g_test_add_func("/imap/sasl/cram-md5", test_sasl_cram_md5);
	g_test_add_func("/imap/sasl/xoauth2", test_sasl_xoauth2);
	g_test_add_func("/imap/sasl/oauthbearer", test_sasl_oauthbearer);
	g_test_add_func("/imap/sasl/scram-rfc7677", test_sasl_scram_rfc7677);
	g_test_add_func("/imap/sasl/scram-escaping", test_sasl_scram_escaping);
	g_test_add_func("/imap/sasl/scram-random-nonce", test_sasl_scram_random_nonce);
	g_test_add_func("/imap/sasl/scram-bad-server-first", test_sasl_scram_bad_server_first);
	g_test_add_func("/imap/sasl/scram-bad-server-final", test_sasl_scram_bad_server_final);
	g_test_add_func("/imap/sasl/scram-error-message", test_sasl_scram_error_message);
	g_test_add_func("/imap/sasl/scram-nul", test_sasl_scram_nul);
	return g_test_run();
}
