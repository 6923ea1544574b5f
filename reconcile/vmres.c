/* vmres: what a VM's spec asks of a host, from the short form or the domain XML (libxml2). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "crd/load.h"
#include "reconcile/inventory.h"
#include "reconcile/vmres.h"

void vmres_free(struct vmres *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_disks; i++)
		free(r->disks[i]);
	free(r->disks);
	for (size_t i = 0; i < r->n_bridges; i++)
		free(r->bridges[i]);
	free(r->bridges);
	for (size_t i = 0; i < r->n_networks; i++)
		free(r->networks[i]);
	free(r->networks);
	free(r->owner_namespace);
	free(r->owner_name);
	memset(r, 0, sizeof(*r));
}

/* Writes a reason into @why (bounded, always terminated when @size > 0). Can't fail. */
static void __attribute__((format(printf, 3, 4)))
set_why(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* Appends a copy of @s to the list *@v of *@n, skipping it when @unique and already there.
 * Returns VMRES_OK, VMRES_INVALID past VMRES_MAX_DEVICES entries, or VMRES_NOMEM. */
static enum vmres_rc strv_add(char ***v, size_t *n, const char *s, bool unique)
{
	if (unique) {
		for (size_t i = 0; i < *n; i++)
			if (!strcmp((*v)[i], s))
				return VMRES_OK;
	}
	if (*n >= VMRES_MAX_DEVICES)
		return VMRES_INVALID;
	char *copy = strdup(s);
	char **grown = copy ? realloc(*v, (*n + 1) * sizeof(**v)) : NULL;
	if (!grown) {
		free(copy);
		return VMRES_NOMEM;
	}
	grown[(*n)++] = copy;
	*v = grown;
	return VMRES_OK;
}

/* Adds one device source to @r: a disk path, or a bridge / network name. */
static enum vmres_rc add_disk(struct vmres *r, const char *path)
{
	return strv_add(&r->disks, &r->n_disks, path, false);
}

static enum vmres_rc add_iface(struct vmres *r, enum crd_iface_kind kind, const char *name)
{
	if (kind == CRD_IFACE_NETWORK)
		return strv_add(&r->networks, &r->n_networks, name, true);
	return strv_add(&r->bridges, &r->n_bridges, name, true);
}

/* Finishes a fill: on error frees @out and explains a device overflow. */
static enum vmres_rc finish(enum vmres_rc rc, struct vmres *out, char *why, size_t size)
{
	if (rc == VMRES_OK)
		return rc;
	vmres_free(out);
	if (rc == VMRES_NOMEM)
		set_why(why, size, "out of memory");
	else if (why && size && !*why)
		set_why(why, size, "more than %d disks or interfaces", VMRES_MAX_DEVICES);
	return rc;
}

/* Fills @out from the short form. */
static enum vmres_rc from_short(const struct crd_domain *d, struct vmres *out)
{
	enum vmres_rc rc = VMRES_OK;

	out->memory = d->memory;
	out->vcpus = d->vcpus;
	out->hugepage_size = d->hugepages ? VMRES_DEFAULT_HUGEPAGE : 0;
	for (size_t i = 0; rc == VMRES_OK && i < d->n_disks; i++)
		if (d->disks[i].path)
			rc = add_disk(out, d->disks[i].path);
	for (size_t i = 0; rc == VMRES_OK && i < d->n_interfaces; i++)
		if (d->interfaces[i].name)
			rc = add_iface(out, d->interfaces[i].kind, d->interfaces[i].name);
	return rc;
}

enum vmres_rc vmres_from_vm(const struct crd_vm *vm, struct vmres *out, char *why, size_t size)
{
	memset(out, 0, sizeof(*out));
	set_why(why, size, "%s", "");
	if (vm->spec.domain.xml) {
		const char *xml = vm->spec.domain.xml;
		return vmres_from_xml(xml, strlen(xml), out, why, size);
	}
	return finish(from_short(&vm->spec.domain, out), out, why, size);
}

/* ---- libvirt memory units ---- */

/* Multiplier of libvirt memory unit @unit (case-insensitive, as libvirt reads it): 1 for
 * b/bytes, 1024^n for k/KiB, M/MiB, ..., 1000^n for KB, MB, .... Returns 0, or -1. */
static int unit_scale(const char *unit, uint64_t *scale)
{
	static const char PREFIXES[] = "kmgtpe";

	if (!unit || !*unit) {
		*scale = 1024;
		return 0;
	}
	if (!strcasecmp(unit, "b") || !strcasecmp(unit, "bytes")) {
		*scale = 1;
		return 0;
	}
	const char *p = strchr(PREFIXES, tolower((unsigned char)unit[0]));
	if (!p || !*p)
		return -1;
	uint64_t base;
	if (unit[1] == '\0' || !strcasecmp(unit + 1, "ib"))
		base = 1024;
	else if (!strcasecmp(unit + 1, "b"))
		base = 1000;
	else
		return -1;
	*scale = 1;
	for (const char *q = PREFIXES; q <= p; q++)
		*scale *= base;
	return 0;
}

int vmres_memory_parse(const char *value, const char *unit, uint64_t *bytes)
{
	uint64_t scale, n;
	char *end;

	if (!value)
		return -1;
	while (isspace((unsigned char)*value))
		value++;
	if (!isdigit((unsigned char)*value) || unit_scale(unit, &scale) < 0)
		return -1;
	errno = 0;
	n = strtoull(value, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || *end || n > UINT64_MAX / scale)
		return -1;
	*bytes = n * scale;
	return 0;
}

/* ---- domain XML ---- */

/* True when element @n is named @name. This function can't fail. */
static bool is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* The first child element of @n named @name, or NULL. */
static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is_elem(c, name))
			return c;
	return NULL;
}

