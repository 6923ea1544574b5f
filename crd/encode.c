/* encode: status and whole objects → jansson values; JSON values → YAML text. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "crd/encode.h"
#include "crd/node.h"
#include "crd/quantity.h"

#define YAML_OUT_MAX (16u << 20)

/* Set by any step that could not add what it should have (out of memory, or a string
 * jansson refused), and sticky until the public encoder that began the build checks it
 * and returns NULL: a record missing a field must never be written (it would be read back
 * by recovery as if complete). Per thread: status is encoded in several. */
static _Thread_local bool enc_failed;

/* Starts a build; returns the flag of an enclosing one, for enc_end. This function can't fail. */
static bool enc_begin(void)
{
	bool outer = enc_failed;

	enc_failed = false;
	return outer;
}

/* Ends a build: returns @o, or NULL (with @o released) when any step failed. A failure is
 * passed on to an enclosing build too. */
static json_t *enc_end(json_t *o, bool outer)
{
	bool failed = enc_failed || !o;

	enc_failed = outer || failed;
	if (failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Adds @v under @k; json_object_set_new takes the reference (or drops it). A NULL @o or
 * @v is a failed allocation, never an unset field: the put_* helpers skip those. */
static void put(json_t *o, const char *k, json_t *v)
{
	if (json_object_set_new(o, k, v) < 0)
		enc_failed = true;
}

/* Appends @v to @a, as put() does for objects. */
static void append(json_t *a, json_t *v)
{
	if (json_array_append_new(a, v) < 0)
		enc_failed = true;
}

/* A copy of @s with every byte above 0x7f as '?', as a JSON string; NULL when out of memory. */
static json_t *ascii_string(const char *s)
{
	char *copy = strdup(s);
	json_t *v;

	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p > 0x7f)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

/* Text that is not UTF-8 (a libvirt message quoting a path, say) is refused by jansson: it
 * is written as ASCII with '?' rather than failing the whole record forever. */
static void put_str(json_t *o, const char *k, const char *s)
{
	json_t *v;

	if (!s || !*s)
		return;
	v = json_string(s);
	for (const char *p = s; !v && *p; p++)
		if ((unsigned char)*p > 0x7f)
			v = ascii_string(s);
	put(o, k, v);
}

static void put_int(json_t *o, const char *k, int64_t v)
{
	if (v)
		put(o, k, json_integer(v));
}

static void put_quantity(json_t *o, const char *k, uint64_t v)
{
	char buf[32];
	crd_quantity_format(v, buf, sizeof(buf));
	put(o, k, json_string(buf));
}

/* Adds @child under @k when it has members, else drops it. */
static void put_nonempty(json_t *o, const char *k, json_t *child)
{
	if (json_is_object(child) && json_object_size(child) == 0) {
		json_decref(child);
		return;
	}
	put(o, k, child);
}

static json_t *map_to_json(const struct crd_map *m)
{
	json_t *o = json_object();
	for (size_t i = 0; i < m->n; i++)
		put(o, m->items[i].key, json_string(m->items[i].value));
	return o;
}

json_t *crd_conditions_to_json(const struct crd_conditions *c)
{
	bool outer = enc_begin();
	json_t *a = json_array();

	for (size_t i = 0; a && i < c->n; i++) {
		const struct crd_condition *x = &c->items[i];
		json_t *o = json_object();
		put_str(o, "type", x->type);
		put_str(o, "status", crd_cond_status_str(x->status));
		put_str(o, "reason", x->reason);
		put_str(o, "message", x->message);
		put_str(o, "lastTransitionTime", x->last_transition_time);
		put_int(o, "observedGeneration", x->observed_generation);
		append(a, o);
	}
	return enc_end(a, outer);
}

static void put_conditions(json_t *o, const struct crd_conditions *c)
{
	if (c->n)
		put(o, "conditions", crd_conditions_to_json(c));
}

/* status.phaseTransitionTimestamps, oldest first; omitted when empty. */
static void put_transitions(json_t *o, const struct crd_migration_status *st)
{
	json_t *a;

	if (!st->n_transitions)
		return;
	a = json_array();
	for (size_t i = 0; a && i < st->n_transitions && i < CRD_MIG_TRANSITIONS_MAX; i++) {
		json_t *t = json_object();
		put_str(t, "phase", crd_mig_phase_str(st->transitions[i].phase));
		put_str(t, "phaseTransitionTimestamp", st->transitions[i].time);
		append(a, t);
	}
	put(o, "phaseTransitionTimestamps", a);
}

/* status.statistics of a finished live move; omitted before. */
static void put_statistics(json_t *o, const struct crd_mig_statistics *s)
{
	json_t *stats;

	if (!s->set)
		return;
	stats = json_object();
	put(stats, "elapsedMilliseconds", json_integer((json_int_t)s->elapsed_ms));
	put(stats, "transferMilliseconds", json_integer((json_int_t)s->transfer_ms));
	put(stats, "transferredBytes", json_integer((json_int_t)s->transferred_bytes));
	put(o, "statistics", stats);
}

/* status.cpu and status.hugepages, each omitted until observe reported it. */
static void put_host_capacity(json_t *o, const struct crd_host_status *st)
{
	json_t *cpu = json_object(), *hp = json_object();

	if (st->cpu.threads) {
		put(cpu, "threads", json_integer(st->cpu.threads));
		put(cpu, "allocatedVcpus", json_integer(st->cpu.allocated_vcpus));
		put(cpu, "load", json_real(st->cpu.load));
	}
	put_nonempty(o, "cpu", cpu);
	if (st->hugepages.page_size) {
		put_quantity(hp, "pageSize", st->hugepages.page_size);
		put(hp, "total", json_integer(st->hugepages.total));
		put(hp, "free", json_integer(st->hugepages.free));
	}
	put_nonempty(o, "hugepages", hp);
}

json_t *crd_host_status_to_json(const struct crd_host_status *st)
{
	bool outer = enc_begin();
	json_t *o = json_object(), *hv = json_object(), *mem = json_object(), *fn = json_object();

	put_int(o, "observedGeneration", st->observed_generation);
	put_conditions(o, &st->conditions);
	put_str(hv, "type", st->hypervisor.type);
	put_str(hv, "version", st->hypervisor.version);
	put_str(hv, "libvirtVersion", st->hypervisor.libvirt_version);
	put_str(hv, "arch", st->hypervisor.arch);
	put_str(hv, "cpuModel", st->hypervisor.cpu_model);
	put_nonempty(o, "hypervisor", hv);
	if (st->memory_total || st->memory_free) {
		put_quantity(mem, "total", st->memory_total);
		put_quantity(mem, "free", st->memory_free);
	}
	put_nonempty(o, "memory", mem);
	put_host_capacity(o, st);
	put(o, "vms", json_integer(st->vms));
	put_str(fn, "lastAction", st->fencing.last_action);
	put_str(fn, "result", st->fencing.result);
	put_str(fn, "time", st->fencing.time);
	put_nonempty(o, "fencing", fn);
	return enc_end(o, outer);
}

json_t *crd_vm_status_to_json(const struct crd_vm_status *st)
{
	bool outer = enc_begin();
	json_t *o = json_object(), *mig = json_object();

	put_int(o, "observedGeneration", st->observed_generation);
	put_str(o, "host", st->host);
	put_str(o, "phase", crd_vm_phase_str(st->phase));
	put_conditions(o, &st->conditions);
	if (st->migration.name) {
		put_str(mig, "name", st->migration.name);
		put_str(mig, "phase", crd_mig_phase_str(st->migration.phase));
		put(mig, "percent", json_integer(st->migration.percent));
	}
	put_nonempty(o, "migration", mig);
	if (st->placement.reason) {
		json_t *pl = json_object();
		put_str(pl, "reason", st->placement.reason);
		if (st->placement.rejected.n)
			put(pl, "rejected", map_to_json(&st->placement.rejected));
		put(o, "placement", pl);
	}
	return enc_end(o, outer);
}

json_t *crd_migration_status_to_json(const struct crd_migration_status *st)
{
	bool outer = enc_begin();
	const struct crd_mig_progress *p = &st->progress;
	json_t *o = json_object(), *prog = json_object();

	put_int(o, "observedGeneration", st->observed_generation);
	put_str(o, "phase", crd_mig_phase_str(st->phase));
	put_str(o, "reason", crd_mig_reason_str(st->reason));
	put_str(o, "sourceHost", st->source_host);
	put_str(o, "targetHost", st->target_host);
	put_str(o, "mode", crd_mig_run_mode_str(st->mode));
	put_str(o, "startTime", st->start_time);
	put_str(o, "endTime", st->end_time);
	put_transitions(o, st);
	if (st->prediction.set) {
		json_t *pred = json_object();
		put(pred, "durationSeconds", json_integer(st->prediction.duration_s));
		put(pred, "durationMilliseconds", json_integer((json_int_t)st->prediction.duration_ms));
		put(pred, "converges", json_boolean(st->prediction.converges));
		put(pred, "dirtyRateBytesPerSecond", json_integer((json_int_t)st->prediction.dirty_rate_bps));
		put(pred, "concurrentMoves", json_integer(st->prediction.concurrent_moves));
		put(o, "prediction", pred);
	}
	put_int(prog, "dataTotalBytes", (int64_t)p->data_total_bytes);
	put_int(prog, "dataProcessedBytes", (int64_t)p->data_processed_bytes);
	put_int(prog, "dataRemainingBytes", (int64_t)p->data_remaining_bytes);
	put_int(prog, "memoryDirtyRateBytesPerSecond", (int64_t)p->memory_dirty_rate_bps);
	put_int(prog, "transferRateBytesPerSecond", (int64_t)p->transfer_rate_bps);
	put_int(prog, "iteration", (int64_t)p->iteration);
	if (json_object_size(prog) || p->percent)
		put(prog, "percent", json_integer(p->percent));
	put_nonempty(o, "progress", prog);
	put_statistics(o, &st->statistics);
	put_int(o, "downtimeMs", st->downtime_ms);
	put_str(o, "failureReason", st->failure_reason);
	put_conditions(o, &st->conditions);
	return enc_end(o, outer);
}

/* apiVersion, kind and metadata of a new object. */
static json_t *object_head(enum crd_kind kind, const struct crd_meta *m)
{
	json_t *o = json_object(), *md = json_object();

	put_str(o, "apiVersion", CRD_API_VERSION);
	put_str(o, "kind", crd_kind_str(kind));
	put_str(md, "name", m->name);
	put_str(md, "namespace", m->namespace);
	if (m->labels.n)
		put(md, "labels", map_to_json(&m->labels));
	if (m->annotations.n)
		put(md, "annotations", map_to_json(&m->annotations));
	put_str(md, "uid", m->uid);
	put_str(md, "resourceVersion", m->resource_version);
	put_int(md, "generation", m->generation);
	put_str(md, "creationTimestamp", m->creation_timestamp);
	put_str(md, "deletionTimestamp", m->deletion_timestamp);
	if (m->n_finalizers) {
		json_t *a = json_array();
		for (size_t i = 0; i < m->n_finalizers; i++)
			append(a, json_string(m->finalizers[i]));
		put(md, "finalizers", a);
	}
	put(o, "metadata", md);
	return o;
}

/* Adds the knobs whose bit is set in k->set. */
static void put_knobs(json_t *o, const struct crd_knobs *k)
{
	if (k->set & CRD_KNOB_BANDWIDTH)
		put(o, "bandwidthMiBps", json_integer(k->bandwidth_mibps));
	if (k->set & CRD_KNOB_MAX_DOWNTIME)
		put(o, "maxDowntimeMs", json_integer(k->max_downtime_ms));
	if (k->set & CRD_KNOB_COMPLETION_TIMEOUT)
		put(o, "completionTimeoutPerGiBSeconds", json_integer(k->completion_timeout_per_gib_s));
	if (k->set & CRD_KNOB_PROGRESS_TIMEOUT)
		put(o, "progressTimeoutSeconds", json_integer(k->progress_timeout_s));
	if (k->set & CRD_KNOB_AUTO_CONVERGE)
		put(o, "allowAutoConverge", json_boolean(k->allow_auto_converge));
	if (k->set & CRD_KNOB_POST_COPY)
		put(o, "allowPostCopy", json_boolean(k->allow_post_copy));
	if (k->set & CRD_KNOB_COMPRESSION)
		put_str(o, "compression", crd_compression_str(k->compression));
	if (k->set & CRD_KNOB_PARALLEL)
		put(o, "parallelConnections", json_integer(k->parallel_connections));
	if (k->set & CRD_KNOB_TRANSPORT)
		put_str(o, "transport", crd_transport_str(k->transport));
	if (k->set & CRD_KNOB_ENCRYPTION)
		put_str(o, "encryption", crd_encryption_str(k->encryption));
}

json_t *crd_host_to_json(const struct crd_host *h)
{
	bool outer = enc_begin();
	json_t *o = object_head(CRD_KIND_HOST, &h->meta), *spec = json_object();

	put_str(spec, "uri", h->spec.uri);
	put_str(spec, "migrationAddress", h->spec.migration_address);
	put(spec, "unschedulable", json_boolean(h->spec.unschedulable));
	put(spec, "drain", json_boolean(h->spec.drain));
	put(spec, "fenced", json_boolean(h->spec.fenced));
	put_quantity(spec, "reservedMemory", h->spec.reserved_memory);
	if (h->spec.fencing.agent) {
		const struct crd_fencing *f = &h->spec.fencing;
		json_t *fn = json_object();
		put_str(fn, "agent", f->agent);
		if (f->options.n)
			put(fn, "options", map_to_json(&f->options));
		put_str(fn, "passwordFile", f->password_file);
		if (f->password_secret.name)
			put(fn, "passwordSecretRef", json_pack("{s:s, s:s?}", "name",
				f->password_secret.name, "key", f->password_secret.key));
		put(fn, "timeoutSeconds", json_integer(f->timeout_s));
		put(spec, "fencing", fn);
	}
	put(o, "spec", spec);
	put_nonempty(o, "status", crd_host_status_to_json(&h->status));
	return enc_end(o, outer);
}

static json_t *domain_to_json(const struct crd_domain *d)
{
	json_t *o = json_object();

	if (d->xml) {
		put_str(o, "xml", d->xml);
		return o;
	}
	put_quantity(o, "memory", d->memory);
	put(o, "vcpus", json_integer(d->vcpus));
	if (d->hugepages)
		put(o, "hugepages", json_true());
	put_str(o, "type", crd_domain_type_str(d->type));
	put_str(o, "kernel", d->kernel);
	put_str(o, "cmdline", d->cmdline);
	if (d->n_disks) {
		json_t *a = json_array();
		for (size_t i = 0; i < d->n_disks; i++)
			append(a, json_pack("{s:s, s:s, s:s}", "path", d->disks[i].path,
				"format", crd_disk_format_str(d->disks[i].format),
				"bus", crd_disk_bus_str(d->disks[i].bus)));
		put(o, "disks", a);
	}
	if (d->n_interfaces) {
		json_t *a = json_array();
		for (size_t i = 0; i < d->n_interfaces; i++)
			append(a, json_pack("{s:s}",
				crd_iface_kind_str(d->interfaces[i].kind), d->interfaces[i].name));
		put(o, "interfaces", a);
	}
	if (d->serial_path)
		put(o, "serial", json_pack("{s:s}", "path", d->serial_path));
	put_str(o, "cpu", d->cpu);
	return o;
}

static json_t *terms_to_json(const struct crd_affinity_term *t, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		json_t *x = json_object();
		put(x, "labelSelector", map_to_json(&t[i].selector));
		put_str(x, "topologyKey", t[i].topology_key);
		put(x, "required", json_boolean(t[i].required));
		append(a, x);
	}
	return a;
}

static json_t *affinity_to_json(const struct crd_affinity *af)
{
	json_t *o = json_object();

	if (af->n_anti)
		put(o, "antiAffinity", terms_to_json(af->anti, af->n_anti));
	if (af->n_together)
		put(o, "affinity", terms_to_json(af->together, af->n_together));
	return o;
}

static json_t *tuning_to_json(const struct crd_tuning *t)
{
	static const char *const io_keys[CRD_IO_FIELDS] = {
		"totalBytesSec", "readBytesSec", "writeBytesSec",
		"totalIopsSec", "readIopsSec", "writeIopsSec"};
	json_t *o = json_object(), *mem = json_object(), *blkio = json_object();

	if (t->set & CRD_TUNE_HARD_LIMIT)
		put_quantity(mem, "hardLimit", t->hard_limit);
	if (t->set & CRD_TUNE_SOFT_LIMIT)
		put_quantity(mem, "softLimit", t->soft_limit);
	if (t->set & CRD_TUNE_SWAP_HARD_LIMIT)
		put_quantity(mem, "swapHardLimit", t->swap_hard_limit);
	if (t->set & CRD_TUNE_MIN_GUARANTEE)
		put_quantity(mem, "minGuarantee", t->min_guarantee);
	put_nonempty(o, "memory", mem);
	if (t->set & CRD_TUNE_BLKIO_WEIGHT)
		put(blkio, "weight", json_integer(t->blkio_weight));
	put_nonempty(o, "blkio", blkio);
	if (t->n_disk_io) {
		json_t *a = json_array();
		for (size_t i = 0; i < t->n_disk_io; i++) {
			const struct crd_disk_io *io = &t->disk_io[i];
			json_t *e = json_object();
			put_str(e, "target", io->target);
			for (unsigned k = 0; k < CRD_IO_FIELDS; k++) {
				if (!(io->set & (1u << k)))
					continue;
				if (k < 3)
					put_quantity(e, io_keys[k], io->v[k]);
				else
					put(e, io_keys[k], json_integer((json_int_t)io->v[k]));
			}
			append(a, e);
		}
		put(o, "diskIO", a);
	}
	return o;
}

json_t *crd_vm_to_json(const struct crd_vm *vm)
{
	bool outer = enc_begin();
	json_t *o = object_head(CRD_KIND_VM, &vm->meta), *spec = json_object(), *pol = json_object();

	put_str(spec, "host", vm->spec.host);
	if (vm->spec.host_selector.n)
		put(spec, "hostSelector", map_to_json(&vm->spec.host_selector));
	put(spec, "running", json_boolean(vm->spec.running));
	put(spec, "domain", domain_to_json(&vm->spec.domain));
	put_str(spec, "storage", crd_storage_str(vm->spec.storage));
	put_str(spec, "evictionStrategy", crd_eviction_str(vm->spec.eviction));
	put_str(spec, "deletionPolicy", crd_deletion_policy_str(vm->spec.deletion_policy));
	put_knobs(pol, &vm->spec.migration_policy);
	put_nonempty(spec, "migrationPolicy", pol);
	put_nonempty(spec, "affinity", affinity_to_json(&vm->spec.affinity));
	put_nonempty(spec, "tuning", tuning_to_json(&vm->spec.tuning));
	put(o, "spec", spec);
	put_nonempty(o, "status", crd_vm_status_to_json(&vm->status));
	return enc_end(o, outer);
}

json_t *crd_migration_to_json(const struct crd_migration *m)
{
	bool outer = enc_begin();
	json_t *o = object_head(CRD_KIND_MIGRATION, &m->meta), *spec = json_object();
	struct crd_knobs all = m->spec.knobs;

	put_str(spec, "vmName", m->spec.vm_name);
	put_str(spec, "targetHost", m->spec.target_host);
	put_str(spec, "mode", crd_migration_mode_str(m->spec.mode));
	all.set = ~0u;
	put_knobs(spec, &all);
	put(spec, "cancel", json_boolean(m->spec.cancel));
	put(o, "spec", spec);
	put_nonempty(o, "status", crd_migration_status_to_json(&m->status));
	return enc_end(o, outer);
}

json_t *crd_policy_to_json(const struct crd_policy *p)
{
	bool outer = enc_begin();
	const struct crd_policy_spec *s = &p->spec;
	json_t *o = object_head(CRD_KIND_POLICY, &p->meta), *spec = json_object();

	put(spec, "cpuOvercommit", json_real(s->cpu_overcommit));
	put(spec, "memoryOvercommit", json_real(s->memory_overcommit));
	if (s->has_balance)
		put(spec, "balance", json_pack("{s:s, s:i, s:i}", "resource",
			crd_balance_resource_str(s->balance.resource), "maxSpreadPercent",
			(int)s->balance.max_spread_percent, "maxMovesPerHour",
			(int)s->balance.max_moves_per_hour));
	if (s->has_host_failure)
		put(spec, "hostFailure", json_pack("{s:i, s:b}", "detectAfterSeconds",
			(int)s->host_failure.detect_after_s, "fence", s->host_failure.fence));
	put(o, "spec", spec);
	return enc_end(o, outer);
}

/* ---- text buffers (JSON and YAML) ---- */

/* A growable text buffer with a hard cap and a sticky error: a writer may go on after a
 * piece was refused (jansson's json_dump_callback does), and the text must still fail. */
struct tbuf {
	char *p;
	size_t len, cap, max;
	bool failed;
};

/* Appends @size bytes. Returns 0, or -1 (sticky) when over b->max or out of memory. */
static int tbuf_append(struct tbuf *b, const char *buffer, size_t size)
{
	if (b->failed || size >= b->max - b->len)
		goto fail;
	if (b->len + size + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + size + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			goto fail;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buffer, size);
	b->len += size;
	b->p[b->len] = '\0';
	return 0;
fail:
	b->failed = true;
	return -1;
}

static int json_write(const char *buffer, size_t size, void *data)
{
	return tbuf_append(data, buffer, size);
}

char *crd_json_dumps(const json_t *v, size_t flags)
{
	struct tbuf b = {.max = CRD_JSON_TEXT_MAX};

	if (json_dump_callback(v, json_write, &b, flags) < 0 ||
	    tbuf_append(&b, "", 0) < 0) {   /* "" for an empty text: still a string */
		free(b.p);
		return NULL;
	}
	return b.p;
}

uint64_t crd_fnv1a(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/* @h with @v added: its type, then its content; sizes go in ahead of what they count, so
 * two different values never add the same bytes. */
static uint64_t digest_value(uint64_t h, const json_t *v)
{
	unsigned char type = (unsigned char)json_typeof(v);
	size_t n;

	h = crd_fnv1a(h, &type, 1);
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *value;
		n = json_object_size(v);
		h = crd_fnv1a(h, &n, sizeof(n));
		json_object_foreach((json_t *)v, key, value) {
			n = strlen(key);
			h = crd_fnv1a(crd_fnv1a(h, &n, sizeof(n)), key, n);
			h = digest_value(h, value);
		}
		return h;
	}
	case JSON_ARRAY:
		n = json_array_size(v);
		h = crd_fnv1a(h, &n, sizeof(n));
		for (size_t i = 0; i < json_array_size(v); i++)
			h = digest_value(h, json_array_get(v, i));
		return h;
	case JSON_STRING:
		n = json_string_length(v);
		return crd_fnv1a(crd_fnv1a(h, &n, sizeof(n)), json_string_value(v), n);
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(v);
		return crd_fnv1a(h, &i, sizeof(i));
	}
	case JSON_REAL: {
		double d = json_real_value(v);
		return crd_fnv1a(h, &d, sizeof(d));
	}
	default:   /* true, false, null: the type says it all */
		return h;
	}
}

