/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * The benchmarks' bare IMAP wire client: plain POSIX blocking sockets, one 64 KiB read
 * buffer, no response parsing beyond finding where each response ends (a line, or a line
 * ending in a literal "{n}" whose n bytes are skipped before the line goes on). This is
 * the floor the engine is compared with, and the recorder of raw FETCH streams.
 */

#define PR_BENCH_WIRE_READ_SIZE (64 * 1024)

typedef struct PrBenchWire PrBenchWire;

typedef struct {
	uint64_t responses;	/* untagged responses */
	uint64_t fetches;	/* of which "* n FETCH" */
	uint64_t literals;	/* literals seen */
	uint64_t literal_bytes; /* their payload bytes */
	uint64_t wire_bytes;	/* every byte of the command's response, tagged line included */
} PrBenchWireStats;

/* The first line of each untagged response (up to its first literal, CRLF included). */
typedef void (*PrBenchWireLineFunc)(const char *line, size_t len, void *user_data);
/* Every byte of the command's response, in order, exactly once. */
typedef int (*PrBenchWireTapFunc)(const uint8_t *data, size_t len, void *user_data);

double pr_bench_wire_now(void);
/* An IPv4 literal (127.0.0.1); NULL with the reason in @error on failure. */
PrBenchWire *pr_bench_wire_connect(const char *host, int port, char *error, size_t error_len);
void pr_bench_wire_free(PrBenchWire *wire);
const char *pr_bench_wire_get_error(PrBenchWire *wire);
/* Reads the greeting; 0 on "* OK". */
int pr_bench_wire_greeting(PrBenchWire *wire);
/*
 * Sends "<tag> @command\r\n" and reads until its tagged response, which must be OK.
 * @stats is zeroed first; @line_func and @tap_func may be NULL. 0 on success, -1 with
 * pr_bench_wire_get_error() on failure.
 */
int pr_bench_wire_command(PrBenchWire *wire,
			  const char *command,
			  PrBenchWireStats *stats,
			  PrBenchWireLineFunc line_func,
			  PrBenchWireTapFunc tap_func,
			  void *user_data);
/* Appends @str to @out (of @out_len bytes) as an IMAP quoted string; -1 if it cannot be
 * quoted (CR, LF, NUL) or does not fit. */
int pr_bench_wire_quote(char *out, size_t out_len, const char *str);
/* Peak resident set size (KiB, VmHWM) and CPU seconds of this process so far. */
void pr_bench_wire_rusage(long *maxrss_kb, double *user_s, double *sys_s);
