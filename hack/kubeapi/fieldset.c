/* kubeapi test server: field sets as server-side apply tracks them. A set is a JSON object
 * whose keys are paths: path elements ("f:spec", "k:{\"type\":\"Ready\"}", "v:\"a\"") joined
 * by '\n', each mapped to true. Converts to and from the fieldsV1 trees of managedFields. */
#include "fieldset.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
/* Most path elements in one path. */
#define MAX_PES 64

/* The schema of @key's value inside object schema @s, or NULL. */
static json_t *prop_schema(json_t *s, const char *key)
{
	json_t *p = json_object_get(json_object_get(s, "properties"), key);

	if (!p && json_is_object(json_object_get(s, "additionalProperties")))
		p = json_object_get(s, "additionalProperties");
	return p;
}

/* A map (keys chosen by the writer, as labels) rather than a struct: the node itself is owned too. */
static bool is_map(json_t *s)
{
	return !json_object_get(s, "properties");
}

static bool atomic_map(json_t *s)
{
	const char *type = kas_json_str(s, "x-kubernetes-map-type");

	return type && !strcmp(type, "atomic");
}

static json_t *map_keys(json_t *s)
{
	const char *type = kas_json_str(s, "x-kubernetes-list-type");
	json_t *keys = json_object_get(s, "x-kubernetes-list-map-keys");

	return type && !strcmp(type, "map") && json_array_size(keys) > 0 ? keys : NULL;
}

static char *join(const char *prefix, const char *pe)
{
	return *prefix ? kas_printf("%s\n%s", prefix, pe) : strdup(pe);
}

/* "k:{...}" of list element @el by @keys. The caller owns it; NULL when a key is missing. */
static char *key_pe(json_t *el, json_t *keys)
{
	json_t *k = json_object(), *key;
	char *text, *pe;
	size_t i;

	json_array_foreach(keys, i, key) {
		json_t *v = json_object_get(el, json_string_value(key));

		if (!v) {
			json_decref(k);
			return NULL;
		}
		json_object_set(k, json_string_value(key), v);
	}
	text = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
	pe = text ? kas_printf("k:%s", text) : NULL;
	free(text);
	json_decref(k);
	return pe;
}

static void add(json_t *set, const char *path)
{
	json_object_set_new(set, path, json_true());
}

static void walk(json_t *v, json_t *s, const char *prefix, json_t *set, int depth);

static void walk_list(json_t *v, json_t *s, const char *prefix, json_t *set, int depth)
{
	json_t *keys = map_keys(s), *el;
	size_t i;

	if (!keys) {
		add(set, prefix);  /* atomic: the list is one field */
		return;
	}
	json_array_foreach(v, i, el) {
		char *pe = key_pe(el, keys), *p = pe ? join(prefix, pe) : NULL;

		if (p) {
			add(set, p);
			walk(el, json_object_get(s, "items"), p, set, depth + 1);
		}
		free(pe);
		free(p);
	}
}

static void walk(json_t *v, json_t *s, const char *prefix, json_t *set, int depth)
{
	const char *key;
	json_t *child;

	if (depth > MAX_DEPTH)
		return;
	if (json_is_array(v)) {
		walk_list(v, s, prefix, set, depth);
		return;
	}
	if (!json_is_object(v) || json_object_size(v) == 0 || atomic_map(s)) {
		add(set, prefix);
		return;
	}
	if (depth > 0 && is_map(s))
		add(set, prefix);
	json_object_foreach(v, key, child) {
		char *pe = kas_printf("f:%s", key), *p = pe ? join(prefix, pe) : NULL;

		if (p)
			walk(child, prop_schema(s, key), p, set, depth + 1);
		free(pe);
		free(p);
	}
}

json_t *kas_fields_of(json_t *obj, json_t *schema, bool status_part, bool status_sub)
{
	json_t *set = json_object(), *meta = json_object_get(obj, "metadata");
	static const char *const meta_fields[] = { "labels", "annotations", "finalizers", "ownerReferences" };
	const char *key;
	json_t *child;

	if (!set)
		return NULL;
	json_object_foreach(obj, key, child) {
		char *pe;

		if (!strcmp(key, "apiVersion") || !strcmp(key, "kind") || !strcmp(key, "metadata"))
			continue;
		/* The status subresource owns status; the main resource everything else. */
		if (status_sub && status_part != !strcmp(key, "status"))
			continue;
		pe = kas_printf("f:%s", key);
		if (pe)
			walk(child, json_object_get(json_object_get(schema, "properties"), key), pe, set, 1);
		free(pe);
	}
	for (size_t i = 0; !status_part && i < sizeof(meta_fields) / sizeof(meta_fields[0]); i++) {
		char *p = kas_printf("f:metadata\nf:%s", meta_fields[i]);

		child = json_object_get(meta, meta_fields[i]);
		/* Labels and annotations are maps; finalizers a set; ownerReferences atomic here. */
		if (p && json_is_object(child) && json_object_size(child) > 0)
			walk(child, NULL, p, set, 2);
		else if (p && child && !json_is_null(child))
			add(set, p);
		free(p);
	}
	return set;
}

/* ---- paths in objects ---- */

