/* decode_tuning: VirtualMachine spec.tuning — memory limits, blkio weight, per-disk I/O limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crd/decode.h"
#include "crd/domain.h"

#define MAX_DISK_IO 16
/* libvirt's blkio weight range on cgroup v1 (v2 accepts more; v1 is the narrower). */
#define BLKIO_WEIGHT_MIN 100
#define BLKIO_WEIGHT_MAX 1000
/* One I/O limit: far above any device, far below overflow in libvirt's unsigned long long. */
#define IO_LIMIT_MAX (1ull << 50)

/* The fields of one diskIO entry, in the order of the CRD_IO_* bits; bytes are quantities. */
static const struct {
	const char *key;
	bool bytes;
} IO_FIELDS[CRD_IO_FIELDS] = {
	{"totalBytesSec", true}, {"readBytesSec", true}, {"writeBytesSec", true},
	{"totalIopsSec", false}, {"readIopsSec", false}, {"writeIopsSec", false},
};

bool crd_tuning_any(const struct crd_tuning *t)
{
	return t->set || t->n_disk_io;
}

/* Reports @msg at member @key of map @m, under the current path. */
static void error_at(struct crd_dctx *c, const struct crd_node *m, const char *key,
		     const char *msg)
{
	size_t saved = crd_dec_push(c, key);
	crd_dec_error(c, crd_node_get(m, key), false, "%s", msg);
	crd_dec_pop(c, saved);
}

/* Reads quantity @key of @m into *@out, at least 1Mi; sets @bit in *@set when read. */
static void dec_limit(struct crd_dctx *c, const struct crd_node *m, const char *key,
		      unsigned bit, unsigned *set, uint64_t *out)
{
	if (crd_dec_quantity(c, m, key, false, out) != 0)
		return;
	if (*out < (1u << 20))
		error_at(c, m, key, "must be at least 1Mi");
	else
		*set |= bit;
}

/* The memory limits libvirt would refuse or that would kill the guest, at decode time. */
static void check_memory(struct crd_dctx *c, const struct crd_node *mem, const struct crd_tuning *t,
			 const struct crd_domain *d)
{
	bool hard = t->set & CRD_TUNE_HARD_LIMIT, soft = t->set & CRD_TUNE_SOFT_LIMIT;
	bool swap = t->set & CRD_TUNE_SWAP_HARD_LIMIT;

	if (hard && soft && t->soft_limit > t->hard_limit)
		error_at(c, mem, "softLimit", "is above hardLimit");
	if (hard && swap && t->swap_hard_limit < t->hard_limit)
		error_at(c, mem, "swapHardLimit", "is below hardLimit (it bounds memory and swap "
			 "together)");
	/* The hard limit bounds the whole QEMU process: below the guest's memory, the guest
	 * is killed as soon as it uses what it was given. */
	if (hard && d->memory && t->hard_limit < d->memory)
		error_at(c, mem, "hardLimit", "is below spec.domain.memory; the guest would be "
			 "killed when it uses its memory");
}

static void dec_memory(struct crd_dctx *c, const struct crd_node *tun, struct crd_tuning *t,
		       const struct crd_domain *d)
{
	static const char *const known[] = {"hardLimit", "softLimit", "swapHardLimit",
					    "minGuarantee", NULL};
	const struct crd_node *mem = crd_dec_map_member(c, tun, "memory", false);
	size_t saved = crd_dec_push(c, "memory");

	if (mem) {
		crd_dec_fields(c, mem, known);
		dec_limit(c, mem, "hardLimit", CRD_TUNE_HARD_LIMIT, &t->set, &t->hard_limit);
		dec_limit(c, mem, "softLimit", CRD_TUNE_SOFT_LIMIT, &t->set, &t->soft_limit);
		dec_limit(c, mem, "swapHardLimit", CRD_TUNE_SWAP_HARD_LIMIT, &t->set,
			  &t->swap_hard_limit);
		dec_limit(c, mem, "minGuarantee", CRD_TUNE_MIN_GUARANTEE, &t->set, &t->min_guarantee);
		check_memory(c, mem, t, d);
	}
	crd_dec_pop(c, saved);
}

