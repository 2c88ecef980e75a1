/*
 * plan_md: the markdown form of a plan (SPEC §2), for a pull-request
 * comment. Written for CommonMark with the GitHub-flavoured table
 * extension, which GitHub and GitLab both render: a title with the summary
 * line, a warning above the table when resources that hold data are
 * deleted or replaced, one table row per change (in address order), then
 * each change's attribute diff — the text form's lines, sensitive values
 * masked — in a collapsed <details> block. Only reads the plan.
 */
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "schema.h"

/* A comment on GitHub holds at most 65536 characters: the diffs stop
 * before that and say where the rest is. */
#define MD_BUDGET 60000

int plan_holds_data(const char *type)
{
	const json_t *schema = schema_get(type);

	return schema && json_is_true(json_object_get(schema, "holds_data"));
}

/* Text for a table cell or inline code: '|' would end the cell. */
static void cell(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			strbuf_addc(sb, '\\');
		if (*s == '\n')
			strbuf_addc(sb, ' ');
		else
			strbuf_addc(sb, *s);
	}
}

/* Text inside HTML (<summary>). */
static void html(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			strbuf_adds(sb, "&lt;");
		else if (*s == '>')
			strbuf_adds(sb, "&gt;");
		else if (*s == '&')
			strbuf_adds(sb, "&amp;");
		else
			strbuf_addc(sb, *s);
	}
}

/* A fenced code block that no backtick run inside the text can close. */
static void code_block(struct strbuf *sb, const char *text)
{
	size_t run = 0, longest = 0, fence;
	const char *p;

	for (p = text; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	fence = longest >= 3 ? longest + 1 : 3;
	strbuf_addf(sb, "%.*s\n", (int)fence, "````````````````````````````````````````");
	strbuf_adds(sb, text);
	if (sb->len && sb->buf[sb->len - 1] != '\n')
		strbuf_addc(sb, '\n');
	strbuf_addf(sb, "%.*s\n", (int)fence, "````````````````````````````````````````");
}

static const char *action_text(enum plan_action a)
{
	switch (a) {
	case PLAN_CREATE: return "create";
	case PLAN_UPDATE: return "update in place";
	case PLAN_REPLACE: return "replace";
	case PLAN_DELETE: return "delete";
	default: return "no change";
	}
}

static const char *action_sym(enum plan_action a)
{
	switch (a) {
	case PLAN_CREATE: return "+";
	case PLAN_UPDATE: return "~";
	case PLAN_REPLACE: return "-/+";
	case PLAN_DELETE: return "-";
	default: return "";
	}
}

static void callout(struct strbuf *sb, const struct plan *p, const size_t *order)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_changes; i++) {
		const struct plan_change *c = &p->changes[order[i]];

		if ((c->action != PLAN_DELETE && c->action != PLAN_REPLACE) ||
		    !plan_holds_data(c->type))
			continue;
		if (n++ == 0)
			strbuf_adds(sb, "> :warning: **This plan deletes resources that hold data.** "
				    "Their contents are lost unless they were backed up:\n>\n");
		strbuf_adds(sb, "> - `");
		cell(sb, plan_change_address(c));
		strbuf_addf(sb, "` (%s) will be %s\n", c->type,
			    c->action == PLAN_DELETE ? "**deleted**" :
			    "**replaced** (deleted, then created empty)");
	}
	if (n)
		strbuf_addc(sb, '\n');
}

