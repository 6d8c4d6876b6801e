/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Client side of the SASL mechanisms we speak. Responses that carry a secret are GBytes
 * whose memory is wiped when the last reference goes; nothing here logs a secret or a
 * response.
 *
 * SCRAM-SHA-256 uses the password's UTF-8 bytes as given: RFC 5802 asks for SASLprep, but
 * no SASLprep implementation is among our dependencies. ASCII passwords, the common case,
 * are unaffected; a password whose SASLprep form differs will fail to authenticate rather
 * than authenticate wrongly.
 */
#define G_LOG_DOMAIN "PrImap"

#include <glib/gi18n-lib.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "pr-error.h"
#include "pr-imap-sasl.h"

#define PR_IMAP_SCRAM_NONCE_BYTES 24
#define PR_IMAP_SCRAM_HASH_LEN	  32
/* RFC 7677 asks for at least 4096; the top bound stops a server from making us spin. */
#define PR_IMAP_SCRAM_MIN_ITERATIONS 4096
#define PR_IMAP_SCRAM_MAX_ITERATIONS 1000000
/* Challenges are small; a huge one is an attack on our parser or our memory. */
#define PR_IMAP_SASL_MAX_CHALLENGE (64 * 1024)

typedef enum {
	PR_IMAP_SASL_MECH_PLAIN,
	PR_IMAP_SASL_MECH_LOGIN,
	PR_IMAP_SASL_MECH_CRAM_MD5,
	PR_IMAP_SASL_MECH_SCRAM_SHA_256,
	PR_IMAP_SASL_MECH_XOAUTH2,
	PR_IMAP_SASL_MECH_OAUTHBEARER,
} PrImapSaslMech;

/* Indexed by PrImapSaslMech. */
static const struct {
	PrImapSaslMech mech;
	const gchar *name;    /* as IMAP spells it */
	const gchar *setting; /* the configuration value */
	gboolean initial;     /* the client speaks first */
} pr_imap_sasl_mechs[] = {
	{ PR_IMAP_SASL_MECH_PLAIN, PR_IMAP_SASL_PLAIN, "plain", TRUE },
	{ PR_IMAP_SASL_MECH_LOGIN, PR_IMAP_SASL_LOGIN, "login", FALSE },
	{ PR_IMAP_SASL_MECH_CRAM_MD5, PR_IMAP_SASL_CRAM_MD5, "cram-md5", FALSE },
	{ PR_IMAP_SASL_MECH_SCRAM_SHA_256, PR_IMAP_SASL_SCRAM_SHA_256, "scram-sha-256", TRUE },
	{ PR_IMAP_SASL_MECH_XOAUTH2, PR_IMAP_SASL_XOAUTH2, "xoauth2", TRUE },
	{ PR_IMAP_SASL_MECH_OAUTHBEARER, PR_IMAP_SASL_OAUTHBEARER, "oauthbearer", TRUE },
};

/* "auto" order: strongest password mechanism first; OAuth needs a token, not a password. */
static const PrImapSaslMech pr_imap_sasl_auto_order[] = {
	PR_IMAP_SASL_MECH_SCRAM_SHA_256,
	PR_IMAP_SASL_MECH_PLAIN,
	PR_IMAP_SASL_MECH_LOGIN,
	PR_IMAP_SASL_MECH_CRAM_MD5,
};

struct _PrImapSasl {
	GObject parent_instance;
	PrImapSaslMech mech;
	gchar *user;
	gchar *secret;
	gchar *host;
	guint16 port;
	guint step;
	gboolean complete;
	gboolean failed;
	/* SCRAM */
	gchar *nonce;		  /* client nonce */
	gchar *client_first_bare; /* for the AuthMessage */
	guint8 server_signature[PR_IMAP_SCRAM_HASH_LEN];
};

G_DEFINE_TYPE(PrImapSasl, pr_imap_sasl, G_TYPE_OBJECT)

static void
pr_imap_sasl_wipe_string(gchar *str)
{
	if (str != NULL)
		explicit_bzero(str, strlen(str));
}

/* A buffer that wipes itself when its GBytes is freed. */
typedef struct {
	gsize len;
	guint8 data[];
} PrImapSaslBuffer;

static void
pr_imap_sasl_buffer_wipe_free(gpointer data)
{
	PrImapSaslBuffer *buf = data;
	explicit_bzero(buf->data, buf->len);
	g_free(buf);
}

