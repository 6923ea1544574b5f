/* invpack: a domain of the inventory packed into one flat record (see invpack.h).
 *
 * One walk over the fields serves measuring, writing and reading alike (pack_domain), so
 * the three cannot disagree on the order. The sizes checked below make a field added to
 * the inventory's structs fail the build here until it is packed too: a field the cache
 * forgot would silently read back as zero on every cached pass. */
#include "reconcile/invpack.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct inv_domain) == 384, "inv_domain changed: pack its new field");
_Static_assert(sizeof(struct inv_tuning) == 64, "inv_tuning changed: pack its new field");
_Static_assert(sizeof(struct inv_iotune) == 56, "inv_iotune changed: pack its new field");
_Static_assert(sizeof(struct inv_facts) == 88, "inv_facts changed: pack its new field");
_Static_assert(sizeof(struct inv_disk) == 16, "inv_disk changed: pack its new field");

/* The flags byte after the UUID. */
enum {
	F_ACTIVE = 1 << 0, F_PERSISTENT = 1 << 1, F_JOB_ACTIVE = 1 << 2, F_JOB_KNOWN = 1 << 3,
	F_MIGRATING_IN = 1 << 4, F_PAUSED_OUT = 1 << 5, F_DEFINITION_UNKNOWN = 1 << 6,
};

/* A walk over one record: measuring (@out and @in NULL), writing (@out) or reading (@in).
 * Reading allocates; @oom records a failure, after which it reads nothing more. */
struct pk {
	unsigned char *out;
	const unsigned char *in;
	size_t n;               /* bytes walked */
	bool oom;
};

static void pk_u64(struct pk *k, uint64_t *v)
{
	if (k->in && k->oom) {
		*v = 0;         /* the walk stops: what follows reads as nothing */
		return;
	}
	if (k->in) {
		uint64_t x = 0;
		unsigned shift = 0;
		unsigned char b;
		do {
			b = k->in[k->n++];
			x |= (uint64_t)(b & 0x7f) << shift;
			shift += 7;
		} while (b & 0x80);
		*v = x;
		return;
	}
	uint64_t x = *v;
	do {
		unsigned char b = (unsigned char)(x & 0x7f);
		x >>= 7;
		if (k->out)
			k->out[k->n] = (unsigned char)(b | (x ? 0x80 : 0));
		k->n++;
	} while (x);
}

static void pk_unsigned(struct pk *k, unsigned *v)
{
	uint64_t x = *v;
	pk_u64(k, &x);
	*v = (unsigned)x;
}

static void pk_size(struct pk *k, size_t *v)
{
	uint64_t x = *v;
	pk_u64(k, &x);
	*v = (size_t)x;
}

static void pk_bool(struct pk *k, bool *v)
{
	uint64_t x = *v;
	pk_u64(k, &x);
	*v = x != 0;
}

/* A string: its length plus one, then its bytes; 0 for NULL. */
static void pk_str(struct pk *k, char **s)
{
	uint64_t len = *s ? strlen(*s) + 1 : 0;

	pk_u64(k, &len);
	if (!len)
		return;
	if (k->in) {
		*s = malloc(len);
		if (*s) {
			memcpy(*s, k->in + k->n, len - 1);
			(*s)[len - 1] = '\0';
		} else {
			k->oom = true;
			return;
		}
	} else if (k->out) {
		memcpy(k->out + k->n, *s, len - 1);
	}
	k->n += len - 1;
}

/* An array of @*n items of @size: its count, then (reading) room for them, zeroed. Returns
 * the array to walk, NULL when there is nothing to walk. */
static void *pk_array(struct pk *k, void **items, size_t *n, size_t size)
{
	pk_size(k, n);
	if (k->in && *n) {
		*items = calloc(*n, size);
		if (!*items) {
			k->oom = true;
			*n = 0;        /* nothing to walk or free; the walk stops (pk_u64) */
		}
	}
	return *n ? *items : NULL;
}

static void pk_strv(struct pk *k, char ***v, size_t *n)
{
	char **items = pk_array(k, (void **)v, n, sizeof(**v));

	for (size_t i = 0; items && i < *n; i++)
		pk_str(k, &items[i]);
}