/* Attribute @name of @n as a string the caller frees with xmlFree, or NULL. */
static char *attr(const xmlNode *n, const char *name)
{
	return n ? (char *)xmlGetProp(n, (const xmlChar *)name) : NULL;
}

/* Reads <memory unit=...> and <vcpu>. */
static enum vmres_rc read_sizes(const xmlNode *root, struct vmres *out, char *why, size_t size)
{
	enum vmres_rc rc = VMRES_INVALID;
	xmlNode *mem = child(root, "memory"), *vcpu = child(root, "vcpu");
	char *text = NULL, *unit = NULL;

	if (mem) {
		text = (char *)xmlNodeGetContent(mem);
		unit = attr(mem, "unit");
		if (vmres_memory_parse(text, unit, &out->memory) < 0) {
			set_why(why, size, "<memory> '%s' unit '%s' is not a memory size",
				text ? text : "", unit ? unit : "KiB");
			goto cleanup;
		}
		xmlFree(text);
		text = NULL;
	}
	if (vcpu) {
		text = (char *)xmlNodeGetContent(vcpu);
		char *end = NULL;
		errno = 0;
		unsigned long n = text ? strtoul(text, &end, 10) : 0;
		if (!text || end == text || *end || errno || n == 0 || n > 4096) {
			set_why(why, size, "<vcpu> '%s' is not a vCPU count", text ? text : "");
			goto cleanup;
		}
		out->vcpus = (unsigned)n;
	}
	rc = VMRES_OK;
cleanup:
	xmlFree(text);
	xmlFree(unit);
	return rc;
}

/* Reads <memoryBacking><hugepages>[<page size= unit=/>]: the size of the pages backing the
 * guest's memory (the first <page>; the default size without one). */
static enum vmres_rc read_hugepages(const xmlNode *root, struct vmres *out, char *why,
				    size_t size)
{
	xmlNode *hp = child(child(root, "memoryBacking"), "hugepages"), *page = child(hp, "page");
	char *text = attr(page, "size"), *unit = attr(page, "unit");
	enum vmres_rc rc = VMRES_OK;

	if (hp)
		out->hugepage_size = VMRES_DEFAULT_HUGEPAGE;
	if (text && (vmres_memory_parse(text, unit, &out->hugepage_size) < 0 ||
		     !out->hugepage_size)) {
		set_why(why, size, "<hugepages><page size='%s' unit='%s'> is not a page size", text,
			unit ? unit : "KiB");
		rc = VMRES_INVALID;
	}
	xmlFree(text);
	xmlFree(unit);
	return rc;
}

/* Adds the source of one <disk> (file= or dev=; network disks have neither). */
static enum vmres_rc read_disk(const xmlNode *disk, struct vmres *out)
{
	xmlNode *src = child(disk, "source");
	char *path = attr(src, "file");

	if (!path)
		path = attr(src, "dev");
	enum vmres_rc rc = path ? add_disk(out, path) : VMRES_OK;
	xmlFree(path);
	return rc;
}

