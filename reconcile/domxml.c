/* domxml: read and edit libvirt domain XML (libxml2, no network, no entities). */
#include "reconcile/domxml.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

/* At most this many disks and interfaces are read from one domain. */
#define DOMXML_MAX_DEVICES 256

static xmlDocPtr parse(const char *xml)
{
	return xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* Evaluates @expr on @doc. Returns the result the caller frees with
 * xmlXPathFreeObject, or NULL. */
static xmlXPathObjectPtr eval(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res = ctx ? xmlXPathEvalExpression((const xmlChar *)expr, ctx) : NULL;
	xmlXPathFreeContext(ctx);
	return res;
}

static char *node_text(xmlNodePtr node)
{
	xmlChar *content = xmlNodeGetContent(node);
	char *copy = content ? strdup((const char *)content) : NULL;
	xmlFree(content);
	return copy;
}

char *domxml_xpath_string(const char *xml, const char *expr)
{
	xmlDocPtr doc = parse(xml);
	xmlXPathObjectPtr res = doc ? eval(doc, expr) : NULL;
	char *out = NULL;

	if (res && res->type == XPATH_STRING && res->stringval && res->stringval[0])
		out = strdup((const char *)res->stringval);
	else if (res && res->type == XPATH_NODESET && res->nodesetval &&
		 res->nodesetval->nodeNr > 0)
		out = node_text(res->nodesetval->nodeTab[0]);
	xmlXPathFreeObject(res);
	xmlFreeDoc(doc);
	return out;
}

/* Collects the text of every node @expr matches into a new string list. Returns 0,
 * or -1 when out of memory (then *@list is NULL). */
static int collect(xmlDocPtr doc, const char *expr, char ***list, size_t *n)
{
	xmlXPathObjectPtr res = eval(doc, expr);
	int count = res && res->nodesetval ? res->nodesetval->nodeNr : 0;
	int ret = 0;

	*list = NULL;
	*n = 0;
	if (count > DOMXML_MAX_DEVICES)
		count = DOMXML_MAX_DEVICES;
	if (count > 0 && !(*list = calloc((size_t)count, sizeof(char *))))
		ret = -1;
	for (int i = 0; ret == 0 && i < count; i++) {
		char *s = node_text(res->nodesetval->nodeTab[i]);
		if (!s)
			ret = -1;
		else
			(*list)[(*n)++] = s;
	}
	xmlXPathFreeObject(res);
	if (ret < 0) {
		for (size_t i = 0; i < *n; i++)
			free((*list)[i]);
		free(*list);
		*list = NULL;
		*n = 0;
	}
	return ret;
}

/* libvirt's memory units, as multipliers of a byte. */
static uint64_t unit_bytes(const char *unit)
{
	static const struct { const char *name; uint64_t mult; } units[] = {
		{"b", 1}, {"bytes", 1}, {"KB", 1000}, {"k", 1024}, {"KiB", 1024},
		{"MB", 1000000}, {"M", 1 << 20}, {"MiB", 1 << 20},
		{"GB", 1000000000}, {"G", 1 << 30}, {"GiB", 1 << 30},
		{"TB", 1000000000000ULL}, {"T", 1ULL << 40}, {"TiB", 1ULL << 40},
	};
	if (!unit)
		return 1024; /* libvirt's default unit is KiB */
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(unit, units[i].name))
			return units[i].mult;
	return 1024;
}

static uint64_t read_memory(xmlDocPtr doc)
{
	xmlXPathObjectPtr res = eval(doc, "/domain/memory");
	uint64_t bytes = 0;

	if (res && res->nodesetval && res->nodesetval->nodeNr > 0) {
		xmlNodePtr node = res->nodesetval->nodeTab[0];
		xmlChar *unit = xmlGetProp(node, (const xmlChar *)"unit");
		char *text = node_text(node);
		unsigned long long value = text ? strtoull(text, NULL, 10) : 0;
		uint64_t mult = unit_bytes((const char *)unit);
		bytes = value <= UINT64_MAX / mult ? value * mult : UINT64_MAX;
		free(text);
		xmlFree(unit);
	}
	xmlXPathFreeObject(res);
	return bytes;
}

