/* Observe's domain read against libvirt's test driver, in process (a real libvirt driver, no
 * daemon): a domain whose definition drover cannot take in is still listed, with its state,
 * marked definition_unknown — left out, its VM would look undefined and be defined again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "crd/load.h"
#include "reconcile/domxml.h"
#include "reconcile/inventory.h"
#include "reconcile/obs_capacity.h"
#include "reconcile/observe_priv.h"

/* test:///default is one shared in-process host: each test leaves it as it found it. */
#define URI "test:///default"

static void quiet(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

/* Defines and starts domain @name, owned by default/@name, whose <description> holds
 * @desc_len bytes. Returns the running domain. */
static virDomainPtr start_domain(virConnectPtr conn, const char *name, size_t desc_len)
{
	static const char head[] = "<domain type='test'><name>%s</name><memory>65536</memory>"
				   "<vcpu>1</vcpu><os><type>hvm</type></os><description>";
	static const char tail[] = "</description><metadata><drover:vm xmlns:drover='"
				   INV_METADATA_URI "' namespace='default' name='%s'/></metadata>"
				   "</domain>";
	size_t size = sizeof(head) + desc_len + sizeof(tail) + 2 * strlen(name);
	char *xml = malloc(size), *desc = malloc(desc_len + 1);

	assert_non_null(xml);
	assert_non_null(desc);
	memset(desc, 'x', desc_len);
	desc[desc_len] = '\0';
	int n = snprintf(xml, size, head, name);
	n += snprintf(xml + n, size - (size_t)n, "%s", desc);
	snprintf(xml + n, size - (size_t)n, tail, name);
	virDomainPtr dom = virDomainDefineXML(conn, xml);
	assert_non_null(dom);
	assert_int_equal(virDomainCreate(dom), 0);
	free(desc);
	free(xml);
	return dom;
}

static void remove_domain(virDomainPtr dom)
{
	virDomainDestroy(dom);
	virDomainUndefine(dom);
	virDomainFree(dom);
}

static const struct inv_domain *find(const struct inv_host *h, const char *name)
{
	for (size_t i = 0; i < h->n_domains; i++)
		if (!strcmp(h->domains[i].name, name))
			return &h->domains[i];
	return NULL;
}

static void test_observe_reads_an_owned_domain(void **state)
{
	virConnectPtr conn = virConnectOpen(URI);
	struct inv_host h;
	(void)state;

	assert_non_null(conn);
	virDomainPtr dom = start_domain(conn, "small-1", 16);
	memset(&h, 0, sizeof(h));
	assert_int_equal(obs_domains(conn, &h), 0);
	const struct inv_domain *d = find(&h, "small-1");
	assert_non_null(d);
	assert_false(d->definition_unknown);
	assert_true(d->active);
	assert_true(d->persistent);
	assert_string_equal(d->owner_name, "small-1");
	assert_int_equal(d->memory, 65536ull << 10);
	char uuid[VIR_UUID_STRING_BUFLEN];
	assert_int_equal(virDomainGetUUIDString(dom, uuid), 0);
	assert_string_equal(d->uuid, uuid);      /* formatted by observe, as libvirt does */
	inv_host_free(&h);
	remove_domain(dom);
	virConnectClose(conn);
}

static void test_observe_lists_a_domain_whose_definition_it_refuses(void **state)
{
	virConnectPtr conn = virConnectOpen(URI);
	struct inv_host h;
	(void)state;

	assert_non_null(conn);
	/* Larger than drover takes in: its parse is refused, as a read failing midway is. */
	virDomainPtr dom = start_domain(conn, "big-1", CRD_DOMAIN_XML_MAX + 1);
	memset(&h, 0, sizeof(h));
	assert_int_equal(obs_domains(conn, &h), 0);
	const struct inv_domain *d = find(&h, "big-1");
	assert_non_null(d);
	assert_true(d->definition_unknown);
	assert_true(d->active);
	assert_int_equal(d->state, INV_RUNNING);
	assert_null(d->owner_name);
	assert_non_null(find(&h, "test"));      /* the driver's own domain, read as ever */
	assert_false(find(&h, "test")->definition_unknown);
	inv_host_free(&h);
	remove_domain(dom);
	virConnectClose(conn);
}

/* The host's capabilities, parsed once, answer every question asked of them: the CPU's
 * architecture and the huge page sizes (the test driver lists 4 KiB, 8 KiB, 2 MiB and
 * 1 GiB pages; base pages are not huge ones). */
static void test_observe_reads_capacity_from_one_parse_of_the_capabilities(void **state)
{
	virConnectPtr conn = virConnectOpen(URI);
	struct inv_host h;
	(void)state;

	assert_non_null(conn);
	char *caps = virConnectGetCapabilities(conn);
	assert_non_null(caps);
	xmlDocPtr doc = domxml_parse(caps);
	assert_non_null(doc);
	char *arch = domxml_doc_xpath_string(doc, "/capabilities/host/cpu/arch");
	assert_string_equal(arch, "i686");
	memset(&h, 0, sizeof(h));
	assert_non_null(h.name = strdup("caps-host"));
	obs_capacity(conn, doc, &h);
	assert_true(h.cpu_threads > 0);
	assert_int_equal(h.n_hugepages, 2);
	assert_int_equal(h.hugepages[0].page_size, 2ull << 20);
	assert_int_equal(h.hugepages[1].page_size, 1ull << 30);
	obs_capacity(conn, NULL, &h);           /* no capabilities: the rest is read all the same */
	inv_host_free(&h);
	free(arch);
	xmlFreeDoc(doc);
	free(caps);
	virConnectClose(conn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_observe_reads_an_owned_domain),
		cmocka_unit_test(test_observe_lists_a_domain_whose_definition_it_refuses),
		cmocka_unit_test(test_observe_reads_capacity_from_one_parse_of_the_capabilities),
	};
	virSetErrorFunc(NULL, quiet);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
