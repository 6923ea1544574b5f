/* domain: libvirt domain XML of a VM — short-form expansion and checks of user XML. */
#ifndef DROVER_CRD_DOMAIN_H
#define DROVER_CRD_DOMAIN_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include "crd/types.h"

/* Expands the short domain form of @vm into libvirt domain XML. Returns a NUL-terminated
 * string the caller frees, or NULL when out of memory or when @vm uses the xml form. */
char *crd_domain_expand(const struct crd_vm *vm) DROVER_WUR;

/* The domain XML of @vm either way: a copy of spec.domain.xml, or the expansion.
 * Returns a string the caller frees, or NULL when out of memory. */
char *crd_vm_domain_xml(const struct crd_vm *vm) DROVER_WUR;

/* Checks that @xml is at most CRD_DOMAIN_XML_MAX bytes, has no DOCTYPE, is well-formed (libxml2,
 * no network, no entity expansion), has a <domain type=...> root and a <name> equal to @name.
 * Returns 0, or -1 with a reason in @why (always NUL-terminated). */
int crd_domain_check_xml(const char *xml, size_t len, const char *name, char *why, size_t size)
	DROVER_WUR;

/* True when the domain @d has a disk with target @target ("vda"): the short form's
 * disks are named per bus in order (vda, vdb, sda, ...); the xml form's are read from
 * <devices><disk><target dev=...>. This function can't fail. */
bool crd_domain_has_disk(const struct crd_domain *d, const char *target);

#endif
