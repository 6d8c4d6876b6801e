/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The floor for the engine fetch benchmark: a bare blocking-socket client (POSIX only, a
 * 64 KiB read buffer, no parsing beyond finding where responses end). It does exactly the
 * session pr-bench-fetch does: LOGIN, ENABLE (QRESYNC, as the engine does after login, so
 * the FETCH responses carry the same MODSEQ items), EXAMINE, one UID FETCH 1:*, and prints
 * the same one-line JSON.
 *
 *   PR_BENCH_PASSWORD=... pr-bench-bare --port 10143 --user alice [--bodies]
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pr-bench-wire.h"

#define HEADERS_ITEMS "(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE)"
#define BODIES_ITEMS  "(UID BODY.PEEK[])"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: PR_BENCH_PASSWORD=... pr-bench-bare --port PORT [--host 127.0.0.1]\n"
		"           [--user USER] [--mailbox INBOX] [--bodies] [--items ITEMS]\n"
		"           [--enable QRESYNC|none] [--label NAME]\n"
		"The user also comes from PR_BENCH_USER; the password only from the "
		"environment.\n");
}

static int
fail(PrBenchWire *wire, const char *what)
{
	fprintf(stderr,
		"pr-bench-bare: %s: %s\n",
		what,
		wire != NULL ? pr_bench_wire_get_error(wire) : "");
	pr_bench_wire_free(wire);
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'u' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ "bodies", no_argument, NULL, 'b' },
		{ "items", required_argument, NULL, 'i' },
		{ "enable", required_argument, NULL, 'e' },
		{ "label", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = "127.0.0.1";
	const char *user = getenv("PR_BENCH_USER");
	const char *password = getenv("PR_BENCH_PASSWORD");
	const char *mailbox = "INBOX";
	const char *items = NULL;
	const char *enable = "QRESYNC";
	const char *label = "bare";
	int bodies = 0;
	int port = 0;
	int c;
	char error[512] = "";
	char command[4096];
	PrBenchWire *wire;
	PrBenchWireStats stats = { 0 };
	double t0, t_fetch, t_end;
	double user_s, sys_s;
	long maxrss_kb;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'u':
			user = optarg;
			break;
		case 'm':
			mailbox = optarg;
			break;
		case 'b':
			bodies = 1;
			break;
		case 'i':
			items = optarg;
			break;
		case 'e':
			enable = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (port == 0 || user == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (password == NULL) {
		fprintf(stderr, "pr-bench-bare: set PR_BENCH_PASSWORD\n");
		return 2;
	}
	if (items == NULL)
		items = bodies ? BODIES_ITEMS : HEADERS_ITEMS;

	t0 = pr_bench_wire_now();
	wire = pr_bench_wire_connect(host, port, error, sizeof(error));
	if (wire == NULL) {
		fprintf(stderr, "pr-bench-bare: %s\n", error);
		return 1;
	}
	if (pr_bench_wire_greeting(wire) != 0)
		return fail(wire, "greeting");
	snprintf(command, sizeof(command), "LOGIN ");
	if (pr_bench_wire_quote(command, sizeof(command), user) != 0 ||
	    strlen(command) + 1 >= sizeof(command)) {
		fprintf(stderr, "pr-bench-bare: the user name cannot be sent as a quoted string\n");
		pr_bench_wire_free(wire);
		return 2;
	}
	strcat(command, " ");
	if (pr_bench_wire_quote(command, sizeof(command), password) != 0) {
		fprintf(stderr, "pr-bench-bare: the password cannot be sent as a quoted string\n");
		pr_bench_wire_free(wire);
		return 2;
	}
	if (pr_bench_wire_command(wire, command, NULL, NULL, NULL, NULL) != 0)
		return fail(wire, "LOGIN");
	memset(command, 0, sizeof(command));
	if (strcmp(enable, "none") != 0) {
		snprintf(command, sizeof(command), "ENABLE %s", enable);
		if (pr_bench_wire_command(wire, command, NULL, NULL, NULL, NULL) != 0)
			return fail(wire, "ENABLE");
	}
	snprintf(command, sizeof(command), "EXAMINE ");
	if (pr_bench_wire_quote(command, sizeof(command), mailbox) != 0) {
		fprintf(stderr, "pr-bench-bare: bad mailbox name\n");
		pr_bench_wire_free(wire);
		return 2;
	}
	if (pr_bench_wire_command(wire, command, NULL, NULL, NULL, NULL) != 0)
		return fail(wire, "EXAMINE");

	snprintf(command, sizeof(command), "UID FETCH 1:* %s", items);
	t_fetch = pr_bench_wire_now();
	if (pr_bench_wire_command(wire, command, &stats, NULL, NULL, NULL) != 0)
		return fail(wire, "UID FETCH");
	t_end = pr_bench_wire_now();

	pr_bench_wire_command(wire, "LOGOUT", NULL, NULL, NULL, NULL);
	pr_bench_wire_free(wire);
	pr_bench_wire_rusage(&maxrss_kb, &user_s, &sys_s);
	printf("{\"client\": \"%s\", \"mode\": \"%s\", \"messages\": %llu, \"bytes\": %llu, "
	       "\"literal_bytes\": %llu, \"seconds\": %.6f, \"fetch_seconds\": %.6f, "
	       "\"user_s\": %.3f, \"sys_s\": %.3f, \"maxrss_kb\": %ld}\n",
	       label,
	       bodies ? "bodies" : "headers",
	       (unsigned long long)stats.fetches,
	       (unsigned long long)stats.wire_bytes,
	       (unsigned long long)stats.literal_bytes,
	       t_end - t0,
	       t_end - t_fetch,
	       user_s,
	       sys_s,
	       maxrss_kb);
	return 0;
}
