/*
 * exec_ui: see exec_ui.h. Only cmd/ reads the clock (STYLE 6): the
 * engine reports events and this module times them.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec_ui.h"
#include "../engine/plan.h"
#include "../engine/run.h"
#include "../providers/registry.h"
#include "../providers/aws/aws.h"
#include "../state/state.h"

/* Signal flags: the only mutable file-scope data, as a handler needs. */
static volatile sig_atomic_t sig_stop, sig_cancel;

static void on_sigint(int signo)
{
	static const char msg[] = "\ncairn: interrupted again: exiting now; the next apply "
				  "recovers what was in flight\n";
	ssize_t w;

	(void)signo;
	if (sig_stop) {
		sig_cancel = 1;
		w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)w;
		_exit(130);
	}
	sig_stop = 1;
}

void ui_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
}

int ui_lock(struct state *st, const char *stack, const char *operation, int timeout_s)
{
	struct cairn_err err;
	char warn[512] = "";
	int took = 0;

	err_clear(&err);
	if (state_lock(st, stack, operation, timeout_s, &took, warn, &err) < 0) {
		msg_err(&err);
		return -1;
	}
	if (took)
		msg_warn("%s", warn[0] ? warn : "took over the lock of a process that no longer runs");
	return 0;
}

int ui_unlock(struct state *st, const char *stack)
{
	struct cairn_err err;

	err_clear(&err);
	if (state_unlock(st, stack, &err) < 0) {
		msg_err(&err);
		return -1;
	}
	return 0;
}

int ui_parse_count(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 1000000)
		return -1;
	return (int)v;
}

/* ---- progress ------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A heartbeat line at least this often per operation in flight, so that a
 * CI job that kills silent steps never sees a silent apply. */
#define HEARTBEAT_S 10.0

struct inflight {
	char *name;
	enum exec_op op;
	int deposed;
	double start;
	double last;            /* when its last line was printed */
};

struct ui_progress {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t ticker;
	int quit, has_ticker;
	struct inflight *v; size_t n, cap;
};

static const char *verb_ing(enum exec_op op)
{
	return op == EXEC_CREATE ? "creating" : op == EXEC_UPDATE ? "modifying" :
	       op == EXEC_DELETE ? "destroying" : "reading";
}

static void print_name(const char *name, int deposed)
{
	printf("%s%s%s%s: ", msg_c("bold"), name, deposed ? " (deposed object)" : "",
	       msg_c("reset"));
}

static void *ticker_main(void *arg)
{
	struct ui_progress *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->quit) {
		struct timespec until;
		double t;
		size_t i;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&p->cv, &p->mu, &until);
		t = now_s();
		for (i = 0; i < p->n; i++) {
			struct inflight *f = &p->v[i];

			/* the provider's own progress lines count as heartbeats */
			if (t - f->last >= HEARTBEAT_S) {
				f->last = t;
				if (!msg_quiet()) {
					print_name(f->name, f->deposed);
					printf("Still %s... [%ds elapsed]\n", verb_ing(f->op),
					       (int)(t - f->start));
					fflush(stdout);
				}
			}
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct ui_progress *ui_progress_new(void)
{
	struct ui_progress *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->has_ticker = pthread_create(&p->ticker, NULL, ticker_main, p) == 0;
	return p;
}

void ui_progress_free(struct ui_progress *p)
{
	size_t i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->has_ticker)
		pthread_join(p->ticker, NULL);
	for (i = 0; i < p->n; i++)
		free(p->v[i].name);
	free(p->v);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* Under p->mu: removes the in-flight entry of ev and returns its elapsed seconds. */
static double take_elapsed(struct ui_progress *p, const struct exec_event *ev)
{
	double t = 0;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].op == ev->op && p->v[i].deposed == ev->deposed &&
		    strcmp(p->v[i].name, ev->name) == 0) {
			t = now_s() - p->v[i].start;
			free(p->v[i].name);
			p->v[i] = p->v[--p->n];
			break;
		}
	return t;
}

static void print_id(const char *id)
{
	if (id)
		printf(" [id=%s]", id);
	putchar('\n');
}

