/* decode_kinds: spec and status of Host, VirtualMachine, Migration and PlacementPolicy. */
#include <stdlib.h>
#include <string.h>

#include "crd/decode.h"
#include "crd/domain.h"
#include "crd/load.h"
#include "crd/validate.h"

#define MAX_DISKS 16
#define MAX_INTERFACES 16
#define MAX_CMDLINE 4096

static struct crd_pos pos_of(const struct crd_node *m, const char *key)
{
	const struct crd_node *n = crd_node_get(m, key);
	return n ? (struct crd_pos){n->line, n->col} : (struct crd_pos){0, 0};
}

static bool in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

/* Reports at member @key of @m when its string *@s fails @ok. */
static void check_str(struct crd_dctx *c, const struct crd_node *m, const char *key,
		      const char *s, bool (*ok)(const char *), const char *what)
{
	if (!s || ok(s))
		return;
	size_t saved = crd_dec_push(c, key);
	crd_dec_error(c, crd_node_get(m, key), false, "\"%.80s\" is not %s", s, what);
	crd_dec_pop(c, saved);
}

#define ABS_PATH "an absolute path"
#define LABEL_NAME "a DNS-1123 label (lower-case letters, digits and '-', starting and " \
	"ending with a letter or digit, at most 63 characters)"

/* Reads an optional enum member into *@out of any enum type via an int. */
#define DEC_ENUM(c, m, key, desc, out)                                   \
	do {                                                             \
		int v_ = 0;                                              \
		if (crd_dec_enum((c), (m), (key), (desc), &v_) == 0)     \
			*(out) = v_;                                     \
	} while (0)

/* Decodes the knobs of mapping @m into @k; a combination libvirt refuses is an error at
 * the transport field (@copies_disks: the VM's disks are local and get copied). */
static void dec_knobs(struct crd_dctx *c, const struct crd_node *m, struct crd_knobs *k,
		      bool copies_disks)
{
	struct crd_knobs *d = k;   /* the fields; k->set records which were written */
	int v = 0;

	if (crd_dec_u32(c, m, "bandwidthMiBps", 0, 1048576, &d->bandwidth_mibps) == 0)
		k->set |= CRD_KNOB_BANDWIDTH;
	if (crd_dec_u32(c, m, "maxDowntimeMs", 1, 600000, &d->max_downtime_ms) == 0)
		k->set |= CRD_KNOB_MAX_DOWNTIME;
	if (crd_dec_u32(c, m, "completionTimeoutPerGiBSeconds", 0, 86400,
			&d->completion_timeout_per_gib_s) == 0)
		k->set |= CRD_KNOB_COMPLETION_TIMEOUT;
	if (crd_dec_u32(c, m, "progressTimeoutSeconds", 0, 86400, &d->progress_timeout_s) == 0)
		k->set |= CRD_KNOB_PROGRESS_TIMEOUT;
	if (crd_dec_bool(c, m, "allowAutoConverge", &d->allow_auto_converge) == 0)
		k->set |= CRD_KNOB_AUTO_CONVERGE;
	if (crd_dec_bool(c, m, "allowPostCopy", &d->allow_post_copy) == 0)
		k->set |= CRD_KNOB_POST_COPY;
	if (crd_dec_enum(c, m, "compression", &crd_compression_desc, &v) == 0) {
		d->compression = (enum crd_compression)v;
		k->set |= CRD_KNOB_COMPRESSION;
	}
	if (crd_dec_u32(c, m, "parallelConnections", 1, 32, &d->parallel_connections) == 0)
		k->set |= CRD_KNOB_PARALLEL;
	if (crd_dec_enum(c, m, "transport", &crd_transport_desc, &v) == 0) {
		d->transport = (enum crd_transport)v;
		k->set |= CRD_KNOB_TRANSPORT;
	}
	if (crd_dec_enum(c, m, "encryption", &crd_encryption_desc, &v) == 0) {
		d->encryption = (enum crd_encryption)v;
		k->set |= CRD_KNOB_ENCRYPTION;
	}
	const char *conflict = crd_knobs_conflict(k, copies_disks);
	if (conflict) {
		size_t saved = crd_dec_push(c, "transport");
		crd_dec_error(c, crd_node_get(m, "transport") ? crd_node_get(m, "transport") : m,
			      false, "%s", conflict);
		crd_dec_pop(c, saved);
	}
}

#define KNOB_FIELDS "bandwidthMiBps", "maxDowntimeMs", "completionTimeoutPerGiBSeconds", \
	"progressTimeoutSeconds", "allowAutoConverge", "allowPostCopy", "compression", \
	"parallelConnections", "transport", "encryption"

/* ---- Host ---- */

/* status.cpu and status.hugepages. */
static void dec_host_capacity(struct crd_dctx *c, const struct crd_node *st,
			      struct crd_host_status *s)
{
	static const char *const cpu_known[] = {"threads", "allocatedVcpus", "load", NULL};
	static const char *const hp_known[] = {"pageSize", "total", "free", NULL};
	const struct crd_node *n;

