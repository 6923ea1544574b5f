/* fault: crash points for the crash-safety tests (see fault.h). */
#include "reconcile/fault.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *wanted;

static void read_env(void)
{
	const char *v = getenv(FAULT_ENV);
	wanted = v && *v ? v : NULL;
}

void fault_point(const char *point)
{
	pthread_once(&once, read_env);
	if (!wanted || strcmp(wanted, point))
		return;
	/* Said first (on both streams: a test may read either), so a test can tell this
	 * crash from any other. */
	fprintf(stderr, "drover: fault point %s reached: killing myself\n", point);
	fflush(stderr);
	printf("drover: fault point %s reached: killing myself\n", point);
	fflush(stdout);
	kill(getpid(), SIGKILL);
	pause();
}
