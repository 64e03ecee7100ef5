/*
 * Unit tests for conn: a plain conn on one end of a socket pair, the
 * test on the other, and the event loop turned by hand (bounded).
 */
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "switchover/conn.h"

struct seen {
	int		 reads, writes, events;
	short		 what;		/* last event */
	size_t		 drain;		/* readcb drains this much (0: none) */
	int		 free_in_read;	/* readcb frees the conn */
	int		 off_in_read;	/* readcb turns reading off */
	struct event_base *base;	/* if set: events added, seen by readcb */
	int		 added_at_read;
	struct conn	*c;
};

static void
on_read(struct conn *c, void *arg)
{
	struct seen *s = arg;

	s->reads++;
	if (s->base != NULL)
		s->added_at_read = event_base_get_num_events(s->base,
		    EVENT_BASE_COUNT_ADDED);
	if (s->drain > 0)
		evbuffer_drain(conn_input(c), s->drain);
	if (s->off_in_read)
		conn_disable(c, EV_READ);
	if (s->free_in_read) {
		conn_free(c);
		s->c = NULL;
	}
}

static void
on_write(struct conn *c, void *arg)
{
	(void)c;
	((struct seen *)arg)->writes++;
}

static void
on_event(struct conn *c, short what, void *arg)
{
	struct seen *s = arg;

	(void)c;
	s->events++;
	s->what = what;
}

/* Turn the loop until cond holds, at most n times (each up to 10 ms). */
#define SPIN(base, n, cond) do {					\
	struct timeval tv_ = { 0, 10000 };				\
	for (int i_ = 0; i_ < (n) && !(cond); i_++) {			\
		event_base_loopexit((base), &tv_);			\
		event_base_loop((base), EVLOOP_ONCE);			\
	}								\
} while (0)

static struct event_base *
new_pair(int sv[2])
{
	struct event_base *base = event_base_new();

	assert_non_null(base);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	return base;
}

/* Bytes sent by the peer arrive in one read, with one callback. */
static void
test_read(void **state)
{
	struct seen		 s = { 0 };
	struct event_base	*base;
	struct conn		*c;
	int			 sv[2];

	(void)state;
	base = new_pair(sv);
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, on_write, on_event, &s);
	conn_enable(c, EV_READ);
	assert_int_equal(write(sv[1], "GET / HTTP/1.1\r\n\r\n", 18), 18);
	SPIN(base, 100, s.reads > 0);
	assert_int_equal(s.reads, 1);
	assert_int_equal(evbuffer_get_length(conn_input(c)), 18);
	assert_int_equal(s.events, 0);
	/* Reading off: nothing more arrives. */
	conn_disable(c, EV_READ);
	assert_int_equal(write(sv[1], "x", 1), 1);
	SPIN(base, 5, 0);
	assert_int_equal(s.reads, 1);
	conn_free(c);
	close(sv[1]);
	event_base_free(base);
}

/* EOF from the peer is an event, after the bytes before it. */
static void
test_eof(void **state)
{
	struct seen		 s = { 0 };
	struct event_base	*base;
	struct conn		*c;
	int			 sv[2];

	(void)state;
	base = new_pair(sv);
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, NULL, on_event, &s);
	conn_enable(c, EV_READ);
	assert_int_equal(write(sv[1], "abc", 3), 3);
	close(sv[1]);
	SPIN(base, 100, s.events > 0);
	assert_int_equal(s.reads, 1);
	assert_int_equal(s.events, 1);
	assert_int_equal(s.what, CONN_EV_READING | CONN_EV_EOF);
	conn_free(c);
	event_base_free(base);
}

/* The read cap holds the input; draining it lets reading go on. */
static void
test_read_high(void **state)
{
	struct seen		 s = { 0 };
	struct event_base	*base;
	struct conn		*c;
	char			 buf[1000];
	int			 sv[2];

	(void)state;
	memset(buf, 'a', sizeof(buf));
	base = new_pair(sv);
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, NULL, on_event, &s);
	conn_set_read_high(c, 100);
	conn_enable(c, EV_READ);
	assert_int_equal(write(sv[1], buf, sizeof(buf)), sizeof(buf));
	SPIN(base, 100, s.reads > 0);
	SPIN(base, 5, 0);
	assert_int_equal(evbuffer_get_length(conn_input(c)), 100);
	assert_int_equal(s.reads, 1);	/* held: no more reads */
	/* Drained from outside a callback (as client.c does): resumes. */
	evbuffer_drain(conn_input(c), 100);
	SPIN(base, 100, s.reads > 1);
	assert_int_equal(evbuffer_get_length(conn_input(c)), 100);
	/* No cap: the rest comes in. */
	s.drain = 0;
	conn_set_read_high(c, 0);
	SPIN(base, 100, evbuffer_get_length(conn_input(c)) == 900);
	assert_int_equal(evbuffer_get_length(conn_input(c)), 900);
	conn_free(c);
	close(sv[1]);
	event_base_free(base);
}

