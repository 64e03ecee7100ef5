/*
 * hopcost: what building the forwarded head costs for a 64 KiB request
 * head of 63 short headers and 63 Connection lists (`Connection:
 * a,a,a,...`, every token a name the proxy must look for) against a
 * plain 64 KiB head of the same size and header count (63 long X-Fill
 * headers in place of the lists).  Count it, do not time it:
 *
 *   cc -O2 -Iinclude bench/hopcost.c src/http.c -o /tmp/hopcost \
 *       $(pkg-config --cflags --libs libevent)
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *       --toggle-collect=build /tmp/hopcost conn
 *   (and the same with plain)
 *
 * "Collected" in the output is the instructions of one build (the
 * toggle counts only build()).  Results: bench/RESULTS.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "switchover/http.h"

#define HEAD_BYTES	(64 * 1024)
#define NLONG		63	/* and as many short ones: 127 with Host */

/* Build the forwarded head once (the function callgrind counts). */
__attribute__((noinline)) static size_t
build(const struct http_head *h)
{
	struct http_fwd	 fwd = { "192.0.2.1", "http", "9200" };
	struct evbuffer	*out = evbuffer_new();
	size_t		 n;

	if (out == NULL || http_build_request(out, h, "GET", &fwd) == -1)
		exit(1);
	n = evbuffer_get_length(out);
	evbuffer_free(out);
	return n;
}

int
main(int argc, char **argv)
{
	struct http_head	 h;
	char			 name[32], *val;
	size_t			 vlen = HEAD_BYTES / NLONG - 32, n;
	int			 conn = argc > 1 && strcmp(argv[1], "conn") == 0;

	if (argc != 2 || (!conn && strcmp(argv[1], "plain") != 0)) {
		fprintf(stderr, "usage: hopcost conn|plain\n");
		return 2;
	}
	if ((val = malloc(vlen)) == NULL)
		return 1;
	for (size_t i = 0; i < vlen; i++)
		val[i] = conn ? (i % 2 ? ',' : 'a') : 'a';
	http_head_init(&h, 2 * HEAD_BYTES);
	if (http_head_url(&h, "/", 1) == -1 ||
	    http_head_field(&h, "Host", 4) == -1 ||
	    http_head_value(&h, "a", 1) == -1)
		return 1;
	for (int i = 0; i < NLONG; i++) {
		snprintf(name, sizeof(name), "X-Pad-%03d", i);
		if (http_head_field(&h, name, strlen(name)) == -1 ||
		    http_head_value(&h, "1", 1) == -1)
			return 1;
		if (conn)
			snprintf(name, sizeof(name), "Connection");
		else
			snprintf(name, sizeof(name), "X-Fill-%03d", i);
		if (http_head_field(&h, name, strlen(name)) == -1 ||
		    http_head_value(&h, val, vlen) == -1)
			return 1;
	}
	n = build(&h);
	printf("%s: head of %zu bytes, %zu headers, forwarded %zu bytes\n",
	    argv[1], h.len, h.nhdrs, n);
	http_head_free(&h);
	free(val);
	return 0;
}