	if ((n = crd_dec_map_member(c, st, "cpu", false))) {
		size_t saved = crd_dec_push(c, "cpu");
		crd_dec_fields(c, n, cpu_known);
		(void)crd_dec_int(c, n, "threads", 0, INT64_MAX, &s->cpu.threads);
		(void)crd_dec_int(c, n, "allocatedVcpus", 0, INT64_MAX, &s->cpu.allocated_vcpus);
		(void)crd_dec_number(c, n, "load", 0, 1, &s->cpu.load);
		crd_dec_pop(c, saved);
	}
	if ((n = crd_dec_map_member(c, st, "hugepages", false))) {
		size_t saved = crd_dec_push(c, "hugepages");
		crd_dec_fields(c, n, hp_known);
		(void)crd_dec_quantity(c, n, "pageSize", false, &s->hugepages.page_size);
		(void)crd_dec_int(c, n, "total", 0, INT64_MAX, &s->hugepages.total);
		(void)crd_dec_int(c, n, "free", 0, INT64_MAX, &s->hugepages.free);
		crd_dec_pop(c, saved);
	}
}

static void dec_host_status(struct crd_dctx *c, const struct crd_node *st, struct crd_host_status *s)
{
	static const char *const known[] = {"observedGeneration", "conditions", "hypervisor",
					    "memory", "cpu", "hugepages", "vms", "fencing", NULL};
	static const char *const fence_known[] = {"lastAction", "result", "time", NULL};
	static const char *const hv_known[] = {"type", "version", "libvirtVersion", "arch",
					       "cpuModel", NULL};
	static const char *const mem_known[] = {"total", "free", NULL};
	const struct crd_node *n;

	crd_dec_fields(c, st, known);
	(void)crd_dec_int(c, st, "observedGeneration", 0, INT64_MAX, &s->observed_generation);
	(void)crd_dec_conditions(c, st, &s->conditions);
	(void)crd_dec_int(c, st, "vms", 0, INT64_MAX, &s->vms);
	if ((n = crd_dec_map_member(c, st, "hypervisor", false))) {
		size_t saved = crd_dec_push(c, "hypervisor");
		crd_dec_fields(c, n, hv_known);
		(void)crd_dec_str(c, n, "type", false, &s->hypervisor.type);
		(void)crd_dec_str(c, n, "version", false, &s->hypervisor.version);
		(void)crd_dec_str(c, n, "libvirtVersion", false, &s->hypervisor.libvirt_version);
		(void)crd_dec_str(c, n, "arch", false, &s->hypervisor.arch);
		(void)crd_dec_str(c, n, "cpuModel", false, &s->hypervisor.cpu_model);
		crd_dec_pop(c, saved);
	}
	if ((n = crd_dec_map_member(c, st, "memory", false))) {
		size_t saved = crd_dec_push(c, "memory");
		crd_dec_fields(c, n, mem_known);
		(void)crd_dec_quantity(c, n, "total", false, &s->memory_total);
		(void)crd_dec_quantity(c, n, "free", false, &s->memory_free);
		crd_dec_pop(c, saved);
	}
	dec_host_capacity(c, st, s);
	if ((n = crd_dec_map_member(c, st, "fencing", false))) {
		size_t saved = crd_dec_push(c, "fencing");
		crd_dec_fields(c, n, fence_known);
		(void)crd_dec_str(c, n, "lastAction", false, &s->fencing.last_action);
		(void)crd_dec_str(c, n, "result", false, &s->fencing.result);
		(void)crd_dec_str(c, n, "time", false, &s->fencing.time);
		crd_dec_pop(c, saved);
	}
}

/* Reports at member @key of @m when @why (a check's reason) is set. */
static void report_why(struct crd_dctx *c, const struct crd_node *at, bool at_key, const char *why)
{
	if (why)
		crd_dec_error(c, at, at_key, "%s", why);
}

static void dec_fence_options(struct crd_dctx *c, const struct crd_node *f, struct crd_map *out)
{
	const struct crd_node *n = crd_node_get(f, "options");
	size_t saved = crd_dec_push(c, "options");

	if (crd_dec_map(c, f, "options", false, out) != 0 || !n)
		goto cleanup;
	for (size_t i = 0; i < n->n_kids && i < out->n; i++) {
		const struct crd_node *v = n->kids[i];
		const struct crd_kv *kv = &out->items[i];
		size_t s2 = crd_dec_push(c, v->key);
		const char *why = kv->key && kv->value ? crd_check_fence_option(kv->key, kv->value)
						      : NULL;
		/* A bad name is reported at the key, a bad value at the value. */
		report_why(c, v, why && crd_check_fence_option(kv->key, "") != NULL, why);
		crd_dec_pop(c, s2);
	}
cleanup:
	crd_dec_pop(c, saved);
}