/*
 * A flush sends at once with no callback; what the kernel refuses goes
 * out as the peer reads, and the write callback says when it is done.
 */
static void
test_write(void **state)
{
	struct seen		 s = { 0 };
	struct event_base	*base;
	struct conn		*c;
	static char		 big[4 << 20], sink[65536];
	size_t			 got = 0;
	ssize_t			 n;
	int			 sv[2];

	(void)state;
	base = new_pair(sv);
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, on_write, on_event, &s);
	evbuffer_add(conn_output(c), "hello", 5);
	conn_flush(c);
	assert_int_equal(evbuffer_get_length(conn_output(c)), 0);
	assert_int_equal(read(sv[1], sink, sizeof(sink)), 5);
	assert_int_equal(s.writes, 0);

	evbuffer_add(conn_output(c), big, sizeof(big));
	conn_flush(c);
	assert_true(evbuffer_get_length(conn_output(c)) > 0);
	for (int i = 0; i < 20000 && got < sizeof(big); i++) {
		while ((n = read(sv[1], sink, sizeof(sink))) > 0)
			got += (size_t)n;
		SPIN(base, 1, 0);
	}
	assert_int_equal(got, sizeof(big));
	SPIN(base, 10, s.writes > 0);
	assert_true(s.writes >= 1);
	assert_int_equal(evbuffer_get_length(conn_output(c)), 0);
	assert_int_equal(s.events, 0);
	conn_free(c);
	close(sv[1]);
	event_base_free(base);
}

/* A read timeout is an event, and reading stops. */
static void
test_read_timeout(void **state)
{
	struct seen		 s = { 0 };
	struct event_base	*base;
	struct conn		*c;
	int			 sv[2];

	(void)state;
	base = new_pair(sv);
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, NULL, on_event, &s);
	conn_set_timeouts(c, 20, 0);
	conn_enable(c, EV_READ);
	SPIN(base, 1000, s.events > 0);
	assert_int_equal(s.events, 1);
	assert_int_equal(s.what, CONN_EV_READING | CONN_EV_TIMEOUT);
	conn_free(c);
	close(sv[1]);
	event_base_free(base);
}

/* A read timeout given as a common timeout fires as a plain one does. */
static void
test_read_timeout_common(void **state)
{
	struct seen		 s = { 0 };
	struct event_base	*base;
	struct conn		*c;
	struct timeval		 tv = { 0, 20000 };
	const struct timeval	*ctv;
	int			 sv[2];

	(void)state;
	base = new_pair(sv);
	assert_non_null(ctv = event_base_init_common_timeout(base, &tv));
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, NULL, on_event, &s);
	conn_enable(c, EV_READ);
	conn_set_read_common(c, 20, ctv);
	SPIN(base, 1000, s.events > 0);
	assert_int_equal(s.events, 1);
	assert_int_equal(s.what, CONN_EV_READING | CONN_EV_TIMEOUT);
	/* Replaced by no timeout: it does not fire again. */
	s.events = 0;
	conn_enable(c, EV_READ);
	conn_set_read_common(c, 20, ctv);
	conn_set_timeouts(c, 0, 0);
	SPIN(base, 30, s.events > 0);
	assert_int_equal(s.events, 0);
	conn_free(c);
	close(sv[1]);
	event_base_free(base);
}

/*
 * Idle conns waiting with a common read timeout take no slot of
 * libevent's timeout min-heap: arming NIDLE of them allocates nothing
 * (with plain timeouts the heap grows 8 bytes a conn).  Counted with
 * glibc's mallinfo2; skipped where malloc is not glibc's (ASan).
 */
#define NIDLE	200
static void *volatile probe;	/* kept: not optimised away */