void ui_progress_event(void *ctx, const struct exec_event *ev)
{
	struct ui_progress *p = ctx;
	static const char *const done[] = {"Created", "Modifications complete",
					   "Destruction complete", "Read complete"};
	static const char *const failed[] = {"Creation failed", "Modification failed",
					     "Destruction failed", "Read failed"};
	double t;
	size_t i;

	pthread_mutex_lock(&p->mu);
	if (ev->kind == EXEC_EV_START) {
		if (p->n == p->cap) {
			p->cap = p->cap ? 2 * p->cap : 16;
			p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
		}
		t = now_s();
		p->v[p->n++] = (struct inflight){xstrdup(ev->name), ev->op, ev->deposed, t, t};
	}
	if (ev->kind == EXEC_EV_PROGRESS) {
		/* "still waiting for ... (30s elapsed, status: ...)" from the waiter */
		for (i = 0; i < p->n; i++)
			if (strcmp(p->v[i].name, ev->name) == 0)
				p->v[i].last = now_s();
		if (!msg_quiet() && ev->msg && *ev->msg) {
			print_name(ev->name, 0);
			printf("%c%s\n", toupper((unsigned char)ev->msg[0]), ev->msg + 1);
			fflush(stdout);
		}
		pthread_mutex_unlock(&p->mu);
		return;
	}
	if (msg_quiet()) {
		if (ev->kind == EXEC_EV_DONE || ev->kind == EXEC_EV_FAILED)
			take_elapsed(p, ev);
		pthread_mutex_unlock(&p->mu);
		return;
	}
	print_name(ev->name, ev->deposed);
	switch (ev->kind) {
	case EXEC_EV_START:
		printf("%s%s...", ev->op == EXEC_CREATE ? "Creating" : ev->op == EXEC_UPDATE ?
		       "Modifying" : ev->op == EXEC_DELETE ? "Destroying" : "Reading", "");
		print_id(ev->id);
		break;
	case EXEC_EV_DONE:
		t = take_elapsed(p, ev);
		printf("%s%s after %.1fs%s", msg_c("green"), done[ev->op], t, msg_c("reset"));
		print_id(ev->op == EXEC_DELETE ? NULL : ev->id);
		break;
	case EXEC_EV_FAILED:
		t = take_elapsed(p, ev);
		printf("%s%s after %.1fs%s\n", msg_c("red"), failed[ev->op], t, msg_c("reset"));
		break;
	case EXEC_EV_SKIPPED:
		printf("Skipped: it waits for %s, which did not complete\n",
		       ev->cause ? ev->cause : "a resource");
		break;
	case EXEC_EV_ADOPTED:
		printf("Found the resource an interrupted run created; recorded it");
		print_id(ev->id);
		break;
	case EXEC_EV_GONE:
		if (ev->op == EXEC_READ)
			printf("%sGone from AWS; removed from the state%s\n", msg_c("yellow"),
			       msg_c("reset"));
		else
			printf("Deleted by an interrupted run; removed from the state\n");
		break;
	case EXEC_EV_PROGRESS:          /* printed above */
		break;
	case EXEC_EV_DRIFT:
		printf("%sChanged outside cairn:%s", msg_c("yellow"), msg_c("reset"));
		for (i = 0; i < json_array_size(ev->changed); i++)
			printf("%s %s", i ? "," : "",
			       json_string_value(json_array_get(ev->changed, i)));
		putchar('\n');
		break;
	}
	fflush(stdout);
	pthread_mutex_unlock(&p->mu);
}

/* ---- outputs and summary ------------------------------------------------ */

void ui_print_outputs(json_t *outputs)
{
	const char *name;
	json_t *o;

	if (!json_object_size(outputs) || msg_quiet())
		return;
	printf("\nOutputs:\n\n");
	json_object_foreach(outputs, name, o) {
		char *s;

		if (json_is_true(json_object_get(o, "sensitive"))) {
			printf("%s = (sensitive)\n", name);
			continue;
		}
		s = json_dumps(json_object_get(o, "value"), JSON_ENCODE_ANY | JSON_COMPACT);
		printf("%s = %s\n", name, s ? s : "null");
		free(s);
	}
}

static const char *report_verb(const struct exec_report *r)
{
	if (r->op == EXEC_CREATE)
		return "create";
	if (r->op == EXEC_UPDATE)
		return "update";
	return r->deposed ? "delete of the old object" : "delete";
}

