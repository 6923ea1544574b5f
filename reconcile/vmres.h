/* vmres: the resources a VM's spec asks of a host (memory, vCPUs, disks, bridges, networks),
 * read from the short domain form or from spec.domain.xml, without I/O. */
#ifndef DROVER_VMRES_H
#define DROVER_VMRES_H

#include "crd/compiler.h"

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "crd/types.h"

/* The page size <hugepages/> without a <page> gets on x86_64: the kernel's default. */
#define VMRES_DEFAULT_HUGEPAGE (2ull << 20)

/* Hard caps: a domain asking for more is refused rather than walked. */
#define VMRES_MAX_DEVICES 256   /* disks, and interfaces, each */

struct vmres {
	uint64_t memory;        /* bytes; <memory>, not <currentMemory> */
	unsigned vcpus;
	uint64_t hugepage_size; /* bytes of the huge pages backing memory; 0 = not backed */
	char **disks;           /* source file or block device paths, in document order */
	size_t n_disks;
	char **bridges;         /* <interface type='bridge'> sources, without repeats */
	size_t n_bridges;
	char **networks;        /* <interface type='network'> sources, without repeats */
	size_t n_networks;
	/* From drover's ownership element in <metadata> (domain XML only): who manages the
	 * domain; NULL when absent. Read here so an observed domain is parsed once. */
	char *owner_namespace, *owner_name;
};

enum vmres_rc {
	VMRES_OK = 0,
	VMRES_INVALID = -1,     /* the domain cannot be read; the reason is in @why */
	VMRES_NOMEM = -2,
};

/* Fills @out from @vm's spec.domain: the short form directly, or spec.domain.xml parsed.
 * Returns VMRES_OK with @out owned by the caller (free with vmres_free), or an error with
 * @out zeroed and a reason in @why (always NUL-terminated when @size > 0). */
enum vmres_rc vmres_from_vm(const struct crd_vm *vm, struct vmres *out, char *why, size_t size)
	DROVER_WUR;

/* Like vmres_from_vm for domain XML @xml of @len bytes. The XML is parsed with libxml2
 * without network access and without entity expansion; a DOCTYPE is refused. */
enum vmres_rc vmres_from_xml(const char *xml, size_t len, struct vmres *out, char *why,
			     size_t size) DROVER_WUR;

/* Domain XML @xml of @len bytes parsed as vmres_from_xml parses it (no network, no
 * entities, no DOCTYPE, at most CRD_DOMAIN_XML_MAX bytes): one parse for every reader of
 * an observed domain. Returns the document (xmlFreeDoc), or NULL with @why. */
xmlDoc *vmres_parse(const char *xml, size_t len, char *why, size_t size) DROVER_WUR;

/* vmres_from_xml of a parsed document @doc (NULL reads as invalid). */
enum vmres_rc vmres_from_doc(xmlDoc *doc, struct vmres *out, char *why, size_t size)
	DROVER_WUR;

/* Parses a libvirt memory amount: @value in @unit (NULL or "" = KiB; b, bytes, KB, k, KiB,
 * MB, M, MiB, GB, G, GiB, TB, T, TiB, PB, P, PiB, EB, E, EiB). Returns 0 with *@bytes set,
 * or -1 when the number or unit is not understood or the result overflows. */
int vmres_memory_parse(const char *value, const char *unit, uint64_t *bytes)
	DROVER_WUR;

/* Frees the lists and zeroes @r; accepts NULL. */
void vmres_free(struct vmres *r);

#endif