static void
test_read_common_no_heap(void **state)
{
	struct seen		 s = { 0 };
	struct event_base	*base;
	struct conn		*c[NIDLE];
	struct timeval		 tv = { 60, 0 };
	const struct timeval	*ctv;
	size_t			 before, after;
	int			 sv[2], fd;

	(void)state;
	before = mallinfo2().uordblks;
	probe = malloc(4096);
	after = mallinfo2().uordblks;
	free(probe);
	if (after < before + 4096)
		skip();
	base = new_pair(sv);
	assert_non_null(ctv = event_base_init_common_timeout(base, &tv));
	for (int i = 0; i < NIDLE; i++) {
		assert_true((fd = dup(sv[0])) != -1);
		assert_non_null(c[i] = conn_plain(base, fd));
		conn_setcb(c[i], on_read, NULL, on_event, &s);
		conn_enable(c[i], EV_READ);
	}
	before = mallinfo2().uordblks;
	for (int i = 0; i < NIDLE; i++)
		conn_set_read_common(c[i], 60000, ctv);
	after = mallinfo2().uordblks;
	/* One heap slot at most: the common timeout's own timer. */
	assert_true(after - before < NIDLE * 8 / 2);
	for (int i = 0; i < NIDLE; i++)
		conn_free(c[i]);
	close(sv[0]);
	close(sv[1]);
	event_base_free(base);
}

/* A read timeout set back to 0 while reading is off, not left armed. */
static void
test_read_timeout_off(void **state)
{
	struct seen		 s = { 0 };
	struct event_base	*base;
	struct conn		*c;
	int			 sv[2];

	(void)state;
	base = new_pair(sv);
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, NULL, on_event, &s);
	conn_set_timeouts(c, 20, 0);
	conn_enable(c, EV_READ);
	conn_set_timeouts(c, 0, 0);
	/* 30 turns of at least 10 ms each: well past the old 20 ms. */
	SPIN(base, 30, s.events > 0);
	assert_int_equal(s.events, 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	SPIN(base, 100, s.reads > 0);
	assert_int_equal(s.reads, 1);	/* and reading still on */
	conn_free(c);
	close(sv[1]);
	event_base_free(base);
}

/* Freed inside its own read callback: no use after free (ASan). */
static void
test_free_in_callback(void **state)
{
	struct seen		 s = { .free_in_read = 1 };
	struct event_base	*base;
	int			 sv[2];
	char			 b;

	(void)state;
	base = new_pair(sv);
	assert_non_null(s.c = conn_plain(base, sv[0]));
	conn_setcb(s.c, on_read, NULL, on_event, &s);
	conn_enable(s.c, EV_READ);
	assert_int_equal(write(sv[1], "x", 1), 1);
	SPIN(base, 100, s.reads > 0);
	assert_int_equal(s.reads, 1);
	assert_null(s.c);
	/* The conn's socket is closed: the peer sees EOF. */
	assert_int_equal(read(sv[1], &b, 1), 0);
	SPIN(base, 5, 0);
	close(sv[1]);
	event_base_free(base);
}

/* Events added to base (the conn's read event, when armed). */
static int
nadded(struct event_base *base)
{
	return event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED);
}

/*
 * conn_enable_read_first: bytes already there are read and handed over
 * before it returns; the read event is added only if reading is still
 * on afterwards, so a conn that reads its one request and stops never
 * touches the event set.
 */
static void
test_read_first(void **state)
{
	struct seen		 s = { .off_in_read = 1 };
	struct event_base	*base;
	struct conn		*c;
	int			 sv[2];

	(void)state;
	/* Bytes there, callback turns reading off: nothing ever added. */
	base = new_pair(sv);
	s.base = base;
	s.added_at_read = -1;
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, NULL, on_event, &s);
	assert_int_equal(write(sv[1], "GET / HTTP/1.1\r\n\r\n", 18), 18);
	conn_enable_read_first(c);
	assert_int_equal(s.reads, 1);
	assert_int_equal(s.added_at_read, 0);	/* not even for a while */
	assert_int_equal(evbuffer_get_length(conn_input(c)), 18);
	assert_int_equal(nadded(base), 0);
	conn_free(c);
	close(sv[1]);
	event_base_free(base);

	/* Bytes there, reading left on: the event is added afterwards. */
	memset(&s, 0, sizeof(s));
	base = new_pair(sv);
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, NULL, on_event, &s);
	assert_int_equal(write(sv[1], "abc", 3), 3);
	conn_enable_read_first(c);
	assert_int_equal(s.reads, 1);
	assert_int_equal(nadded(base), 1);
	assert_int_equal(write(sv[1], "d", 1), 1);
	SPIN(base, 100, s.reads > 1);
	assert_int_equal(s.reads, 2);
	assert_int_equal(evbuffer_get_length(conn_input(c)), 4);
	conn_free(c);
	close(sv[1]);
	event_base_free(base);

	/* Nothing there yet: armed, and the bytes come through the loop. */
	memset(&s, 0, sizeof(s));
	base = new_pair(sv);
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, NULL, on_event, &s);
	conn_enable_read_first(c);
	assert_int_equal(s.reads, 0);
	assert_int_equal(s.events, 0);
	assert_int_equal(nadded(base), 1);
	assert_int_equal(write(sv[1], "abc", 3), 3);
	SPIN(base, 100, s.reads > 0);
	assert_int_equal(s.reads, 1);
	conn_free(c);
	close(sv[1]);
	event_base_free(base);

	/* EOF at once: the event callback, reading off, nothing added. */
	memset(&s, 0, sizeof(s));
	base = new_pair(sv);
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, NULL, on_event, &s);
	close(sv[1]);
	conn_enable_read_first(c);
	assert_int_equal(s.events, 1);
	assert_int_equal(s.what, CONN_EV_READING | CONN_EV_EOF);
	assert_int_equal(nadded(base), 0);
	conn_free(c);
	event_base_free(base);

	/* Freed by its read callback inside: no use after free (ASan). */
	memset(&s, 0, sizeof(s));
	s.free_in_read = 1;
	base = new_pair(sv);
	assert_non_null(s.c = conn_plain(base, sv[0]));
	conn_setcb(s.c, on_read, NULL, on_event, &s);
	assert_int_equal(write(sv[1], "x", 1), 1);
	conn_enable_read_first(s.c);
	assert_int_equal(s.reads, 1);
	assert_null(s.c);
	assert_int_equal(nadded(base), 0);
	close(sv[1]);
	event_base_free(base);
}