uint64_t crd_json_digest(const json_t *v)
{
	uint64_t h = digest_value(CRD_FNV1A_INIT, v);
	return h ? h : 1;
}

/* ---- YAML ---- */

static int ybuf_write(void *data, unsigned char *buffer, size_t size)
{
	return tbuf_append(data, (const char *)buffer, size) == 0;
}

static int emit_scalar(yaml_emitter_t *em, const char *text, bool keep_plain)
{
	yaml_event_t ev;
	/* A string that would read back as another type is quoted. */
	bool plain = keep_plain || crd_yaml_plain_kind(text) == CRD_NODE_STR;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text),
				     plain, 1,
				     plain ? YAML_ANY_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_value(yaml_emitter_t *em, const json_t *v, int depth)
{
	yaml_event_t ev;
	char num[64];

	if (depth > 64)
		return -1;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		if (!yaml_emitter_emit(em, &ev))
			return -1;
		json_object_foreach((json_t *)v, k, x)
			if (emit_scalar(em, k, false) < 0 || emit_value(em, x, depth + 1) < 0)
				return -1;
		yaml_mapping_end_event_initialize(&ev);
		return yaml_emitter_emit(em, &ev) ? 0 : -1;
	}
	case JSON_ARRAY:
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		if (!yaml_emitter_emit(em, &ev))
			return -1;
		for (size_t i = 0; i < json_array_size(v); i++)
			if (emit_value(em, json_array_get(v, i), depth + 1) < 0)
				return -1;
		yaml_sequence_end_event_initialize(&ev);
		return yaml_emitter_emit(em, &ev) ? 0 : -1;
	case JSON_STRING:
		return emit_scalar(em, json_string_value(v), false);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return emit_scalar(em, num, true);
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		return emit_scalar(em, num, true);
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		return emit_scalar(em, json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null",
				   true);
	}
	return -1;
}

char *crd_json_to_yaml(const json_t *v)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	struct tbuf b = {.max = YAML_OUT_MAX};
	int ok = 0;

	if (!yaml_emitter_initialize(&em))
		return NULL;
	yaml_emitter_set_output(&em, ybuf_write, &b);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (!yaml_emitter_emit(&em, &ev))
		goto cleanup;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (!yaml_emitter_emit(&em, &ev) || emit_value(&em, v, 0) < 0)
		goto cleanup;
	yaml_document_end_event_initialize(&ev, 1);
	if (!yaml_emitter_emit(&em, &ev))
		goto cleanup;
	yaml_stream_end_event_initialize(&ev);
	ok = yaml_emitter_emit(&em, &ev) && yaml_emitter_flush(&em);
cleanup:
	yaml_emitter_delete(&em);
	if (!ok || b.failed || !b.p) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