static void dec_blkio(struct crd_dctx *c, const struct crd_node *tun, struct crd_tuning *t)
{
	static const char *const known[] = {"weight", NULL};
	const struct crd_node *b = crd_dec_map_member(c, tun, "blkio", false);
	size_t saved = crd_dec_push(c, "blkio");

	if (b) {
		crd_dec_fields(c, b, known);
		if (crd_dec_u32(c, b, "weight", BLKIO_WEIGHT_MIN, BLKIO_WEIGHT_MAX,
				&t->blkio_weight) == 0)
			t->set |= CRD_TUNE_BLKIO_WEIGHT;
	}
	crd_dec_pop(c, saved);
}

/* Reads the limits of one diskIO entry @it into @io. */
static void dec_io_limits(struct crd_dctx *c, const struct crd_node *it, struct crd_disk_io *io)
{
	for (unsigned i = 0; i < CRD_IO_FIELDS; i++) {
		const char *key = IO_FIELDS[i].key;
		int64_t n = 0;
		int rc = IO_FIELDS[i].bytes ? crd_dec_quantity(c, it, key, false, &io->v[i])
					    : crd_dec_int(c, it, key, 0, (int64_t)IO_LIMIT_MAX, &n);
		if (rc != 0)
			continue;
		if (!IO_FIELDS[i].bytes)
			io->v[i] = (uint64_t)n;
		if (io->v[i] > IO_LIMIT_MAX)
			error_at(c, it, key, "is above 1Pi");
		else
			io->set |= 1u << i;
	}
	/* libvirt refuses a total together with a read or write limit of the same unit. */
	for (unsigned i = 0; i < CRD_IO_FIELDS; i += 3)
		if ((io->set & (1u << i)) && (io->set & (6u << i)))
			error_at(c, it, IO_FIELDS[i].key, "cannot be set together with a read or "
				 "write limit");
}

/* Reads entry @i of diskIO into @io; @d is the domain whose disks it must name. */
static void dec_disk_io(struct crd_dctx *c, const struct crd_node *it, const struct crd_domain *d,
			const struct crd_tuning *t, struct crd_disk_io *io)
{
	static const char *const known[] = {"target", "totalBytesSec", "readBytesSec",
					    "writeBytesSec", "totalIopsSec", "readIopsSec",
					    "writeIopsSec", NULL};

	crd_dec_fields(c, it, known);
	if (crd_dec_str(c, it, "target", true, &io->target) == 0) {
		char msg[96];
		if (!crd_domain_has_disk(d, io->target)) {
			snprintf(msg, sizeof(msg), "the domain has no disk with target \"%.32s\"",
				 io->target);
			error_at(c, it, "target", msg);
		}
		for (size_t j = 0; j < t->n_disk_io; j++)
			if (t->disk_io[j].target && !strcmp(t->disk_io[j].target, io->target))
				error_at(c, it, "target", "is listed twice");
	}
	dec_io_limits(c, it, io);
}

static void dec_disk_ios(struct crd_dctx *c, const struct crd_node *tun, struct crd_tuning *t,
			 const struct crd_domain *d)
{
	const struct crd_node *list = crd_dec_list(c, tun, "diskIO", MAX_DISK_IO);
	size_t saved = crd_dec_push(c, "diskIO");

	if (!list || !list->n_kids || !(t->disk_io = calloc(list->n_kids, sizeof(*t->disk_io)))) {
		c->oom |= list && list->n_kids;
		goto cleanup;
	}
	for (size_t i = 0; i < list->n_kids; i++) {
		size_t s2 = crd_dec_push_index(c, i);
		if (crd_dec_expect(c, list->kids[i], CRD_NODE_MAP)) {
			struct crd_disk_io *io = &t->disk_io[t->n_disk_io];
			dec_disk_io(c, list->kids[i], d, t, io);
			t->n_disk_io++;
		}
		crd_dec_pop(c, s2);
	}
cleanup:
	crd_dec_pop(c, saved);
}

void crd_dec_tuning(struct crd_dctx *c, const struct crd_node *spec, const struct crd_domain *d,
		    struct crd_tuning *t)
{
	static const char *const known[] = {"memory", "blkio", "diskIO", NULL};
	const struct crd_node *tun = crd_dec_map_member(c, spec, "tuning", false);
	size_t saved = crd_dec_push(c, "tuning");

	if (tun) {
		crd_dec_fields(c, tun, known);
		dec_memory(c, tun, t, d);
		dec_blkio(c, tun, t);
		dec_disk_ios(c, tun, t, d);
	}
	crd_dec_pop(c, saved);
}
