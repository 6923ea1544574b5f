/* node: the tree YAML and JSON input become, with positions and caps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crd/load.h"
#include "crd/node.h"

/* A node of @kind at @line:@col with @extra bytes after it, charging @b. Returns NULL when
 * out of memory or when the budget is spent. */
static struct crd_node *node_alloc(enum crd_node_kind kind, int line, int col, size_t extra,
				   struct crd_node_budget *b)
{
	if (b->nodes == 0)
		return NULL;
	struct crd_node *n = malloc(sizeof(*n) + extra);
	if (!n)
		return NULL;
	b->nodes--;
	*n = (struct crd_node){.kind = kind, .line = line, .col = col};
	return n;
}

struct crd_node *crd_node_new(enum crd_node_kind kind, int line, int col,
			      struct crd_node_budget *b)
{
	return node_alloc(kind, line, col, 0, b);
}

struct crd_node *crd_node_new_inline(enum crd_node_kind kind, int line, int col,
				     const char *key, const char *text,
				     struct crd_node_budget *b)
{
	size_t key_len = key ? strlen(key) + 1 : 0, text_len = text ? strlen(text) + 1 : 0;
	struct crd_node *n = node_alloc(kind, line, col, key_len + text_len, b);

	if (!n)
		return NULL;
	n->inline_strings = true;
	char *strings = (char *)(n + 1);
	if (key)
		n->key = memcpy(strings, key, key_len);
	if (text)
		n->text = memcpy(strings + key_len, text, text_len);
	return n;
}

int crd_node_append(struct crd_node *parent, struct crd_node *kid)
{
	if (parent->n_kids == parent->cap_kids) {
		/* The node budget bounds this; the doubling only needs an overflow guard. */
		size_t cap = parent->cap_kids ? parent->cap_kids * 2 : 4;
		struct crd_node **kids = cap <= CRD_DOC_MAX_NODES * 2
			? realloc(parent->kids, cap * sizeof(*kids)) : NULL;
		if (!kids) {
			crd_node_free(kid);
			return -1;
		}
		parent->kids = kids;
		parent->cap_kids = cap;
	}
	parent->kids[parent->n_kids++] = kid;
	return 0;
}

void crd_node_free(struct crd_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_kids; i++)
		crd_node_free(n->kids[i]);
	free(n->kids);
	if (!n->inline_strings) {
		free(n->key);
		free(n->text);
	}
	free(n);
}

const struct crd_node *crd_node_get(const struct crd_node *n, const char *key)
{
	if (!n || n->kind != CRD_NODE_MAP)
		return NULL;
	for (size_t i = 0; i < n->n_kids; i++)
		if (!strcmp(n->kids[i]->key, key))
			return n->kids[i];
	return NULL;
}

const char *crd_node_kind_name(enum crd_node_kind k)
{
	switch (k) {
	case CRD_NODE_NULL: return "null";
	case CRD_NODE_BOOL: return "a boolean";
	case CRD_NODE_INT: return "an integer";
	case CRD_NODE_FLOAT: return "a number";
	case CRD_NODE_STR: return "a string";
	case CRD_NODE_MAP: return "a map";
	case CRD_NODE_SEQ: return "a list";
	case CRD_NODE_BAD: break;
	}
	return "an invalid value";
}

/* Returns the node for @v (caller owns it), or NULL with *@why set. */
static struct crd_node *from_json(const json_t *v, int depth, struct crd_node_budget *b,
				  const char **why)
{
	static const enum crd_node_kind kinds[] = {
		[JSON_OBJECT] = CRD_NODE_MAP, [JSON_ARRAY] = CRD_NODE_SEQ,
		[JSON_STRING] = CRD_NODE_STR, [JSON_INTEGER] = CRD_NODE_INT,
		[JSON_REAL] = CRD_NODE_FLOAT, [JSON_TRUE] = CRD_NODE_BOOL,
		[JSON_FALSE] = CRD_NODE_BOOL, [JSON_NULL] = CRD_NODE_NULL,
	};
	char num[64];
	const char *text = NULL;
	struct crd_node *n = NULL;

	if ((json_is_object(v) || json_is_array(v)) && depth >= CRD_DOC_MAX_DEPTH) {
		*why = "maps and lists are nested deeper than the limit of 32";
		return NULL;
	}
	n = crd_node_new(kinds[json_typeof(v)], 0, 0, b);
	if (!n) {
		*why = b->nodes ? "out of memory" : "object has more than 20000 values";
		return NULL;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		json_object_foreach((json_t *)v, key, val) {
			struct crd_node *kid = from_json(val, depth + 1, b, why);
			if (!kid || !(kid->key = strdup(key))) {
				crd_node_free(kid);
				goto fail;
			}
			if (crd_node_append(n, kid) < 0)
				goto oom;
		}
		return n;
	}
	case JSON_ARRAY:
		for (size_t i = 0; i < json_array_size(v); i++) {
			struct crd_node *kid = from_json(json_array_get(v, i), depth + 1, b, why);
			if (!kid)
				goto fail;
			if (crd_node_append(n, kid) < 0)
				goto oom;
		}
		return n;
	case JSON_STRING:
		if (strlen(json_string_value(v)) != json_string_length(v)) {
			*why = "a string contains a NUL character";
			goto fail;
		}
		text = json_string_value(v);
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		text = num;
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		text = num;
		break;
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		text = json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null";
		break;
	}
	if (!(n->text = strdup(text)))
		goto oom;
	return n;
oom:
	*why = "out of memory";
fail:
	crd_node_free(n);
	return NULL;
}

struct crd_node *crd_node_from_json(const json_t *v, const char *source, struct crd_errors *errs)
{
	struct crd_node_budget b = {.nodes = CRD_DOC_MAX_NODES};
	const char *why = "out of memory";
	struct crd_node *n = from_json(v, 0, &b, &why);

	if (!n)
		crd_errors_add(errs, CRD_SEV_ERROR, source, 0, 0, NULL, "", "%s", why);
	return n;
}