int domxml_read(const char *xml, struct inv_domain *d)
{
	xmlDocPtr doc = parse(xml);
	char **paths = NULL, **targets = NULL;
	size_t n_paths = 0, n_targets = 0;
	int ret = -1;

	if (!doc)
		return -1;
	d->memory = read_memory(doc);
	char *vcpus = domxml_xpath_string(xml, "/domain/vcpu");
	d->vcpus = vcpus ? (unsigned)strtoul(vcpus, NULL, 10) : 1;
	free(vcpus);
	/* Disks with a file or block source; their target names in the same order. */
	if (collect(doc, "/domain/devices/disk[@device='disk' or not(@device)][source/@file or source/@dev]"
			 "/source/@*[name()='file' or name()='dev']", &paths, &n_paths) < 0 ||
	    collect(doc, "/domain/devices/disk[@device='disk' or not(@device)][source/@file or source/@dev]"
			 "/target/@dev", &targets, &n_targets) < 0 ||
	    collect(doc, "/domain/devices/interface[@type='bridge']/source/@bridge",
		    &d->bridges, &d->n_bridges) < 0 ||
	    collect(doc, "/domain/devices/interface[@type='network']/source/@network",
		    &d->networks, &d->n_networks) < 0)
		goto cleanup;
	if (n_paths && !(d->disks = calloc(n_paths, sizeof(*d->disks))))
		goto cleanup;
	for (size_t i = 0; i < n_paths; i++) {
		d->disks[i].path = paths[i];
		d->disks[i].target = i < n_targets ? targets[i] : NULL;
		paths[i] = NULL;
		if (i < n_targets)
			targets[i] = NULL;
	}
	d->n_disks = n_paths;
	ret = 0;
cleanup:
	for (size_t i = 0; i < n_paths; i++)
		free(paths[i]);
	for (size_t i = 0; i < n_targets; i++)
		free(targets[i]);
	free(paths);
	free(targets);
	xmlFreeDoc(doc);
	return ret;
}

char *domxml_set_owner(const char *xml, const char *ns, const char *name)
{
	xmlDocPtr doc = parse(xml);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNodePtr meta = NULL, owner;
	xmlNsPtr drover_ns;
	xmlChar *out = NULL;
	int len = 0;
	char *copy = NULL;

	if (!root)
		goto cleanup;
	for (xmlNodePtr c = root->children; c && !meta; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, (const xmlChar *)"metadata"))
			meta = c;
	if (!meta && !(meta = xmlNewChild(root, NULL, (const xmlChar *)"metadata", NULL)))
		goto cleanup;
	/* Replace any ownership element already there. */
	for (xmlNodePtr c = meta->children, next; c; c = next) {
		next = c->next;
		if (c->type == XML_ELEMENT_NODE && c->ns &&
		    !xmlStrcmp(c->ns->href, (const xmlChar *)INV_METADATA_URI)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
	owner = xmlNewChild(meta, NULL, (const xmlChar *)"vm", NULL);
	drover_ns = owner ? xmlNewNs(owner, (const xmlChar *)INV_METADATA_URI,
				     (const xmlChar *)INV_METADATA_KEY) : NULL;
	if (!drover_ns)
		goto cleanup;
	xmlSetNs(owner, drover_ns);
	if (!xmlNewProp(owner, (const xmlChar *)"namespace", (const xmlChar *)ns) ||
	    !xmlNewProp(owner, (const xmlChar *)"name", (const xmlChar *)name))
		goto cleanup;
	xmlDocDumpMemory(doc, &out, &len);
	if (out)
		copy = strdup((const char *)out);
cleanup:
	xmlFree(out);
	xmlFreeDoc(doc);
	return copy;
}