static void pk_tuning(struct pk *k, struct inv_tuning *t)
{
	pk_bool(k, &t->known);
	pk_u64(k, &t->hard_limit);
	pk_u64(k, &t->soft_limit);
	pk_u64(k, &t->swap_hard_limit);
	pk_u64(k, &t->min_guarantee);
	pk_unsigned(k, &t->blkio_weight);
	struct inv_iotune *disks = pk_array(k, (void **)&t->disks, &t->n_disks, sizeof(*disks));
	for (size_t i = 0; disks && i < t->n_disks; i++) {
		pk_str(k, &disks[i].target);
		for (size_t f = 0; f < INV_IO_FIELDS; f++)
			pk_u64(k, &disks[i].v[f]);
	}
}

static void pk_facts(struct pk *k, struct inv_facts *f)
{
	pk_bool(k, &f->known);
	pk_str(k, &f->type);
	pk_u64(k, &f->memory);
	pk_unsigned(k, &f->vcpus);
	pk_str(k, &f->kernel);
	pk_str(k, &f->cmdline);
	pk_bool(k, &f->hugepages);
	pk_strv(k, &f->disks, &f->n_disks);
	pk_strv(k, &f->ifaces, &f->n_ifaces);
}

static void pk_flag(unsigned *flags, bool *v, unsigned bit, bool reading)
{
	if (reading)
		*v = *flags & bit;
	else if (*v)
		*flags |= bit;
}

/* The head: the UUID as it is, then the flags and the state. */
static void pk_head(struct pk *k, struct inv_domain *d)
{
	bool reading = k->in != NULL;
	unsigned flags = 0, state = d->state;

	if (reading)
		memcpy(d->uuid, k->in, INVPACK_UUID_BYTES);
	else if (k->out)
		memcpy(k->out, d->uuid, INVPACK_UUID_BYTES);
	k->n += INVPACK_UUID_BYTES;
	if (reading)
		flags = k->in[k->n];
	pk_flag(&flags, &d->active, F_ACTIVE, reading);
	pk_flag(&flags, &d->persistent, F_PERSISTENT, reading);
	pk_flag(&flags, &d->job_active, F_JOB_ACTIVE, reading);
	pk_flag(&flags, &d->job_known, F_JOB_KNOWN, reading);
	pk_flag(&flags, &d->migrating_in, F_MIGRATING_IN, reading);
	pk_flag(&flags, &d->paused_out, F_PAUSED_OUT, reading);
	pk_flag(&flags, &d->definition_unknown, F_DEFINITION_UNKNOWN, reading);
	if (k->out)
		k->out[k->n] = (unsigned char)flags;
	k->n++;
	pk_unsigned(k, &state);
	d->state = (enum inv_state)state;
}

/* Every field of @d, in the record's order. */
static void pack_domain(struct pk *k, struct inv_domain *d)
{
	pk_head(k, d);
	pk_str(k, &d->name);
	pk_str(k, &d->owner_namespace);
	pk_str(k, &d->owner_name);
	pk_u64(k, &d->memory);
	pk_unsigned(k, &d->vcpus);
	pk_u64(k, &d->hugepage_size);
	struct inv_disk *disks = pk_array(k, (void **)&d->disks, &d->n_disks, sizeof(*disks));
	for (size_t i = 0; disks && i < d->n_disks; i++) {
		pk_str(k, &disks[i].path);
		pk_str(k, &disks[i].target);
	}
	pk_strv(k, &d->bridges, &d->n_bridges);
	pk_strv(k, &d->networks, &d->n_networks);
	pk_tuning(k, &d->tuning_config);
	pk_tuning(k, &d->tuning_live);
	pk_facts(k, &d->facts);
	pk_str(k, &d->restart_why);
}

size_t invpack_size(const struct inv_domain *d)
{
	struct pk k = {0};
	struct inv_domain copy = *d;    /* the walk takes pointers; it writes nothing here */

	pack_domain(&k, &copy);
	return k.n;
}

size_t invpack_write(const struct inv_domain *d, unsigned char *buf)
{
	struct pk k = {.out = buf};
	struct inv_domain copy = *d;

	pack_domain(&k, &copy);
	return k.n;
}

int invpack_read(const unsigned char *rec, struct inv_domain *out)
{
	struct pk k = {.in = rec};

	memset(out, 0, sizeof(*out));
	pack_domain(&k, out);
	if (!k.oom)
		return 0;
	inv_domain_free(out);
	return -1;
}

const char *invpack_uuid(const unsigned char *rec)
{
	return (const char *)rec;
}

bool invpack_definition_unknown(const unsigned char *rec)
{
	return rec[INVPACK_UUID_BYTES] & F_DEFINITION_UNKNOWN;
}
