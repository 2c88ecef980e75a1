/*
 * main: global options, the command table, dispatch.
 * Global options are accepted before or after the command name (SPEC §2),
 * so they are taken out of argv here and the rest goes to the command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "exec_ui.h"
#include "../engine/plan.h"
#include "../providers/aws/aws.h"
#include "../state/state.h"

extern char **environ;

int cmd_version(int, char **, const struct global_opts *);
int cmd_api(int, char **, const struct global_opts *);
int cmd_validate(int, char **, const struct global_opts *);
int cmd_plan(int, char **, const struct global_opts *);
int cmd_apply_parse(int, char **, struct cmd_run *);
int cmd_apply(struct cmd_run *);
int cmd_destroy_parse(int, char **, struct cmd_run *);
int cmd_destroy(struct cmd_run *);
int cmd_refresh_parse(int, char **, struct cmd_run *);
int cmd_refresh(struct cmd_run *);
int cmd_import_parse(int, char **, struct cmd_run *);
int cmd_import(struct cmd_run *);
int cmd_state(int, char **, const struct global_opts *);
int cmd_force_unlock(int, char **, const struct global_opts *);
int cmd_output(int, char **, const struct global_opts *);
int cmd_graph(int, char **, const struct global_opts *);
int cmd_schema(int, char **, const struct global_opts *);
int cmd_show(int, char **, const struct global_opts *);

#define STACK_HELP \
	"  -f, --file FILE       stack file (default: stack.yaml, stack.yml or stack.json)\n" \
	"      --var NAME=VALUE  set a variable (repeatable)\n" \
	"      --var-file FILE   variables from a YAML or JSON map (repeatable)\n"

const struct cmd cmd_table[] = {
	{"validate", cmd_validate, "check a stack offline: syntax, types, schemas, references, cycles",
	 "usage: cairn validate [-f FILE] [--var NAME=VALUE]... [--var-file FILE]...\n\n"
	 "Parses and checks the stack without any network call or state write.\n"
	 "Every problem is reported as FILE:LINE:COL: error: MESSAGE.\n\n" STACK_HELP,
	 NULL, NULL, 0},
	{"plan", cmd_plan, "show what apply would change",
	 "usage: cairn plan [-f FILE] [--var NAME=VALUE]... [--out FILE] [--json|--markdown]\n"
	 "                  [--detailed-exitcode] [--refresh=false] [--target NAME]...\n\n"
	 "Refreshes the recorded resources from AWS, reports drift, prints the plan.\n\n" STACK_HELP
	 "      --out FILE           save the plan for 'cairn apply FILE'\n"
	 "      --json               print the plan as one JSON document\n"
	 "      --markdown           print the plan for a pull-request comment\n"
	 "      --detailed-exitcode  exit 2 when the plan has changes\n"
	 "      --refresh=false      plan from the state alone, without reading AWS\n"
	 "      --target NAME        limit the plan to NAME and its dependencies (repeatable)\n",
	 NULL, NULL, 0},
	{"apply", NULL, "make the infrastructure match the stack",
	 "usage: cairn apply [-f FILE] [--var NAME=VALUE]... [--auto-approve]\n"
	 "                   [--parallelism N] [--lock-timeout SECS] [--detailed-exitcode]\n"
	 "                   [PLANFILE]\n\n"
	 "Plans (or loads PLANFILE), asks for confirmation, then carries the plan out.\n\n" STACK_HELP
	 "      --auto-approve       do not ask for confirmation\n"
	 "      --parallelism N      at most N operations at once (default 10)\n"
	 "      --lock-timeout SECS  wait up to SECS for the stack lock (default 0)\n"
	 "      --target NAME        limit to NAME and its dependencies (repeatable)\n"
	 "      --detailed-exitcode  exit 2 when something changed, 0 when nothing did\n\n"
	 "With CI=true set, nothing waits for an answer: without --auto-approve apply\n"
	 "fails at once.\n",
	 cmd_apply_parse, cmd_apply, NEED_STACK | NEED_STATE | NEED_AWS | NEED_LOCK | NEED_DATA},
	{"destroy", NULL, "delete everything of the stack that the state holds",
	 "usage: cairn destroy [-f FILE] [--auto-approve] [--parallelism N] [--target NAME]...\n\n"
	 "Deletes every recorded resource of the stack, dependents first.\n\n" STACK_HELP
	 "      --auto-approve       do not ask for confirmation\n"
	 "      --parallelism N      at most N operations at once (default 10)\n"
	 "      --lock-timeout SECS  wait up to SECS for the stack lock (default 0)\n"
	 "      --target NAME        destroy only NAME and what depends on it (repeatable)\n",
	 cmd_destroy_parse, cmd_destroy, NEED_STACK | NEED_STATE | NEED_AWS | NEED_LOCK},
	{"refresh", NULL, "read every recorded resource back from AWS and report drift",
	 "usage: cairn refresh [-f FILE] [--var NAME=VALUE]... [--lock-timeout SECS]\n\n" STACK_HELP,
	 cmd_refresh_parse, cmd_refresh, NEED_STACK | NEED_STATE | NEED_AWS | NEED_LOCK},
	{"import", NULL, "adopt an existing AWS resource as a stack resource",
	 "usage: cairn import [-f FILE] [--var NAME=VALUE]... NAME ID\n\n"
	 "NAME must be declared in the stack; ID is the id shown in the AWS console\n"
	 "(VPC id, target group ARN, table name, topic ARN, ...).\n\n" STACK_HELP,
	 cmd_import_parse, cmd_import, NEED_STACK | NEED_STATE | NEED_AWS | NEED_LOCK},
	{"state", cmd_state, "inspect, edit or move the state: list, show, rm, mv, pull, push",
	 "usage: cairn state list [-f FILE]\n"
	 "       cairn state show ADDRESS [--json] [-f FILE]\n"
	 "       cairn state rm ADDRESS [-f FILE]\n"
	 "       cairn state mv FROM TO [-f FILE]\n"
	 "       cairn state pull [STATEFILE]\n"
	 "       cairn state push STATEFILE [--force] [--lock-timeout SECS]\n\n"
	 "list: one line per resource: ADDRESS<TAB>TYPE<TAB>ID, sorted by ADDRESS.\n"
	 "show: the recorded attributes of one resource.\n"
	 "rm:   forget a resource without deleting it.\n"
	 "mv:   rename a recorded resource (e.g. vpc to net[0]) without touching AWS.\n"
	 "pull: write the whole state (local or S3) to STATEFILE as a local state,\n"
	 "      or print 'state list' of it without STATEFILE.\n"
	 "push: replace the state with STATEFILE under the lock; refuses a file of\n"
	 "      another lineage or an older serial unless --force.\n\n" STACK_HELP,
	 NULL, NULL, 0},
	{"show", cmd_show, "print a saved plan",
	 "usage: cairn show PLANFILE [--json|--markdown]\n\n"
	 "Prints a plan saved by 'cairn plan --out FILE' as 'cairn plan' prints it.\n"
	 "Reads only the file: no state, no AWS access.\n\n"
	 "      --json      print the plan as one JSON document\n"
	 "      --markdown  print the plan for a pull-request comment\n",
	 NULL, NULL, 0},
	{"force-unlock", cmd_force_unlock, "remove a stale lock",
	 "usage: cairn force-unlock [-f FILE] [--yes]\n\n"
	 "Removes the stack's lock after asking for confirmation.\n\n" STACK_HELP
	 "  -y, --yes             do not ask\n",
	 NULL, NULL, 0},
	{"output", cmd_output, "print the stack's outputs",
	 "usage: cairn output [NAME] [--json] [-f FILE]\n\n"
	 "      --json   print {\"NAME\": {\"value\": V, \"sensitive\": B}}\n\n" STACK_HELP,
	 NULL, NULL, 0},
	{"graph", cmd_graph, "print the dependency graph in Graphviz DOT",
	 "usage: cairn graph [-f FILE] [--var NAME=VALUE]...\n\n"
	 "Prints the resources as nodes labelled 'NAME (TYPE)'; each edge points from a\n"
	 "resource to a resource it depends on (references and depends_on).\n\n" STACK_HELP,
	 NULL, NULL, 0},
	{"schema", cmd_schema, "list resource types, or document one",
	 "usage: cairn schema [TYPE] [--json]\n",
	 NULL, NULL, 0},
	{"version", cmd_version, "print the version of cairn and its libraries",
	 "usage: cairn version\n",
	 NULL, NULL, 0},
	{"api", cmd_api, "call one AWS API operation and print the response as JSON",
	 "usage: cairn api SERVICE OPERATION [JSON]\n\n"
	 "Calls one operation with cairn's credentials, region, endpoints and retries,\n"
	 "e.g.: cairn api ec2 DescribeVpcs '{\"VpcIds\":[\"vpc-1\"]}'\n"
	 "AWS errors print their code and message and exit 1.\n",
	 NULL, NULL, 0},
};
const size_t cmd_table_len = sizeof(cmd_table) / sizeof(cmd_table[0]);

static const char global_help[] =
	"Global options (before or after the command):\n"
	"      --state PATH|s3://BUCKET/KEY\n"
	"                       state file or S3 object (default: $CAIRN_STATE or ./cairn.db)\n"
	"      --profile NAME   AWS profile\n"
	"      --region NAME    AWS region\n"
	"      --no-color       no colour (also when NO_COLOR is set)\n"
	"  -q, --quiet          only errors\n"
	"  -v, --verbose        log AWS requests (secrets redacted)\n"
	"  -h, --help           help\n";

const struct cmd *cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < cmd_table_len; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

int cmd_help(const char *name)
{
	const struct cmd *c = name ? cmd_find(name) : NULL;
	size_t i;

	if (c) {
		fputs(c->usage, stdout);
		fputc('\n', stdout);
		fputs(global_help, stdout);
		return 0;
	}
	fputs("usage: cairn [GLOBAL OPTIONS] COMMAND [OPTIONS]\n\n"
	      "cairn provisions AWS infrastructure from a declarative stack file.\n\n"
	      "Commands:\n", stdout);
	for (i = 0; i < cmd_table_len; i++)
		printf("  %-13s %s\n", cmd_table[i].name, cmd_table[i].summary);
	fputc('\n', stdout);
	fputs(global_help, stdout);
	fputs("\nEnvironment:\n"
	      "  CAIRN_STATE              state file or s3:// object (as --state)\n"
	      "  CAIRN_STATE_KEY          seal the state's secrets: 32 bytes, hex or base64\n"
	      "  CAIRN_STATE_KMS_KEY_ID   seal them under a KMS data key instead\n"
	      "  CAIRN_STATE_KEY_PREVIOUS the key (or 'kms') the state was sealed under,\n"
	      "                           for one locking run that rotates or removes it\n"
	      "  CAIRN_LOCK_LEASE         S3 lock lease in seconds\n"
	      "  AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...\n"
	      "                           credentials and region, as the AWS SDKs read them\n"
	      "  AWS_ENDPOINT_URL[_SERVICE] endpoint overrides\n"
	      "  AWS_MAX_ATTEMPTS         tries per call (default 3)\n"
	      "  AWS_CONNECT_TIMEOUT, AWS_READ_TIMEOUT\n"
	      "                           seconds to connect (10) and per request (60)\n"
	      "  CI, NO_COLOR             no colour and no prompt wait; no colour\n", stdout);
	fputs("\n'cairn COMMAND --help' documents one command.\n", stdout);
	return 0;
}

/* Takes a global option with a value, as "--opt VALUE" or "--opt=VALUE". */
static int take_value(int argc, char **argv, int *i, const char *opt, const char **out)
{
	size_t n = strlen(opt);

	if (strcmp(argv[*i], opt) == 0) {
		if (*i + 1 >= argc)
			return -1;
		*out = argv[++*i];
		return 1;
	}
	if (strncmp(argv[*i], opt, n) == 0 && argv[*i][n] == '=') {
		*out = argv[*i] + n + 1;
		return 1;
	}
	return 0;
}

