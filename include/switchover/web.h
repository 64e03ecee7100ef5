/*
 * web: the dashboard's files (web/ in the source tree), compiled into the
 * binary by web/embed.sh at build time, so the page needs nothing from
 * the disk or the network where the proxy runs.  The admin API serves
 * them (admin.c).
 */
#ifndef SWITCHOVER_WEB_H
#define SWITCHOVER_WEB_H

#include <stddef.h>

struct web_file {
	const char		*name;	/* "index.html": a file of web/ */
	const char		*type;	/* its Content-Type */
	const unsigned char	*data;
	size_t			 len;
};

/* Every file, ended by one whose name is NULL. */
extern const struct web_file web_files[];

#endif
