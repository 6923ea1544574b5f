/* types: enum names, free functions, set lookups and migration knob defaults. */
#include <stdlib.h>
#include <string.h>

#include "crd/types.h"

/* Defines NAME_str() and NAME_parse() from a table indexed by the enum value. */
#define CRD_ENUM(NAME, ...)                                                            \
	static const char *const NAME##_names[] = {__VA_ARGS__};                       \
	const struct crd_enum_desc NAME##_desc = {                                     \
		NAME##_names, sizeof(NAME##_names) / sizeof(NAME##_names[0])};         \
	const char *NAME##_str(enum NAME v)                                            \
	{                                                                              \
		size_t i = (size_t)v;                                                  \
		return i < sizeof(NAME##_names) / sizeof(NAME##_names[0]) ? NAME##_names[i] : ""; \
	}                                                                              \
	int NAME##_parse(const char *s, enum NAME *out)                                \
	{                                                                              \
		for (size_t i = 0; s && i < sizeof(NAME##_names) / sizeof(NAME##_names[0]); i++) \
			if (NAME##_names[i][0] && !strcmp(s, NAME##_names[i])) {       \
				*out = (enum NAME)i;                                   \
				return 0;                                              \
			}                                                              \
		return -1;                                                             \
	}

CRD_ENUM(crd_kind, "Host", "VirtualMachine", "Migration", "PlacementPolicy")
CRD_ENUM(crd_cond_status, "Unknown", "True", "False")
CRD_ENUM(crd_domain_type, "kvm", "qemu")
CRD_ENUM(crd_disk_format, "qcow2", "raw")
CRD_ENUM(crd_disk_bus, "virtio", "sata", "ide")
CRD_ENUM(crd_iface_kind, "bridge", "network")
CRD_ENUM(crd_storage, "shared", "local")
CRD_ENUM(crd_eviction, "LiveMigrate", "LiveMigrateIfPossible", "None")
CRD_ENUM(crd_compression, "none", "xbzrle", "mt")
CRD_ENUM(crd_transport, "Direct", "Tunnelled")
CRD_ENUM(crd_encryption, "None", "TLS")
CRD_ENUM(crd_deletion_policy, "Delete", "Retain")
CRD_ENUM(crd_migration_mode, "Auto", "Live", "Cold")
CRD_ENUM(crd_vm_phase, "", "Pending", "Running", "Stopped", "Migrating", "Conflict", "Unknown",
	 "Orphaned")
CRD_ENUM(crd_mig_phase, "", "Pending", "Scheduling", "PreChecking", "Running", "Succeeded",
	 "Failed", "Cancelled")
CRD_ENUM(crd_mig_run_mode, "", "PreCopy", "PostCopy", "Paused", "Cold")
CRD_ENUM(crd_mig_reason, "", "Requested", "SpecHostChanged", "Drain", "Balance", "Failover")
CRD_ENUM(crd_balance_resource, "memory", "cpu")

bool crd_mig_phase_ended(enum crd_mig_phase p)
{
	return p == CRD_MIG_SUCCEEDED || p == CRD_MIG_FAILED || p == CRD_MIG_CANCELLED;
}

const char *crd_map_get(const struct crd_map *m, const char *key)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (!strcmp(m->items[i].key, key))
			return m->items[i].value;
	return NULL;
}

void crd_map_free(struct crd_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->items[i].key);
		free(m->items[i].value);
	}
	free(m->items);
	memset(m, 0, sizeof(*m));
}

void crd_conditions_free(struct crd_conditions *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct crd_condition *x = &c->items[i];
		free(x->type);
		free(x->reason);
		free(x->message);
		free(x->last_transition_time);
	}
	free(c->items);
	memset(c, 0, sizeof(*c));
}

void crd_meta_free(struct crd_meta *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->namespace);
	crd_map_free(&m->labels);
	crd_map_free(&m->annotations);
	free(m->uid);
	free(m->resource_version);
	free(m->creation_timestamp);
	free(m->deletion_timestamp);
	for (size_t i = 0; i < m->n_finalizers; i++)
		free(m->finalizers[i]);
	free(m->finalizers);
	free(m->source);
	memset(m, 0, sizeof(*m));
}

void crd_host_free(struct crd_host *h)
{
	if (!h)
		return;
	crd_meta_free(&h->meta);
	free(h->spec.uri);
	free(h->spec.migration_address);
	free(h->spec.fencing.agent);
	crd_map_free(&h->spec.fencing.options);
	free(h->spec.fencing.password_file);
	free(h->spec.fencing.password_secret.name);
	free(h->spec.fencing.password_secret.key);
	crd_conditions_free(&h->status.conditions);
	free(h->status.fencing.last_action);
	free(h->status.fencing.result);
	free(h->status.fencing.time);
	struct crd_hypervisor *hv = &h->status.hypervisor;
	free(hv->type);
	free(hv->version);
	free(hv->libvirt_version);
	free(hv->arch);
	free(hv->cpu_model);
	memset(h, 0, sizeof(*h));
}

