/* yaml: libyaml events → crd_node trees, one per document, with caps and no aliases. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "crd/load.h"
#include "crd/node.h"

struct builder {
	const char *file;
	struct crd_errors *errs;
	struct crd_node_budget budget;
	struct crd_node *stack[CRD_DOC_MAX_DEPTH + 1];
	size_t depth;
	struct crd_node *root;
	/* A map's key waiting for its value (when has_key), in a buffer kept for the whole
	 * parse: the value's node takes a copy. */
	char *key_buf;
	size_t key_cap;
	bool has_key;
	int key_line, key_col;
	size_t doc_start;       /* byte offset of the document */
	int doc_line, doc_col;
};

/* Both look at the first character before comparing words: every plain scalar of every
 * manifest comes here, and most are neither. */
static bool is_plain_null(const char *s)
{
	if (*s != '~' && *s != 'n' && *s != 'N' && *s)
		return false;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static bool is_plain_bool(const char *s)
{
	static const char *const words[] = {"true", "True", "TRUE", "false", "False", "FALSE"};

	if (*s != 't' && *s != 'T' && *s != 'f' && *s != 'F')
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(s, words[i]))
			return true;
	return false;
}

static size_t skip_digits(const char *s)
{
	size_t i = 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* YAML 1.2 core schema resolution of a plain scalar. */
enum crd_node_kind crd_yaml_plain_kind(const char *s)
{
	if (is_plain_null(s))
		return CRD_NODE_NULL;
	if (is_plain_bool(s))
		return CRD_NODE_BOOL;
	const char *p = s + (*s == '-' || *s == '+');
	size_t int_digits = skip_digits(p);
	p += int_digits;
	if (!*p && int_digits)
		return CRD_NODE_INT;
	size_t frac_digits = 0;
	if (*p == '.') {
		frac_digits = skip_digits(p + 1);
		p += 1 + frac_digits;
	}
	if (!int_digits && !frac_digits)
		return CRD_NODE_STR;
	if (*p == 'e' || *p == 'E') {
		p++;
		p += (*p == '-' || *p == '+');
		size_t exp_digits = skip_digits(p);
		if (!exp_digits)
			return CRD_NODE_STR;
		p += exp_digits;
	}
	return *p ? CRD_NODE_STR : CRD_NODE_FLOAT;
}

static void report(struct builder *b, int line, int col, const char *msg)
{
	crd_errors_add(b->errs, CRD_SEV_ERROR, b->file, line, col, NULL, "", "%s", msg);
}

/* Attaches @n (owned) under the open collection, or makes it the root. Returns 0 or -1. */
static int attach(struct builder *b, struct crd_node *n)
{
	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	struct crd_node *parent = b->stack[b->depth - 1];
	if (parent->kind == CRD_NODE_MAP) {
		n->key_line = b->key_line;
		n->key_col = b->key_col;
		b->has_key = false;
		/* A duplicate stays in the tree (decoders read the first) so that the
		 * collection it may open still has a home. */
		for (size_t i = 0; i < parent->n_kids; i++)
			if (!strcmp(parent->kids[i]->key, n->key)) {
				crd_errors_add(b->errs, CRD_SEV_ERROR, b->file, n->key_line,
					       n->key_col, NULL, "", "duplicate key \"%s\"", n->key);
				break;
			}
	}
	if (crd_node_append(parent, n) < 0) {
		report(b, 0, 0, "out of memory");
		return -1;
	}
	return 0;
}

/* True when the open collection is a map waiting for a key rather than a value. */
static bool wants_key(const struct builder *b)
{
	return b->depth > 0 && b->stack[b->depth - 1]->kind == CRD_NODE_MAP && !b->has_key;
}

/* Holds @text (@len bytes) as the key waiting for its value. Returns 0, or -1 when out of
 * memory. */
static int hold_key(struct builder *b, const char *text, size_t len)
{
	if (len + 1 > b->key_cap) {
		char *grown = realloc(b->key_buf, len + 1);
		if (!grown)
			return -1;
		b->key_buf = grown;
		b->key_cap = len + 1;
	}
	memcpy(b->key_buf, text, len + 1);
	b->has_key = true;
	return 0;
}

/* A node at @m with @text (NULL: a map or list) and, as a map's member, the key waiting
 * for it. */
static struct crd_node *new_node(struct builder *b, enum crd_node_kind kind, const yaml_mark_t *m,
				 const char *text)
{
	struct crd_node *n = crd_node_new_inline(kind, (int)m->line + 1, (int)m->column + 1,
						 b->has_key ? b->key_buf : NULL, text, &b->budget);
	if (!n)
		report(b, (int)m->line + 1, (int)m->column + 1,
		       b->budget.nodes ? "out of memory"
				       : "document has more than 20000 values");
	return n;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	const char *text = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	enum crd_node_kind kind = CRD_NODE_STR;

	if (strlen(text) != len) {
		report(b, line, col, "a string contains a NUL character");
		return -1;
	}
	if (tag && strcmp(tag, YAML_STR_TAG) && strcmp(tag, "!")) {
		crd_errors_add(b->errs, CRD_SEV_ERROR, b->file, line, col, NULL, "",
			       "YAML tag \"%.64s\" is not supported", tag);
		kind = CRD_NODE_BAD;
	} else if (!tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		kind = crd_yaml_plain_kind(text);
	}
	if (wants_key(b)) {
		if (hold_key(b, text, len) < 0) {
			report(b, line, col, "out of memory");
			return -1;
		}
		b->key_line = line;
		b->key_col = col;
		return 0;
	}
	struct crd_node *n = new_node(b, kind, &ev->start_mark, text);
	return n ? attach(b, n) : -1;
}

static int on_collection_start(struct builder *b, const yaml_event_t *ev, enum crd_node_kind kind)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;

	if (wants_key(b)) {
		report(b, line, col, "map keys must be plain strings");
		return -1;
	}
	if (b->depth >= CRD_DOC_MAX_DEPTH) {
		report(b, line, col, "maps and lists are nested deeper than the limit of 32");
		return -1;
	}
	struct crd_node *n = new_node(b, kind, &ev->start_mark, NULL);
	if (!n)
		return -1;
	/* Attach first so that the tree owns the node even if we stop later. */
	if (attach(b, n) < 0)
		return -1;
	b->stack[b->depth++] = n;
	return 0;
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;

	report(b, line, col, "YAML aliases are not supported");
	if (wants_key(b))
		return -1;
	struct crd_node *n = new_node(b, CRD_NODE_BAD, &ev->start_mark, NULL);
	return n ? attach(b, n) : -1;
}