/* Kept here, beside the set-up, so cmd/ files do not call each other in
 * a circle. */
void cmd_run_free(struct cmd_run *r)
{
	ui_progress_free(r->prog);
	plan_free(r->saved);
	stack_free(r->stack);
	aws_client_free(r->aws);
	state_close(r->st);
	stack_args_free(&r->sa);
	free(r->targets);
	memset(r, 0, sizeof(*r));
}

/* Sets up what the command's table entry needs, once, then runs it. */
static int run_builtin(const struct cmd *c, int argc, char **argv, const struct global_opts *g)
{
	struct cmd_run r;
	const char *region;
	int rc;

	memset(&r, 0, sizeof(r));
	r.g = g;
	r.needs = c->needs;
	stack_args_init(&r.sa);
	rc = c->parse(argc, argv, &r);
	if (rc >= 0)
		goto out;
	rc = 1;
	region = r.region;
	if (r.needs & NEED_STACK) {
		r.stack = r.needs & NEED_DATA ? cmd_load_stack_reading(&r.sa, g, &r.aws) :
						cmd_load_stack(&r.sa, g);
		if (!r.stack)
			goto out;
		region = r.stack->region;
	}
	if ((r.needs & NEED_STATE) && !(r.st = cmd_open_state(g, 1)))
		goto out;
	if ((r.needs & NEED_AWS) && !r.aws && !(r.aws = cmd_aws_client(g, region)))
		goto out;
	/* a run holding the lock stops cleanly on the first SIGINT */
	if (r.needs & NEED_LOCK)
		ui_signals_install();
	rc = c->run(&r);
out:
	cmd_run_free(&r);
	return rc;
}

