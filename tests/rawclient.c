/*
 * rawclient: a raw TCP client for tests where exact bytes matter
 * (smuggling attempts, pipelining, half-close, slow senders).
 *
 *   rawclient -P                 print a free loopback port and exit
 *   rawclient -p PORT [-a ADDR] [-s BYTES]... [-d MS] [-c] [-t SECS]
 *
 * Each -s is sent in turn (C escapes: \r \n \t \0 \\ \xNN), with -d
 * milliseconds between them; -c half-closes after the last.  Everything
 * received is written to stdout until the server closes or -t seconds
 * pass.  Exit: 0 the server closed, 3 it was still open at the timeout,
 * 1 on errors, 2 on usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SENDS 64

/* Decode C escapes of s into out; returns the length. */
static size_t
unescape(const char *s, char *out)
{
	size_t n = 0;

	while (*s) {
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'r': out[n++] = '\r'; s++; break;
		case 'n': out[n++] = '\n'; s++; break;
		case 't': out[n++] = '\t'; s++; break;
		case '0': out[n++] = '\0'; s++; break;
		case '\\': out[n++] = '\\'; s++; break;
		case 'x': {
			unsigned v = 0;
			int k;
			s++;
			for (k = 0; k < 2 && *s; k++, s++)
				v = v * 16 + (unsigned)(*s <= '9' ? *s - '0' :
				    (*s | 0x20) - 'a' + 10);
			out[n++] = (char)v;
			break;
		}
		case '\0': out[n++] = '\\'; break;
		default: out[n++] = '\\'; out[n++] = *s++; break;
		}
	}
	return n;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
free_port(void)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		len = sizeof(sin);
	int			fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		perror("rawclient");
		return 1;
	}
	printf("%u\n", ntohs(sin.sin_port));
	close(fd);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char		*sends[MAX_SENDS], *addr = "127.0.0.1";
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	int			 nsends = 0, port = 0, delay = 0, half = 0;
	double			 timeout = 5, end;
	int			 ch, fd;
	char			 buf[65536];

	while ((ch = getopt(argc, argv, "Pa:p:s:d:ct:")) != -1) {
		switch (ch) {
		case 'P':
			return free_port();
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's':
			if (nsends == MAX_SENDS)
				return 2;
			sends[nsends++] = optarg;
			break;
		case 'd': delay = atoi(optarg); break;
		case 'c': half = 1; break;
		case 't': timeout = atof(optarg); break;
		default:
			fprintf(stderr, "usage: rawclient -P | -p PORT [-a ADDR] "
			    "[-s BYTES]... [-d MS] [-c] [-t SECS]\n");
			return 2;
		}
	}
	if (port <= 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return 2;
	sin.sin_port = htons((uint16_t)port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("rawclient: connect");
		return 1;
	}
	for (int i = 0; i < nsends; i++) {
		char	*b = malloc(strlen(sends[i]) + 1);
		size_t	 n = unescape(sends[i], b), off = 0;

		while (off < n) {
			ssize_t w = write(fd, b + off, n - off);
			if (w <= 0) {
				/* The server may close on bad input: read it. */
				break;
			}
			off += (size_t)w;
		}
		free(b);
		if (delay > 0 && i + 1 < nsends)
			usleep((useconds_t)delay * 1000);
	}
	if (half)
		shutdown(fd, SHUT_WR);
	end = now() + timeout;
	for (;;) {
		struct pollfd	pfd = { fd, POLLIN, 0 };
		double		left = end - now();
		ssize_t		r;

		if (left <= 0)
			return 3;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		r = read(fd, buf, sizeof(buf));
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			break;
		if (r < 0)
			return 1;
		fwrite(buf, 1, (size_t)r, stdout);
		fflush(stdout);
	}
	close(fd);
	return 0;
}
