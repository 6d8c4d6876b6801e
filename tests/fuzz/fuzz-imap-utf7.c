/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Modified UTF-7 must be a bijection between what decode accepts and what encode emits:
 * any accepted input re-encodes to itself, and any UTF-8 name survives encode + decode.
 */
#include <stdlib.h>
#include <string.h>

#include "pr-imap-utf7.h"

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

/* Just above the 64 KiB bound, so the refusal path is covered too. */
#define FUZZ_UTF7_MAX_SIZE (64 * 1024 + 16)

static void
fuzz_utf7_decode_then_encode(const gchar *input, gsize size)
{
	g_autofree gchar *dec = pr_imap_utf7_decode(input, (gssize)size, NULL);
	g_autofree gchar *enc = NULL;

	if (dec == NULL)
		return;
	if (!g_utf8_validate(dec, -1, NULL))
		abort();
	enc = pr_imap_utf7_encode(dec, NULL);
	if (enc == NULL || strlen(enc) != size || memcmp(enc, input, size) != 0)
		abort();
}

static void
fuzz_utf7_encode_then_decode(const gchar *input, gsize size)
{
	g_autofree gchar *enc = NULL;
	g_autofree gchar *dec = NULL;

	/* encode takes a NUL-terminated string */
	if (memchr(input, '\0', size) != NULL || !g_utf8_validate(input, (gssize)size, NULL))
		return;
	enc = pr_imap_utf7_encode(input, NULL);
	if (enc == NULL) {
		if (size <= 64 * 1024)
			abort();
		return;
	}
	/* the encoding can outgrow the decoder's 64 KiB bound: that refusal is by design */
	if (strlen(enc) > 64 * 1024)
		return;
	dec = pr_imap_utf7_decode(enc, -1, NULL);
	if (dec == NULL || strcmp(dec, input) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
	g_autofree gchar *input = NULL;

	if (size > FUZZ_UTF7_MAX_SIZE)
		return 0;
	/* a NUL-terminated copy so the encode direction can use it as a C string */
	input = g_malloc(size + 1);
	memcpy(input, data, size);
	input[size] = '\0';
	fuzz_utf7_decode_then_encode(input, size);
	fuzz_utf7_encode_then_decode(input, size);
	return 0;
}
