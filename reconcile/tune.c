/* tune: spec.tuning against a domain's — read from domain XML, compared without I/O. */
#include "reconcile/tune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "crd/quantity.h"
#include "reconcile/difflist.h"
#include "reconcile/vmres.h"

/* The <iotune> children, in the order of crd_io_bit; their names in the CRD. */
static const char *const IO_XML[INV_IO_FIELDS] = {
	"total_bytes_sec", "read_bytes_sec", "write_bytes_sec",
	"total_iops_sec", "read_iops_sec", "write_iops_sec",
};
static const char *const IO_SPEC[INV_IO_FIELDS] = {
	"totalBytesSec", "readBytesSec", "writeBytesSec",
	"totalIopsSec", "readIopsSec", "writeIopsSec",
};

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

/* The number in element @name under @parent: a memory amount in its unit attribute when
 * @memory, else a plain count. 0 when absent or unreadable. */
static uint64_t number(xmlNode *parent, const char *name, bool memory)
{
	xmlNode *n = child(parent, name);
	xmlChar *text = n ? xmlNodeGetContent(n) : NULL;
	xmlChar *unit = n && memory ? xmlGetProp(n, (const xmlChar *)"unit") : NULL;
	uint64_t v = 0;

	if (text && memory) {
		if (vmres_memory_parse((const char *)text, (const char *)unit, &v) < 0)
			v = 0;
	} else if (text) {
		v = strtoull((const char *)text, NULL, 10);
	}
	xmlFree(text);
	xmlFree(unit);
	return v;
}

/* Appends the I/O limits of every <disk> with a target under @devices. Returns 0 or -1. */
static int read_iotune(xmlNode *devices, struct inv_tuning *out)
{
	for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "disk"))
			continue;
		xmlChar *dev = xmlGetProp(child(c, "target"), (const xmlChar *)"dev");
		struct inv_iotune *grown = dev ? realloc(out->disks, (out->n_disks + 1) *
							 sizeof(*grown)) : NULL;
		if (dev && !grown) {
			xmlFree(dev);
			return -1;
		}
		if (!dev)
			continue;
		out->disks = grown;
		struct inv_iotune *io = &out->disks[out->n_disks];
		memset(io, 0, sizeof(*io));
		io->target = strdup((const char *)dev);
		xmlFree(dev);
		if (!io->target)
			return -1;
		out->n_disks++;
		xmlNode *tune = child(c, "iotune");
		for (size_t i = 0; i < INV_IO_FIELDS; i++)
			io->v[i] = number(tune, IO_XML[i], false);
	}
	return 0;
}

int tune_from_xml(const char *xml, struct inv_tuning *out)
{
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	int rc = tune_from_doc(doc, out);

	xmlFreeDoc(doc);
	return rc;
}

int tune_from_doc(xmlDoc *doc, struct inv_tuning *out)
{
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!root)
		goto cleanup;
	xmlNode *mem = child(root, "memtune");
	out->hard_limit = number(mem, "hard_limit", true);
	out->soft_limit = number(mem, "soft_limit", true);
	out->swap_hard_limit = number(mem, "swap_hard_limit", true);
	out->min_guarantee = number(mem, "min_guarantee", true);
	out->blkio_weight = (unsigned)number(child(root, "blkiotune"), "weight", false);
	rc = read_iotune(child(root, "devices"), out);
	out->known = rc == 0;
cleanup:
	if (rc < 0)
		inv_tuning_free(out);
	return rc;
}

/* ---- comparison ---- */

/* "128Mi", or "none" for 0. */
static const char *amount(uint64_t bytes, char *buf, size_t size)
{
	if (!bytes)
		snprintf(buf, size, "none");
	else if (crd_quantity_format(bytes, buf, size) < 0)
		snprintf(buf, size, "%llu", (unsigned long long)bytes);
	return buf;
}

/* libvirt keeps memory limits in KiB: what it holds after being asked for @bytes. */
static uint64_t as_kib(uint64_t bytes)
{
	return (bytes + 1023) / 1024 * 1024;
}

/* Compares one memory limit: @want (bit @bit of @t->set) with @have on side @side. */
static void memory_field(struct difflist *d, const struct crd_tuning *t, unsigned bit,
			 const char *name, uint64_t want, uint64_t have, const char *side)
{
	char a[32], b[32];

	if ((t->set & bit) && as_kib(want) != have)
		difflist_add(d, "memory.%s: %s %s, want %s", name, amount(have, a, sizeof(a)), side,
			 amount(as_kib(want), b, sizeof(b)));
}

static const struct inv_iotune *iotune_of(const struct inv_tuning *have, const char *target)
{
	for (size_t i = 0; i < have->n_disks; i++)
		if (!strcmp(have->disks[i].target, target))
			return &have->disks[i];
	return NULL;
}

static void disk_io(struct difflist *d, const struct crd_disk_io *io, const struct inv_tuning *have,
		    const char *side)
{
	const struct inv_iotune *got = iotune_of(have, io->target);

	if (!got) {
		difflist_add(d, "diskIO %s: no such disk %s", io->target, side);
		return;
	}
	for (size_t i = 0; i < INV_IO_FIELDS; i++)
		if ((io->set & (1u << i)) && got->v[i] != io->v[i])
			difflist_add(d, "diskIO %s.%s: %llu %s, want %llu", io->target, IO_SPEC[i],
				 (unsigned long long)got->v[i], side, (unsigned long long)io->v[i]);
}

static void compare(struct difflist *d, const struct crd_tuning *t, const struct inv_tuning *have,
		    const char *side)
{
	if (!have || !have->known)
		return;
	memory_field(d, t, CRD_TUNE_HARD_LIMIT, "hardLimit", t->hard_limit, have->hard_limit, side);
	memory_field(d, t, CRD_TUNE_SOFT_LIMIT, "softLimit", t->soft_limit, have->soft_limit, side);
	memory_field(d, t, CRD_TUNE_SWAP_HARD_LIMIT, "swapHardLimit", t->swap_hard_limit,
		     have->swap_hard_limit, side);
	memory_field(d, t, CRD_TUNE_MIN_GUARANTEE, "minGuarantee", t->min_guarantee,
		     have->min_guarantee, side);
	if ((t->set & CRD_TUNE_BLKIO_WEIGHT) && have->blkio_weight != t->blkio_weight)
		difflist_add(d, "blkio.weight: %u %s, want %u", have->blkio_weight, side,
			 t->blkio_weight);
	for (size_t i = 0; i < t->n_disk_io; i++)
		disk_io(d, &t->disk_io[i], have, side);
}

bool tune_differs(const struct crd_tuning *want, const struct inv_tuning *config,
		  const struct inv_tuning *live, char *why, size_t size)
{
	struct difflist d;

	difflist_init(&d, why, size);
	compare(&d, want, live, "live");
	compare(&d, want, config, "in the definition");
	return d.any;
}
