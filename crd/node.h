/* node: the small tree that both YAML documents and JSON values become, with line/col marks. */
#ifndef DROVER_CRD_NODE_H
#define DROVER_CRD_NODE_H

#include "crd/compiler.h"

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "crd/error.h"

enum crd_node_kind {
	CRD_NODE_NULL = 0,
	CRD_NODE_BOOL,
	CRD_NODE_INT,
	CRD_NODE_FLOAT,
	CRD_NODE_STR,
	CRD_NODE_MAP,
	CRD_NODE_SEQ,
	CRD_NODE_BAD,           /* already reported (e.g. an alias); decoders skip it silently */
};

struct crd_node {
	enum crd_node_kind kind;
	int line, col;          /* 1-based; 0 for JSON values from the API */
	char *key;              /* the key when this node is a map member, else NULL */
	int key_line, key_col;
	char *text;             /* scalars: the text as written; NULL for maps and lists */
	struct crd_node **kids; /* map members (each with key) or list items */
	size_t n_kids, cap_kids;
	/* @key and @text live in the node's own allocation (crd_node_new_inline), not in
	 * allocations of their own. */
	bool inline_strings;
};

/* Per-document allowance shared by every node built for one document. */
struct crd_node_budget {
	size_t nodes;           /* nodes still allowed */
};

/* Allocates a node of @kind at @line:@col, charging @b. Returns NULL when out of memory or
 * when the budget is spent (then b->nodes is 0). The caller owns the node. */
struct crd_node *crd_node_new(enum crd_node_kind kind, int line, int col,
			      struct crd_node_budget *b) DROVER_WUR;

/* Like crd_node_new, with copies of @key and @text (each may be NULL) in the node's own
 * allocation: one allocation where three were (the node, its key, its text), for every
 * member of every manifest. The node's key and text must not be replaced. */
struct crd_node *crd_node_new_inline(enum crd_node_kind kind, int line, int col,
				     const char *key, const char *text,
				     struct crd_node_budget *b) DROVER_WUR;

/* Appends @kid to @parent (a map or list), taking ownership. Returns 0, or -1 when out of
 * memory (then @kid is freed). */
int crd_node_append(struct crd_node *parent, struct crd_node *kid)
	DROVER_WUR;

/* Frees @n and everything below it; accepts NULL. */
void crd_node_free(struct crd_node *n);

/* Returns the member of map @n named @key, or NULL (also when @n is not a map). */
const struct crd_node *crd_node_get(const struct crd_node *n, const char *key);

/* "a string", "an integer", "a map", ... for messages. Never NULL. */
const char *crd_node_kind_name(enum crd_node_kind k);

/* Converts a jansson value into a tree without positions. Returns the root (caller frees), or
 * NULL with an error appended to @errs (depth or node cap, NUL in a string, out of memory). */
struct crd_node *crd_node_from_json(const json_t *v, const char *source, struct crd_errors *errs)
	DROVER_WUR;

/* The kind a plain (unquoted) YAML scalar with text @s resolves to (YAML 1.2 core schema:
 * null, true/false, integers and floats; anything else is a string). This function can't fail. */
enum crd_node_kind crd_yaml_plain_kind(const char *s);

/* Called once per YAML document with its root (the callee owns it) and the document's
 * position. Returns 0 to go on, -1 to stop. */
typedef int (*crd_doc_fn)(void *ctx, struct crd_node *root, int line, int col);

/* Parses every document of the YAML (or JSON, a subset of YAML) text @buf, enforcing the caps
 * of load.h and refusing aliases. Syntax errors and cap violations are appended to @errs as
 * "FILE:LINE:COL" errors and end the parse. Returns 0 when the whole text was parsed, -1 when
 * an error ended it early. */
int crd_yaml_parse(const char *file, const char *buf, size_t len, crd_doc_fn fn, void *ctx,
		   struct crd_errors *errs) DROVER_WUR;

#endif
