/* kubeapi test server: label and field selectors for list and watch. */
#include "select.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TERMS 64
#define TOKEN_MAX 256

enum op { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS };

struct term {
	char key[TOKEN_MAX];
	enum op op;
	bool field;    /* a field path rather than a label key */
	json_t *values;  /* array of strings */
};

struct kas_selector {
	struct term terms[MAX_TERMS];
	size_t n;
};

static const char *skip_space(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/* Copies a token that ends at any of @stops (or a space) into @out. Returns the end, or NULL. */
static const char *token(const char *p, const char *stops, char *out)
{
	size_t n = 0;

	p = skip_space(p);
	while (*p && *p != ' ' && !strchr(stops, *p)) {
		if (n + 1 >= TOKEN_MAX)
			return NULL;
		out[n++] = *p++;
	}
	out[n] = '\0';
	return skip_space(p);
}

/* Parses "(a, b)" after in/notin. Returns the end, or NULL. */
static const char *value_set(const char *p, json_t *values)
{
	char v[TOKEN_MAX];

	p = skip_space(p);
	if (*p++ != '(')
		return NULL;
	for (int i = 0; i < MAX_TERMS; i++) {
		p = token(p, ",)", v);
		if (!p || json_array_append_new(values, json_string(v)) < 0)
			return NULL;
		if (*p == ')')
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
	return NULL;
}

/* Parses one requirement starting at @p into @t. Returns the end, or NULL. */
static const char *term_parse(const char *p, struct term *t, bool field)
{
	char v[TOKEN_MAX];

	t->field = field;
	t->values = json_array();
	p = skip_space(p);
	if (!t->values || !*p)
		return NULL;
	if (*p == '!' && !field) {
		t->op = OP_NOTEXISTS;
		p = token(p + 1, ",", t->key);
		return p && *t->key ? p : NULL;
	}
	p = token(p, "=!,(", t->key);
	if (!p || !*t->key)
		return NULL;
	if (!*p || *p == ',') {
		t->op = OP_EXISTS;
		return field ? NULL : p;
	}
	if (!field && (!strncmp(p, "in", 2) || !strncmp(p, "notin", 5))) {
		t->op = p[0] == 'i' ? OP_IN : OP_NOTIN;
		return value_set(p + (p[0] == 'i' ? 2 : 5), t->values);
	}
	t->op = *p == '!' ? OP_NE : OP_EQ;
	p += (p[0] == '!' || (p[0] == '=' && p[1] == '=')) ? 2 : 1;
	if (p[-1] != '=')
		return NULL;
	p = token(p, ",", v);
	if (!p || json_array_append_new(t->values, json_string(v)) < 0)
		return NULL;
	return p;
}

static int parse_into(struct kas_selector *s, const char *text, bool field)
{
	const char *p = text;

	if (!text || !*skip_space(text))
		return 0;
	while (p && s->n < MAX_TERMS) {
		p = term_parse(p, &s->terms[s->n++], field);
		if (!p)
			return -1;
		if (!*p)
			return 0;
		if (*p++ != ',')
			return -1;
	}
	return -1;
}

/* The first field requirement that names neither metadata.name nor metadata.namespace, or NULL. */
static const char *unsupported_field(const struct kas_selector *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *k = s->terms[i].key;

		if (s->terms[i].field && strcmp(k, "metadata.name") && strcmp(k, "metadata.namespace"))
			return k;
	}
	return NULL;
}

int kas_selector_parse(const char *labels, const char *fields, bool meta_only, struct kas_selector **out,
		       char **err)
{
	struct kas_selector *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s) {
		*err = strdup("out of memory");
		return -1;
	}
	if (parse_into(s, labels, false) < 0) {
		*err = kas_printf("unable to parse requirement: invalid label selector \"%s\"", labels);
		kas_selector_free(s);
		return -1;
	}
	if (parse_into(s, fields, true) < 0) {
		*err = kas_printf("invalid field selector \"%s\"", fields);
		kas_selector_free(s);
		return -1;
	}
	if (meta_only && unsupported_field(s)) {
		*err = kas_printf("field label not supported: %s", unsupported_field(s));
		kas_selector_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

static bool in_values(json_t *values, const char *v)
{
	size_t i;
	json_t *x;

	json_array_foreach(values, i, x) {
		if (v && !strcmp(json_string_value(x), v))
			return true;
	}
	return false;
}

static bool term_match(const struct term *t, json_t *obj)
{
	const char *v;

	if (t->field) {
		v = kas_json_str(obj, t->key);
		if (!v)
			v = "";
	} else {
		v = json_string_value(json_object_get(kas_json_at(obj, "metadata.labels"), t->key));
	}
	switch (t->op) {
	case OP_EQ:
	case OP_IN:
		return in_values(t->values, v);
	case OP_NE:
	case OP_NOTIN:
		return !in_values(t->values, v);
	case OP_EXISTS:
		return v != NULL;
	case OP_NOTEXISTS:
		return v == NULL;
	}
	return false;
}

bool kas_selector_match(const struct kas_selector *s, json_t *obj)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (!term_match(&s->terms[i], obj))
			return false;
	return true;
}

void kas_selector_free(struct kas_selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		json_decref(s->terms[i].values);
	free(s);
}
