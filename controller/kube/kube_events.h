/* kube_events: events.k8s.io/v1 Events about drover's objects (kubectl describe shows them). */
#ifndef DROVER_KUBE_EVENTS_H
#define DROVER_KUBE_EVENTS_H

#include "crd/compiler.h"

#include <jansson.h>

#include "controller/kube/kube_http.h"

#define KUBE_REPORTING_CONTROLLER "drover.io/drover"

/* The reasons drover reports. */
#define KUBE_REASON_MIGRATION_STARTED   "MigrationStarted"
#define KUBE_REASON_MIGRATION_TAKEN_OVER "MigrationTakenOver" /* started by an earlier leader */
#define KUBE_REASON_MIGRATION_SUCCEEDED "MigrationSucceeded"
#define KUBE_REASON_MIGRATION_FAILED    "MigrationFailed"
#define KUBE_REASON_MIGRATION_CANCELLED "MigrationCancelled"
#define KUBE_REASON_PRECHECK_FAILED     "PreCheckFailed"
#define KUBE_REASON_CONFLICT            "Conflict"
#define KUBE_REASON_HOST_FAILED         "HostFailed"    /* Warning: unreachable past detectAfterSeconds */
#define KUBE_REASON_FENCING_HELD        "FencingHeld"   /* Warning: most hosts look failed (quorum) */
#define KUBE_REASON_FENCE_FAILED        "FenceFailed"   /* Warning: the agent failed, nothing restarted */
#define KUBE_REASON_HOST_FENCED         "HostFenced"    /* Normal: the agent confirmed it off */
#define KUBE_REASON_RESTART_REQUIRED    "RestartRequired"  /* a new definition waits for one */
#define KUBE_REASON_RESTARTED           "Restarted"
#define KUBE_REASON_RESTART_FAILED      "RestartFailed"
#define KUBE_REASON_DOMAIN_DELETED      "DomainDeleted"    /* deletionPolicy Delete */
#define KUBE_REASON_DOMAIN_RETAINED     "DomainRetained"   /* deletionPolicy Retain */
#define KUBE_REASON_DELETE_FAILED       "DeleteFailed"

#define KUBE_EVENT_NORMAL  "Normal"
#define KUBE_EVENT_WARNING "Warning"

/* One event. @regarding is the object it is about (apiVersion, kind, namespace, name, uid
 * and resourceVersion are taken from it). The note is cut at 1 KiB, reason and action at 128
 * bytes (the API's limits). */
struct kube_event {
	const json_t *regarding;
	const char *reason;       /* KUBE_REASON_* */
	const char *note;         /* human-readable; may be NULL */
	const char *type;         /* KUBE_EVENT_NORMAL or KUBE_EVENT_WARNING */
	const char *action;       /* what drover did: "Migrate", "PreCheck", ... */
	const char *reporting_instance;  /* this replica, e.g. the holder identity */
};

/* Builds the Event object (eventTime now, with microseconds; name "<regarding>.<hex ns>").
 * Returns a new reference, or NULL when @ev lacks a field or out of memory. */
json_t *kube_event_build(const struct kube_event *ev) DROVER_WUR;

/* Creates the event in the namespace of the regarding object. Returns 0 with the stored
 * event in *@created (when not NULL; the caller decrefs), or -1 with @r describing the
 * failure (the caller frees @r either way). Events are best effort: callers log and go on. */
int kube_event_create(struct kube_client *c, const struct kube_event *ev, json_t **created,
		      struct kube_response *r) DROVER_WUR;

#endif