static void builder_reset(struct builder *b)
{
	crd_node_free(b->root);
	b->root = NULL;
	b->has_key = false;
	b->depth = 0;
}

/* Handles one event. Returns 1 at the end of the stream, 0 to go on, -1 to stop. */
static int on_event(struct builder *b, const yaml_event_t *ev, crd_doc_fn fn, void *ctx)
{
	if (b->root && ev->end_mark.index - b->doc_start > CRD_DOC_MAX_BYTES) {
		report(b, b->doc_line, b->doc_col, "document is larger than the limit of 1 MiB");
		return -1;
	}
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		b->budget.nodes = CRD_DOC_MAX_NODES;
		b->doc_start = ev->start_mark.index;
		b->doc_line = (int)ev->start_mark.line + 1;
		b->doc_col = (int)ev->start_mark.column + 1;
		return 0;
	case YAML_DOCUMENT_END_EVENT: {
		struct crd_node *root = b->root;
		b->root = NULL;
		builder_reset(b);
		return root ? fn(ctx, root, root->line, root->col) : 0;
	}
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_collection_start(b, ev, CRD_NODE_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_collection_start(b, ev, CRD_NODE_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return 0;
	default:
		return 0;
	}
}

int crd_yaml_parse(const char *file, const char *buf, size_t len, crd_doc_fn fn, void *ctx,
		   struct crd_errors *errs)
{
	struct builder b = {.file = file, .errs = errs};
	yaml_parser_t parser;
	int rc = -1;

	if (len > CRD_FILE_MAX_BYTES) {
		report(&b, 1, 1, "file is larger than the limit of 4 MiB");
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		report(&b, 0, 0, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			const yaml_mark_t *m = &parser.problem_mark;
			crd_errors_add(errs, CRD_SEV_ERROR, file, (int)m->line + 1,
				       (int)m->column + 1, NULL, "", "YAML syntax error: %s%s%s",
				       parser.problem ? parser.problem : "invalid YAML",
				       parser.context ? " " : "",
				       parser.context ? parser.context : "");
			goto cleanup;
		}
		int r = on_event(&b, &ev, fn, ctx);
		yaml_event_delete(&ev);
		if (r < 0)
			goto cleanup;
		if (r > 0)
			break;
	}
	rc = 0;
cleanup:
	builder_reset(&b);
	free(b.key_buf);
	yaml_parser_delete(&parser);
	return rc;
}
