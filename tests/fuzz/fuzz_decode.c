/* fuzz_decode: libFuzzer target over the manifest decoder — YAML, JSON files and API objects —
 * plus the encoders and the domain XML expansion of whatever decodes cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crd/domain.h"
#include "crd/encode.h"
#include "crd/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encodes every object back to YAML, reloads it, and expands each VM's domain XML. */
static void exercise(const struct crd_set *set)
{
	for (size_t i = 0; i < set->n_vms; i++) {
		free(crd_vm_domain_xml(&set->vms[i]));
		json_t *j = crd_vm_to_json(&set->vms[i]);
		char *yaml = j ? crd_json_to_yaml(j) : NULL;
		if (yaml) {
			struct crd_set again = {0};
			struct crd_errors errs = {0};
			if (crd_load_buffer("again.yaml", yaml, strlen(yaml), &again, &errs) != 0 ||
			    again.n_vms != 1)
				abort();   /* what we encode must decode */
			crd_set_free(&again);
			crd_errors_free(&errs);
		}
		free(yaml);
		json_decref(j);
	}
	for (size_t i = 0; i < set->n_hosts; i++)
		json_decref(crd_host_to_json(&set->hosts[i]));
	for (size_t i = 0; i < set->n_migrations; i++)
		json_decref(crd_migration_to_json(&set->migrations[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"fuzz.yaml", "fuzz.json"};
	struct crd_errors errs = {0};

	for (size_t i = 0; i < 2; i++) {
		struct crd_set set = {0};
		if (crd_load_buffer(names[i], (const char *)data, size, &set, &errs) == 0 ||
		    set.n_hosts + set.n_vms + set.n_migrations) {
			if (crd_set_check(&set, &errs) < 0) {
				/* reported; the objects stay usable */
			}
			exercise(&set);
		}
		crd_set_free(&set);
		crd_errors_free(&errs);
	}
	json_error_t jerr;
	json_t *obj = json_loadb((const char *)data, size, 0, &jerr);
	if (obj) {
		struct crd_object o;
		if (crd_decode_json_object(obj, "api", &o, &errs) == 0)
			crd_object_free(&o);
		json_decref(obj);
	}
	crd_errors_free(&errs);
	return 0;
}
