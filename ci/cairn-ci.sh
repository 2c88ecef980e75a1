#!/bin/sh
# cairn-ci.sh: how CI runs cairn. The GitHub Actions workflow and the
# Jenkinsfile next to this script are thin wrappers over it, so both do the
# same thing and this one file is what the tests exercise.
#
#   ci/cairn-ci.sh pr      validate, then plan --out $CAIRN_PLAN; the plan in
#                          markdown goes to $CAIRN_COMMENT for the wrapper to
#                          post on the pull request. Exit 0 whether the plan has
#                          changes or not; 1 when the stack is invalid or the
#                          plan fails (the comment then says why).
#   ci/cairn-ci.sh merge   apply $CAIRN_PLAN, the plan the reviewers saw (when
#                          the wrapper has it), else a plan made now. A plan
#                          whose state changed since is refused (stale):
#                          nothing is applied that nobody reviewed.
#
# Environment (all optional):
#   CAIRN            the cairn binary (default: cairn on PATH)
#   CAIRN_STACK      the stack file (default: cairn's, stack.yaml)
#   CAIRN_VAR_FILE   a --var-file for the stack
#   CAIRN_STATE      the state: a path or s3://BUCKET/KEY (read by cairn itself)
#   CAIRN_PLAN       the saved plan (default: plan.bin)
#   CAIRN_COMMENT    where pr writes the comment (default: cairn-plan.md)
#   CAIRN_LOCK_TIMEOUT  seconds merge waits for the state lock (default: 300)
#   GITHUB_OUTPUT, GITHUB_STEP_SUMMARY  set by GitHub Actions: pr records
#                    changes=true|false, merge adds the plan to the job summary
set -u

CAIRN=${CAIRN:-cairn}
PLAN=${CAIRN_PLAN:-plan.bin}
COMMENT=${CAIRN_COMMENT:-cairn-plan.md}
LOCK_TIMEOUT=${CAIRN_LOCK_TIMEOUT:-300}
# CI=true: cairn prints no colour and never waits for an answer.
CI=true
export CI

die() {
	echo "cairn-ci: $*" >&2
	exit 1
}

# The comment names the stack so a wrapper can find and update its own.
marker() {
	printf '<!-- cairn-plan: %s -->\n' "${CAIRN_STACK:-stack}"
}

# failure STEP LOG: the comment says which step failed and shows its output.
failure() {
	{
		marker
		printf '### cairn %s failed\n\n' "$1"
		# shellcheck disable=SC2016 # the backquotes are markdown
		printf 'Nothing was planned for this change. The output of `cairn %s`:\n\n' "$1"
		printf '````\n'
		cat "$2"
		printf '````\n'
	} >"$COMMENT"
	cat "$2" >&2
}

# run_stack SUBCOMMAND [ARGS...]: cairn SUBCOMMAND with the stack options.
run_stack() {
	sub=$1
	shift
	if [ -n "${CAIRN_STACK:-}" ] && [ -n "${CAIRN_VAR_FILE:-}" ]; then
		"$CAIRN" "$sub" -f "$CAIRN_STACK" --var-file "$CAIRN_VAR_FILE" "$@"
	elif [ -n "${CAIRN_STACK:-}" ]; then
		"$CAIRN" "$sub" -f "$CAIRN_STACK" "$@"
	elif [ -n "${CAIRN_VAR_FILE:-}" ]; then
		"$CAIRN" "$sub" --var-file "$CAIRN_VAR_FILE" "$@"
	else
		"$CAIRN" "$sub" "$@"
	fi
}

pr() {
	log=$(mktemp) || die "cannot make a temporary file"
	body=$(mktemp) || die "cannot make a temporary file"
	trap 'rm -f "$log" "$body"' EXIT
	if ! run_stack validate >"$log" 2>&1; then
		failure validate "$log"
		exit 1
	fi
	cat "$log"
	rc=0
	run_stack plan --out "$PLAN" --markdown --detailed-exitcode >"$body" 2>"$log" || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
		failure plan "$log"
		exit 1
	fi
	cat "$log" >&2
	{ marker; cat "$body"; } >"$COMMENT"
	# the log gets the plan as people read it in a terminal
	"$CAIRN" show "$PLAN" || exit 1
	changes=false
	if [ "$rc" -eq 2 ]; then changes=true; fi
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		printf 'changes=%s\n' "$changes" >>"$GITHUB_OUTPUT"
	fi
	echo "cairn-ci: plan saved to $PLAN; comment written to $COMMENT (changes: $changes)"
}

merge() {
	if [ -f "$PLAN" ]; then
		echo "cairn-ci: applying the reviewed plan $PLAN"
	else
		echo "cairn-ci: no $PLAN from the pull request: planning now"
		run_stack plan --out "$PLAN" || exit 1
	fi
	if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
		"$CAIRN" show "$PLAN" --markdown >>"$GITHUB_STEP_SUMMARY" || exit 1
	fi
	rc=0
	"$CAIRN" apply --auto-approve --detailed-exitcode --lock-timeout "$LOCK_TIMEOUT" "$PLAN" ||
		rc=$?
	case $rc in
	0) echo "cairn-ci: nothing to change" ;;
	2) echo "cairn-ci: applied" ;;
	*) exit "$rc" ;;
	esac
}

case ${1:-} in
pr) pr ;;
merge) merge ;;
*) die "usage: cairn-ci.sh pr|merge (see the top of this file)" ;;
esac
