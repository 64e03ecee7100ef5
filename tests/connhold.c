/*
 * connhold: open N keep-alive connections, get one answer on each, then
 * hold them idle and report when the server closes each one (drain
 * tests: are the closings spread over the window?).
 *
 *   connhold -p PORT [-n N] [-t SECS] [-u PATH]
 *
 * Prints "ready N" once every connection got its answer (with the
 * X-Backend of each in a "backend NAME COUNT" line), then one line
 * "closed I SECONDS" per connection the server closes, SECONDS on the
 * monotonic clock.  Exits 0 when all are closed, 3 if some were still
 * open after -t seconds, 1 on errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS	4096

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read one response head + Content-Length body from fd; backend into be. */
static int
read_answer(int fd, char *be, size_t belen)
{
	char	buf[16384], *end, *h;
	size_t	n = 0;
	long	clen = 0;

	while ((end = memmem(buf, n, "\r\n\r\n", 4)) == NULL) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);

		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
	}
	*end = '\0';
	if ((h = strcasestr(buf, "\r\ncontent-length:")) != NULL)
		clen = strtol(h + 17, NULL, 10);
	snprintf(be, belen, "-");
	if ((h = strcasestr(buf, "\r\nx-backend:")) != NULL)
		sscanf(h + 12, " %63[^\r]", be);
	for (long left = clen - (long)(n - (size_t)(end + 4 - buf)); left > 0;) {
		ssize_t r = read(fd, buf, sizeof(buf) < (size_t)left ?
		    sizeof(buf) : (size_t)left);

		if (r <= 0)
			return -1;
		left -= r;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	struct pollfd		*pfd;
	const char		*path = "/";
	char			 req[512], names[8][64];
	int			 counts[8] = { 0 }, nnames = 0;
	int			 ch, n = 100, port = 0, open_left;
	double			 timeout = 30, end;

	while ((ch = getopt(argc, argv, "p:n:t:u:")) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 't': timeout = atof(optarg); break;
		case 'u': path = optarg; break;
		default:
			fprintf(stderr, "usage: connhold -p PORT [-n N] [-t SECS] "
			    "[-u PATH]\n");
			return 2;
		}
	}
	if (port <= 0 || n <= 0 || n > MAX_CONNS)
		return 2;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path);
	if ((pfd = calloc((size_t)n, sizeof(*pfd))) == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		char	be[64];
		int	k;

		if ((pfd[i].fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    connect(pfd[i].fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    write(pfd[i].fd, req, strlen(req)) != (ssize_t)strlen(req) ||
		    read_answer(pfd[i].fd, be, sizeof(be)) == -1) {
			fprintf(stderr, "connhold: connection %d: %s\n", i,
			    strerror(errno));
			free(pfd);
			return 1;
		}
		pfd[i].events = POLLIN;
		for (k = 0; k < nnames && strcmp(names[k], be) != 0; k++)
			;
		if (k == nnames && nnames < 8)
			snprintf(names[nnames++], sizeof(names[0]), "%s", be);
		if (k < 8)
			counts[k]++;
	}
	for (int k = 0; k < nnames; k++)
		printf("backend %s %d\n", names[k], counts[k]);
	printf("ready %d\n", n);
	fflush(stdout);
	open_left = n;
	end = now() + timeout;
	while (open_left > 0 && now() < end) {
		if (poll(pfd, (nfds_t)n, 100) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			char	buf[4096];
			ssize_t	r;

			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP |
			    POLLERR)))
				continue;
			r = read(pfd[i].fd, buf, sizeof(buf));
			if (r > 0)
				continue;	/* nothing is expected: ignore */
			printf("closed %d %.6f\n", i, now());
			close(pfd[i].fd);
			pfd[i].fd = -1;	/* poll skips negative fds */
			open_left--;
		}
		fflush(stdout);
	}
	for (int i = 0; i < n; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	free(pfd);
	return open_left == 0 ? 0 : 3;
}
