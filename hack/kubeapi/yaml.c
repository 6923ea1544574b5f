/* kubeapi test server: YAML to JSON with libyaml's document loader. Aliases are expanded, so
 * the node count and depth are capped: a "billion laughs" body hits the cap, not the memory. */
#include "yaml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 64
#define MAX_NODES 200000

struct conv {
	yaml_document_t *doc;
	size_t nodes;
};

static bool any_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

/* A plain scalar as go-yaml v2 resolves it: null, booleans (also yes/no/on/off), numbers. */
static json_t *plain_scalar(const char *s)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N", NULL };
	char *end;
	long long i;
	double d;

	if (any_of(s, nulls))
		return json_null();
	if (any_of(s, trues))
		return json_true();
	if (any_of(s, falses))
		return json_false();
	errno = 0;
	i = strtoll(s, &end, 0);
	if (*s && !*end && errno == 0 && (s[0] != '0' || !s[1] || s[1] == 'x' || s[1] == 'X'))
		return json_integer(i);
	if (strspn(s, "+-.0123456789eE") == strlen(s) && strpbrk(s, "0123456789")) {
		d = strtod(s, &end);
		if (!*end)
			return json_real(d);
	}
	return json_string(s);
}

static json_t *convert(struct conv *c, yaml_node_t *n, int depth)
{
	json_t *out = NULL;

	if (!n || depth > MAX_DEPTH || ++c->nodes > MAX_NODES)
		return NULL;
	if (n->type == YAML_SCALAR_NODE) {
		const char *s = (const char *)n->data.scalar.value;

		return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s) : json_string(s);
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		out = json_array();
		for (yaml_node_item_t *it = n->data.sequence.items.start; out && it < n->data.sequence.items.top; it++) {
			json_t *v = convert(c, yaml_document_get_node(c->doc, *it), depth + 1);

			if (!v || json_array_append_new(out, v) < 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	out = json_object();
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; out && p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		json_t *v;

		if (!k || k->type != YAML_SCALAR_NODE) {
			json_decref(out);
			return NULL;
		}
		v = convert(c, yaml_document_get_node(c->doc, p->value), depth + 1);
		if (!v || json_object_set_new(out, (const char *)k->data.scalar.value, v) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

json_t *kas_yaml_parse(const char *text, size_t len, char **err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct conv c = { &doc, 0 };
	json_t *out = NULL;

	*err = NULL;
	if (!yaml_parser_initialize(&parser)) {
		*err = strdup("out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		*err = kas_printf("yaml: line %zu, column %zu: %s", parser.problem_mark.line + 1,
				  parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return NULL;
	}
	out = convert(&c, yaml_document_get_root_node(&doc), 0);
	if (!out)
		*err = strdup("yaml: empty, too deep, too large, or a mapping key that is not a scalar");
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return out;
}