int main(int argc, char **argv)
{
	static const char *const valued[] = {"--state", "--profile", "--region"};
	struct global_opts g = {0};
	const char **vals[] = {&g.state_path, &g.profile, &g.region};
	char **rest = xcalloc((size_t)argc + 1, sizeof(char *));
	int n = 0, help = 0, no_color = 0, i, rc;
	int after_dashdash = 0;
	const struct cmd *c;
	size_t k;

	g.envp = environ;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int took = 0;

		if (after_dashdash) {
			rest[n++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			after_dashdash = 1;
			rest[n++] = argv[i];
			continue;
		}
		for (k = 0; k < 3 && !took; k++) {
			int r = take_value(argc, argv, &i, valued[k], vals[k]);

			if (r < 0) {
				free(rest);
				return msg_usage(NULL, "option '%s' needs a value", valued[k]);
			}
			took = r;
		}
		if (took)
			continue;
		if (strcmp(a, "--no-color") == 0)
			no_color = 1;
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			g.quiet = 1;
		else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
			g.verbose = 1;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			help = 1;
		else
			rest[n++] = argv[i];
	}
	if (!g.state_path)
		g.state_path = env_get(g.envp, "CAIRN_STATE");
	if (!g.state_path || !*g.state_path)
		g.state_path = "cairn.db";
	g.color = !no_color && !env_get(g.envp, "NO_COLOR") && !cmd_ci() && isatty(STDOUT_FILENO);
	msg_init(g.color, g.quiet);

	if (n == 0 || (help && n == 0)) {
		rc = help ? cmd_help(NULL) : (cmd_help(NULL), 1);
		goto out;
	}
	if (strcmp(rest[0], "help") == 0) {
		rc = cmd_help(n > 1 ? rest[1] : NULL);
		goto out;
	}
	c = cmd_find(rest[0]);
	if (!c) {
		rc = msg_usage(NULL, "unknown command '%s'", rest[0]);
		goto out;
	}
	if (help) {
		rc = cmd_help(c->name);
		goto out;
	}
	optind = 0;   /* commands run getopt_long from a fresh state */
	rc = c->fn ? c->fn(n, rest, &g) : run_builtin(c, n, rest, &g);
out:
	free(rest);
	/* Output that did not reach its reader is a failure (a full disk, a
	 * closed pipe): the exit code must say so (STYLE 13). */
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		msg_error("cannot write to standard output: %s",
			  errno ? strerror(errno) : "write error");
		if (rc != 130)
			rc = 1;
	}
	return rc;
}
