/* tune_apply: set spec.tuning on a domain with libvirt, live and in its definition. */
#include "reconcile/tune_apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

/* The libvirt typed-parameter names of a disk's limits, in the order of crd_io_bit. */
static const char *const IO_PARAMS[CRD_IO_FIELDS] = {
	VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC, VIR_DOMAIN_BLOCK_IOTUNE_READ_BYTES_SEC,
	VIR_DOMAIN_BLOCK_IOTUNE_WRITE_BYTES_SEC, VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC,
	VIR_DOMAIN_BLOCK_IOTUNE_READ_IOPS_SEC, VIR_DOMAIN_BLOCK_IOTUNE_WRITE_IOPS_SEC,
};

/* Appends "@what: libvirt's last error" to @why ("; "-separated). */
static void refused(char *why, size_t size, const char *what)
{
	size_t len = strlen(why);

	if (len + 3 < size)
		snprintf(why + len, size - len, "%s%s: %s", len ? "; " : "", what,
			 virGetLastErrorMessage());
	virResetLastError();
}

/* Adds ullong @v named @name when bit @bit of @set is on. Returns 0 or -1. */
static int add_kib(virTypedParameterPtr *p, int *n, int *max, unsigned set, unsigned bit,
		   const char *name, uint64_t bytes)
{
	if (!(set & bit))
		return 0;
	return virTypedParamsAddULLong(p, n, max, name, (bytes + 1023) / 1024);
}

static int set_memory(virDomainPtr dom, const struct crd_tuning *t, unsigned flags)
{
	virTypedParameterPtr p = NULL;
	int n = 0, max = 0, rc = -1;

	if (add_kib(&p, &n, &max, t->set, CRD_TUNE_HARD_LIMIT, VIR_DOMAIN_MEMORY_HARD_LIMIT,
		    t->hard_limit) < 0 ||
	    add_kib(&p, &n, &max, t->set, CRD_TUNE_SOFT_LIMIT, VIR_DOMAIN_MEMORY_SOFT_LIMIT,
		    t->soft_limit) < 0 ||
	    add_kib(&p, &n, &max, t->set, CRD_TUNE_SWAP_HARD_LIMIT,
		    VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT, t->swap_hard_limit) < 0 ||
	    add_kib(&p, &n, &max, t->set, CRD_TUNE_MIN_GUARANTEE, VIR_DOMAIN_MEMORY_MIN_GUARANTEE,
		    t->min_guarantee) < 0)
		goto cleanup;
	rc = n ? virDomainSetMemoryParameters(dom, p, n, flags) : 0;
cleanup:
	virTypedParamsFree(p, n);
	return rc;
}

static int set_weight(virDomainPtr dom, unsigned weight, unsigned flags)
{
	virTypedParameterPtr p = NULL;
	int n = 0, max = 0;
	int rc = virTypedParamsAddUInt(&p, &n, &max, VIR_DOMAIN_BLKIO_WEIGHT, weight) < 0
		 ? -1 : virDomainSetBlkioParameters(dom, p, n, flags);

	virTypedParamsFree(p, n);
	return rc;
}

static int set_disk(virDomainPtr dom, const struct crd_disk_io *io, unsigned flags)
{
	virTypedParameterPtr p = NULL;
	int n = 0, max = 0, rc = -1;

	for (unsigned i = 0; i < CRD_IO_FIELDS; i++)
		if ((io->set & (1u << i)) &&
		    virTypedParamsAddULLong(&p, &n, &max, IO_PARAMS[i], io->v[i]) < 0)
			goto cleanup;
	rc = n ? virDomainSetBlockIoTune(dom, io->target, p, n, flags) : 0;
cleanup:
	virTypedParamsFree(p, n);
	return rc;
}

int tune_apply(virDomainPtr dom, const struct crd_tuning *t, char *why, size_t size)
{
	/* The definition carries the tuning through restarts and moves; live makes it true
	 * now. Both in one call: libvirt changes neither when either is refused. */
	unsigned flags = VIR_DOMAIN_AFFECT_CONFIG;
	char what[64];

	if (size)
		why[0] = '\0';
	if (virDomainIsActive(dom) == 1)
		flags |= VIR_DOMAIN_AFFECT_LIVE;
	if (set_memory(dom, t, flags) < 0)
		refused(why, size, "memory");
	if ((t->set & CRD_TUNE_BLKIO_WEIGHT) && set_weight(dom, t->blkio_weight, flags) < 0)
		refused(why, size, "blkio.weight");
	for (size_t i = 0; i < t->n_disk_io; i++)
		if (set_disk(dom, &t->disk_io[i], flags) < 0) {
			snprintf(what, sizeof(what), "diskIO %s", t->disk_io[i].target);
			refused(why, size, what);
		}
	return size && why[0] ? -1 : 0;
}