static void dec_fencing(struct crd_dctx *c, const struct crd_node *spec, struct crd_fencing *f)
{
	static const char *const known[] = {"agent", "options", "passwordFile",
					    "passwordSecretRef", "timeoutSeconds", NULL};
	static const char *const ref_known[] = {"name", "key", NULL};
	const struct crd_node *m = crd_dec_map_member(c, spec, "fencing", false), *ref;
	size_t saved = crd_dec_push(c, "fencing");

	f->timeout_s = CRD_FENCE_TIMEOUT_DEFAULT;
	if (!m)
		goto cleanup;
	crd_dec_fields(c, m, known);
	if (crd_dec_str(c, m, "agent", true, &f->agent) == 0) {
		size_t s2 = crd_dec_push(c, "agent");
		report_why(c, crd_node_get(m, "agent"), false, crd_check_fence_agent(f->agent));
		crd_dec_pop(c, s2);
	}
	dec_fence_options(c, m, &f->options);
	if (crd_dec_str(c, m, "passwordFile", false, &f->password_file) == 0)
		check_str(c, m, "passwordFile", f->password_file, crd_valid_abs_path, ABS_PATH);
	if ((ref = crd_dec_map_member(c, m, "passwordSecretRef", false))) {
		size_t s2 = crd_dec_push(c, "passwordSecretRef");
		crd_dec_fields(c, ref, ref_known);
		if (crd_dec_str(c, ref, "name", true, &f->password_secret.name) == 0)
			check_str(c, ref, "name", f->password_secret.name, crd_valid_dns_subdomain,
				  "a Secret name");
		(void)crd_dec_str(c, ref, "key", true, &f->password_secret.key);
		if (f->password_file)
			crd_dec_error(c, ref, true, "give passwordFile or passwordSecretRef, not both");
		crd_dec_pop(c, s2);
	}
	(void)crd_dec_u32(c, m, "timeoutSeconds", 1, 600, &f->timeout_s);
cleanup:
	crd_dec_pop(c, saved);
}

void crd_dec_host(struct crd_dctx *c, const struct crd_node *root, struct crd_host *h)
{
	static const char *const known[] = {"uri", "migrationAddress", "unschedulable", "drain",
					    "fenced", "reservedMemory", "fencing", NULL};
	const struct crd_node *spec = crd_dec_map_member(c, root, "spec", true);
	const struct crd_node *st = crd_dec_map_member(c, root, "status", false);
	size_t saved = crd_dec_push(c, "spec");

	if (spec) {
		crd_dec_fields(c, spec, known);
		if (crd_dec_str(c, spec, "uri", true, &h->spec.uri) == 0) {
			const char *why = crd_check_uri(h->spec.uri);
			if (why) {
				size_t s2 = crd_dec_push(c, "uri");
				crd_dec_error(c, crd_node_get(spec, "uri"), false, "%s", why);
				crd_dec_pop(c, s2);
			}
		}
		if (crd_dec_str(c, spec, "migrationAddress", false, &h->spec.migration_address) == 0)
			check_str(c, spec, "migrationAddress", h->spec.migration_address,
				  crd_valid_address, "an IP address or DNS name");
		(void)crd_dec_bool(c, spec, "unschedulable", &h->spec.unschedulable);
		(void)crd_dec_bool(c, spec, "drain", &h->spec.drain);
		(void)crd_dec_bool(c, spec, "fenced", &h->spec.fenced);
		(void)crd_dec_quantity(c, spec, "reservedMemory", false, &h->spec.reserved_memory);
		dec_fencing(c, spec, &h->spec.fencing);
	}
	crd_dec_pop(c, saved);
	if (st) {
		saved = crd_dec_push(c, "status");
		dec_host_status(c, st, &h->status);
		crd_dec_pop(c, saved);
	}
}

/* ---- VirtualMachine ---- */

static void dec_disks(struct crd_dctx *c, const struct crd_node *dom, struct crd_domain *d)
{
	static const char *const known[] = {"path", "format", "bus", NULL};
	const struct crd_node *list = crd_dec_list(c, dom, "disks", MAX_DISKS);
	size_t saved = crd_dec_push(c, "disks"), n_ide = 0;

	if (!list || !(d->disks = calloc(list->n_kids ? list->n_kids : 1, sizeof(*d->disks))))
		goto cleanup;
	for (size_t i = 0; i < list->n_kids; i++) {
		const struct crd_node *it = list->kids[i];
		struct crd_disk *disk = &d->disks[d->n_disks];
		size_t s2 = crd_dec_push_index(c, i);
		if (crd_dec_expect(c, it, CRD_NODE_MAP)) {
			d->n_disks++;
			crd_dec_fields(c, it, known);
			if (crd_dec_str(c, it, "path", true, &disk->path) == 0)
				check_str(c, it, "path", disk->path, crd_valid_abs_path, ABS_PATH);
			DEC_ENUM(c, it, "format", &crd_disk_format_desc, &disk->format);
			DEC_ENUM(c, it, "bus", &crd_disk_bus_desc, &disk->bus);
			if (disk->bus == CRD_BUS_IDE && ++n_ide == 5)
				crd_dec_error(c, it, false, "at most 4 disks can use bus ide");
		}
		crd_dec_pop(c, s2);
	}
cleanup:
	crd_dec_pop(c, saved);
}

