/* kubeapi test server: the field mapping between core v1 Events and events.k8s.io/v1 Events
 * (k8s.io/kubernetes pkg/apis/events/v1 conversion). Fields of the same name in both shapes
 * (eventTime, series, reportingInstance, action, reason, related, type) need nothing. */
#include "events.h"

#include <stdbool.h>
#include <stddef.h>

static const char *const pairs[][2] = {
	/* core v1               events.k8s.io/v1 */
	{ "message", "note" },
	{ "involvedObject", "regarding" },
	{ "reportingComponent", "reportingController" },
	{ "source", "deprecatedSource" },
	{ "firstTimestamp", "deprecatedFirstTimestamp" },
	{ "lastTimestamp", "deprecatedLastTimestamp" },
	{ "count", "deprecatedCount" },
};

static void rename_all(json_t *ev, bool to_v1)
{
	for (size_t i = 0; json_is_object(ev) && i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const char *from = pairs[i][to_v1 ? 0 : 1], *to = pairs[i][to_v1 ? 1 : 0];
		json_t *v = json_object_get(ev, from);

		if (!v)
			continue;
		json_object_set(ev, to, v);
		json_object_del(ev, from);
	}
}

void kas_events_to_v1(json_t *ev)
{
	rename_all(ev, true);
}

void kas_events_to_core(json_t *ev)
{
	rename_all(ev, false);
}
