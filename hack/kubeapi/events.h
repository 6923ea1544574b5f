/* kubeapi test server: core v1 and events.k8s.io/v1 Events are one store, as on the real
 * server: objects are stored in the core shape and converted for events.k8s.io. */
#ifndef KAS_EVENTS_H
#define KAS_EVENTS_H

#include <jansson.h>

/* Renames @ev's fields (in place) from the core v1 shape to events.k8s.io/v1 (message -> note,
 * involvedObject -> regarding, ...), or back. Fields already in the target shape stay, so
 * either can be applied to any Event. Can't fail. */
void kas_events_to_v1(json_t *ev);
void kas_events_to_core(json_t *ev);

#endif