static void dec_interfaces(struct crd_dctx *c, const struct crd_node *dom, struct crd_domain *d)
{
	static const char *const known[] = {"bridge", "network", NULL};
	const struct crd_node *list = crd_dec_list(c, dom, "interfaces", MAX_INTERFACES);
	size_t saved = crd_dec_push(c, "interfaces");

	if (!list || !(d->interfaces = calloc(list->n_kids ? list->n_kids : 1,
					      sizeof(*d->interfaces))))
		goto cleanup;
	for (size_t i = 0; i < list->n_kids; i++) {
		const struct crd_node *it = list->kids[i];
		struct crd_interface *ifc = &d->interfaces[d->n_interfaces];
		size_t s2 = crd_dec_push_index(c, i);
		if (crd_dec_expect(c, it, CRD_NODE_MAP)) {
			d->n_interfaces++;
			crd_dec_fields(c, it, known);
			bool br = crd_node_get(it, "bridge"), net = crd_node_get(it, "network");
			if (br == net)
				crd_dec_error(c, it, false, "expected exactly one of bridge or network");
			else if (br && crd_dec_str(c, it, "bridge", true, &ifc->name) == 0)
				check_str(c, it, "bridge", ifc->name, crd_valid_bridge_name,
					  "a bridge name (1 to 15 letters, digits, '-', '_' or '.')");
			else if (net && crd_dec_str(c, it, "network", true, &ifc->name) == 0)
				check_str(c, it, "network", ifc->name, crd_valid_network_name,
					  "a libvirt network name (1 to 64 characters, no '/' or spaces)");
			ifc->kind = net ? CRD_IFACE_NETWORK : CRD_IFACE_BRIDGE;
		}
		crd_dec_pop(c, s2);
	}
cleanup:
	crd_dec_pop(c, saved);
}

static void dec_short_domain(struct crd_dctx *c, const struct crd_node *dom, struct crd_domain *d)
{
	const struct crd_node *n;

	if (crd_dec_quantity(c, dom, "memory", true, &d->memory) == 0 && d->memory < (1u << 20)) {
		size_t saved = crd_dec_push(c, "memory");
		crd_dec_error(c, crd_node_get(dom, "memory"), false, "must be at least 1Mi");
		crd_dec_pop(c, saved);
	}
	d->vcpus = 1;
	(void)crd_dec_u32(c, dom, "vcpus", 1, 256, &d->vcpus);
	(void)crd_dec_bool(c, dom, "hugepages", &d->hugepages);
	DEC_ENUM(c, dom, "type", &crd_domain_type_desc, &d->type);
	if (crd_dec_str(c, dom, "kernel", false, &d->kernel) == 0)
		check_str(c, dom, "kernel", d->kernel, crd_valid_abs_path, ABS_PATH);
	if (crd_dec_str(c, dom, "cmdline", false, &d->cmdline) == 0 &&
	    strlen(d->cmdline) > MAX_CMDLINE) {
		size_t saved = crd_dec_push(c, "cmdline");
		crd_dec_error(c, crd_node_get(dom, "cmdline"), false,
			      "is longer than %d characters", MAX_CMDLINE);
		crd_dec_pop(c, saved);
	}
	if (crd_dec_str(c, dom, "cpu", false, &d->cpu) == 0)
		check_str(c, dom, "cpu", d->cpu, crd_valid_cpu_model,
			  "host-model or a CPU model name (letters, digits, '-', '_', '.')");
	dec_disks(c, dom, d);
	dec_interfaces(c, dom, d);
	if ((n = crd_dec_map_member(c, dom, "serial", false))) {
		static const char *const known[] = {"path", NULL};
		size_t saved = crd_dec_push(c, "serial");
		crd_dec_fields(c, n, known);
		if (crd_dec_str(c, n, "path", true, &d->serial_path) == 0)
			check_str(c, n, "path", d->serial_path, crd_valid_abs_path, ABS_PATH);
		crd_dec_pop(c, saved);
	}
}

static void dec_domain(struct crd_dctx *c, const struct crd_node *spec, const char *name,
		       struct crd_domain *d)
{
	static const char *const known[] = {"xml", "memory", "vcpus", "hugepages", "type",
					    "kernel", "cmdline", "disks", "interfaces", "serial",
					    "cpu", NULL};
	const struct crd_node *dom = crd_dec_map_member(c, spec, "domain", true);
	const struct crd_node *xml = dom ? crd_node_get(dom, "xml") : NULL;
	size_t saved = crd_dec_push(c, "domain");
	char why[256];

