/* fault: crash points for the crash-safety tests. When the environment variable
 * DROVER_FAULT names a point ("cold.defined"), drover kills itself with SIGKILL the first
 * time it reaches that point — a crash at exactly that step, which the next run must
 * finish or roll back. Unset (always, outside tests) a point costs one cached lookup. */
#ifndef DROVER_FAULT_H
#define DROVER_FAULT_H

/* The test-only variable naming the point to crash at. */
#define FAULT_ENV "DROVER_FAULT"

/* Crashes here when DROVER_FAULT names @point; returns otherwise. Thread-safe. */
void fault_point(const char *point);

#endif