/* A pipelined request already in the input: the trigger hands it over. */
static void
test_trigger(void **state)
{
	struct seen		 s = { 0 };
	struct event_base	*base;
	struct conn		*c;
	int			 sv[2];

	(void)state;
	base = new_pair(sv);
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, NULL, on_event, &s);
	evbuffer_add(conn_input(c), "abc", 3);
	conn_trigger_read(c);
	SPIN(base, 100, s.reads > 0);
	assert_int_equal(s.reads, 1);
	assert_int_equal(evbuffer_get_length(conn_input(c)), 3);
	conn_free(c);
	close(sv[1]);
	event_base_free(base);
}

/* A connect to a closed port is an error event, not a hang. */
static void
test_connect_refused(void **state)
{
	struct seen		 s = { 0 };
	struct event_base	*base = event_base_new();
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	socklen_t		 len = sizeof(sin);
	struct conn		*c;
	int			 l, fd;

	(void)state;
	assert_non_null(base);
	/* A port bound but not listening refuses. */
	assert_true((l = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_non_null(c = conn_plain(base, fd));
	conn_setcb(c, on_read, on_write, on_event, &s);
	conn_enable(c, EV_READ);
	assert_int_equal(conn_connect(c, (struct sockaddr *)&sin, len), 0);
	SPIN(base, 300, s.events > 0);
	assert_int_equal(s.events, 1);
	assert_true(s.what & CONN_EV_ERROR);
	assert_int_equal(s.reads, 0);
	conn_free(c);
	close(l);
	event_base_free(base);
}

/*
 * Idle: the queues go back when empty (never with bytes in them), and
 * the next bytes find new ones.
 */
static void
test_shrink(void **state)
{
	struct seen		 s = { 0 };
	struct event_base	*base;
	struct conn		*c;
	int			 sv[2];

	(void)state;
	base = new_pair(sv);
	assert_non_null(c = conn_plain(base, sv[0]));
	conn_setcb(c, on_read, on_write, on_event, &s);
	conn_enable(c, EV_READ);
	assert_int_equal(conn_input_len(c), 0);
	assert_int_equal(write(sv[1], "abc", 3), 3);
	SPIN(base, 100, s.reads > 0);
	conn_shrink(c);		/* bytes unread: kept */
	assert_int_equal(conn_input_len(c), 3);
	evbuffer_drain(conn_input(c), 3);
	conn_shrink(c);
	assert_int_equal(conn_input_len(c), 0);
	assert_int_equal(conn_output_len(c), 0);
	assert_int_equal(write(sv[1], "defg", 4), 4);
	SPIN(base, 100, s.reads > 1);
	assert_int_equal(conn_input_len(c), 4);
	evbuffer_add(conn_output(c), "ok", 2);
	conn_flush(c);
	assert_int_equal(conn_output_len(c), 0);
	conn_free(c);
	close(sv[1]);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_eof),
		cmocka_unit_test(test_read_high),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_read_timeout),
		cmocka_unit_test(test_read_timeout_off),
		cmocka_unit_test(test_read_timeout_common),
		cmocka_unit_test(test_read_common_no_heap),
		cmocka_unit_test(test_free_in_callback),
		cmocka_unit_test(test_trigger),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_shrink),
		cmocka_unit_test(test_read_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