	if (!dom)
		goto cleanup;
	crd_dec_fields(c, dom, known);
	if (!xml) {
		dec_short_domain(c, dom, d);
		goto cleanup;
	}
	for (size_t i = 0; i < dom->n_kids; i++)
		if (in_list(dom->kids[i]->key, known + 1)) {
			size_t s2 = crd_dec_push(c, dom->kids[i]->key);
			crd_dec_error(c, dom->kids[i], true, "use either xml or the short form "
				      "(memory, vcpus, ...), not both");
			crd_dec_pop(c, s2);
			goto cleanup;
		}
	if (crd_dec_str(c, dom, "xml", true, &d->xml) == 0 &&
	    crd_domain_check_xml(d->xml, strlen(d->xml), name, why, sizeof(why)) < 0) {
		size_t s2 = crd_dec_push(c, "xml");
		crd_dec_error(c, xml, false, "%s", why);
		crd_dec_pop(c, s2);
	}
cleanup:
	crd_dec_pop(c, saved);
}

static void dec_vm_status(struct crd_dctx *c, const struct crd_node *st, struct crd_vm_status *s)
{
	static const char *const known[] = {"observedGeneration", "host", "phase", "conditions",
					    "migration", "placement", NULL};
	static const char *const pl_known[] = {"reason", "rejected", NULL};
	static const char *const mig_known[] = {"name", "phase", "percent", NULL};
	const struct crd_node *n;
	int64_t pct = 0;

	crd_dec_fields(c, st, known);
	(void)crd_dec_int(c, st, "observedGeneration", 0, INT64_MAX, &s->observed_generation);
	(void)crd_dec_str(c, st, "host", false, &s->host);
	DEC_ENUM(c, st, "phase", &crd_vm_phase_desc, &s->phase);
	(void)crd_dec_conditions(c, st, &s->conditions);
	if ((n = crd_dec_map_member(c, st, "migration", false))) {
		size_t saved = crd_dec_push(c, "migration");
		crd_dec_fields(c, n, mig_known);
		(void)crd_dec_str(c, n, "name", false, &s->migration.name);
		DEC_ENUM(c, n, "phase", &crd_mig_phase_desc, &s->migration.phase);
		if (crd_dec_int(c, n, "percent", 0, 100, &pct) == 0)
			s->migration.percent = (int32_t)pct;
		crd_dec_pop(c, saved);
	}
	if ((n = crd_dec_map_member(c, st, "placement", false))) {
		size_t saved = crd_dec_push(c, "placement");
		crd_dec_fields(c, n, pl_known);
		(void)crd_dec_str(c, n, "reason", false, &s->placement.reason);
		(void)crd_dec_map(c, n, "rejected", false, &s->placement.rejected);
		crd_dec_pop(c, saved);
	}
}

/* One term of spec.affinity.{antiAffinity,affinity}. */
static void dec_affinity_term(struct crd_dctx *c, const struct crd_node *it,
			      struct crd_affinity_term *t)
{
	static const char *const known[] = {"labelSelector", "topologyKey", "required", NULL};

	crd_dec_fields(c, it, known);
	if (crd_dec_member(c, it, "labelSelector", true))
		(void)crd_dec_map(c, it, "labelSelector", true, &t->selector);
	if (crd_dec_str(c, it, "topologyKey", false, &t->topology_key) == 0)
		check_str(c, it, "topologyKey", t->topology_key, crd_valid_label_key,
			  "host or a label key (a Host label such as rack)");
	else
		t->topology_key = crd_dec_strdup(c, "host");
	(void)crd_dec_bool(c, it, "required", &t->required);
}

/* The list @key of spec.affinity into *@out (of *@n). */
static void dec_affinity_list(struct crd_dctx *c, const struct crd_node *aff, const char *key,
			      struct crd_affinity_term **out, size_t *n)
{
	const struct crd_node *list = crd_dec_list(c, aff, key, CRD_AFFINITY_TERMS_MAX);
	size_t saved = crd_dec_push(c, key);

	if (!list || !(*out = calloc(list->n_kids ? list->n_kids : 1, sizeof(**out)))) {
		if (list)
			c->oom = true;
		goto cleanup;
	}
	for (size_t i = 0; i < list->n_kids; i++) {
		size_t s2 = crd_dec_push_index(c, i);
		if (crd_dec_expect(c, list->kids[i], CRD_NODE_MAP))
			dec_affinity_term(c, list->kids[i], &(*out)[(*n)++]);
		crd_dec_pop(c, s2);
	}
cleanup:
	crd_dec_pop(c, saved);
}

