/* domxml: read and edit libvirt domain XML (libxml2, no network, no entities). */
#ifndef DROVER_DOMXML_H
#define DROVER_DOMXML_H

#include "crd/compiler.h"

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "reconcile/inventory.h"


/* Fills the memory, vcpus, disks (paths), bridges, networks and owner (drover's
 * <metadata> element) of @d from domain XML @xml (other fields untouched), read by vmres. Returns 0, or -1 when the XML
 * does not parse or memory runs out (then @d's list fields are left empty). */
int domxml_read(const char *xml, struct inv_domain *d) DROVER_WUR;

/* domxml_read of @doc, parsed by vmres_parse (NULL reads as not parsing). */
int domxml_read_doc(xmlDoc *doc, struct inv_domain *d) DROVER_WUR;

/* Returns a copy of domain XML @xml with drover's ownership element
 * <drover:vm namespace=NS name=NAME/> in <metadata> (replacing an older one), so
 * the definition says who manages it. The caller frees the result; NULL on error. */
char *domxml_set_owner(const char *xml, const char *ns, const char *name) DROVER_WUR;

/* Returns a copy of domain XML @xml whose <uuid> is @uuid (added when missing), so a
 * redefinition updates the domain rather than making another. The caller frees the
 * result; NULL on error. */
char *domxml_set_uuid(const char *xml, const char *uuid) DROVER_WUR;

/* The text of the first node matched by XPath @expr (or its string value for
 * string(...)) (e.g. "/capabilities/host/cpu/model")
 * in document @xml. Returns a string the caller frees, or NULL when absent or on error. */
char *domxml_xpath_string(const char *xml, const char *expr) DROVER_WUR;

/* @xml parsed (no network, no entities), for several domxml_doc_xpath_string over one
 * parse; NULL when it does not parse. The caller frees it with xmlFreeDoc. */
xmlDocPtr domxml_parse(const char *xml) DROVER_WUR;

/* domxml_xpath_string over the parsed @doc (NULL: no answer). */
char *domxml_doc_xpath_string(xmlDocPtr doc, const char *expr) DROVER_WUR;

/* The element matched by XPath @expr in @xml, serialised (e.g. "/domain/cpu" gives
 * "<cpu mode='custom'>...</cpu>"). Returns a string the caller frees, or NULL when
 * absent or on error. */
char *domxml_xpath_element(const char *xml, const char *expr) DROVER_WUR;

#endif
