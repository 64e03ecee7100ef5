/*
 * idle: open N keep-alive client connections, send one request on each,
 * read its answer, then hold them all open (bench: memory per idle client
 * connection).  Prints "ready N" once every connection got its answer,
 * and exits when stdin closes or on SIGTERM.
 *
 *   idle -p PORT [-n N] [-a ADDR]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	const char		*addr = "127.0.0.1";
	static const char	 req[] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
	struct rlimit		 rl;
	struct pollfd		*pfd;
	int			 ch, n = 10000, port = 0, done = 0, *fds;
	char			 buf[4096];

	while ((ch = getopt(argc, argv, "a:p:n:")) != -1) {
		switch (ch) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: idle -p PORT [-n N] [-a ADDR]\n");
			return 2;
		}
	}
	if (port <= 0 || n <= 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return 2;
	sin.sin_port = htons((uint16_t)port);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)n + 64) {
		fprintf(stderr, "idle: the hard limit on open files (%lu) is below "
		    "%d\n", (unsigned long)rl.rlim_max, n + 64);
		return 1;
	}
	rl.rlim_cur = (rlim_t)n + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		perror("idle: setrlimit");
		return 1;
	}
	fds = calloc((size_t)n, sizeof(*fds));
	pfd = calloc((size_t)n + 1, sizeof(*pfd));
	for (int i = 0; i < n; i++) {
		if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    write(fds[i], req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
			fprintf(stderr, "idle: connection %d: %s\n", i,
			    strerror(errno));
			return 1;
		}
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	/* Wait for an answer on every connection (bounded: 60 s). */
	for (int rounds = 0; done < n && rounds < 600; rounds++) {
		if (poll(pfd, (nfds_t)n, 100) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & POLLIN))
				continue;
			if (read(fds[i], buf, sizeof(buf)) <= 0) {
				fprintf(stderr, "idle: connection %d closed\n", i);
				return 1;
			}
			pfd[i].fd = -1;		/* answered: now idle */
			done++;
		}
	}
	if (done < n) {
		fprintf(stderr, "idle: only %d of %d answered\n", done, n);
		return 1;
	}
	printf("ready %d\n", n);
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	return 0;
}