static void dec_affinity(struct crd_dctx *c, const struct crd_node *spec, struct crd_affinity *a)
{
	static const char *const known[] = {"antiAffinity", "affinity", NULL};
	const struct crd_node *aff = crd_dec_map_member(c, spec, "affinity", false);
	size_t saved = crd_dec_push(c, "affinity");

	if (aff) {
		crd_dec_fields(c, aff, known);
		dec_affinity_list(c, aff, "antiAffinity", &a->anti, &a->n_anti);
		dec_affinity_list(c, aff, "affinity", &a->together, &a->n_together);
	}
	crd_dec_pop(c, saved);
}

void crd_dec_vm(struct crd_dctx *c, const struct crd_node *root, struct crd_vm *vm)
{
	static const char *const known[] = {"host", "hostSelector", "running", "domain", "storage",
					    "evictionStrategy", "migrationPolicy", "affinity", "tuning",
					    "deletionPolicy", NULL};
	static const char *const knobs[] = {KNOB_FIELDS, NULL};
	const struct crd_node *spec = crd_dec_map_member(c, root, "spec", true);
	const struct crd_node *st = crd_dec_map_member(c, root, "status", false);
	const struct crd_node *pol;
	size_t saved = crd_dec_push(c, "spec");

	crd_knobs_default(&vm->spec.migration_policy);
	vm->spec.running = true;
	if (spec) {
		crd_dec_fields(c, spec, known);
		if (crd_dec_str(c, spec, "host", false, &vm->spec.host) == 0)
			check_str(c, spec, "host", vm->spec.host, crd_valid_dns_label, LABEL_NAME);
		vm->spec.host_pos = pos_of(spec, "host");
		(void)crd_dec_map(c, spec, "hostSelector", true, &vm->spec.host_selector);
		(void)crd_dec_bool(c, spec, "running", &vm->spec.running);
		dec_domain(c, spec, vm->meta.name ? vm->meta.name : "", &vm->spec.domain);
		DEC_ENUM(c, spec, "storage", &crd_storage_desc, &vm->spec.storage);
		DEC_ENUM(c, spec, "evictionStrategy", &crd_eviction_desc, &vm->spec.eviction);
		DEC_ENUM(c, spec, "deletionPolicy", &crd_deletion_policy_desc,
			 &vm->spec.deletion_policy);
		if ((pol = crd_dec_map_member(c, spec, "migrationPolicy", false))) {
			size_t s2 = crd_dec_push(c, "migrationPolicy");
			crd_dec_fields(c, pol, knobs);
			dec_knobs(c, pol, &vm->spec.migration_policy,
				  vm->spec.storage == CRD_STORAGE_LOCAL);
			crd_dec_pop(c, s2);
		}
		dec_affinity(c, spec, &vm->spec.affinity);
		crd_dec_tuning(c, spec, &vm->spec.domain, &vm->spec.tuning);
	}
	crd_dec_pop(c, saved);
	if (st) {
		saved = crd_dec_push(c, "status");
		dec_vm_status(c, st, &vm->status);
		crd_dec_pop(c, saved);
	}
}

/* ---- Migration ---- */

static void dec_progress(struct crd_dctx *c, const struct crd_node *st, struct crd_mig_progress *p)
{
	static const char *const known[] = {"dataTotalBytes", "dataProcessedBytes",
		"dataRemainingBytes", "memoryDirtyRateBytesPerSecond", "transferRateBytesPerSecond",
		"iteration", "percent", NULL};
	uint64_t *dst[] = {&p->data_total_bytes, &p->data_processed_bytes, &p->data_remaining_bytes,
			   &p->memory_dirty_rate_bps, &p->transfer_rate_bps, &p->iteration};
	const struct crd_node *n = crd_dec_map_member(c, st, "progress", false);
	size_t saved = crd_dec_push(c, "progress");
	int64_t v;

	if (!n)
		goto cleanup;
	crd_dec_fields(c, n, known);
	for (size_t i = 0; i < sizeof(dst) / sizeof(dst[0]); i++)
		if (crd_dec_int(c, n, known[i], 0, INT64_MAX, &v) == 0)
			*dst[i] = (uint64_t)v;
	if (crd_dec_int(c, n, "percent", 0, 100, &v) == 0)
		p->percent = (int32_t)v;
cleanup:
	crd_dec_pop(c, saved);
}

static void dec_prediction(struct crd_dctx *c, const struct crd_node *st,
			   struct crd_mig_prediction *p)
{
	static const char *const known[] = {"durationSeconds", "durationMilliseconds",
					    "converges", "dirtyRateBytesPerSecond",
					    "concurrentMoves", NULL};
	const struct crd_node *n = crd_dec_map_member(c, st, "prediction", false);
	size_t saved = crd_dec_push(c, "prediction");
	int64_t v;

