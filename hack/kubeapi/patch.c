/* kubeapi test server: merge patch (RFC 7386), its strategic flavour, and JSON patch (RFC 6902). */
#include "patch.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_OPS 1000

static json_t *merge(json_t *target, json_t *patch, bool strategic, int depth)
{
	const char *key;
	json_t *value;

	if (!json_is_object(patch)) {
		json_decref(target);
		return json_deep_copy(patch);
	}
	if (!json_is_object(target)) {
		json_decref(target);
		target = json_object();
	}
	if (!target || depth > MAX_DEPTH) {
		json_decref(target);
		return NULL;
	}
	json_object_foreach(patch, key, value) {
		json_t *merged;

		if (strategic && key[0] == '$')
			continue;
		if (json_is_null(value)) {
			json_object_del(target, key);
			continue;
		}
		merged = merge(json_incref(json_object_get(target, key)), value, strategic, depth + 1);
		if (!merged || json_object_set_new(target, key, merged) < 0) {
			json_decref(target);
			return NULL;
		}
	}
	return target;
}

json_t *kas_merge_patch(json_t *target, json_t *patch, bool strategic)
{
	return merge(target, patch, strategic, 0);
}

/* Splits the last token off a JSON pointer: returns the container it names inside @doc
 * (borrowed) and writes the unescaped token to @last, or returns NULL. */
static json_t *pointer_parent(json_t *doc, const char *ptr, char *last, size_t len)
{
	const char *p = ptr;

	if (!ptr || *ptr != '/')
		return NULL;
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		const char *next = strchr(p + 1, '/');
		size_t n = 0;

		for (const char *c = p + 1; *c && c != next; c++) {
			char ch = *c;

			if (ch == '~') {
				ch = c[1] == '1' ? '/' : c[1] == '0' ? '~' : 0;
				c++;
			}
			if (!ch || n + 1 >= len)
				return NULL;
			last[n++] = ch;
		}
		last[n] = '\0';
		if (!next)
			return doc;
		if (json_is_object(doc)) {
			doc = json_object_get(doc, last);
		} else if (json_is_array(doc)) {
			char *end;
			unsigned long idx = strtoul(last, &end, 10);

			doc = (*last && !*end) ? json_array_get(doc, idx) : NULL;
		} else {
			return NULL;
		}
		p = next;
	}
	return NULL;
}

/* Parses an array index token; "-" means the end when @allow_end. Returns -1 when invalid. */
static long array_index(json_t *arr, const char *tok, bool allow_end)
{
	char *end;
	unsigned long idx;
	size_t size = json_array_size(arr);

	if (allow_end && !strcmp(tok, "-"))
		return (long)size;
	if (!*tok || (tok[0] == '0' && tok[1]) || *tok < '0' || *tok > '9')
		return -1;
	idx = strtoul(tok, &end, 10);
	if (*end || idx > size || (!allow_end && idx == size))
		return -1;
	return (long)idx;
}

static json_t *pointer_get(json_t *doc, const char *ptr)
{
	char tok[256];
	json_t *parent;
	long idx;

	if (ptr && !*ptr)
		return doc;
	parent = pointer_parent(doc, ptr, tok, sizeof(tok));
	if (json_is_object(parent))
		return json_object_get(parent, tok);
	idx = json_is_array(parent) ? array_index(parent, tok, false) : -1;
	return idx < 0 ? NULL : json_array_get(parent, (size_t)idx);
}

/* Adds @value (stolen) at @ptr; @replace requires the target to exist. Returns 0 or -1. */
static int pointer_put(json_t *doc, const char *ptr, json_t *value, bool replace)
{
	char tok[256];
	json_t *parent = pointer_parent(doc, ptr, tok, sizeof(tok));
	long idx;

	if (json_is_object(parent) && (!replace || json_object_get(parent, tok)))
		return json_object_set_new(parent, tok, value);
	idx = json_is_array(parent) ? array_index(parent, tok, !replace) : -1;
	if (idx >= 0)
		return replace ? json_array_set_new(parent, (size_t)idx, value)
			       : json_array_insert_new(parent, (size_t)idx, value);
	json_decref(value);
	return -1;
}

static int pointer_remove(json_t *doc, const char *ptr)
{
	char tok[256];
	json_t *parent = pointer_parent(doc, ptr, tok, sizeof(tok));
	long idx;

	if (json_is_object(parent))
		return json_object_del(parent, tok);
	idx = json_is_array(parent) ? array_index(parent, tok, false) : -1;
	return idx < 0 ? -1 : json_array_remove(parent, (size_t)idx);
}

/* Applies one operation. Returns 0, or -1 with *err set. */
static int apply_op(json_t *doc, json_t *op, char **err)
{
	const char *name = kas_json_str(op, "op"), *path = kas_json_str(op, "path");
	const char *from = kas_json_str(op, "from");
	json_t *value = json_object_get(op, "value"), *src;

	if (!name || !path || !*path) {
		*err = strdup("json patch: every operation needs \"op\" and a non-empty \"path\"");
		return -1;
	}
	if ((!strcmp(name, "add") || !strcmp(name, "replace")) && value) {
		if (pointer_put(doc, path, json_deep_copy(value), name[0] == 'r') == 0)
			return 0;
	} else if (!strcmp(name, "remove")) {
		if (pointer_remove(doc, path) == 0)
			return 0;
	} else if (!strcmp(name, "test") && value) {
		if (json_equal(pointer_get(doc, path), value))
			return 0;
		*err = kas_printf("json patch: test failed at %s", path);
		return -1;
	} else if ((!strcmp(name, "move") || !strcmp(name, "copy")) && (src = pointer_get(doc, from))) {
		src = json_deep_copy(src);
		if (name[0] == 'm' && pointer_remove(doc, from) < 0) {
			json_decref(src);
		} else if (pointer_put(doc, path, src, false) == 0) {
			return 0;
		}
	}
	*err = kas_printf("json patch: cannot apply %s at %s", name, path);
	return -1;
}

json_t *kas_json_patch(json_t *doc, json_t *ops, char **err)
{
	size_t i;
	json_t *op;

	*err = NULL;
	if (!json_is_array(ops) || json_array_size(ops) > MAX_OPS) {
		*err = strdup("json patch: the body must be an array of at most 1000 operations");
		goto fail;
	}
	json_array_foreach(ops, i, op) {
		if (apply_op(doc, op, err) < 0)
			goto fail;
	}
	return doc;
fail:
	json_decref(doc);
	if (!*err)
		*err = strdup("json patch failed");
	return NULL;
}
