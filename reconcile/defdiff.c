/* defdiff: what a domain definition says that only a restart makes true. */
#include "reconcile/defdiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "crd/load.h"
#include "crd/quantity.h"
#include "reconcile/difflist.h"
#include "reconcile/vmres.h"

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

/* A copy of the text of @n's child @name, or NULL (absent, or out of memory). */
static char *text_of(xmlNode *n, const char *name)
{
	xmlNode *c = child(n, name);
	xmlChar *t = c ? xmlNodeGetContent(c) : NULL;
	char *copy = t ? strdup((const char *)t) : NULL;
	xmlFree(t);
	return copy;
}

/* Appends "@kind:@name" to the list. Returns 0, or -1 when out of memory or past
 * VMRES_MAX_DEVICES entries. */
static int push(char ***v, size_t *n, const char *kind, const xmlChar *name)
{
	size_t len = strlen(kind) + (name ? strlen((const char *)name) : 0) + 2;
	char *s = *n < VMRES_MAX_DEVICES ? malloc(len) : NULL;
	char **grown = s ? realloc(*v, (*n + 1) * sizeof(*grown)) : NULL;

	if (!grown) {
		free(s);
		return -1;
	}
	snprintf(s, len, "%s%s%s", kind, *kind ? ":" : "", name ? (const char *)name : "");
	grown[(*n)++] = s;
	*v = grown;
	return 0;
}

/* The source of a <disk> (file, block device, or volume name) and of an <interface>. */
static int read_devices(xmlNode *devices, struct inv_facts *out)
{
	int rc = 0;

	for (xmlNode *c = devices ? devices->children : NULL; c && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		bool disk = !strcmp((const char *)c->name, "disk");
		if (!disk && strcmp((const char *)c->name, "interface"))
			continue;
		xmlNode *src = child(c, "source");
		xmlChar *type = xmlGetProp(c, (const xmlChar *)"type");
		const char *attr = disk ? (type && !xmlStrcmp(type, (const xmlChar *)"block") ? "dev"
					   : type && !xmlStrcmp(type, (const xmlChar *)"volume")
					   ? "volume" : "file")
				   : type ? (const char *)type : "";
		xmlChar *name = src ? xmlGetProp(src, (const xmlChar *)attr) : NULL;
		if (disk)
			rc = name ? push(&out->disks, &out->n_disks, "", name) : 0;
		else
			rc = push(&out->ifaces, &out->n_ifaces, type ? (const char *)type : "", name);
		xmlFree(name);
		xmlFree(type);
	}
	return rc;
}

int defdiff_from_xml(const char *xml, struct inv_facts *out)
{
	size_t len = strlen(xml);
	xmlDoc *doc = len <= CRD_DOMAIN_XML_MAX
		? xmlReadMemory(xml, (int)len, "domain.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING) : NULL;
	int rc = defdiff_from_doc(doc, out);

	xmlFreeDoc(doc);
	return rc;
}

int defdiff_from_doc(xmlDoc *doc, struct inv_facts *out)
{
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNode *mem = child(root, "memory"), *os = child(root, "os");
	xmlChar *type = root ? xmlGetProp(root, (const xmlChar *)"type") : NULL;
	xmlChar *amount = mem ? xmlNodeGetContent(mem) : NULL;
	xmlChar *unit = mem ? xmlGetProp(mem, (const xmlChar *)"unit") : NULL;
	char *vcpus = text_of(root, "vcpu");
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!root || !type || !amount ||
	    vmres_memory_parse((const char *)amount, (const char *)unit, &out->memory) < 0)
		goto cleanup;
	out->type = strdup((const char *)type);
	out->vcpus = vcpus ? (unsigned)strtoul(vcpus, NULL, 10) : 1;
	out->kernel = text_of(os, "kernel");
	out->cmdline = text_of(os, "cmdline");
	out->hugepages = child(child(root, "memoryBacking"), "hugepages") != NULL;
	if (out->type && read_devices(child(root, "devices"), out) == 0)
		rc = 0;
cleanup:
	out->known = rc == 0;
	if (rc < 0)
		inv_facts_free(out);
	free(vcpus);
	xmlFree(type);
	xmlFree(amount);
	xmlFree(unit);
	return rc;
}

