/* decode_object: one document → one typed object: apiVersion/kind dispatch and metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crd/decode.h"
#include "crd/validate.h"

#define DNS_LABEL_RULE "(lower-case letters, digits and '-', starting and ending with a " \
	"letter or digit, at most 63 characters)"

static void dec_finalizers(struct crd_dctx *c, const struct crd_node *md, struct crd_meta *meta)
{
	const struct crd_node *n = crd_dec_list(c, md, "finalizers", SIZE_MAX);
	size_t saved = crd_dec_push(c, "finalizers");

	if (!n || !(meta->finalizers = calloc(n->n_kids ? n->n_kids : 1, sizeof(char *))))
		goto cleanup;
	for (size_t i = 0; i < n->n_kids; i++) {
		size_t s2 = crd_dec_push_index(c, i);
		if (crd_dec_expect(c, n->kids[i], CRD_NODE_STR))
			meta->finalizers[meta->n_finalizers++] = crd_dec_strdup(c, n->kids[i]->text);
		crd_dec_pop(c, s2);
	}
cleanup:
	crd_dec_pop(c, saved);
}

/* Reads a DNS-1123 label member into *@out (kept even when invalid, for the object label). */
static void dec_label_name(struct crd_dctx *c, const struct crd_node *m, const char *key,
			   bool required, char **out)
{
	if (crd_dec_str(c, m, key, required, out) != 0 || crd_valid_dns_label(*out))
		return;
	size_t saved = crd_dec_push(c, key);
	crd_dec_error(c, crd_node_get(m, key), false, "\"%.80s\" is not a DNS-1123 label "
		      DNS_LABEL_RULE, *out);
	crd_dec_pop(c, saved);
}

static void dec_meta(struct crd_dctx *c, const struct crd_node *root, enum crd_kind kind,
		     struct crd_meta *meta)
{
	static const char *const known[] = {
		"name", "namespace", "labels", "annotations", "uid", "resourceVersion",
		"generation", "creationTimestamp", "deletionTimestamp", "finalizers",
		/* Written by the API server; accepted and ignored. */
		"managedFields", "ownerReferences", "generateName", "selfLink",
		"deletionGracePeriodSeconds", NULL};
	const struct crd_node *md = crd_dec_map_member(c, root, "metadata", true);
	size_t saved = crd_dec_push(c, "metadata");

	if (!md)
		goto cleanup;
	crd_dec_fields(c, md, known);
	dec_label_name(c, md, "name", true, &meta->name);
	if (crd_node_get(md, "name"))
		meta->name_pos = (struct crd_pos){crd_node_get(md, "name")->line,
						  crd_node_get(md, "name")->col};
	dec_label_name(c, md, "namespace", false, &meta->namespace);
	(void)crd_dec_map(c, md, "labels", true, &meta->labels);
	(void)crd_dec_map(c, md, "annotations", false, &meta->annotations);
	(void)crd_dec_str(c, md, "uid", false, &meta->uid);
	(void)crd_dec_str(c, md, "resourceVersion", false, &meta->resource_version);
	(void)crd_dec_int(c, md, "generation", 0, INT64_MAX, &meta->generation);
	(void)crd_dec_str(c, md, "creationTimestamp", false, &meta->creation_timestamp);
	(void)crd_dec_str(c, md, "deletionTimestamp", false, &meta->deletion_timestamp);
	dec_finalizers(c, md, meta);
cleanup:
	crd_dec_pop(c, saved);
	if (!meta->namespace)
		meta->namespace = crd_dec_strdup(c, "default");
	snprintf(c->object, sizeof(c->object), "%s %s/%.80s", crd_kind_str(kind),
		 meta->namespace ? meta->namespace : "default", meta->name ? meta->name : "?");
	meta->source = crd_dec_strdup(c, c->file ? c->file : "");
	meta->line = root->line;
	meta->col = root->col;
}

