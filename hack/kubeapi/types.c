/* kubeapi test server: schemas of the built-in kinds, written from their Go types
 * (k8s.io/api): metav1.Time and MicroTime are RFC 3339 strings, int32 fields integers. */
#include "types.h"

#include <string.h>

#define STR "{\"type\":\"string\"}"
#define INT32 "{\"type\":\"integer\",\"format\":\"int32\"}"
#define TIME "{\"type\":\"string\",\"format\":\"date-time\"}"
#define OBJREF                                                                                         \
	"{\"type\":\"object\",\"properties\":{\"apiVersion\":" STR ",\"fieldPath\":" STR ",\"kind\":" STR \
	",\"name\":" STR ",\"namespace\":" STR ",\"resourceVersion\":" STR ",\"uid\":" STR "}}"
#define SERIES "{\"type\":\"object\",\"properties\":{\"count\":" INT32 ",\"lastObservedTime\":" TIME "}}"
#define SOURCE "{\"type\":\"object\",\"properties\":{\"component\":" STR ",\"host\":" STR "}}"
#define ROOT(props) "{\"type\":\"object\",\"properties\":{\"apiVersion\":" STR ",\"kind\":" STR \
	",\"metadata\":{\"type\":\"object\"}," props "}}"

/* LeaseSpec; validation: leaseDurationSeconds > 0, leaseTransitions >= 0. */
static const char lease[] = ROOT(
	"\"spec\":{\"type\":\"object\",\"properties\":{\"holderIdentity\":" STR
	",\"leaseDurationSeconds\":{\"type\":\"integer\",\"format\":\"int32\",\"minimum\":1}"
	",\"acquireTime\":" TIME ",\"renewTime\":" TIME
	",\"leaseTransitions\":{\"type\":\"integer\",\"format\":\"int32\",\"minimum\":0}"
	",\"strategy\":" STR ",\"preferredHolder\":" STR "}}");

/* core/v1 Event. */
static const char core_event[] = ROOT(
	"\"action\":" STR ",\"count\":" INT32 ",\"eventTime\":" TIME ",\"firstTimestamp\":" TIME
	",\"involvedObject\":" OBJREF ",\"lastTimestamp\":" TIME ",\"message\":" STR ",\"reason\":" STR
	",\"related\":" OBJREF ",\"reportingComponent\":" STR ",\"reportingInstance\":" STR
	",\"series\":" SERIES ",\"source\":" SOURCE ",\"type\":" STR);

/* events.k8s.io/v1 Event. */
static const char events_event[] = ROOT(
	"\"action\":" STR ",\"deprecatedCount\":" INT32 ",\"deprecatedFirstTimestamp\":" TIME
	",\"deprecatedLastTimestamp\":" TIME ",\"deprecatedSource\":" SOURCE ",\"eventTime\":" TIME
	",\"note\":" STR ",\"reason\":" STR ",\"regarding\":" OBJREF ",\"related\":" OBJREF
	",\"reportingController\":" STR ",\"reportingInstance\":" STR ",\"series\":" SERIES
	",\"type\":" STR);

static const char namespace[] = ROOT(
	"\"spec\":{\"type\":\"object\",\"properties\":{\"finalizers\":{\"type\":\"array\",\"items\":" STR "}}}"
	",\"status\":{\"type\":\"object\",\"properties\":{\"phase\":" STR
	",\"conditions\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"x-kubernetes-preserve-unknown-fields\":true}}}}");

json_t *kas_types_schema(const char *group, const char *plural)
{
	const char *text = NULL;

	if (!strcmp(group, "coordination.k8s.io") && !strcmp(plural, "leases"))
		text = lease;
	else if (!strcmp(group, "") && !strcmp(plural, "events"))
		text = core_event;
	else if (!strcmp(group, "events.k8s.io") && !strcmp(plural, "events"))
		text = events_event;
	else if (!strcmp(group, "") && !strcmp(plural, "namespaces"))
		text = namespace;
	return text ? json_loads(text, 0, NULL) : NULL;
}