/* Appends a copy of @s to the list. Returns 0, or -1 when out of memory. */
static int push_str(char ***v, size_t *n, const char *kind, const char *s)
{
	return push(v, n, kind, (const xmlChar *)s);
}

int defdiff_from_vm(const struct crd_vm *vm, struct inv_facts *out)
{
	const struct crd_domain *d = &vm->spec.domain;
	int rc = 0;

	if (d->xml)
		return defdiff_from_xml(d->xml, out);
	memset(out, 0, sizeof(*out));
	out->type = strdup(crd_domain_type_str(d->type));
	out->memory = d->memory;
	out->vcpus = d->vcpus;
	out->kernel = d->kernel ? strdup(d->kernel) : NULL;
	out->cmdline = d->cmdline ? strdup(d->cmdline) : NULL;
	out->hugepages = d->hugepages;
	for (size_t i = 0; rc == 0 && i < d->n_disks; i++)
		rc = push_str(&out->disks, &out->n_disks, "", d->disks[i].path);
	for (size_t i = 0; rc == 0 && i < d->n_interfaces; i++)
		rc = push_str(&out->ifaces, &out->n_ifaces, crd_iface_kind_str(d->interfaces[i].kind),
			      d->interfaces[i].name);
	if (rc < 0 || !out->type || (d->kernel && !out->kernel) || (d->cmdline && !out->cmdline)) {
		inv_facts_free(out);
		return -1;
	}
	out->known = true;
	return 0;
}

/* ---- comparison ---- */


static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

/* An empty text is none: libvirt drops an empty element (<cmdline/>) from a definition,
 * so a spec's cmdline "" would otherwise differ from it forever. */
static void field(struct difflist *d, const char *name, const char *have, const char *want)
{
	if (have && !*have)
		have = NULL;
	if (want && !*want)
		want = NULL;
	if (!str_eq(have, want))
		difflist_add(d, "%s: %.60s → %.60s", name, have ? have : "none", want ? want : "none");
}

static const char *amount(uint64_t bytes, char *buf, size_t size)
{
	if (crd_quantity_format(bytes, buf, size) < 0)
		snprintf(buf, size, "%llu", (unsigned long long)bytes);
	return buf;
}

bool defdiff_differs(const struct inv_facts *want, const struct inv_facts *have, char *why,
		     size_t size)
{
	struct difflist d;
	char a[32], b[32];

	difflist_init(&d, why, size);
	if (!want->known || !have->known)
		return false;
	field(&d, "type", have->type, want->type);
	uint64_t hk = (have->memory + 1023) / 1024, wk = (want->memory + 1023) / 1024;
	if (hk != wk)
		difflist_add(&d, "memory: %s → %s", amount(hk * 1024, a, sizeof(a)),
			 amount(wk * 1024, b, sizeof(b)));
	if (have->vcpus != want->vcpus)
		difflist_add(&d, "vcpus: %u → %u", have->vcpus, want->vcpus);
	field(&d, "kernel", have->kernel, want->kernel);
	field(&d, "cmdline", have->cmdline, want->cmdline);
	if (have->hugepages != want->hugepages)
		difflist_add(&d, "hugepages: %s → %s", have->hugepages ? "true" : "false",
			 want->hugepages ? "true" : "false");
	if (!strv_eq(have->disks, have->n_disks, want->disks, want->n_disks))
		difflist_add(&d, "disks: %zu → %zu, or other paths", have->n_disks, want->n_disks);
	if (!strv_eq(have->ifaces, have->n_ifaces, want->ifaces, want->n_ifaces))
		difflist_add(&d, "interfaces: %zu → %zu, or other sources", have->n_ifaces,
			 want->n_ifaces);
	return d.any;
}
