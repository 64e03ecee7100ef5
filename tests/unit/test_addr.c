/*
 * Unit tests for addr: a peer address kept in binary is formatted the
 * way inet_ntop(3) formats it (the text reaches logs, the access log,
 * X-Forwarded-For and the sticky policy's hash: it must not change).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "switchover/addr.h"

/* addr_set + addr_format of one IPv4 address against inet_ntop. */
static void
check_v4(uint32_t host_order)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET,
				    .sin_port = htons(9200) };
	struct sw_addr		a;
	char			want[INET_ADDRSTRLEN], got[ADDR_STRLEN];

	sin.sin_addr.s_addr = htonl(host_order);
	assert_non_null(inet_ntop(AF_INET, &sin.sin_addr, want, sizeof(want)));
	addr_set(&a, (struct sockaddr *)&sin);
	assert_ptr_equal(addr_format(&a, got), got);
	assert_string_equal(got, want);
}

static void
test_v4(void **state)
{
	char buf[ADDR_STRLEN];
	struct sw_addr a;
	struct sockaddr_in sin = { .sin_family = AF_INET };

	(void)state;
	/* The widest text fills the buffer exactly, NUL included. */
	sin.sin_addr.s_addr = htonl(0xffffffffu);
	addr_set(&a, (struct sockaddr *)&sin);
	assert_string_equal(addr_format(&a, buf), "255.255.255.255");
	sin.sin_addr.s_addr = htonl(0x7f000001u);
	addr_set(&a, (struct sockaddr *)&sin);
	assert_string_equal(addr_format(&a, buf), "127.0.0.1");
	/* Every octet value in every position, one, two and three digits. */
	for (uint32_t v = 0; v < 256; v++) {
		check_v4(v << 24 | (255 - v) << 16 | (v * 7 % 256) << 8 |
		    v * 13 % 256);
		check_v4(v);
		check_v4(v << 8);
		check_v4(v << 16 | 10);
		check_v4(v << 24);
	}
	/* And a spread of others (a fixed sequence: the test repeats). */
	for (uint32_t i = 0, x = 2463534242u; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		check_v4(x);
	}
}

static void
test_v6(void **state)
{
	static const char *const in[] = { "::1", "::", "2001:db8::1",
	    "fe80::1:2:3:4", "::ffff:192.0.2.1", "2001:db8:0:1:2:3:4:5",
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
	    "1:0:0:2::3" };
	struct sockaddr_in6	sin6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(9200) };
	struct sw_addr		a;
	char			want[INET6_ADDRSTRLEN], got[ADDR_STRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, in[i], &sin6.sin6_addr),
		    1);
		assert_non_null(inet_ntop(AF_INET6, &sin6.sin6_addr, want,
		    sizeof(want)));
		addr_set(&a, (struct sockaddr *)&sin6);
		assert_int_equal(a.af, AF_INET6);
		assert_string_equal(addr_format(&a, got), want);
	}
	/* A v4-mapped peer of a [::] listener stays an IPv6 address. */
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.0.0.1",
	    &sin6.sin6_addr), 1);
	addr_set(&a, (struct sockaddr *)&sin6);
	assert_string_equal(addr_format(&a, got), "::ffff:10.0.0.1");
}

/* A peer that is not IP (none should reach us) reads "local". */
static void
test_other(void **state)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	struct sw_addr		a;
	char			buf[ADDR_STRLEN];

	(void)state;
	addr_set(&a, (struct sockaddr *)&sun);
	assert_string_equal(addr_format(&a, buf), "local");
	memset(&a, 0, sizeof(a));
	assert_string_equal(addr_format(&a, buf), "local");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
