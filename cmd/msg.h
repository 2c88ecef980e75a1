/*
 * msg: every diagnostic of the cairn program goes through here, so the
 * prefixes, colour and quiet mode are decided in one place (curl's
 * tool_msgs.c). Messages are lowercase and say what failed first.
 */
#ifndef CAIRN_MSG_H
#define CAIRN_MSG_H

#include <stdio.h>

#include "../lib/util.h"

void msg_init(int color, int quiet);
int msg_color(void);          /* colour on for stdout */
int msg_quiet(void);

/* "cairn: error: ..." on stderr. */
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "cairn: warning: ..." on stderr. */
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A plain line on stdout unless -q. */
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error value: "FILE:LINE:COL: error: MSG" when it has a position, else "cairn: error: MSG". */
void msg_err(const struct cairn_err *e);
/* A usage error: the message, then "Try 'cairn CMD --help'." Returns 1 (exit code). */
int msg_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ANSI colour helpers: return "" when colour is off. */
const char *msg_c(const char *which);  /* "green", "yellow", "red", "bold", "reset", "cyan" */

#endif
