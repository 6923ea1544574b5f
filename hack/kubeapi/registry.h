/* kubeapi test server: the resource types served (built-in kinds and those CRDs register).
 * Not locked by itself: every call is made with the store lock held (see store.h). */
#ifndef KAS_REGISTRY_H
#define KAS_REGISTRY_H

#include "crd/compiler.h"

#include "util.h"

#include <jansson.h>
#include <stdbool.h>

/* Most resource types (one per served version) the registry holds. */
#define KAS_MAX_TYPES 256

struct kas_rtype {
	char *group, *version, *plural, *singular, *kind, *list_kind;
	char *qname;          /* "plural.group" ("plural" in the core group): how errors name it */
	char *rkey;           /* "group/plural": where objects live, shared by all versions */
	json_t *short_names;  /* array of strings */
	json_t *columns;      /* additionalPrinterColumns, never empty (Age at least) */
	bool namespaced;
	bool status_sub;      /* has the status subresource */
	bool custom;          /* served through a CRD: merge-patch only, resourceVersion required on PUT */
	char *crd_name;       /* owning CRD, NULL for built-ins */
	json_t *schema;       /* structural schema (openAPIV3Schema), NULL when none */
	bool events_v1;       /* events.k8s.io: stored with the core Events, converted (events.h) */
};

/* Registers the built-in kinds. Returns 0, or -1 on OOM. */
DROVER_WUR int kas_registry_init(void);

/* Forgets every type. Can't fail. */
void kas_registry_free(void);

/* Returns the type served at /apis/@group/@version/@plural (group "" = core), or NULL. */
const struct kas_rtype *kas_registry_find(const char *group, const char *version, const char *plural);

/* Returns the first type storing objects under @rkey, or NULL. */
const struct kas_rtype *kas_registry_find_rkey(const char *rkey);

/* Number of types and the i-th one, in registration order, for discovery. */
size_t kas_registry_count(void);
const struct kas_rtype *kas_registry_at(size_t i);

/* Bumped by every change, so clients can tell when discovery changed. */
unsigned long kas_registry_generation(void);

/* Checks a CustomResourceDefinition object. Returns NULL when valid, else a malloc'd message
 * ("spec.group: Required value") the caller owns. */
DROVER_WUR char *kas_registry_crd_problem(json_t *crd);

/* (Re)registers every served version of a valid CRD and fills in its status (conditions
 * Established and NamesAccepted, acceptedNames, storedVersions). Returns 0, or -1 on OOM. */
DROVER_WUR int kas_registry_apply_crd(json_t *crd);

/* Unregisters the types of the CRD named @crd_name. Can't fail. */
void kas_registry_drop_crd(const char *crd_name);

#endif
