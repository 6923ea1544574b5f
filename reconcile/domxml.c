/* domxml: read and edit libvirt domain XML (libxml2, no network, no entities). */
#include "reconcile/domxml.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "reconcile/vmres.h"

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

xmlDocPtr domxml_parse(const char *xml)
{
	return parse(xml);
}

char *domxml_doc_xpath_string(xmlDocPtr doc, const char *expr)
{
	xmlXPathObjectPtr res = doc ? eval(doc, expr) : NULL;
	char *out = NULL;

	if (res && res->type == XPATH_STRING && res->stringval && res->stringval[0])
		out = strdup((const char *)res->stringval);
	else if (res && res->type == XPATH_NODESET && res->nodesetval &&
		 res->nodesetval->nodeNr > 0)
		out = node_text(res->nodesetval->nodeTab[0]);
	xmlXPathFreeObject(res);
	return out;
}

char *domxml_xpath_string(const char *xml, const char *expr)
{
	xmlDocPtr doc = parse(xml);
	char *out = domxml_doc_xpath_string(doc, expr);

	xmlFreeDoc(doc);
	return out;
}

char *domxml_xpath_element(const char *xml, const char *expr)
{
	xmlDocPtr doc = parse(xml);
	xmlXPathObjectPtr res = doc ? eval(doc, expr) : NULL;
	xmlBufferPtr buf = NULL;
	char *out = NULL;

	if (res && res->type == XPATH_NODESET && res->nodesetval && res->nodesetval->nodeNr > 0 &&
	    (buf = xmlBufferCreate()) &&
	    xmlNodeDump(buf, doc, res->nodesetval->nodeTab[0], 0, 0) > 0)
		out = strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	xmlXPathFreeObject(res);
	xmlFreeDoc(doc);
	return out;
}

int domxml_read(const char *xml, struct inv_domain *d)
{
	char why[128];
	xmlDocPtr doc = vmres_parse(xml, strlen(xml), why, sizeof(why));
	int rc = domxml_read_doc(doc, d);

	xmlFreeDoc(doc);
	return rc;
}

int domxml_read_doc(xmlDocPtr doc, struct inv_domain *d)
{
	struct vmres res;
	char why[128];

	/* One reader of domain XML serves both the planner (the spec's XML) and the
	 * observer (libvirt's): vmres. Its lists move into @d. */
	if (!doc || vmres_from_doc(doc, &res, why, sizeof(why)) != VMRES_OK)
		return -1;
	if (res.n_disks && !(d->disks = calloc(res.n_disks, sizeof(*d->disks)))) {
		vmres_free(&res);
		return -1;
	}
	for (size_t i = 0; i < res.n_disks; i++) {
		d->disks[i].path = res.disks[i];
		res.disks[i] = NULL;
	}
	d->n_disks = res.n_disks;
	d->memory = res.memory;
	d->vcpus = res.vcpus;
	d->hugepage_size = res.hugepage_size;
	d->bridges = res.bridges;
	d->n_bridges = res.n_bridges;
	d->networks = res.networks;
	d->n_networks = res.n_networks;
	res.bridges = res.networks = NULL;
	res.n_bridges = res.n_networks = 0;
	free(d->owner_namespace);
	free(d->owner_name);
	d->owner_namespace = res.owner_namespace;
	d->owner_name = res.owner_name;
	res.owner_namespace = res.owner_name = NULL;
	vmres_free(&res);
	return 0;
}

/* The first element child of @n named @name, or NULL. */
static xmlNodePtr first_child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, (const xmlChar *)name))
			return c;
	return NULL;
}

/* @doc serialised into a string the caller frees, or NULL; frees @doc either way. */
static char *dump_and_free(xmlDocPtr doc)
{
	xmlChar *out = NULL;
	int len = 0;
	char *copy = NULL;

	if (doc)
		xmlDocDumpMemory(doc, &out, &len);
	if (out)
		copy = strdup((const char *)out);
	xmlFree(out);
	xmlFreeDoc(doc);
	return copy;
}

/* Puts drover's ownership element into <metadata> of @root (replacing an older one).
 * Returns 0, or -1 when out of memory. */
static int put_owner(xmlNodePtr root, const char *ns, const char *name)
{
	xmlNodePtr meta = first_child(root, "metadata"), owner;
	xmlNsPtr drover_ns;

	if (!meta && !(meta = xmlNewChild(root, NULL, (const xmlChar *)"metadata", NULL)))
		return -1;
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
		return -1;
	xmlSetNs(owner, drover_ns);
	return xmlNewProp(owner, (const xmlChar *)"namespace", (const xmlChar *)ns) &&
	       xmlNewProp(owner, (const xmlChar *)"name", (const xmlChar *)name) ? 0 : -1;
}

char *domxml_set_owner(const char *xml, const char *ns, const char *name)
{
	xmlDocPtr doc = parse(xml);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!root || put_owner(root, ns, name) < 0) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return dump_and_free(doc);
}

char *domxml_set_uuid(const char *xml, const char *uuid)
{
	xmlDocPtr doc = parse(xml);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNodePtr node = first_child(root, "uuid");

	if (node)
		xmlNodeSetContent(node, (const xmlChar *)uuid);
	if (!root || (!node && !xmlNewTextChild(root, NULL, (const xmlChar *)"uuid",
						 (const xmlChar *)uuid))) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return dump_and_free(doc);
}