/* Adds the bridge or network of one <interface>; other types ask nothing of the host. */
static enum vmres_rc read_iface(const xmlNode *iface, struct vmres *out)
{
	enum vmres_rc rc = VMRES_OK;
	char *type = attr(iface, "type"), *name = NULL;
	xmlNode *src = child(iface, "source");

	if (type && !strcmp(type, "bridge") && (name = attr(src, "bridge")))
		rc = add_iface(out, CRD_IFACE_BRIDGE, name);
	else if (type && !strcmp(type, "network") && (name = attr(src, "network")))
		rc = add_iface(out, CRD_IFACE_NETWORK, name);
	xmlFree(type);
	xmlFree(name);
	return rc;
}

static enum vmres_rc read_devices(const xmlNode *root, struct vmres *out)
{
	enum vmres_rc rc = VMRES_OK;
	xmlNode *devs = child(root, "devices");

	for (xmlNode *c = devs ? devs->children : NULL; rc == VMRES_OK && c; c = c->next) {
		if (is_elem(c, "disk"))
			rc = read_disk(c, out);
		else if (is_elem(c, "interface"))
			rc = read_iface(c, out);
	}
	return rc;
}

/* A copy of attribute @name of @n, or NULL when absent or empty (as libvirt's metadata
 * read gave it); *@oom set when the copy failed. */
static char *attr_dup(const xmlNode *n, const char *name, bool *oom)
{
	char *v = attr(n, name), *copy = v && *v ? strdup(v) : NULL;

	if (v && *v && !copy)
		*oom = true;
	xmlFree(v);
	return copy;
}

/* Reads drover's <metadata><drover:vm namespace= name=/></metadata>: the element is
 * recognised by its XML namespace, whatever prefix the document gives it. */
static enum vmres_rc read_owner(const xmlNode *root, struct vmres *out)
{
	xmlNode *meta = child(root, "metadata");
	bool oom = false;

	for (xmlNode *c = meta ? meta->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || !c->ns || !c->ns->href ||
		    strcmp((const char *)c->ns->href, INV_METADATA_URI))
			continue;
		out->owner_namespace = attr_dup(c, "namespace", &oom);
		out->owner_name = attr_dup(c, "name", &oom);
		break;
	}
	return oom ? VMRES_NOMEM : VMRES_OK;
}

xmlDoc *vmres_parse(const char *xml, size_t len, char *why, size_t size)
{
	xmlDoc *doc;

	if (len > CRD_DOMAIN_XML_MAX) {
		set_why(why, size, "domain XML is larger than %u bytes", CRD_DOMAIN_XML_MAX);
		return NULL;
	}
	/* Refused before parsing: a DOCTYPE is where entity bombs and external entities live. */
	if (memmem(xml, len, "<!DOCTYPE", 9)) {
		set_why(why, size, "domain XML must not have a DOCTYPE");
		return NULL;
	}
	doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			    XML_PARSE_NOBLANKS | XML_PARSE_COMPACT);
	if (!doc)
		set_why(why, size, "domain XML is not well-formed");
	return doc;
}

enum vmres_rc vmres_from_doc(xmlDoc *doc, struct vmres *out, char *why, size_t size)
{
	enum vmres_rc rc = VMRES_INVALID;
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

	memset(out, 0, sizeof(*out));
	set_why(why, size, "%s", "");
	if (!root || !is_elem(root, "domain")) {
		set_why(why, size, "domain XML has no <domain> root");
		return finish(rc, out, why, size);
	}
	rc = read_sizes(root, out, why, size);
	if (rc == VMRES_OK)
		rc = read_hugepages(root, out, why, size);
	if (rc == VMRES_OK)
		rc = read_devices(root, out);
	if (rc == VMRES_OK)
		rc = read_owner(root, out);
	return rc == VMRES_OK ? rc : finish(rc, out, why, size);
}

enum vmres_rc vmres_from_xml(const char *xml, size_t len, struct vmres *out, char *why,
			     size_t size)
{
	xmlDoc *doc;
	enum vmres_rc rc;

	memset(out, 0, sizeof(*out));
	set_why(why, size, "%s", "");
	if (!(doc = vmres_parse(xml, len, why, size)))
		return finish(VMRES_INVALID, out, why, size);
	rc = vmres_from_doc(doc, out, why, size);
	xmlFreeDoc(doc);
	return rc;
}