/* Response bytes that may hold a secret: the copy is wiped when released. */
static GBytes *
pr_imap_sasl_secret_bytes_new(const gchar *data, gsize len)
{
	PrImapSaslBuffer *buf = g_malloc(sizeof(PrImapSaslBuffer) + len + 1);
	buf->len = len;
	if (len > 0)
		memcpy(buf->data, data, len);
	return g_bytes_new_with_free_func(buf->data, len, pr_imap_sasl_buffer_wipe_free, buf);
}

/* Same, taking a GString whose contents are wiped here. */
static GBytes *
pr_imap_sasl_secret_bytes_from_string(GString *str)
{
	GBytes *bytes = pr_imap_sasl_secret_bytes_new(str->str, str->len);
	explicit_bzero(str->str, str->allocated_len);
	g_string_free(str, TRUE);
	return bytes;
}

static void
pr_imap_sasl_finalize(GObject *object)
{
	PrImapSasl *self = PR_IMAP_SASL(object);

	pr_imap_sasl_wipe_string(self->secret);
	explicit_bzero(self->server_signature, sizeof(self->server_signature));
	g_free(self->user);
	g_free(self->secret);
	g_free(self->host);
	g_free(self->nonce);
	g_free(self->client_first_bare);
	G_OBJECT_CLASS(pr_imap_sasl_parent_class)->finalize(object);
}

static void
pr_imap_sasl_class_init(PrImapSaslClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = pr_imap_sasl_finalize;
}

static void
pr_imap_sasl_init(PrImapSasl *self)
{
}

static gboolean
pr_imap_sasl_lookup(const gchar *mechanism, PrImapSaslMech *mech)
{
	if (mechanism == NULL)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(pr_imap_sasl_mechs); i++) {
		if (g_ascii_strcasecmp(mechanism, pr_imap_sasl_mechs[i].name) == 0) {
			*mech = pr_imap_sasl_mechs[i].mech;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
pr_imap_sasl_is_supported(const gchar *mechanism)
{
	PrImapSaslMech mech;
	return pr_imap_sasl_lookup(mechanism, &mech);
}

/* Matches a server capability, with or without its "AUTH=" prefix. */
static gboolean
pr_imap_sasl_is_offered(const gchar *const *offered, const gchar *name)
{
	if (offered == NULL)
		return FALSE;
	for (guint i = 0; offered[i] != NULL; i++) {
		const gchar *o = offered[i];
		if (g_ascii_strncasecmp(o, "AUTH=", 5) == 0)
			o += 5;
		if (g_ascii_strcasecmp(o, name) == 0)
			return TRUE;
	}
	return FALSE;
}

gchar *
pr_imap_sasl_choose(const gchar *wanted, const gchar *const *offered, GError **error)
{
	const gchar *name = NULL;

	if (wanted == NULL || g_ascii_strcasecmp(wanted, "auto") == 0) {
		if (offered == NULL || offered[0] == NULL)
			return NULL;
		for (guint i = 0; i < G_N_ELEMENTS(pr_imap_sasl_auto_order); i++) {
			const gchar *candidate =
				pr_imap_sasl_mechs[pr_imap_sasl_auto_order[i]].name;
			if (pr_imap_sasl_is_offered(offered, candidate))
				return g_strdup(candidate);
		}
		g_set_error_literal(
			error,
			PR_ERROR,
			PR_ERROR_LOGIN_FAILED,
			_("the server offers no supported password authentication mechanism"));
		return NULL;
	}

	for (guint i = 0; i < G_N_ELEMENTS(pr_imap_sasl_mechs); i++) {
		if (g_ascii_strcasecmp(wanted, pr_imap_sasl_mechs[i].setting) == 0) {
			name = pr_imap_sasl_mechs[i].name;
			break;
		}
	}
	if (name == NULL) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    "unknown authentication mechanism setting \"%s\"",
			    wanted);
		return NULL;
	}
	if (!pr_imap_sasl_is_offered(offered, name)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_LOGIN_FAILED,
			    _("the server does not offer the %s authentication mechanism"),
			    name);
		return NULL;
	}
	return g_strdup(name);
}