	if (!n)
		goto cleanup;
	crd_dec_fields(c, n, known);
	p->set = true;
	if (crd_dec_int(c, n, "durationSeconds", 0, UINT32_MAX, &v) == 0)
		p->duration_s = (uint32_t)v;
	if (crd_dec_int(c, n, "durationMilliseconds", 0, INT64_MAX, &v) == 0)
		p->duration_ms = (uint64_t)v;
	(void)crd_dec_bool(c, n, "converges", &p->converges);
	if (crd_dec_int(c, n, "dirtyRateBytesPerSecond", 0, INT64_MAX, &v) == 0)
		p->dirty_rate_bps = (uint64_t)v;
	/* Absent in records written before it was kept: none. */
	(void)crd_dec_u32(c, n, "concurrentMoves", 0, UINT32_MAX, &p->concurrent_moves);
cleanup:
	crd_dec_pop(c, saved);
}

static void dec_statistics(struct crd_dctx *c, const struct crd_node *st,
			   struct crd_mig_statistics *s)
{
	static const char *const known[] = {"elapsedMilliseconds", "transferMilliseconds",
					    "transferredBytes", NULL};
	const struct crd_node *n = crd_dec_map_member(c, st, "statistics", false);
	size_t saved = crd_dec_push(c, "statistics");
	int64_t v;

	if (!n)
		goto cleanup;
	crd_dec_fields(c, n, known);
	s->set = true;
	if (crd_dec_int(c, n, "elapsedMilliseconds", 0, INT64_MAX, &v) == 0)
		s->elapsed_ms = (uint64_t)v;
	if (crd_dec_int(c, n, "transferMilliseconds", 0, INT64_MAX, &v) == 0)
		s->transfer_ms = (uint64_t)v;
	if (crd_dec_int(c, n, "transferredBytes", 0, INT64_MAX, &v) == 0)
		s->transferred_bytes = (uint64_t)v;
cleanup:
	crd_dec_pop(c, saved);
}

static void dec_transitions(struct crd_dctx *c, const struct crd_node *st,
			    struct crd_migration_status *s)
{
	static const char *const known[] = {"phase", "phaseTransitionTimestamp", NULL};
	const struct crd_node *list = crd_dec_list(c, st, "phaseTransitionTimestamps",
						   CRD_MIG_TRANSITIONS_MAX);
	size_t saved = crd_dec_push(c, "phaseTransitionTimestamps");

	for (size_t i = 0; list && i < list->n_kids; i++) {
		const struct crd_node *it = list->kids[i];
		struct crd_mig_transition *t = &s->transitions[s->n_transitions];
		size_t s2 = crd_dec_push_index(c, i);
		int phase = 0;
		if (crd_dec_expect(c, it, CRD_NODE_MAP)) {
			s->n_transitions++;
			crd_dec_fields(c, it, known);
			if (crd_dec_member(c, it, "phase", true) &&
			    crd_dec_enum(c, it, "phase", &crd_mig_phase_desc, &phase) == 0)
				t->phase = (enum crd_mig_phase)phase;
			if (crd_dec_str(c, it, "phaseTransitionTimestamp", true, &t->time) == 0)
				check_str(c, it, "phaseTransitionTimestamp", t->time, crd_valid_rfc3339,
					  "an RFC 3339 time like 2026-11-23T10:00:00Z");
		}
		crd_dec_pop(c, s2);
	}
	crd_dec_pop(c, saved);
}

static void dec_mig_status(struct crd_dctx *c, const struct crd_node *st,
			   struct crd_migration_status *s)
{
	static const char *const known[] = {"observedGeneration", "phase", "reason", "sourceHost",
		"targetHost", "mode", "startTime", "endTime", "phaseTransitionTimestamps",
		"prediction", "progress", "statistics", "downtimeMs", "failureReason", "conditions", NULL};

	crd_dec_fields(c, st, known);
	(void)crd_dec_int(c, st, "observedGeneration", 0, INT64_MAX, &s->observed_generation);
	DEC_ENUM(c, st, "phase", &crd_mig_phase_desc, &s->phase);
	DEC_ENUM(c, st, "reason", &crd_mig_reason_desc, &s->reason);
	(void)crd_dec_str(c, st, "sourceHost", false, &s->source_host);
	(void)crd_dec_str(c, st, "targetHost", false, &s->target_host);
	DEC_ENUM(c, st, "mode", &crd_mig_run_mode_desc, &s->mode);
	(void)crd_dec_str(c, st, "startTime", false, &s->start_time);
	(void)crd_dec_str(c, st, "endTime", false, &s->end_time);
	dec_transitions(c, st, s);
	dec_prediction(c, st, &s->prediction);
	dec_progress(c, st, &s->progress);
	dec_statistics(c, st, &s->statistics);
	(void)crd_dec_int(c, st, "downtimeMs", 0, INT64_MAX, &s->downtime_ms);
	(void)crd_dec_str(c, st, "failureReason", false, &s->failure_reason);
	(void)crd_dec_conditions(c, st, &s->conditions);
}

