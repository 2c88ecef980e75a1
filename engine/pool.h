/*
 * pool: the engine's one way to run work on threads. The refresh's reads
 * (refresh.c) and the executor's operations (exec.c) both run on it.
 */
#ifndef CAIRN_POOL_H
#define CAIRN_POOL_H

#include <stddef.h>

/*
 * Runs fn(arg) on `workers` threads at once, the calling thread being one
 * of them, and returns when every call has returned. fn takes its work
 * from arg under its own lock. Returns how many threads ran (at least 1:
 * the caller, even when no thread could be started).
 */
size_t pool_run(size_t workers, void (*fn)(void *arg), void *arg);

/*
 * Runs job(arg, i) for i in 0..n-1 on up to `workers` threads, each index
 * once, in increasing order of start. After a job returns nonzero no new
 * job starts (those not started are left alone). Returns 0, or the first
 * nonzero value a job returned.
 */
int pool_each(size_t workers, size_t n, int (*job)(void *arg, size_t i), void *arg);

#endif