PrImapSasl *
pr_imap_sasl_new(const gchar *mechanism,
		 const gchar *user,
		 const gchar *secret,
		 const gchar *host,
		 guint16 port,
		 GError **error)
{
	g_autoptr(PrImapSasl) self = NULL;
	PrImapSaslMech mech;

	if (!pr_imap_sasl_lookup(mechanism, &mech)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    "unsupported authentication mechanism \"%s\"",
			    mechanism != NULL ? mechanism : "(null)");
		return NULL;
	}
	if (user == NULL || !g_utf8_validate(user, -1, NULL)) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    "the user name is missing or not valid UTF-8");
		return NULL;
	}
	if (secret == NULL) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_NO_PASSWORD,
				    "no password or token for authentication");
		return NULL;
	}
	/* the OAuth formats use ^A as separator: one inside a value would forge a field */
	if ((mech == PR_IMAP_SASL_MECH_XOAUTH2 || mech == PR_IMAP_SASL_MECH_OAUTHBEARER) &&
	    (strchr(user, '\001') != NULL || strchr(secret, '\001') != NULL ||
	     (host != NULL && strchr(host, '\001') != NULL))) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    "user name, token or host contains a control character");
		return NULL;
	}

	self = g_object_new(PR_TYPE_IMAP_SASL, NULL);
	self->mech = mech;
	self->user = g_strdup(user);
	self->secret = g_strdup(secret);
	self->host = g_strdup(host);
	self->port = port;
	return g_steal_pointer(&self);
}

const gchar *
pr_imap_sasl_get_mechanism(PrImapSasl *self)
{
	g_return_val_if_fail(PR_IS_IMAP_SASL(self), NULL);
	return pr_imap_sasl_mechs[self->mech].name;
}

gboolean
pr_imap_sasl_has_initial_response(PrImapSasl *self)
{
	g_return_val_if_fail(PR_IS_IMAP_SASL(self), FALSE);
	return pr_imap_sasl_mechs[self->mech].initial;
}

/* After an OAuth error challenge this is FALSE again: the server has refused the token. */
gboolean
pr_imap_sasl_is_complete(PrImapSasl *self)
{
	g_return_val_if_fail(PR_IS_IMAP_SASL(self), FALSE);
	return self->complete && !self->failed;
}

/* For tests only: a fixed SCRAM client nonce so published vectors can be replayed. */
void
pr_imap_sasl_set_nonce_for_testing(PrImapSasl *self, const gchar *nonce)
{
	g_return_if_fail(PR_IS_IMAP_SASL(self));
	g_free(self->nonce);
	self->nonce = g_strdup(nonce);
}

static gboolean
pr_imap_sasl_unexpected(PrImapSasl *self, GError **error)
{
	g_set_error(error,
		    PR_ERROR,
		    PR_ERROR_PROTOCOL_ERROR,
		    "unexpected %s challenge after the exchange ended",
		    pr_imap_sasl_mechs[self->mech].name);
	return FALSE;
}

/* RFC 4616: [authzid] NUL authcid NUL passwd, with an empty authzid. */
static GBytes *
pr_imap_sasl_step_plain(PrImapSasl *self, GError **error)
{
	GString *str;

	if (self->step > 0) {
		pr_imap_sasl_unexpected(self, error);
		return NULL;
	}
	str = g_string_new(NULL);
	g_string_append_c(str, '\0');
	g_string_append(str, self->user);
	g_string_append_c(str, '\0');
	g_string_append(str, self->secret);
	self->complete = TRUE;
	return pr_imap_sasl_secret_bytes_from_string(str);
}

/* The prompts' wording varies between servers ("Username:", "VXNlcm5hbWU6" decoded,
 * localised text): answer by position. */
static GBytes *
pr_imap_sasl_step_login(PrImapSasl *self, GBytes *challenge, GError **error)
{
	if (challenge == NULL) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    "LOGIN needs the server's prompt first");
		return NULL;
	}
	if (self->step == 0)
		return pr_imap_sasl_secret_bytes_new(self->user, strlen(self->user));
	if (self->step == 1) {
		self->complete = TRUE;
		return pr_imap_sasl_secret_bytes_new(self->secret, strlen(self->secret));
	}
	pr_imap_sasl_unexpected(self, error);
	return NULL;
}