/* Splits @path into its elements in @buf. Returns how many, or -1. */
static int split(const char *path, char *buf, size_t len, char *pes[MAX_PES])
{
	int n = 0;
	char *p = buf;

	if (strlen(path) >= len)
		return -1;
	memcpy(buf, path, strlen(path) + 1);
	while (p && n < MAX_PES) {
		char *nl = strchr(p, '\n');

		pes[n++] = p;
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : NULL;
	}
	return p ? -1 : n;
}

/* The index of the element of list @arr that path element @pe names, or -1. */
static long find_element(json_t *arr, const char *pe)
{
	json_t *want = json_loads(pe + 2, JSON_DECODE_ANY, NULL), *el;
	long found = -1;
	size_t i;

	json_array_foreach(arr, i, el) {
		const char *k;
		json_t *v;
		bool match = true;

		if (pe[0] == 'v') {
			match = json_equal(el, want);
		} else {
			json_object_foreach(want, k, v)
				match = match && json_equal(json_object_get(el, k), v);
		}
		if (match && want) {
			found = (long)i;
			break;
		}
	}
	json_decref(want);
	return found;
}

/* Steps from @cur into path element @pe. Returns the child (borrowed) or NULL. */
static json_t *step(json_t *cur, const char *pe)
{
	long i;

	if (!strncmp(pe, "f:", 2))
		return json_object_get(cur, pe + 2);
	if (!json_is_array(cur))
		return NULL;
	i = (!strncmp(pe, "k:", 2) || !strncmp(pe, "v:", 2)) ? find_element(cur, pe) : -1;
	if (!strncmp(pe, "i:", 2))
		i = strtol(pe + 2, NULL, 10);
	return i >= 0 ? json_array_get(cur, (size_t)i) : NULL;
}

json_t *kas_fields_value(json_t *obj, const char *path)
{
	char buf[4096], *pes[MAX_PES];
	int n = split(path, buf, sizeof(buf), pes);
	json_t *cur = obj;

	for (int i = 0; i < n && cur; i++)
		cur = step(cur, pes[i]);
	return n > 0 ? cur : NULL;
}

void kas_fields_remove(json_t *obj, const char *path)
{
	char buf[4096], *pes[MAX_PES];
	int n = split(path, buf, sizeof(buf), pes);
	json_t *cur = obj;

	for (int i = 0; i < n - 1 && cur; i++)
		cur = step(cur, pes[i]);
	if (!cur || n <= 0)
		return;
	if (!strncmp(pes[n - 1], "f:", 2)) {
		json_object_del(cur, pes[n - 1] + 2);
	} else if (json_is_array(cur)) {
		long i = find_element(cur, pes[n - 1]);

		if (i >= 0)
			json_array_remove(cur, (size_t)i);
	}
}

char *kas_fields_pretty(const char *path)
{
	char buf[4096], *pes[MAX_PES];
	int n = split(path, buf, sizeof(buf), pes);
	struct kas_buf b = { NULL, 0 };

	for (int i = 0; i < n; i++) {
		char *one = !strncmp(pes[i], "f:", 2) ? kas_printf(".%s", pes[i] + 2) : kas_printf("[%s]", pes[i] + 2);

		if (!one || kas_buf_append(&b, one, strlen(one), 8192) < 0) {
			free(one);
			break;
		}
		free(one);
	}
	return b.data ? b.data : strdup("");
}

/* ---- fieldsV1 ---- */

json_t *kas_fields_tree(json_t *set)
{
	json_t *tree = json_object(), *v;
	const char *path;

	json_object_foreach(set, path, v) {
		char buf[4096], *pes[MAX_PES];
		int n = split(path, buf, sizeof(buf), pes);
		json_t *cur = tree;

		for (int i = 0; i < n && cur; i++) {
			json_t *next = json_object_get(cur, pes[i]);

			if (!next && json_object_set_new(cur, pes[i], next = json_object()) < 0)
				next = NULL;
			cur = next;
		}
		(void)v;
	}
	/* A member that has members below it says so with ".". */
	json_object_foreach(set, path, v) {
		json_t *node = tree;
		char buf[4096], *pes[MAX_PES];
		int n = split(path, buf, sizeof(buf), pes);

		for (int i = 0; i < n && node; i++)
			node = json_object_get(node, pes[i]);
		if (node && json_object_size(node) > 0 && !json_object_get(node, "."))
			json_object_set_new(node, ".", json_object());
	}
	return tree;
}

static void from_tree(json_t *node, const char *prefix, json_t *set, int depth)
{
	const char *key;
	json_t *child;

	if (depth > MAX_DEPTH)
		return;
	json_object_foreach(node, key, child) {
		char *p;

		if (!strcmp(key, ".")) {
			if (*prefix)
				add(set, prefix);
			continue;
		}
		p = join(prefix, key);
		if (p && json_is_object(child) && json_object_size(child) == 0)
			add(set, p);
		else if (p)
			from_tree(child, p, set, depth + 1);
		free(p);
	}
}

json_t *kas_fields_from_tree(json_t *tree)
{
	json_t *set = json_object();

	if (set && json_is_object(tree))
		from_tree(tree, "", set, 0);
	return set;
}
