/* domain: libvirt domain XML of a VM — short-form expansion and checks of user XML. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "crd/domain.h"
#include "crd/load.h"

/* A growable string whose errors are sticky: calls after a failure do nothing. */
struct xbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void xb_append(struct xbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = cap <= CRD_DOMAIN_XML_MAX * 2 ? realloc(b->p, cap) : NULL;
		if (!p) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Appends @fmt where every "%s" argument is XML-escaped and "%u"/"%llu" are numbers. */
static void xb_printf(struct xbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			xb_append(b, f, 1);
			continue;
		}
		char num[32];
		f++;
		if (*f == 's') {
			for (const char *s = va_arg(ap, const char *); *s; s++) {
				const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;"
					: *s == '>' ? "&gt;" : *s == '\'' ? "&apos;"
					: *s == '"' ? "&quot;" : NULL;
				if (e)
					xb_append(b, e, strlen(e));
				else
					xb_append(b, s, 1);
			}
		} else if (*f == 'u') {
			snprintf(num, sizeof(num), "%u", va_arg(ap, unsigned));
			xb_append(b, num, strlen(num));
		} else if (!strncmp(f, "llu", 3)) {
			snprintf(num, sizeof(num), "%llu", va_arg(ap, unsigned long long));
			xb_append(b, num, strlen(num));
			f += 2;
		}
	}
	va_end(ap);
}