/* RFC 2195: "user " + hex HMAC-MD5(password, challenge). */
static GBytes *
pr_imap_sasl_step_cram_md5(PrImapSasl *self, GBytes *challenge, GError **error)
{
	g_autoptr(GHmac) hmac = NULL;
	g_autofree gchar *response = NULL;
	gsize len = 0;
	const guint8 *data;

	if (challenge == NULL) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    "CRAM-MD5 needs the server's challenge first");
		return NULL;
	}
	if (self->step > 0) {
		pr_imap_sasl_unexpected(self, error);
		return NULL;
	}
	data = g_bytes_get_data(challenge, &len);
	hmac = g_hmac_new(G_CHECKSUM_MD5, (const guchar *)self->secret, strlen(self->secret));
	g_hmac_update(hmac, data, (gssize)len);
	response = g_strdup_printf("%s %s", self->user, g_hmac_get_string(hmac));
	self->complete = TRUE;
	len = strlen(response);
	return g_bytes_new_take(g_steal_pointer(&response), len);
}

/* Google's XOAUTH2: after an error challenge (JSON) the client sends an empty response
 * and the server answers NO, which the client reports as LoginFailed. */
static GBytes *
pr_imap_sasl_step_xoauth2(PrImapSasl *self, GBytes *challenge, GError **error)
{
	GString *str;

	if (self->step == 0 && challenge != NULL && g_bytes_get_size(challenge) > 0) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_PROTOCOL_ERROR,
				    "unexpected XOAUTH2 challenge before the initial response");
		return NULL;
	}
	if (self->step == 1) {
		self->failed = TRUE;
		return g_bytes_new(NULL, 0);
	}
	if (self->step > 1) {
		pr_imap_sasl_unexpected(self, error);
		return NULL;
	}
	str = g_string_new(NULL);
	g_string_append_printf(str, "user=%s\001auth=Bearer %s\001\001", self->user, self->secret);
	self->complete = TRUE;
	return pr_imap_sasl_secret_bytes_from_string(str);
}

/* RFC 5802 saslname: ',' and '=' are escaped as "=2C" and "=3D". */
static void
pr_imap_sasl_append_saslname(GString *str, const gchar *name)
{
	for (const gchar *p = name; *p != '\0'; p++) {
		if (*p == ',')
			g_string_append(str, "=2C");
		else if (*p == '=')
			g_string_append(str, "=3D");
		else
			g_string_append_c(str, *p);
	}
}

/* RFC 7628: gs2 header, then host, port and auth fields, each ended by ^A. */
static GBytes *
pr_imap_sasl_step_oauthbearer(PrImapSasl *self, GBytes *challenge, GError **error)
{
	GString *str;

	if (self->step == 0 && challenge != NULL && g_bytes_get_size(challenge) > 0) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_PROTOCOL_ERROR,
				    "unexpected OAUTHBEARER challenge before the initial response");
		return NULL;
	}
	if (self->step == 1) {
		/* RFC 7628 3.2.3: a lone ^A acknowledges the error; the server then fails us */
		self->failed = TRUE;
		return g_bytes_new("\001", 1);
	}
	if (self->step > 1) {
		pr_imap_sasl_unexpected(self, error);
		return NULL;
	}
	str = g_string_new("n,a=");
	pr_imap_sasl_append_saslname(str, self->user);
	g_string_append(str, ",\001");
	if (self->host != NULL)
		g_string_append_printf(str, "host=%s\001", self->host);
	if (self->port != 0)
		g_string_append_printf(str, "port=%u\001", self->port);
	g_string_append_printf(str, "auth=Bearer %s\001\001", self->secret);
	self->complete = TRUE;
	return pr_imap_sasl_secret_bytes_from_string(str);
}

static gboolean
pr_imap_sasl_is_base64_char(gchar c)
{
	return g_ascii_isalnum(c) || c == '+' || c == '/';
}

/* g_base64_decode() skips invalid characters silently: check the text first. */
static guint8 *
pr_imap_sasl_base64_decode_strict(const gchar *text, gsize len, gsize *out_len)
{
	g_autofree gchar *copy = NULL;
	gsize pad = 0;

	if (len == 0 || len % 4 != 0)
		return NULL;
	if (text[len - 1] == '=')
		pad++;
	if (len >= 2 && text[len - 2] == '=')
		pad++;
	for (gsize i = 0; i < len - pad; i++) {
		if (!pr_imap_sasl_is_base64_char(text[i]))
			return NULL;
	}
	/* the unused low bits of the last character must be zero: one encoding per value */
	if (pad > 0) {
		const gchar *alphabet =
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		gsize v = (gsize)(strchr(alphabet, text[len - pad - 1]) - alphabet);
		if ((v & (pad == 1 ? 0x3 : 0xf)) != 0)
			return NULL;
	}
	copy = g_strndup(text, len);
	return g_base64_decode(copy, out_len);
}