/* Reads apiVersion and kind. Returns 0 with *@kind set, 1 when the document is not ours
 * (note added), -1 after errors. */
static int dec_type(struct crd_dctx *c, const struct crd_node *root, enum crd_kind *kind)
{
	static const char *const kinds[] = {"Host", "VirtualMachine", "Migration",
					    "PlacementPolicy", NULL};
	char *api = NULL, *k = NULL;
	int rc = -1;

	if (crd_dec_str(c, root, "apiVersion", false, &api) < 0 ||
	    crd_dec_str(c, root, "kind", false, &k) < 0)
		goto cleanup;
	bool ours = api && !strncmp(api, CRD_GROUP "/", strlen(CRD_GROUP) + 1);
	if (!api && !k) {
		crd_errors_add(c->errs, CRD_SEV_NOTE, c->file, root->line, root->col, NULL, "",
			       "skipped: document has no apiVersion and kind");
		rc = 1;
	} else if (api && !ours) {
		crd_errors_add(c->errs, CRD_SEV_NOTE, c->file, root->line, root->col, NULL, "",
			       "skipped: %.80s %.80s is not a drover.io object", api, k ? k : "");
		rc = 1;
	} else if (!api) {
		(void)crd_dec_str(c, root, "apiVersion", true, &api);
	} else if (strcmp(api, CRD_API_VERSION)) {
		size_t saved = crd_dec_push(c, "apiVersion");
		crd_dec_error(c, crd_node_get(root, "apiVersion"), false,
			      "unsupported version \"%.80s\"; expected " CRD_API_VERSION, api);
		crd_dec_pop(c, saved);
	} else if (!k) {
		(void)crd_dec_str(c, root, "kind", true, &k);
	} else if (crd_kind_parse(k, kind) < 0) {
		const char *hint = crd_suggest(k, kinds);
		size_t saved = crd_dec_push(c, "kind");
		crd_dec_error(c, crd_node_get(root, "kind"), false,
			      "unknown kind \"%.80s\"; expected Host, VirtualMachine, Migration or "
			      "PlacementPolicy%s%s%s",
			      k, hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
		crd_dec_pop(c, saved);
	} else {
		rc = 0;
	}
cleanup:
	free(api);
	free(k);
	return rc;
}

int crd_decode_node(const struct crd_node *root, const char *file, struct crd_object *out,
		    struct crd_errors *errs)
{
	static const char *const known[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
	struct crd_dctx c = {.file = file, .errs = errs};
	enum crd_kind kind = CRD_KIND_HOST;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!root || root->kind == CRD_NODE_NULL)
		return 1;
	if (root->kind == CRD_NODE_BAD)
		return -1;
	if (root->kind != CRD_NODE_MAP) {
		crd_errors_add(errs, CRD_SEV_NOTE, file, root->line, root->col, NULL, "",
			       "skipped: document is %s, not an object",
			       crd_node_kind_name(root->kind));
		return 1;
	}
	rc = dec_type(&c, root, &kind);
	if (rc != 0)
		return rc;
	out->kind = kind;
	crd_dec_fields(&c, root, known);
	switch (kind) {
	case CRD_KIND_HOST:
		dec_meta(&c, root, kind, &out->u.host.meta);
		crd_dec_host(&c, root, &out->u.host);
		break;
	case CRD_KIND_VM:
		dec_meta(&c, root, kind, &out->u.vm.meta);
		crd_dec_vm(&c, root, &out->u.vm);
		break;
	case CRD_KIND_MIGRATION:
		dec_meta(&c, root, kind, &out->u.migration.meta);
		crd_dec_migration(&c, root, &out->u.migration);
		break;
	case CRD_KIND_POLICY:
		dec_meta(&c, root, kind, &out->u.policy.meta);
		crd_dec_policy(&c, root, &out->u.policy);
		break;
	}
	if (c.n_errors == 0)
		return 0;
	crd_object_free(out);
	memset(out, 0, sizeof(*out));
	return -1;
}
