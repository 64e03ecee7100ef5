/*
 * notify: the service manager's readiness protocol (systemd's sd_notify),
 * by hand: one datagram of "KEY=VALUE" lines to the AF_UNIX socket named
 * by $NOTIFY_SOCKET (a path, or an abstract name written with a leading
 * '@').  Without $NOTIFY_SOCKET every call does nothing.  Control thread.
 */
#ifndef SWITCHOVER_NOTIFY_H
#define SWITCHOVER_NOTIFY_H

/* Send msg ("READY=1", ...).  0 (also when not asked to), or -1. */
int	notify_send(const char *msg);
/* READY=1 with a STATUS line: listening, or a reload done. */
int	notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC, as Type=notify-reload wants it too. */
int	notify_reloading(void);
/* STOPPING=1. */
int	notify_stopping(void);

#endif