/* Returns the value of "@key=value" in @attrs (a NULL-terminated list), or NULL. */
static const gchar *
pr_imap_sasl_scram_attr(gchar **attrs, gchar key)
{
	for (guint i = 0; attrs[i] != NULL; i++) {
		if (attrs[i][0] == key && attrs[i][1] == '=')
			return attrs[i] + 2;
	}
	return NULL;
}

static gboolean
pr_imap_sasl_hmac(const guint8 *key, gsize key_len, const gchar *text, gsize len, guint8 *out)
{
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, key_len, text, len, out) == 0;
}

static gboolean
pr_imap_sasl_scram_first(PrImapSasl *self, GError **error)
{
	guint8 raw[PR_IMAP_SCRAM_NONCE_BYTES];
	GString *bare;

	if (self->nonce == NULL) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw)) != 0) {
			g_set_error_literal(
				error, PR_ERROR, PR_ERROR_FAILED, "cannot generate a SCRAM nonce");
			return FALSE;
		}
		self->nonce = g_base64_encode(raw, sizeof(raw));
	}
	bare = g_string_new("n=");
	pr_imap_sasl_append_saslname(bare, self->user);
	g_string_append_printf(bare, ",r=%s", self->nonce);
	g_free(self->client_first_bare);
	self->client_first_bare = g_string_free(bare, FALSE);
	return TRUE;
}

static gboolean
pr_imap_sasl_scram_fail(GError **error, const gchar *why)
{
	/* TRANSLATORS: %s says what went wrong in the SCRAM exchange */
	g_set_error(error, PR_ERROR, PR_ERROR_LOGIN_FAILED, _("SCRAM-SHA-256: %s"), why);
	return FALSE;
}