static void table(struct strbuf *sb, const struct plan *p, const size_t *order)
{
	size_t i, j;

	strbuf_adds(sb, "| | Action | Address | Type | Forces replacement |\n"
		    "|---|---|---|---|---|\n");
	for (i = 0; i < p->n_changes; i++) {
		const struct plan_change *c = &p->changes[order[i]];
		json_t *r;

		if (c->action == PLAN_NOOP && !c->moved_from)
			continue;
		if (c->action == PLAN_NOOP) {
			/* a move alone: the state is rewritten, AWS is not touched */
			strbuf_adds(sb, "| `->` | moved from `");
			cell(sb, c->moved_from);
			strbuf_adds(sb, "` | `");
			cell(sb, plan_change_address(c));
			strbuf_addf(sb, "` | %s |  |\n", c->type);
			continue;
		}
		strbuf_addf(sb, "| `%s` | %s", action_sym(c->action), action_text(c->action));
		if (c->moved_from) {
			strbuf_adds(sb, " (moved from `");
			cell(sb, c->moved_from);
			strbuf_adds(sb, "`)");
		}
		strbuf_adds(sb, " | `");
		cell(sb, plan_change_address(c));
		strbuf_addf(sb, "` | %s | ", c->type);
		json_array_foreach(c->action == PLAN_REPLACE ? c->replace_because : NULL, j, r) {
			const char *why = json_string_value(r);
			int attr = !strchr(why, ' ');

			strbuf_adds(sb, j ? ", " : "");
			strbuf_adds(sb, attr ? "`" : "");
			cell(sb, why);
			strbuf_adds(sb, attr ? "`" : "");
		}
		strbuf_adds(sb, " |\n");
	}
	strbuf_addc(sb, '\n');
}

/* The text a FILE-writing printer produces (owned). */
static char *captured_change(const struct plan_change *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();        /* allocation does not fail (STYLE 5) */
	plan_print_change_body(c, f, 0);
	fclose(f);
	return buf;
}

static char *captured_drift(const struct plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	plan_print_drift_entries(p, f, 0);
	fclose(f);
	return buf;
}

static void details(struct strbuf *sb, const char *summary_html, const char *text)
{
	strbuf_adds(sb, "<details><summary>");
	strbuf_adds(sb, summary_html);
	strbuf_adds(sb, "</summary>\n\n");
	code_block(sb, text);
	strbuf_adds(sb, "\n</details>\n\n");
}

void plan_print_markdown(const struct plan *p, FILE *f)
{
	struct strbuf sb, sum;
	size_t *order = plan_sorted(p), i, left = 0;
	int moves = 0;
	char *line = plan_summary_line(p), *text;

	strbuf_init(&sb);
	strbuf_init(&sum);
	if (plan_has_changes(p))
		strbuf_addf(&sb, "### %s\n\n", line);
	else
		strbuf_adds(&sb, "### No changes. Your infrastructure matches the stack.\n\n");
	strbuf_adds(&sb, "Stack `");
	cell(&sb, p->stack);
	strbuf_addf(&sb, "`%s%s%s, planned against state serial %lld.\n\n",
		    p->region ? " in `" : "", p->region ? p->region : "", p->region ? "`" : "",
		    (long long)p->serial);
	for (i = 0; i < p->n_changes && !moves; i++)
		moves = p->changes[i].moved_from != NULL;
	if (plan_has_changes(p) || moves) {
		callout(&sb, p, order);
		table(&sb, p, order);
	}
	if (json_array_size(p->drift)) {
		text = captured_drift(p);
		strbuf_addf(&sum, "Changed outside cairn (%zu)", json_array_size(p->drift));
		details(&sb, sum.buf, text);
		free(text);
	}
	for (i = 0; i < p->n_changes; i++) {
		const struct plan_change *c = &p->changes[order[i]];

		if (c->action == PLAN_NOOP)
			continue;
		if (sb.len > MD_BUDGET) {
			left++;
			continue;
		}
		text = captured_change(c);
		if (*text) {
			strbuf_reset(&sum);
			strbuf_addf(&sum, "<code>%s ", action_sym(c->action));
			html(&sum, plan_change_address(c));
			strbuf_addf(&sum, "</code> (%s): %s", c->type, action_text(c->action));
			details(&sb, sum.buf, text);
		}
		free(text);
	}
	if (left)
		strbuf_addf(&sb, "The diffs of %zu more changes are left out to keep this comment "
			    "short: `cairn show` on the saved plan prints them.\n", left);
	fputs(sb.buf, f);
	strbuf_free(&sb);
	strbuf_free(&sum);
	free(line);
	free(order);
}