static void affinity_terms_free(struct crd_affinity_term *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crd_map_free(&t[i].selector);
		free(t[i].topology_key);
	}
	free(t);
}

void crd_policy_spec_default(struct crd_policy_spec *s)
{
	*s = (struct crd_policy_spec){
		.cpu_overcommit = 0, .memory_overcommit = 1.0,
		.balance = {.resource = CRD_BALANCE_MEMORY, .max_spread_percent = 20,
			    .max_moves_per_hour = 12},
		.host_failure = {.detect_after_s = 30, .fence = false},
	};
}

void crd_policy_free(struct crd_policy *p)
{
	if (!p)
		return;
	crd_meta_free(&p->meta);
	memset(p, 0, sizeof(*p));
}

void crd_vm_free(struct crd_vm *vm)
{
	if (!vm)
		return;
	crd_meta_free(&vm->meta);
	free(vm->spec.host);
	crd_map_free(&vm->spec.host_selector);
	struct crd_domain *d = &vm->spec.domain;
	free(d->xml);
	free(d->kernel);
	free(d->cmdline);
	free(d->serial_path);
	free(d->cpu);
	for (size_t i = 0; i < d->n_disks; i++)
		free(d->disks[i].path);
	free(d->disks);
	for (size_t i = 0; i < d->n_interfaces; i++)
		free(d->interfaces[i].name);
	free(d->interfaces);
	for (size_t i = 0; i < vm->spec.tuning.n_disk_io; i++)
		free(vm->spec.tuning.disk_io[i].target);
	free(vm->spec.tuning.disk_io);
	free(vm->status.host);
	crd_conditions_free(&vm->status.conditions);
	free(vm->status.migration.name);
	free(vm->status.placement.reason);
	crd_map_free(&vm->status.placement.rejected);
	affinity_terms_free(vm->spec.affinity.anti, vm->spec.affinity.n_anti);
	affinity_terms_free(vm->spec.affinity.together, vm->spec.affinity.n_together);
	memset(vm, 0, sizeof(*vm));
}

void crd_migration_free(struct crd_migration *m)
{
	if (!m)
		return;
	crd_meta_free(&m->meta);
	free(m->spec.vm_name);
	free(m->spec.target_host);
	free(m->status.source_host);
	free(m->status.target_host);
	free(m->status.start_time);
	free(m->status.end_time);
	free(m->status.failure_reason);
	for (size_t i = 0; i < m->status.n_transitions; i++)
		free(m->status.transitions[i].time);
	crd_conditions_free(&m->status.conditions);
	memset(m, 0, sizeof(*m));
}

void crd_object_free(struct crd_object *o)
{
	if (!o)
		return;
	switch (o->kind) {
	case CRD_KIND_HOST: crd_host_free(&o->u.host); break;
	case CRD_KIND_VM: crd_vm_free(&o->u.vm); break;
	case CRD_KIND_MIGRATION: crd_migration_free(&o->u.migration); break;
	case CRD_KIND_POLICY: crd_policy_free(&o->u.policy); break;
	}
}

void crd_set_free(struct crd_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_hosts; i++)
		crd_host_free(&s->hosts[i]);
	for (size_t i = 0; i < s->n_vms; i++)
		crd_vm_free(&s->vms[i]);
	for (size_t i = 0; i < s->n_migrations; i++)
		crd_migration_free(&s->migrations[i]);
	for (size_t i = 0; i < s->n_policies; i++)
		crd_policy_free(&s->policies[i]);
	free(s->policies);
	free(s->hosts);
	free(s->vms);
	free(s->migrations);
	memset(s, 0, sizeof(*s));
}

static int meta_is(const struct crd_meta *m, const char *ns, const char *name)
{
	return !strcmp(m->namespace, ns ? ns : "default") && !strcmp(m->name, name);
}

const struct crd_host *crd_set_host(const struct crd_set *s, const char *ns, const char *name)
{
	for (size_t i = 0; name && i < s->n_hosts; i++)
		if (meta_is(&s->hosts[i].meta, ns, name))
			return &s->hosts[i];
	return NULL;
}

const struct crd_vm *crd_set_vm(const struct crd_set *s, const char *ns, const char *name)
{
	for (size_t i = 0; name && i < s->n_vms; i++)
		if (meta_is(&s->vms[i].meta, ns, name))
			return &s->vms[i];
	return NULL;
}

const struct crd_migration *crd_set_migration(const struct crd_set *s, const char *ns,
					      const char *name)
{
	for (size_t i = 0; name && i < s->n_migrations; i++)
		if (meta_is(&s->migrations[i].meta, ns, name))
			return &s->migrations[i];
	return NULL;
}