/* Checks the server-first message and computes the client-final one (RFC 5802 3). */
static GBytes *
pr_imap_sasl_scram_final(PrImapSasl *self, const gchar *server_first, GError **error)
{
	g_auto(GStrv) attrs = NULL;
	g_autofree guint8 *salt = NULL;
	g_autofree gchar *proof_b64 = NULL;
	g_autoptr(GString) without_proof = NULL;
	g_autoptr(GString) auth_message = NULL;
	GString *final;
	const gchar *nonce;
	const gchar *salt_b64;
	const gchar *iter_str;
	guint64 iterations = 0;
	gsize salt_len = 0;
	guint8 salted[PR_IMAP_SCRAM_HASH_LEN];
	guint8 client_key[PR_IMAP_SCRAM_HASH_LEN];
	guint8 stored_key[PR_IMAP_SCRAM_HASH_LEN];
	guint8 client_sig[PR_IMAP_SCRAM_HASH_LEN];
	guint8 server_key[PR_IMAP_SCRAM_HASH_LEN];
	guint8 proof[PR_IMAP_SCRAM_HASH_LEN];
	gnutls_datum_t key_datum;
	gnutls_datum_t salt_datum;
	gboolean ok;

	attrs = g_strsplit(server_first, ",", -1);
	if (attrs[0] != NULL && g_str_has_prefix(attrs[0], "m=")) {
		pr_imap_sasl_scram_fail(error, _("the server requires an unsupported extension"));
		return NULL;
	}
	/* the order is fixed: r, s, i, then optional extensions */
	if (g_strv_length(attrs) < 3 || !g_str_has_prefix(attrs[0], "r=") ||
	    !g_str_has_prefix(attrs[1], "s=") || !g_str_has_prefix(attrs[2], "i=")) {
		pr_imap_sasl_scram_fail(error, _("malformed server-first message"));
		return NULL;
	}
	nonce = pr_imap_sasl_scram_attr(attrs, 'r');
	salt_b64 = pr_imap_sasl_scram_attr(attrs, 's');
	iter_str = pr_imap_sasl_scram_attr(attrs, 'i');

	/* the server extends our nonce: anything else could be a replay */
	if (!g_str_has_prefix(nonce, self->nonce) || strlen(nonce) <= strlen(self->nonce)) {
		pr_imap_sasl_scram_fail(error, _("the server nonce does not extend ours"));
		return NULL;
	}
	for (const gchar *p = nonce; *p != '\0'; p++) {
		if (*p < 0x21 || *p > 0x7e) {
			pr_imap_sasl_scram_fail(error, _("invalid character in the server nonce"));
			return NULL;
		}
	}
	salt = pr_imap_sasl_base64_decode_strict(salt_b64, strlen(salt_b64), &salt_len);
	if (salt == NULL || salt_len == 0) {
		pr_imap_sasl_scram_fail(error, _("invalid salt"));
		return NULL;
	}
	if (iter_str[0] < '1' || iter_str[0] > '9') {
		pr_imap_sasl_scram_fail(error, _("invalid iteration count"));
		return NULL;
	}
	for (const gchar *p = iter_str; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			pr_imap_sasl_scram_fail(error, _("invalid iteration count"));
			return NULL;
		}
		iterations = iterations * 10 + (guint64)(*p - '0');
		if (iterations > PR_IMAP_SCRAM_MAX_ITERATIONS)
			break;
	}
	if (iterations < PR_IMAP_SCRAM_MIN_ITERATIONS ||
	    iterations > PR_IMAP_SCRAM_MAX_ITERATIONS) {
		pr_imap_sasl_scram_fail(error, _("iteration count out of bounds (4096..1000000)"));
		return NULL;
	}

	without_proof = g_string_new("c=biws,r=");
	g_string_append(without_proof, nonce);
	auth_message = g_string_new(self->client_first_bare);
	g_string_append_printf(auth_message, ",%s,%s", server_first, without_proof->str);

	key_datum.data = (guchar *)self->secret;
	key_datum.size = (guint)strlen(self->secret);
	salt_datum.data = salt;
	salt_datum.size = (guint)salt_len;
	ok = gnutls_pbkdf2(GNUTLS_MAC_SHA256,
			   &key_datum,
			   &salt_datum,
			   (guint)iterations,
			   salted,
			   sizeof(salted)) == 0 &&
	     pr_imap_sasl_hmac(salted, sizeof(salted), "Client Key", 10, client_key) &&
	     gnutls_hash_fast(GNUTLS_DIG_SHA256, client_key, sizeof(client_key), stored_key) == 0 &&
	     pr_imap_sasl_hmac(stored_key,
			       sizeof(stored_key),
			       auth_message->str,
			       auth_message->len,
			       client_sig) &&
	     pr_imap_sasl_hmac(salted, sizeof(salted), "Server Key", 10, server_key) &&
	     pr_imap_sasl_hmac(server_key,
			       sizeof(server_key),
			       auth_message->str,
			       auth_message->len,
			       self->server_signature);
	for (guint i = 0; i < sizeof(proof); i++)
		proof[i] = client_key[i] ^ client_sig[i];
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(client_key, sizeof(client_key));
	explicit_bzero(stored_key, sizeof(stored_key));
	explicit_bzero(client_sig, sizeof(client_sig));
	explicit_bzero(server_key, sizeof(server_key));
	if (!ok) {
		explicit_bzero(proof, sizeof(proof));
		g_set_error_literal(
			error, PR_ERROR, PR_ERROR_FAILED, "SCRAM-SHA-256: key derivation failed");
		return NULL;
	}
	proof_b64 = g_base64_encode(proof, sizeof(proof));
	explicit_bzero(proof, sizeof(proof));

	final = g_string_new(without_proof->str);
	g_string_append_printf(final, ",p=%s", proof_b64);
	return pr_imap_sasl_secret_bytes_from_string(final);
}

