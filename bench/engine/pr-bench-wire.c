/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pr-bench-wire.h"

struct PrBenchWire {
	int fd;
	uint8_t *buf;
	size_t cap;
	size_t pos; /* parse position */
	size_t end; /* end of the data read */
	unsigned tag_counter;
	char error[512];
};

double
pr_bench_wire_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
pr_bench_wire_set_error(PrBenchWire *wire, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	vsnprintf(wire->error, sizeof(wire->error), format, args);
	va_end(args);
}

const char *
pr_bench_wire_get_error(PrBenchWire *wire)
{
	return wire->error;
}

PrBenchWire *
pr_bench_wire_connect(const char *host, int port, char *error, size_t error_len)
{
	struct sockaddr_in addr = { 0 };
	PrBenchWire *wire;
	int one = 1;
	int fd;

	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		snprintf(
			error, error_len, "want an IPv4 address and a port, got %s:%d", host, port);
		return NULL;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(error, error_len, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		snprintf(error, error_len, "connect %s:%d: %s", host, port, strerror(errno));
		close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	wire = calloc(1, sizeof(*wire));
	if (wire == NULL) {
		snprintf(error, error_len, "out of memory");
		close(fd);
		return NULL;
	}
	wire->fd = fd;
	wire->cap = PR_BENCH_WIRE_READ_SIZE;
	wire->buf = malloc(wire->cap);
	if (wire->buf == NULL) {
		snprintf(error, error_len, "out of memory");
		pr_bench_wire_free(wire);
		return NULL;
	}
	return wire;
}

void
pr_bench_wire_free(PrBenchWire *wire)
{
	if (wire == NULL)
		return;
	if (wire->fd >= 0)
		close(wire->fd);
	free(wire->buf);
	free(wire);
}

/* Reads more bytes to buf[end..cap); 0 on success. */
static int
pr_bench_wire_fill(PrBenchWire *wire, PrBenchWireStats *stats)
{
	ssize_t n;

	do {
		n = recv(wire->fd, wire->buf + wire->end, wire->cap - wire->end, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		pr_bench_wire_set_error(wire, "recv: %s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		pr_bench_wire_set_error(wire, "the server closed the connection");
		return -1;
	}
	wire->end += (size_t)n;
	if (stats != NULL)
		stats->wire_bytes += (uint64_t)n;
	return 0;
}

static int
pr_bench_wire_send_all(PrBenchWire *wire, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(wire->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_bench_wire_set_error(wire, "send: %s", strerror(errno));
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A line segment ending in "{n}\r\n" or "{n+}\r\n": 1 and n. */
static int
pr_bench_wire_literal_size(const uint8_t *seg, size_t len, uint64_t *size)
{
	size_t i;
	uint64_t value = 0;
	uint64_t scale = 1;

	if (len < 4 || seg[len - 1] != '\n')
		return 0;
	i = len - 1;
	if (seg[i - 1] == '\r')
		i--;
	if (seg[i - 1] != '}')
		return 0;
	i--;
	if (i > 0 && seg[i - 1] == '+')
		i--;
	if (i == 0 || seg[i - 1] < '0' || seg[i - 1] > '9')
		return 0;
	while (i > 0 && seg[i - 1] >= '0' && seg[i - 1] <= '9') {
		if (scale > 1000000000000ULL)
			return 0;
		value += (uint64_t)(seg[i - 1] - '0') * scale;
		scale *= 10;
		i--;
	}
	if (i == 0 || seg[i - 1] != '{')
		return 0;
	*size = value;
	return 1;
}

/* "* 12 FETCH ...": 1. */
static int
pr_bench_wire_is_fetch(const uint8_t *seg, size_t len)
{
	size_t i = 2;

	while (i < len && seg[i] >= '0' && seg[i] <= '9')
		i++;
	if (i == 2 || i + 6 > len || seg[i] != ' ')
		return 0;
	return memcmp(seg + i + 1, "FETCH", 5) == 0 && (seg[i + 6] == ' ' || seg[i + 6] == '\r');
}

/*
 * Reads responses until the one tagged @tag is complete. The current response's line
 * segment always starts at buf[0] once more data is needed (it is moved there), so a
 * segment is contiguous; the buffer only grows for a segment longer than it.
 */
static int
pr_bench_wire_read_until(PrBenchWire *wire,
			 const char *tag,
			 PrBenchWireStats *stats,
			 PrBenchWireLineFunc line_func,
			 PrBenchWireTapFunc tap_func,
			 void *user_data)
{
	size_t tag_len = strlen(tag);
	size_t seg_start = wire->pos;
	size_t scan = wire->pos;
	int first_segment = 1;
	int tagged = 0;
	int ok = 0;

	for (;;) {
		uint8_t *nl = NULL;
		const uint8_t *seg;
		size_t seg_len;
		uint64_t literal = 0;

		if (scan < wire->end)
			nl = memchr(wire->buf + scan, '\n', wire->end - scan);
		if (nl == NULL) {
			size_t keep = wire->end - seg_start;
			if (seg_start > 0) {
				memmove(wire->buf, wire->buf + seg_start, keep);
				seg_start = 0;
				wire->end = keep;
			}
			scan = wire->end;
			if (wire->end == wire->cap) {
				uint8_t *bigger = realloc(wire->buf, wire->cap * 2);
				if (bigger == NULL) {
					pr_bench_wire_set_error(wire, "out of memory");
					return -1;
				}
				wire->buf = bigger;
				wire->cap *= 2;
			}
			if (pr_bench_wire_fill(wire, stats) != 0)
				return -1;
			continue;
		}
		seg = wire->buf + seg_start;
		seg_len = (size_t)(nl + 1 - seg);
		if (tap_func != NULL && tap_func(seg, seg_len, user_data) != 0) {
			pr_bench_wire_set_error(wire, "writing the stream failed");
			return -1;
		}
		if (first_segment) {
			if (seg_len > 2 && seg[0] == '*' && seg[1] == ' ') {
				stats->responses++;
				if (pr_bench_wire_is_fetch(seg, seg_len))
					stats->fetches++;
				if (line_func != NULL)
					line_func((const char *)seg, seg_len, user_data);
			} else if (seg_len > tag_len && memcmp(seg, tag, tag_len) == 0 &&
				   seg[tag_len] == ' ') {
				tagged = 1;
				ok = seg_len > tag_len + 3 &&
				     memcmp(seg + tag_len + 1, "OK", 2) == 0;
			}
		}
		wire->pos = seg_start + seg_len;
		if (!pr_bench_wire_literal_size(seg, seg_len, &literal)) {
			/* the response is complete */
			seg_start = scan = wire->pos;
			first_segment = 1;
			if (tagged) {
				if (!ok) {
					size_t n = seg_len;
					while (n > 0 && (seg[n - 1] == '\n' || seg[n - 1] == '\r'))
						n--;
					if (n > 200)
						n = 200;
					pr_bench_wire_set_error(wire,
								"command failed: %.*s",
								(int)n,
								(const char *)seg);
					return -1;
				}
				return 0;
			}
			continue;
		}
		/* a literal: skip its bytes, reading straight into the buffer */
		stats->literals++;
		stats->literal_bytes += literal;
		first_segment = 0;
		while (literal > 0) {
			size_t avail = wire->end - wire->pos;
			size_t take = avail < literal ? avail : (size_t)literal;
			if (take > 0) {
				if (tap_func != NULL &&
				    tap_func(wire->buf + wire->pos, take, user_data) != 0) {
					pr_bench_wire_set_error(wire, "writing the stream failed");
					return -1;
				}
				wire->pos += take;
				literal -= take;
				continue;
			}
			wire->pos = wire->end = 0;
			if (pr_bench_wire_fill(wire, stats) != 0)
				return -1;
		}
		seg_start = scan = wire->pos;
	}
}

int
pr_bench_wire_greeting(PrBenchWire *wire)
{
	PrBenchWireStats stats = { 0 };
	uint8_t *nl;

	for (;;) {
		nl = memchr(wire->buf, '\n', wire->end);
		if (nl != NULL)
			break;
		if (wire->end == wire->cap) {
			pr_bench_wire_set_error(wire, "greeting too long");
			return -1;
		}
		if (pr_bench_wire_fill(wire, &stats) != 0)
			return -1;
	}
	if (wire->end < 4 || memcmp(wire->buf, "* OK", 4) != 0) {
		pr_bench_wire_set_error(wire, "unexpected greeting");
		return -1;
	}
	wire->pos = (size_t)(nl + 1 - wire->buf);
	return 0;
}

int
pr_bench_wire_command(PrBenchWire *wire,
		      const char *command,
		      PrBenchWireStats *stats,
		      PrBenchWireLineFunc line_func,
		      PrBenchWireTapFunc tap_func,
		      void *user_data)
{
	PrBenchWireStats local = { 0 };
	char tag[16];
	char *line;
	size_t len;
	int rc;

	if (stats == NULL)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	snprintf(tag, sizeof(tag), "b%u", ++wire->tag_counter);
	len = strlen(tag) + 1 + strlen(command) + 2;
	line = malloc(len + 1);
	if (line == NULL) {
		pr_bench_wire_set_error(wire, "out of memory");
		return -1;
	}
	snprintf(line, len + 1, "%s %s\r\n", tag, command);
	rc = pr_bench_wire_send_all(wire, line, len);
	free(line);
	if (rc != 0)
		return -1;
	/* bytes of this command's response already buffered count as read for it */
	stats->wire_bytes += wire->end - wire->pos;
	return pr_bench_wire_read_until(wire, tag, stats, line_func, tap_func, user_data);
}

int
pr_bench_wire_quote(char *out, size_t out_len, const char *str)
{
	size_t n = strlen(out);

	if (n + 1 >= out_len)
		return -1;
	out[n++] = '"';
	for (const char *p = str; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			return -1;
		if (*p == '"' || *p == '\\') {
			if (n + 1 >= out_len)
				return -1;
			out[n++] = '\\';
		}
		if (n + 1 >= out_len)
			return -1;
		out[n++] = *p;
	}
	if (n + 2 > out_len)
		return -1;
	out[n++] = '"';
	out[n] = '\0';
	return 0;
}

void
pr_bench_wire_rusage(long *maxrss_kb, double *user_s, double *sys_s)
{
	struct rusage ru;
	char line[256];
	FILE *fp;

	getrusage(RUSAGE_SELF, &ru);
	*user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	*sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	/* ru_maxrss survives execve (a child of a big parent reports the parent's); the
	 * address space's own high-water mark does not */
	*maxrss_kb = ru.ru_maxrss;
	fp = fopen("/proc/self/status", "re");
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "VmHWM:", 6) == 0) {
			*maxrss_kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(fp);
}