void crd_dec_migration(struct crd_dctx *c, const struct crd_node *root, struct crd_migration *m)
{
	static const char *const known[] = {"vmName", "targetHost", "mode", "cancel", KNOB_FIELDS,
					    NULL};
	const struct crd_node *spec = crd_dec_map_member(c, root, "spec", true);
	const struct crd_node *st = crd_dec_map_member(c, root, "status", false);
	size_t saved = crd_dec_push(c, "spec");

	crd_knobs_default(&m->spec.knobs);
	if (spec) {
		crd_dec_fields(c, spec, known);
		if (crd_dec_str(c, spec, "vmName", true, &m->spec.vm_name) == 0)
			check_str(c, spec, "vmName", m->spec.vm_name, crd_valid_dns_label, LABEL_NAME);
		if (crd_dec_str(c, spec, "targetHost", false, &m->spec.target_host) == 0)
			check_str(c, spec, "targetHost", m->spec.target_host, crd_valid_dns_label,
				  LABEL_NAME);
		m->spec.vm_name_pos = pos_of(spec, "vmName");
		m->spec.target_host_pos = pos_of(spec, "targetHost");
		DEC_ENUM(c, spec, "mode", &crd_migration_mode_desc, &m->spec.mode);
		dec_knobs(c, spec, &m->spec.knobs, false);
		(void)crd_dec_bool(c, spec, "cancel", &m->spec.cancel);
	}
	crd_dec_pop(c, saved);
	if (st) {
		saved = crd_dec_push(c, "status");
		dec_mig_status(c, st, &m->status);
		crd_dec_pop(c, saved);
	}
}

/* ---- PlacementPolicy ---- */

static void dec_balance(struct crd_dctx *c, const struct crd_node *spec, struct crd_policy_spec *p)
{
	static const char *const known[] = {"resource", "maxSpreadPercent", "maxMovesPerHour",
					    NULL};
	const struct crd_node *n = crd_dec_map_member(c, spec, "balance", false);
	size_t saved = crd_dec_push(c, "balance");

	if (n) {
		p->has_balance = true;
		crd_dec_fields(c, n, known);
		DEC_ENUM(c, n, "resource", &crd_balance_resource_desc, &p->balance.resource);
		(void)crd_dec_u32(c, n, "maxSpreadPercent", 1, 100, &p->balance.max_spread_percent);
		(void)crd_dec_u32(c, n, "maxMovesPerHour", 1, 3600, &p->balance.max_moves_per_hour);
	}
	crd_dec_pop(c, saved);
}

static void dec_host_failure(struct crd_dctx *c, const struct crd_node *spec,
			     struct crd_policy_spec *p)
{
	static const char *const known[] = {"detectAfterSeconds", "fence", NULL};
	const struct crd_node *n = crd_dec_map_member(c, spec, "hostFailure", false);
	size_t saved = crd_dec_push(c, "hostFailure");

	if (n) {
		p->has_host_failure = true;
		crd_dec_fields(c, n, known);
		/* Below 5 s one slow libvirt answer would look like a dead host. */
		(void)crd_dec_u32(c, n, "detectAfterSeconds", 5, 86400,
				  &p->host_failure.detect_after_s);
		(void)crd_dec_bool(c, n, "fence", &p->host_failure.fence);
	}
	crd_dec_pop(c, saved);
}

void crd_dec_policy(struct crd_dctx *c, const struct crd_node *root, struct crd_policy *p)
{
	static const char *const known[] = {"cpuOvercommit", "memoryOvercommit", "balance",
					    "hostFailure", NULL};
	const struct crd_node *spec = crd_dec_map_member(c, root, "spec", false);
	size_t saved;

	crd_policy_spec_default(&p->spec);
	if (p->meta.name && strcmp(p->meta.name, CRD_POLICY_NAME)) {
		const struct crd_node *md = crd_node_get(root, "metadata");
		saved = crd_dec_push(c, "metadata");
		size_t s2 = crd_dec_push(c, "name");
		crd_dec_error(c, md ? crd_node_get(md, "name") : root, false,
			      "a PlacementPolicy must be named \"" CRD_POLICY_NAME "\" (one per "
			      "namespace), got \"%.80s\"", p->meta.name);
		crd_dec_pop(c, s2);
		crd_dec_pop(c, saved);
	}
	saved = crd_dec_push(c, "spec");
	if (spec) {
		crd_dec_fields(c, spec, known);
		(void)crd_dec_number(c, spec, "cpuOvercommit", 0, 1000, &p->spec.cpu_overcommit);
		if (crd_dec_number(c, spec, "memoryOvercommit", 0, 100,
				   &p->spec.memory_overcommit) == 0 && p->spec.memory_overcommit < 0.1) {
			size_t s2 = crd_dec_push(c, "memoryOvercommit");
			crd_dec_error(c, crd_node_get(spec, "memoryOvercommit"), false,
				      "must be at least 0.1");
			crd_dec_pop(c, s2);
		}
		dec_balance(c, spec, &p->spec);
		dec_host_failure(c, spec, &p->spec);
	}
	crd_dec_pop(c, saved);
}
