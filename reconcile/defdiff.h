/* defdiff: what a domain definition says that only a restart makes true — read from domain
 * XML and compared without I/O: the spec against the persistent definition (redefine),
 * the definition against the running guest (restart required). */
#ifndef DROVER_DEFDIFF_H
#define DROVER_DEFDIFF_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "crd/types.h"
#include "reconcile/inventory.h"

/* Fills @out (known = true) from domain XML @xml: type, memory, vcpus, kernel, cmdline,
 * hugepages, disk sources and interface sources. Returns 0, or -1 when @xml does not
 * parse, is too large or memory runs out (@out is then empty). Free with inv_facts_free. */
int defdiff_from_xml(const char *xml, struct inv_facts *out) DROVER_WUR;

/* defdiff_from_xml of a parsed document @doc (NULL reads as not parsing). */
int defdiff_from_doc(xmlDoc *doc, struct inv_facts *out) DROVER_WUR;

/* Fills @out with the facts of @vm's spec.domain: read from the short form directly (what
 * crd_domain_expand writes), or from spec.domain.xml. Returns 0, or -1 as
 * defdiff_from_xml. */
int defdiff_from_vm(const struct crd_vm *vm, struct inv_facts *out)
	DROVER_WUR;

/* True when @want and @have (both known) differ, with the differences, @have's value
 * first, in @why ("memory: 64Mi → 128Mi; vcpus: 1 → 2"; always NUL-terminated). Memory
 * is compared in KiB, as libvirt keeps it. False when either is not known.
 * This function can't fail. */
bool defdiff_differs(const struct inv_facts *want, const struct inv_facts *have, char *why,
		     size_t size);

#endif
