/*
 * rusage: runs a command and reports its wall time and peak RSS.
 *
 *     rusage OUTFILE PROGRAM [ARG]...
 *
 * Writes "WALL_SECONDS CPU_SECONDS MAXRSS_KB" (CPU: user + system) to OUTFILE and exits with the command's
 * exit code (128 + signal when it was killed).
 *
 * Why not os.wait4 in bench.py: Linux carries a process's peak RSS across
 * exec, and a child forked (or vforked) by the benchmark's Python process,
 * which holds boto3, starts out with Python's pages; wait4 on it reports
 * Python's ~70-160 MB even for /bin/true. A child of this small program
 * starts from a few hundred kilobytes, so its ru_maxrss is the command's own.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: rusage OUTFILE PROGRAM [ARG]...\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("rusage: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror("rusage: exec");
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("rusage: wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f = fopen(argv[1], "w");
	if (!f) {
		perror("rusage: cannot open the output file");
		return 2;
	}
	fprintf(f, "%.6f %.6f %ld\n",
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		(double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
		ru.ru_maxrss);
	if (fclose(f) != 0) {
		perror("rusage: cannot write the output file");
		return 2;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