/* Prints the end of the run; returns the exit code. */
static int print_summary(const struct exec_result *res, int destroy)
{
	size_t i;

	for (i = 0; i < res->n_ops; i++) {
		const struct exec_report *r = &res->ops[i];

		if (r->result == EXEC_R_FAILED)
			msg_error("%s (%s): %s failed: %s", r->name, r->type, report_verb(r),
				  r->err.msg);
	}
	if (msg_quiet())
		return res->interrupted ? 130 : res->failed || res->skipped ? 1 : 0;
	if (res->interrupted) {
		printf("\nInterrupted: %zu operations were in flight and have been recorded",
		       res->in_flight_at_stop);
		if (res->not_started)
			printf("; %zu not started", res->not_started);
		printf(".\nResources: %zu added, %zu changed, %zu destroyed.\n", res->added,
		       res->changed, res->destroyed);
		return 130;
	}
	if (res->failed || res->skipped) {
		printf("\n%s%s failed!%s Resources: %zu added, %zu changed, %zu destroyed; "
		       "%zu failed, %zu skipped.\n", msg_c("red"), destroy ? "Destroy" : "Apply",
		       msg_c("reset"), res->added, res->changed, res->destroyed, res->failed,
		       res->skipped);
		for (i = 0; i < res->n_ops; i++) {
			const struct exec_report *r = &res->ops[i];

			if (r->result == EXEC_R_FAILED)
				printf("  failed:  %s (%s)\n", r->name, report_verb(r));
			else if (r->result == EXEC_R_SKIPPED)
				printf("  skipped: %s (%s; waits for %s)\n", r->name, report_verb(r),
				       r->cause ? r->cause : "a failed resource");
		}
		printf("Everything that succeeded is recorded; run 'cairn %s' again to finish "
		       "the rest.\n", destroy ? "destroy" : "apply");
		return 1;
	}
	if (destroy)
		printf("\n%sDestroy complete!%s Resources: %zu destroyed.\n", msg_c("green"),
		       msg_c("reset"), res->destroyed);
	else
		printf("\n%sApply complete!%s Resources: %zu added, %zu changed, %zu destroyed.\n",
		       msg_c("green"), msg_c("reset"), res->added, res->changed, res->destroyed);
	return 0;
}

