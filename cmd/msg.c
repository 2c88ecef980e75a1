/*
 * msg: see msg.h.
 */
#include "msg.h"

#include <stdarg.h>
#include <string.h>

static int use_color;
static int be_quiet;

void msg_init(int color, int quiet)
{
	use_color = color;
	be_quiet = quiet;
}

int msg_color(void)
{
	return use_color;
}

int msg_quiet(void)
{
	return be_quiet;
}

const char *msg_c(const char *which)
{
	static const struct { const char *name, *code; } codes[] = {
		{"green", "\033[32m"}, {"yellow", "\033[33m"}, {"red", "\033[31m"},
		{"bold", "\033[1m"}, {"reset", "\033[0m"}, {"cyan", "\033[36m"},
	};
	size_t i;

	if (!use_color)
		return "";
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].name, which) == 0)
			return codes[i].code;
	return "";
}

static void vmsg(FILE *f, const char *prefix, const char *color, const char *fmt, va_list ap)
{
	fprintf(f, "cairn: %s%s%s", color, prefix, *color ? "\033[0m" : "");
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

void msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, "error: ", use_color ? "\033[31m" : "", fmt, ap);
	va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, "warning: ", use_color ? "\033[33m" : "", fmt, ap);
	va_end(ap);
}

void msg_info(const char *fmt, ...)
{
	va_list ap;

	if (be_quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

void msg_err(const struct cairn_err *e)
{
	if (e->file[0] && e->line > 0)
		fprintf(stderr, "%s:%d:%d: error: %s\n", e->file, e->line, e->col, e->msg);
	else
		msg_error("%s", e->msg[0] ? e->msg : "unknown error");
}

int msg_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(stderr, "error: ", use_color ? "\033[31m" : "", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'cairn %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return 1;
}