static uint64_t fnv1a(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* A MAC address stable across hosts, so a cold-migrated guest keeps its address. */
static void stable_mac(const struct crd_vm *vm, size_t i, char *buf, size_t size)
{
	uint64_t h = fnv1a(vm->meta.namespace ? vm->meta.namespace : "", 0xcbf29ce484222325ull);
	h = fnv1a("/", h);
	h = fnv1a(vm->meta.name ? vm->meta.name : "", h);
	h = (h ^ i) * 0x100000001b3ull;
	snprintf(buf, size, "52:54:00:%02x:%02x:%02x", (unsigned)(h >> 16) & 0xff,
		 (unsigned)(h >> 8) & 0xff, (unsigned)h & 0xff);
}

/* The target of short-form disk @i of @d ("vda", "sdb", ...): numbered per bus, in order. */
static void short_target(const struct crd_domain *d, size_t i, char *dev, size_t size)
{
	static const char *const prefix[] = {"vd", "sd", "hd"};
	unsigned nth = 0;

	for (size_t j = 0; j < i; j++)
		nth += d->disks[j].bus == d->disks[i].bus;
	snprintf(dev, size, "%s%c", prefix[d->disks[i].bus], 'a' + nth % 26);
}

static void expand_disks(struct xbuf *b, const struct crd_domain *d)
{
	for (size_t i = 0; i < d->n_disks; i++) {
		const struct crd_disk *k = &d->disks[i];
		char dev[8];
		short_target(d, i, dev, sizeof(dev));
		xb_printf(b, "    <disk type='file' device='disk'>\n"
			  "      <driver name='qemu' type='%s' cache='none'/>\n"
			  "      <source file='%s'/>\n"
			  "      <target dev='%s' bus='%s'/>\n"
			  "    </disk>\n", crd_disk_format_str(k->format), k->path, dev,
			  crd_disk_bus_str(k->bus));
	}
}

char *crd_domain_expand(const struct crd_vm *vm)
{
	const struct crd_domain *d = &vm->spec.domain;
	struct xbuf b = {0};

	if (d->xml)
		return NULL;
	xb_printf(&b, "<domain type='%s'>\n  <name>%s</name>\n"
		  "  <memory unit='KiB'>%llu</memory>\n  <vcpu>%u</vcpu>\n",
		  crd_domain_type_str(d->type), vm->meta.name,
		  (unsigned long long)((d->memory + 1023) / 1024), d->vcpus);
	if (d->hugepages)
		xb_printf(&b, "  <memoryBacking>\n    <hugepages/>\n  </memoryBacking>\n");
	xb_printf(&b, "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n");
	if (d->kernel)
		xb_printf(&b, "    <kernel>%s</kernel>\n", d->kernel);
	if (d->cmdline)
		xb_printf(&b, "    <cmdline>%s</cmdline>\n", d->cmdline);
	xb_printf(&b, "  </os>\n");
	/* host-model: libvirt expands the host's model when the domain starts (and the
	 * definition travels expanded). A named model must exist as such on every host it
	 * lands on: no fallback, so a host that cannot run it refuses rather than guesses. */
	if (d->cpu && !strcmp(d->cpu, "host-model"))
		xb_printf(&b, "  <cpu mode='host-model'/>\n");
	else if (d->cpu)
		xb_printf(&b, "  <cpu mode='custom' match='exact'>\n"
			  "    <model fallback='forbid'>%s</model>\n  </cpu>\n", d->cpu);
	xb_printf(&b, "  <on_poweroff>destroy</on_poweroff>\n"
		  "  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n"
		  "  <devices>\n");
	expand_disks(&b, d);
	for (size_t i = 0; i < d->n_interfaces; i++) {
		const struct crd_interface *ifc = &d->interfaces[i];
		char mac[24];
		stable_mac(vm, i, mac, sizeof(mac));
		xb_printf(&b, "    <interface type='%s'>\n      <mac address='%s'/>\n"
			  "      <source %s='%s'/>\n      <model type='virtio'/>\n"
			  "    </interface>\n", crd_iface_kind_str(ifc->kind), mac,
			  crd_iface_kind_str(ifc->kind), ifc->name);
	}
	if (d->serial_path)
		xb_printf(&b, "    <serial type='file'>\n      <source path='%s' append='on'/>\n"
			  "      <target port='0'/>\n    </serial>\n"
			  "    <console type='file'>\n      <source path='%s' append='on'/>\n"
			  "      <target type='serial' port='0'/>\n    </console>\n",
			  d->serial_path, d->serial_path);
	xb_printf(&b, "  </devices>\n</domain>\n");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

char *crd_vm_domain_xml(const struct crd_vm *vm)
{
	return vm->spec.domain.xml ? strdup(vm->spec.domain.xml) : crd_domain_expand(vm);
}

/* Returns the first element child of @n named @name, or NULL. */
static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

int crd_domain_check_xml(const char *xml, size_t len, const char *name, char *why, size_t size)
{
	xmlDoc *doc = NULL;
	xmlChar *text = NULL, *type = NULL;
	int rc = -1;

	why[0] = '\0';
	if (len > CRD_DOMAIN_XML_MAX) {
		snprintf(why, size, "domain XML is %zu bytes; the limit is %u", len,
			 CRD_DOMAIN_XML_MAX);
		goto cleanup;
	}
	/* A DTD is the door to entity expansion and external fetches; libvirt never needs one. */
	if (memmem(xml, len, "<!DOCTYPE", 9) || memmem(xml, len, "<!ENTITY", 8)) {
		snprintf(why, size, "domain XML must not contain a DOCTYPE or ENTITY declaration");
		goto cleanup;
	}
	doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlGetLastError();
		char msg[160] = "parse error";
		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			msg[strcspn(msg, "\n")] = '\0';
		}
		snprintf(why, size, "domain XML is not well-formed: line %d: %s", e ? e->line : 0, msg);
		goto cleanup;
	}
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "domain")) {
		snprintf(why, size, "domain XML must have a <domain> root element");
		goto cleanup;
	}
	type = xmlGetProp(root, (const xmlChar *)"type");
	if (!type || !*type) {
		snprintf(why, size, "<domain> needs a type attribute (kvm or qemu)");
		goto cleanup;
	}
	xmlNode *n = child(root, "name");
	text = n ? xmlNodeGetContent(n) : NULL;
	if (!text) {
		snprintf(why, size, "domain XML has no <name>; expected <name>%s</name>", name);
		goto cleanup;
	}
	if (strcmp((const char *)text, name)) {
		snprintf(why, size, "<name> is \"%.80s\" but metadata.name is \"%s\"",
			 (const char *)text, name);
		goto cleanup;
	}
	rc = 0;
cleanup:
	xmlFree(text);
	xmlFree(type);
	xmlFreeDoc(doc);
	return rc;
}

/* True when an element <disk> of the domain XML @xml has <target dev=@target>. An XML that
 * does not parse has none. */
static bool xml_has_disk(const char *xml, const char *target)
{
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *devices = doc ? child(xmlDocGetRootElement(doc), "devices") : NULL;
	bool found = false;

	for (xmlNode *c = devices ? devices->children : NULL; c && !found; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "disk"))
			continue;
		xmlChar *dev = xmlGetProp(child(c, "target"), (const xmlChar *)"dev");
		found = dev && !strcmp((const char *)dev, target);
		xmlFree(dev);
	}
	xmlFreeDoc(doc);
	return found;
}

bool crd_domain_has_disk(const struct crd_domain *d, const char *target)
{
	char dev[8];

	if (d->xml)
		return xml_has_disk(d->xml, target);
	for (size_t i = 0; i < d->n_disks; i++) {
		short_target(d, i, dev, sizeof(dev));
		if (!strcmp(dev, target))
			return true;
	}
	return false;
}