/* Asks on a terminal. Returns 0 to go on, else the exit code. */
static int confirm(const char *verb, int auto_approve)
{
	char line[64];
	size_t n = 0;

	if (auto_approve)
		return 0;
	if (cmd_ci()) {
		msg_error("%s needs confirmation, and CI=true says nobody can answer: pass "
			  "--auto-approve (after the plan was reviewed)", verb);
		return 1;
	}
	if (!cmd_interactive()) {
		msg_error("%s needs confirmation: run it on a terminal or pass --auto-approve", verb);
		return 1;
	}
	printf("\nEnter 'yes' to %s: ", verb);
	fflush(stdout);
	/* poll, so that Ctrl-C at the prompt is seen without SA_RESTART games */
	while (n + 1 < sizeof(line)) {
		struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
		ssize_t got;

		if (sig_stop) {
			putchar('\n');
			msg_error("interrupted: nothing was changed");
			return 130;
		}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		got = read(STDIN_FILENO, line + n, 1);
		if (got <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	if (strcmp(line, "yes") != 0) {
		msg_error("%s cancelled", verb);
		return 1;
	}
	return 0;
}

/* ---- the apply / destroy driver ----------------------------------------- */

static void ui_info(void *ui, const char *msg)
{
	(void)ui;
	msg_info("%s", msg);
}

static void ui_warning(void *ui, const char *msg)
{
	(void)ui;
	msg_warn("%s", msg);
}

void ui_run_env(struct run_env *env, const struct global_opts *g, struct state *st,
		struct aws_client *aws, int parallelism, struct ui_progress *prog)
{
	memset(env, 0, sizeof(*env));
	env->st = st;
	env->aws = aws;
	env->region = aws ? aws_client_region(aws) : g->region;
	env->lookup = provider_lookup;
	env->data_lookup = provider_data_lookup;
	env->account_id = aws ? cmd_account_id : NULL;
	env->account_arg = aws;
	env->stop = &sig_stop;
	env->cancel = &sig_cancel;
	env->parallelism = parallelism;
	env->ui = prog;
	env->on_event = prog ? ui_progress_event : NULL;
	env->on_warning = ui_warning;
	env->on_info = ui_info;
}

/* What the apply / destroy callbacks need. */
struct apply_ui {
	struct ui_progress *prog;
	const char *verb;
	int auto_approve;
	int color;
};

static void apply_event(void *ui, const struct exec_event *ev)
{
	ui_progress_event(((struct apply_ui *)ui)->prog, ev);
}

static void apply_show_plan(void *ui, const struct plan *p)
{
	if (msg_quiet())
		return;
	plan_print_text(p, stdout, ((struct apply_ui *)ui)->color);
	fflush(stdout);
}

static int apply_confirm(void *ui, const struct plan *p)
{
	struct apply_ui *u = ui;
	int rc = confirm(u->verb, u->auto_approve);

	(void)p;
	if (!rc && !msg_quiet())
		putchar('\n');
	return rc;
}

void ui_run_env_of(struct run_env *env, struct cmd_run *r)
{
	if (!r->prog)
		r->prog = ui_progress_new();
	ui_run_env(env, r->g, r->st, r->aws, r->parallelism, r->prog);
	env->lock_timeout = r->lock_timeout;
}

int ui_apply(struct cmd_run *r, int destroy)
{
	const char *verb = destroy ? "destroy" : "apply";
	struct run_env env;
	struct run_args ra = {0};
	struct run_result res = {0};
	struct apply_ui u = {0};
	struct cairn_err err;
	int rc = 1;

	err_clear(&err);
	ui_run_env_of(&env, r);
	u.prog = r->prog;
	u.verb = verb;
	u.auto_approve = r->auto_approve;
	u.color = r->g->color;
	env.ui = &u;
	env.on_event = apply_event;
	env.on_plan = apply_show_plan;
	env.confirm = apply_confirm;
	ra.stack = r->stack;
	ra.saved = r->saved;
	r->saved = NULL;                /* stolen by the run */
	ra.targets = r->targets;
	ra.n_targets = r->n_targets;
	ra.refresh = 1;
	if ((destroy ? run_destroy : run_apply)(&env, &ra, &res, &err) < 0) {
		if (res.failed_at == RUN_AT_CONFIRM && err.code != CAIRN_ECANCEL) {
			rc = res.code;          /* the prompt said why */
			goto out;
		}
		msg_err(&err);
		if (res.failed_at == RUN_AT_RECOVER)
			msg_error("nothing was changed; run 'cairn %s' again once AWS can be "
				  "reached", verb);
		rc = res.failed_at == RUN_AT_CONFIRM ? res.code : 1;
		if (res.executed && print_summary(&res.exec, destroy) == 130)
			rc = 130;
		goto out;
	}
	rc = res.executed ? print_summary(&res.exec, destroy) : 0;
	if (rc == 0 && !destroy)
		ui_print_outputs(res.outputs);
	if (rc == 0 && r->detailed_exitcode && res.executed &&
	    res.exec.added + res.exec.changed + res.exec.destroyed > 0)
		rc = 2;
out:
	run_result_free(&res);
	return rc;
}

enum { OPT_AUTO_APPROVE = OPT_CMD_BASE, OPT_PARALLELISM, OPT_LOCK_TIMEOUT, OPT_TARGET,
       OPT_DETAILED };

int ui_apply_parse(int argc, char **argv, struct cmd_run *r, int destroy)
{
	static const struct option longopts[] = {
		STACK_LONGOPTS,
		{"auto-approve", no_argument, NULL, OPT_AUTO_APPROVE},
		{"parallelism", required_argument, NULL, OPT_PARALLELISM},
		{"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
		{"target", required_argument, NULL, OPT_TARGET},
		{"detailed-exitcode", no_argument, NULL, OPT_DETAILED},
		{NULL, 0, NULL, 0}
	};
	const char *cmd = destroy ? "destroy" : "apply", *plan_file = NULL;
	struct cairn_err err;
	int opt;

	r->parallelism = 10;
	while ((opt = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		if (stack_args_opt(&r->sa, opt, optarg))
			continue;
		switch (opt) {
		case OPT_AUTO_APPROVE:
			r->auto_approve = 1;
			break;
		case OPT_PARALLELISM:
			r->parallelism = ui_parse_count(optarg);
			if (r->parallelism < 1)
				return msg_usage(cmd, "--parallelism needs a number of at least 1, "
						 "not '%s'", optarg);
			break;
		case OPT_LOCK_TIMEOUT:
			r->lock_timeout = ui_parse_count(optarg);
			if (r->lock_timeout < 0)
				return msg_usage(cmd, "--lock-timeout needs a number of seconds, "
						 "not '%s'", optarg);
			break;
		case OPT_TARGET:
			r->targets = xrealloc(r->targets, (r->n_targets + 1) * sizeof(*r->targets));
			r->targets[r->n_targets++] = optarg;
			break;
		case OPT_DETAILED:
			if (destroy)
				return msg_usage(cmd, "unknown option '--detailed-exitcode'");
			r->detailed_exitcode = 1;
			break;
		default:
			return msg_usage(cmd, "unknown option");
		}
	}
	if (destroy && optind < argc)
		return msg_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (argc - optind > 1)
		return msg_usage(cmd, "too many arguments: apply takes at most one plan file");
	if (optind < argc)
		plan_file = argv[optind];
	if (plan_file && (r->n_targets || r->sa.file || r->sa.n_vars || r->sa.n_var_files))
		return msg_usage(cmd, "a saved plan is applied as it is: no -f, --var, "
				 "--var-file or --target with PLANFILE");
	if (plan_file) {
		/* the plan, not a stack, says what to do and where */
		err_clear(&err);
		r->saved = plan_load(plan_file, &err);
		if (!r->saved) {
			msg_err(&err);
			return 1;
		}
		r->region = r->saved->region;
		r->needs &= ~(unsigned)NEED_STACK;
	}
	return -1;
}