/* Verifies "v=ServerSignature" in constant time: TRUE only for the right server. */
static gboolean
pr_imap_sasl_scram_verify(PrImapSasl *self, const gchar *server_final, GError **error)
{
	g_auto(GStrv) attrs = g_strsplit(server_final, ",", -1);
	g_autofree guint8 *sig = NULL;
	gsize sig_len = 0;
	guint8 diff = 0;
	const gchar *v;

	if (attrs[0] != NULL && g_str_has_prefix(attrs[0], "e=")) {
		/* the server's error name is a short token, safe to show */
		g_autofree gchar *reason = g_strndup(attrs[0] + 2, 64);
		g_strcanon(reason,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
			   '?');
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_LOGIN_FAILED,
			    _("SCRAM-SHA-256: the server reported \"%s\""),
			    reason);
		return FALSE;
	}
	if (attrs[0] == NULL || !g_str_has_prefix(attrs[0], "v="))
		return pr_imap_sasl_scram_fail(error, _("malformed server-final message"));
	v = attrs[0] + 2;
	sig = pr_imap_sasl_base64_decode_strict(v, strlen(v), &sig_len);
	if (sig == NULL || sig_len != PR_IMAP_SCRAM_HASH_LEN)
		return pr_imap_sasl_scram_fail(error, _("malformed server signature"));
	for (guint i = 0; i < PR_IMAP_SCRAM_HASH_LEN; i++)
		diff |= sig[i] ^ self->server_signature[i];
	if (diff != 0)
		return pr_imap_sasl_scram_fail(error, _("the server signature does not verify"));
	return TRUE;
}

static GBytes *
pr_imap_sasl_step_scram(PrImapSasl *self, GBytes *challenge, GError **error)
{
	g_autofree gchar *text = NULL;
	gsize len = 0;
	const gchar *data = NULL;

	if (self->step == 0) {
		GString *first;

		if (challenge != NULL && g_bytes_get_size(challenge) > 0) {
			g_set_error_literal(
				error,
				PR_ERROR,
				PR_ERROR_PROTOCOL_ERROR,
				"unexpected SCRAM challenge before the client-first message");
			return NULL;
		}
		if (!pr_imap_sasl_scram_first(self, error))
			return NULL;
		first = g_string_new("n,,");
		g_string_append(first, self->client_first_bare);
		return g_string_free_to_bytes(first);
	}
	if (self->step > 2) {
		pr_imap_sasl_unexpected(self, error);
		return NULL;
	}
	if (challenge == NULL) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    "SCRAM needs the server's message");
		return NULL;
	}
	data = g_bytes_get_data(challenge, &len);
	/* a C string without embedded NULs, so that parsing sees all of it */
	if (len == 0 || memchr(data, '\0', len) != NULL || len > PR_IMAP_SASL_MAX_CHALLENGE) {
		self->failed = TRUE;
		pr_imap_sasl_scram_fail(error, _("malformed server message"));
		return NULL;
	}
	text = g_strndup(data, len);
	if (self->step == 1) {
		GBytes *final = pr_imap_sasl_scram_final(self, text, error);
		if (final == NULL)
			self->failed = TRUE;
		return final;
	}
	if (!pr_imap_sasl_scram_verify(self, text, error)) {
		self->failed = TRUE;
		return NULL;
	}
	self->complete = TRUE;
	return g_bytes_new(NULL, 0);
}

GBytes *
pr_imap_sasl_step(PrImapSasl *self, GBytes *challenge, GError **error)
{
	GBytes *response = NULL;

	g_return_val_if_fail(PR_IS_IMAP_SASL(self), NULL);

	if (self->failed) {
		g_set_error_literal(
			error, PR_ERROR, PR_ERROR_LOGIN_FAILED, _("authentication already failed"));
		return NULL;
	}
	switch (self->mech) {
	case PR_IMAP_SASL_MECH_PLAIN:
		response = pr_imap_sasl_step_plain(self, error);
		break;
	case PR_IMAP_SASL_MECH_LOGIN:
		response = pr_imap_sasl_step_login(self, challenge, error);
		break;
	case PR_IMAP_SASL_MECH_CRAM_MD5:
		response = pr_imap_sasl_step_cram_md5(self, challenge, error);
		break;
	case PR_IMAP_SASL_MECH_SCRAM_SHA_256:
		response = pr_imap_sasl_step_scram(self, challenge, error);
		break;
	case PR_IMAP_SASL_MECH_XOAUTH2:
		response = pr_imap_sasl_step_xoauth2(self, challenge, error);
		break;
	case PR_IMAP_SASL_MECH_OAUTHBEARER:
		response = pr_imap_sasl_step_oauthbearer(self, challenge, error);
		break;
	default:
		g_assert_not_reached();
	}
	if (response != NULL)
		self->step++;
	return response;
}
