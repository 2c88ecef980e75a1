/*
 * exec_ui: see exec_ui.h. Only cmd/ reads the clock (STYLE 6): the
 * engine reports events and this module times them.
 */
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
#include "../engine/provider.h"
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

const volatile sig_atomic_t *ui_stop_flag(void)
{
	return &sig_stop;
}

const volatile sig_atomic_t *ui_cancel_flag(void)
{
	return &sig_cancel;
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

struct inflight {
	char *name;
	enum exec_op op;
	int deposed;
	double start;
	int ticks;              /* "Still ..." lines printed */
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
			int due = (int)((t - f->start) / 10.0);

			if (due > f->ticks) {
				f->ticks = due;
				if (!msg_quiet()) {
					print_name(f->name, f->deposed);
					printf("Still %s... [%ds elapsed]\n", verb_ing(f->op), due * 10);
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
		p->v[p->n++] = (struct inflight){xstrdup(ev->name), ev->op, ev->deposed, now_s(), 0};
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

static json_t *history_summary(const struct exec_result *res)
{
	static const char *const results[] = {"done", "failed", "skipped", "not started"};
	json_t *changes = json_array();
	size_t i;

	for (i = 0; i < res->n_ops; i++) {
		const struct exec_report *r = &res->ops[i];
		json_t *c = json_pack("{s:s,s:s,s:s,s:s}", "name", r->name, "type", r->type,
				      "op", exec_op_name(r->op), "result", results[r->result]);

		if (r->result == EXEC_R_FAILED)
			json_object_set_new(c, "error", json_string(r->err.msg));
		json_array_append_new(changes, c);
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "added", (json_int_t)res->added,
			 "changed", (json_int_t)res->changed, "destroyed", (json_int_t)res->destroyed,
			 "failed", (json_int_t)res->failed, "skipped", (json_int_t)res->skipped,
			 "not_started", (json_int_t)res->not_started, "changes", changes);
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

int ui_store_outputs(struct state *st, const char *stack, json_t *outputs,
		     struct cairn_err *err)
{
	json_t *have = NULL;
	int rc;

	if (state_outputs_get(st, stack, &have, err) < 0)
		return -1;
	rc = json_equal(have, outputs) || (!have && !json_object_size(outputs)) ? 0 :
	     state_outputs_put(st, stack, outputs, err);
	json_decref(have);
	return rc;
}

static void exec_opts_init(struct exec_opts *o, struct state *st, struct aws_client *aws,
			   const char *stack, struct ui_progress *prog)
{
	memset(o, 0, sizeof(*o));
	o->st = st;
	o->aws = aws;
	o->stack = stack;
	o->lookup = provider_lookup;
	o->stop = &sig_stop;
	o->cancel = &sig_cancel;
	o->on_event = ui_progress_event;
	o->event_ctx = prog;
}

/* Unseals a saved plan's secrets with the stack's key from the state. */
static int ui_unseal(struct plan *plan, struct state *st)
{
	unsigned char key[PLAN_KEY_LEN];
	struct cairn_err err;
	int found = 0, rc = -1;

	err_clear(&err);
	if (state_plan_key(st, plan->stack, 0, key, &found, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	if (!found) {
		msg_error("saved plan cannot be used: it was made against another state "
			  "(this state has no key for stack '%s')", plan->stack);
		goto out;
	}
	if (plan_unseal(plan, key, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	rc = 0;
out:
	secure_zero(key, sizeof(key));
	return rc;
}

int ui_apply(const struct ui_apply_args *a, const struct global_opts *g)
{
	const char *verb = a->destroy ? "destroy" : "apply";
	struct stack *stack = NULL;
	struct state *st = NULL;
	struct aws_client *aws = NULL;
	struct plan *plan = NULL;
	struct ui_progress *prog = NULL;
	struct exec_result res = {0};
	struct exec_opts o;
	struct cairn_err err;
	json_t *outputs = NULL, *summary = NULL;
	const char *stack_name, *region, *account_id = NULL;
	int rc = 1, locked = 0;

	err_clear(&err);
	ui_signals_install();
	if (a->plan_file) {
		plan = plan_load(a->plan_file, &err);
		if (!plan) {
			msg_err(&err);
			goto out;
		}
		stack_name = plan->stack;
		region = plan->region;
	} else {
		stack = cmd_load_stack(a->stack, g);
		if (!stack)
			goto out;
		stack_name = stack->name;
		region = stack->region;
	}
	st = cmd_open_state(g, 1);
	if (!st)
		goto out;
	if (plan && ui_unseal(plan, st) < 0)
		goto out;
	aws = cmd_aws_client(g, region);
	if (!aws)
		goto out;
	if (ui_lock(st, stack_name, verb, a->lock_timeout) < 0)
		goto out;
	locked = 1;
	prog = ui_progress_new();
	exec_opts_init(&o, st, aws, stack_name, prog);
	o.parallelism = a->parallelism;
	if (exec_recover(&o, &err) < 0) {
		msg_err(&err);
		msg_error("nothing was changed; run 'cairn %s' again once AWS can be reached", verb);
		goto out;
	}
	if (plan) {
		struct state_stack ss;

		if (state_stack_get(st, stack_name, &ss, &err) < 0) {
			msg_err(&err);
			goto out;
		}
		if (ss.serial != plan->serial || strcmp(ss.lineage, plan->lineage ? plan->lineage : "")) {
			msg_error("saved plan is stale: the state changed since it was made "
				  "(serial %lld, now %lld)", (long long)plan->serial,
				  (long long)ss.serial);
			goto out;
		}
	} else {
		struct plan_opts po = {0};

		po.refresh = 1;
		po.targets = a->targets;
		po.n_targets = a->n_targets;
		po.destroy = a->destroy;
		po.lookup = provider_lookup;
		po.parallelism = a->parallelism;
		plan = plan_build(stack, st, aws, &po, &err);
		if (!plan) {
			msg_err(&err);
			goto out;
		}
	}
	if (sig_stop) {
		msg_error("interrupted before any change was made");
		rc = 130;
		goto out;
	}
	if (!msg_quiet()) {
		plan_print_text(plan, stdout, g->color);
		fflush(stdout);
	}
	if (exec_needs_account_id(plan)) {
		account_id = provider_account_id(aws, &err);
		if (!account_id) {
			msg_err(&err);
			goto out;
		}
	}
	if (!plan_has_changes(plan)) {
		rc = 0;         /* plan_print_text said "No changes." */
	} else {
		rc = confirm(verb, a->auto_approve);
		if (rc)
			goto out;
		if (!msg_quiet())
			putchar('\n');
		o.account_id = account_id;
		if (exec_run(plan, &o, &res, &err) < 0) {
			msg_err(&err);
			rc = 1;
			goto out;
		}
		rc = print_summary(&res, a->destroy);
		summary = history_summary(&res);
		if (state_history_add(st, stack_name, verb, rc == 0 ? "success" : rc == 130 ?
				      "interrupted" : "failed", summary, &err) < 0) {
			msg_err(&err);
			rc = rc ? rc : 1;
		}
	}
	outputs = a->destroy ? json_object() : exec_outputs(plan, st, account_id, &err);
	if (!outputs || ui_store_outputs(st, stack_name, outputs, &err) < 0) {
		msg_err(&err);
		rc = rc ? rc : 1;
	} else if (rc == 0 && !a->destroy) {
		ui_print_outputs(outputs);
	}
out:
	ui_progress_free(prog);
	/* S3 state: the last upload, or the errored copy after a 412 (exit 1). */
	if (locked && ui_unlock(st, stack_name) < 0 && rc != 130)
		rc = 1;
	exec_result_free(&res);
	json_decref(outputs);
	json_decref(summary);
	plan_free(plan);
	stack_free(stack);
	aws_client_free(aws);
	state_close(st);
	return rc;
}

enum { OPT_AUTO_APPROVE = OPT_CMD_BASE, OPT_PARALLELISM, OPT_LOCK_TIMEOUT, OPT_TARGET };

/* The option parsing apply and destroy share; destroy takes no PLANFILE. */
int ui_apply_main(int argc, char **argv, const struct global_opts *g, int destroy)
{
	static const struct option longopts[] = {
		STACK_LONGOPTS,
		{"auto-approve", no_argument, NULL, OPT_AUTO_APPROVE},
		{"parallelism", required_argument, NULL, OPT_PARALLELISM},
		{"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
		{"target", required_argument, NULL, OPT_TARGET},
		{NULL, 0, NULL, 0}
	};
	struct ui_apply_args a = {0};
	struct stack_args sa;
	const char **targets = NULL;
	size_t n_targets = 0;
	int opt, rc = 1;
	const char *cmd = destroy ? "destroy" : "apply";

	stack_args_init(&sa);
	a.destroy = destroy;
	a.parallelism = 10;
	while ((opt = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		if (stack_args_opt(&sa, opt, optarg))
			continue;
		switch (opt) {
		case OPT_AUTO_APPROVE:
			a.auto_approve = 1;
			break;
		case OPT_PARALLELISM:
			a.parallelism = ui_parse_count(optarg);
			if (a.parallelism < 1) {
				rc = msg_usage(cmd, "--parallelism needs a number of at least 1, "
					       "not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_LOCK_TIMEOUT:
			a.lock_timeout = ui_parse_count(optarg);
			if (a.lock_timeout < 0) {
				rc = msg_usage(cmd, "--lock-timeout needs a number of seconds, "
					       "not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_TARGET:
			targets = xrealloc(targets, (n_targets + 1) * sizeof(*targets));
			targets[n_targets++] = optarg;
			break;
		default:
			rc = msg_usage(cmd, "unknown option");
			goto out;
		}
	}
	if (destroy && optind < argc) {
		rc = msg_usage(cmd, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (argc - optind > 1) {
		rc = msg_usage(cmd, "too many arguments: apply takes at most one plan file");
		goto out;
	}
	if (optind < argc)
		a.plan_file = argv[optind];
	if (a.plan_file && (n_targets || sa.file || sa.n_vars || sa.n_var_files)) {
		rc = msg_usage(cmd, "a saved plan is applied as it is: no -f, --var, "
			       "--var-file or --target with PLANFILE");
		goto out;
	}
	a.targets = targets;
	a.n_targets = n_targets;
	a.stack = &sa;
	rc = ui_apply(&a, g);
out:
	free(targets);
	stack_args_free(&sa);
	return rc;
}
