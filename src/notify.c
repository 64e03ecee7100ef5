/*
 * notify: systemd's notification protocol without libsystemd.
 *
 * The protocol is one datagram per message to an AF_UNIX socket; its
 * address comes from $NOTIFY_SOCKET, where a leading '@' stands for the
 * NUL that starts an abstract socket name.  A new socket per message:
 * a handful of messages in a process's life, none on the request path.
 * Failures are logged at debug level and otherwise ignored: a service
 * manager that stopped listening must not stop the proxy.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "switchover/log.h"
#include "switchover/notify.h"

int
notify_send(const char *msg)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 len;
	size_t			 n;
	int			 fd, r;

	if (path == NULL || *path == '\0')
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sun.sun_path)) {
		log_debug("notify: NOTIFY_SOCKET=%s: not a path or @name", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';		/* abstract: exactly n bytes */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	r = (int)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (const struct sockaddr *)&sun, len);
	close(fd);
	if (r == -1)
		goto fail;
	return 0;
fail:
	log_debug("notify: %s: %s", path, strerror(errno));
	return -1;
}

int
notify_ready(const char *status)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	return notify_send(msg);
}

int
notify_reloading(void)
{
	struct timespec	ts;
	char		msg[128];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nSTATUS=reloading\n"
	    "MONOTONIC_USEC=%llu", (unsigned long long)ts.tv_sec * 1000000 +
	    (unsigned long long)ts.tv_nsec / 1000);
	return notify_send(msg);
}

int
notify_stopping(void)
{
	return notify_send("STOPPING=1\nSTATUS=stopping: finishing in-flight "
	    "requests");
}