const struct crd_policy *crd_set_policy(const struct crd_set *s, const char *ns)
{
	for (size_t i = 0; i < s->n_policies; i++)
		if (meta_is(&s->policies[i].meta, ns, CRD_POLICY_NAME))
			return &s->policies[i];
	return NULL;
}

/* Appends @elem (@size bytes) to the array *@arr of *@n, with room for *@room, grown by
 * half again when full. Returns 0 or -1 (out of memory). */
static int array_push(void **arr, size_t *n, size_t *room, const void *elem, size_t size)
{
	if (*n >= *room) {
		size_t want = *n + *n / 2 + 8;
		char *grown = realloc(*arr, want * size);
		if (!grown)
			return -1;
		*arr = grown;
		*room = want;
	}
	memcpy((char *)*arr + *n * size, elem, size);
	(*n)++;
	return 0;
}

int crd_set_add(struct crd_set *s, struct crd_object *o)
{
	int rc = -1;

	switch (o->kind) {
	case CRD_KIND_HOST:
		rc = array_push((void **)&s->hosts, &s->n_hosts, &s->room.hosts, &o->u.host,
				sizeof(o->u.host));
		break;
	case CRD_KIND_VM:
		rc = array_push((void **)&s->vms, &s->n_vms, &s->room.vms, &o->u.vm,
				sizeof(o->u.vm));
		break;
	case CRD_KIND_MIGRATION:
		rc = array_push((void **)&s->migrations, &s->n_migrations, &s->room.migrations,
				&o->u.migration, sizeof(o->u.migration));
		break;
	case CRD_KIND_POLICY:
		rc = array_push((void **)&s->policies, &s->n_policies, &s->room.policies,
				&o->u.policy, sizeof(o->u.policy));
		break;
	}
	if (rc == 0)
		memset(o, 0, sizeof(*o));
	return rc;
}

void crd_knobs_default(struct crd_knobs *k)
{
	*k = (struct crd_knobs){
		.max_downtime_ms = 300, .completion_timeout_per_gib_s = 150,
		.progress_timeout_s = 150, .allow_auto_converge = true,
		.compression = CRD_COMPRESS_NONE, .parallel_connections = 1,
	};
}

const char *crd_knobs_conflict(const struct crd_knobs *k, bool copies_disks)
{
	if (k->transport != CRD_TRANSPORT_TUNNELLED)
		return NULL;
	if (k->allow_post_copy)
		return "Tunnelled cannot be combined with allowPostCopy: libvirt does not support "
		       "post-copy through a tunnel";
	if (k->parallel_connections > 1)
		return "Tunnelled cannot be combined with parallelConnections above 1: the tunnel "
		       "is one connection";
	if (k->encryption == CRD_ENCRYPT_TLS)
		return "Tunnelled cannot be combined with encryption TLS: the tunnel is libvirtd's "
		       "own connection; encrypt it with a qemu+tls or qemu+ssh Host uri";
	if (copies_disks)
		return "Tunnelled cannot copy local disks (storage: local): libvirt does not "
		       "support storage migration through a tunnel";
	return NULL;
}

void crd_knobs_overlay(struct crd_knobs *dst, const struct crd_knobs *src)
{
	unsigned s = src->set;

	if (s & CRD_KNOB_BANDWIDTH)
		dst->bandwidth_mibps = src->bandwidth_mibps;
	if (s & CRD_KNOB_MAX_DOWNTIME)
		dst->max_downtime_ms = src->max_downtime_ms;
	if (s & CRD_KNOB_COMPLETION_TIMEOUT)
		dst->completion_timeout_per_gib_s = src->completion_timeout_per_gib_s;
	if (s & CRD_KNOB_PROGRESS_TIMEOUT)
		dst->progress_timeout_s = src->progress_timeout_s;
	if (s & CRD_KNOB_AUTO_CONVERGE)
		dst->allow_auto_converge = src->allow_auto_converge;
	if (s & CRD_KNOB_POST_COPY)
		dst->allow_post_copy = src->allow_post_copy;
	if (s & CRD_KNOB_COMPRESSION)
		dst->compression = src->compression;
	if (s & CRD_KNOB_PARALLEL)
		dst->parallel_connections = src->parallel_connections;
	if (s & CRD_KNOB_TRANSPORT)
		dst->transport = src->transport;
	if (s & CRD_KNOB_ENCRYPTION)
		dst->encryption = src->encryption;
	dst->set |= s;
}

void crd_effective_knobs(const struct crd_vm *vm, const struct crd_migration *mig,
			 struct crd_knobs *out)
{
	crd_knobs_default(out);
	if (vm)
		crd_knobs_overlay(out, &vm->spec.migration_policy);
	if (mig)
		crd_knobs_overlay(out, &mig->spec.knobs);
}
