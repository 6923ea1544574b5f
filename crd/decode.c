/* decode: field readers with located errors, metadata, conditions and the per-document entry. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crd/decode.h"
#include "crd/quantity.h"
#include "crd/validate.h"

/* Appends @len bytes of @s to the field path, cut where its buffer ends. Every node decoded
 * pushes its key: this is on every manifest's path, where snprintf was an eighth of a load. */
static void path_append(struct crd_dctx *c, const char *s, size_t len)
{
	size_t room = sizeof(c->path) - 1 - c->path_len;

	if (len > room)
		len = room;
	memcpy(c->path + c->path_len, s, len);
	c->path_len += len;
	c->path[c->path_len] = '\0';
}

size_t crd_dec_push(struct crd_dctx *c, const char *key)
{
	size_t saved = c->path_len;

	if (c->path_len)
		path_append(c, ".", 1);
	path_append(c, key, strlen(key));
	return saved;
}

size_t crd_dec_push_index(struct crd_dctx *c, size_t i)
{
	char text[32];
	size_t at = sizeof(text);
	size_t saved = c->path_len;

	text[--at] = ']';
	do
		text[--at] = (char)('0' + i % 10);
	while ((i /= 10));
	text[--at] = '[';
	path_append(c, text + at, sizeof(text) - at);
	return saved;
}

void crd_dec_pop(struct crd_dctx *c, size_t saved)
{
	c->path_len = saved;
	c->path[saved] = '\0';
}

void crd_dec_error(struct crd_dctx *c, const struct crd_node *at, bool at_key, const char *fmt,
		   ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->n_errors++;
	crd_errors_add(c->errs, CRD_SEV_ERROR, c->file, at_key ? at->key_line : at->line,
		       at_key ? at->key_col : at->col, c->object[0] ? c->object : NULL, c->path,
		       "%s", msg);
}

char *crd_dec_strdup(struct crd_dctx *c, const char *s)
{
	char *d = strdup(s);
	if (!d && !c->oom) {
		c->oom = true;
		c->n_errors++;
		crd_errors_add(c->errs, CRD_SEV_ERROR, c->file, 0, 0, NULL, c->path, "out of memory");
	}
	return d;
}

/* Writes a short, printable rendering of a scalar's text, quoted for strings. */
static void describe(const struct crd_node *n, char *buf, size_t size)
{
	char text[64];
	size_t i = 0;

	if (n->kind == CRD_NODE_MAP || n->kind == CRD_NODE_SEQ) {
		snprintf(buf, size, "%s", crd_node_kind_name(n->kind));
		return;
	}
	for (; n->text && n->text[i] && i < sizeof(text) - 4; i++)
		text[i] = (unsigned char)n->text[i] < 0x20 ? '?' : n->text[i];
	if (n->text && n->text[i])
		text[i++] = '.', text[i++] = '.', text[i++] = '.';
	text[i] = '\0';
	snprintf(buf, size, n->kind == CRD_NODE_STR ? "\"%s\"" : "%s", text);
}

void crd_dec_fields(struct crd_dctx *c, const struct crd_node *m, const char *const *known)
{
	for (size_t i = 0; i < m->n_kids; i++) {
		const struct crd_node *kid = m->kids[i];
		size_t k = 0;
		while (known[k] && strcmp(known[k], kid->key))
			k++;
		if (known[k])
			continue;
		size_t saved = crd_dec_push(c, kid->key);
		const char *hint = crd_suggest(kid->key, known);
		if (hint)
			crd_dec_error(c, kid, true, "unknown field; did you mean \"%s\"?", hint);
		else
			crd_dec_error(c, kid, true, "unknown field");
		crd_dec_pop(c, saved);
	}
}

const struct crd_node *crd_dec_member(struct crd_dctx *c, const struct crd_node *m,
				      const char *key, bool required)
{
	const struct crd_node *n = crd_node_get(m, key);

	if (n && n->kind != CRD_NODE_NULL)
		return n;
	if (required) {
		size_t saved = crd_dec_push(c, key);
		crd_dec_error(c, n ? n : m, n != NULL, "required field is missing");
		crd_dec_pop(c, saved);
	}
	return NULL;
}

bool crd_dec_expect(struct crd_dctx *c, const struct crd_node *n, enum crd_node_kind kind)
{
	char got[96];

	if (n->kind == kind)
		return true;
	if (n->kind == CRD_NODE_BAD) {
		c->n_errors++;     /* reported by the parser; still fails the object */
		return false;
	}
	describe(n, got, sizeof(got));
	crd_dec_error(c, n, false, "expected %s, got %s", crd_node_kind_name(kind), got);
	return false;
}

/* Shared prologue of the readers: finds member @key, pushes its path. Returns the node or
 * NULL (absent: *rc = 1; error: *rc = -1). */
static const struct crd_node *reader_start(struct crd_dctx *c, const struct crd_node *m,
					   const char *key, bool required, size_t *saved, int *rc)
{
	const struct crd_node *n = crd_dec_member(c, m, key, required);

	*rc = 1;
	if (n)
		*saved = crd_dec_push(c, key);
	return n;
}

int crd_dec_str(struct crd_dctx *c, const struct crd_node *m, const char *key, bool required,
		char **out)
{
	size_t saved;
	int rc;
	const struct crd_node *n = reader_start(c, m, key, required, &saved, &rc);

	if (!n)
		return rc;
	rc = -1;
	if (crd_dec_expect(c, n, CRD_NODE_STR)) {
		free(*out);
		*out = crd_dec_strdup(c, n->text);
		rc = *out ? 0 : -1;
	}
	crd_dec_pop(c, saved);
	return rc;
}

int crd_dec_bool(struct crd_dctx *c, const struct crd_node *m, const char *key, bool *out)
{
	size_t saved;
	int rc;
	const struct crd_node *n = reader_start(c, m, key, false, &saved, &rc);

	if (!n)
		return rc;
	rc = -1;
	if (crd_dec_expect(c, n, CRD_NODE_BOOL)) {
		*out = n->text[0] == 't' || n->text[0] == 'T';
		rc = 0;
	}
	crd_dec_pop(c, saved);
	return rc;
}

int crd_dec_int(struct crd_dctx *c, const struct crd_node *m, const char *key, int64_t min,
		int64_t max, int64_t *out)
{
	size_t saved;
	int rc;
	const struct crd_node *n = reader_start(c, m, key, false, &saved, &rc);

	if (!n)
		return rc;
	rc = -1;
	if (crd_dec_expect(c, n, CRD_NODE_INT)) {
		errno = 0;
		long long v = strtoll(n->text, NULL, 10);
		if (errno || v < min || v > max)
			crd_dec_error(c, n, false, "expected an integer from %" PRId64 " to %" PRId64
				      ", got %.40s", min, max, n->text);
		else {
			*out = v;
			rc = 0;
		}
	}
	crd_dec_pop(c, saved);
	return rc;
}

int crd_dec_number(struct crd_dctx *c, const struct crd_node *m, const char *key, double min,
		   double max, double *out)
{
	size_t saved;
	int rc;
	const struct crd_node *n = reader_start(c, m, key, false, &saved, &rc);

	if (!n)
		return rc;
	rc = -1;
	if (n->kind != CRD_NODE_INT && n->kind != CRD_NODE_FLOAT) {
		(void)crd_dec_expect(c, n, CRD_NODE_FLOAT);
	} else {
		char *end = NULL;
		errno = 0;
		double v = strtod(n->text, &end);
		/* !(v >= min) also refuses NaN. */
		if (errno || end == n->text || *end || !(v >= min) || v > max)
			crd_dec_error(c, n, false, "expected a number from %g to %g, got %.40s", min,
				      max, n->text);
		else {
			*out = v;
			rc = 0;
		}
	}
	crd_dec_pop(c, saved);
	return rc;
}

int crd_dec_u32(struct crd_dctx *c, const struct crd_node *m, const char *key, uint32_t min,
		uint32_t max, uint32_t *out)
{
	int64_t v = 0;
	int rc = crd_dec_int(c, m, key, min, max, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

int crd_dec_quantity(struct crd_dctx *c, const struct crd_node *m, const char *key,
		     bool required, uint64_t *out)
{
	size_t saved;
	int rc;
	const struct crd_node *n = reader_start(c, m, key, required, &saved, &rc);
	const char *why;
	char got[96];

	if (!n)
		return rc;
	rc = -1;
	if (n->kind != CRD_NODE_STR && n->kind != CRD_NODE_INT && n->kind != CRD_NODE_FLOAT) {
		if (n->kind == CRD_NODE_BAD) {
			c->n_errors++;
		} else {
			describe(n, got, sizeof(got));
			crd_dec_error(c, n, false, "expected a quantity like 512Mi, got %s", got);
		}
	} else if (crd_quantity_parse(n->text, out, &why) < 0) {
		describe(n, got, sizeof(got));
		if (!strncmp(why, "expected", 8))
			crd_dec_error(c, n, false, "%s, got %s", why, got);
		else
			crd_dec_error(c, n, false, "quantity %s %s", got, why);
	} else {
		rc = 0;
	}
	crd_dec_pop(c, saved);
	return rc;
}

int crd_dec_enum(struct crd_dctx *c, const struct crd_node *m, const char *key,
		 const struct crd_enum_desc *d, int *out)
{
	size_t saved;
	int rc;
	const struct crd_node *n = reader_start(c, m, key, false, &saved, &rc);
	char list[256] = "", got[96];
	size_t len = 0;

	if (!n)
		return rc;
	rc = -1;
	if (n->kind == CRD_NODE_BAD)
		c->n_errors++;
	else {
		for (size_t i = 0; i < d->n; i++)
			if (d->names[i][0] && n->kind == CRD_NODE_STR && !strcmp(n->text, d->names[i])) {
				*out = (int)i;
				rc = 0;
			}
		for (size_t i = 0; rc < 0 && i < d->n && len < sizeof(list); i++)
			if (d->names[i][0])
				len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
							len ? ", " : "", d->names[i]);
		describe(n, got, sizeof(got));
		if (rc < 0)
			crd_dec_error(c, n, false, "expected one of %s, got %s", list, got);
	}
	crd_dec_pop(c, saved);
	return rc;
}

/* Returns member @key of @m when it is of @kind with at most @max kids, else NULL (reported). */
static const struct crd_node *member_of_kind(struct crd_dctx *c, const struct crd_node *m,
					     const char *key, bool required,
					     enum crd_node_kind kind, size_t max)
{
	const struct crd_node *n = crd_dec_member(c, m, key, required);

	if (!n)
		return NULL;
	size_t saved = crd_dec_push(c, key);
	bool ok = crd_dec_expect(c, n, kind);
	if (ok && n->n_kids > max) {
		crd_dec_error(c, n, false, "has %zu items; at most %zu are allowed", n->n_kids, max);
		ok = false;
	}
	crd_dec_pop(c, saved);
	return ok ? n : NULL;
}

const struct crd_node *crd_dec_map_member(struct crd_dctx *c, const struct crd_node *m,
					  const char *key, bool required)
{
	return member_of_kind(c, m, key, required, CRD_NODE_MAP, SIZE_MAX);
}

const struct crd_node *crd_dec_list(struct crd_dctx *c, const struct crd_node *m,
				    const char *key, size_t max)
{
	return member_of_kind(c, m, key, false, CRD_NODE_SEQ, max);
}

int crd_dec_map(struct crd_dctx *c, const struct crd_node *m, const char *key, bool labels,
		struct crd_map *out)
{
	const struct crd_node *n = crd_dec_map_member(c, m, key, false);
	size_t saved = crd_dec_push(c, key);
	size_t before = c->n_errors;

	if (!n || !(out->items = calloc(n->n_kids ? n->n_kids : 1, sizeof(*out->items))))
		goto cleanup;
	for (size_t i = 0; i < n->n_kids; i++) {
		const struct crd_node *v = n->kids[i];
		size_t s2 = crd_dec_push(c, v->key);
		if (labels && !crd_valid_label_key(v->key))
			crd_dec_error(c, v, true, "\"%.80s\" is not a valid label key", v->key);
		if (crd_dec_expect(c, v, CRD_NODE_STR)) {
			if (labels && !crd_valid_label_value(v->text))
				crd_dec_error(c, v, false, "\"%.80s\" is not a valid label value "
					      "(at most 63 letters, digits, '-', '_' or '.', starting "
					      "and ending with a letter or digit)", v->text);
			struct crd_kv *kv = &out->items[out->n];
			kv->key = crd_dec_strdup(c, v->key);
			kv->value = crd_dec_strdup(c, v->text);
			out->n++;
		}
		crd_dec_pop(c, s2);
	}
cleanup:
	crd_dec_pop(c, saved);
	return !n ? 1 : c->n_errors == before ? 0 : -1;
}

int crd_dec_conditions(struct crd_dctx *c, const struct crd_node *m, struct crd_conditions *out)
{
	static const char *const known[] = {"type", "status", "reason", "message",
					    "lastTransitionTime", "observedGeneration", NULL};
	const struct crd_node *n = crd_dec_list(c, m, "conditions", SIZE_MAX);
	size_t saved = crd_dec_push(c, "conditions");

	if (!n || !(out->items = calloc(n->n_kids ? n->n_kids : 1, sizeof(*out->items))))
		goto cleanup;
	for (size_t i = 0; i < n->n_kids; i++) {
		const struct crd_node *it = n->kids[i];
		struct crd_condition *cond = &out->items[out->n];
		size_t s2 = crd_dec_push_index(c, i);
		int status = 0;
		if (crd_dec_expect(c, it, CRD_NODE_MAP)) {
			out->n++;
			crd_dec_fields(c, it, known);
			(void)crd_dec_str(c, it, "type", true, &cond->type);
			if (crd_dec_member(c, it, "status", true) &&
			    crd_dec_enum(c, it, "status", &crd_cond_status_desc, &status) == 0)
				cond->status = (enum crd_cond_status)status;
			(void)crd_dec_str(c, it, "reason", false, &cond->reason);
			(void)crd_dec_str(c, it, "message", false, &cond->message);
			(void)crd_dec_str(c, it, "lastTransitionTime", false,
					  &cond->last_transition_time);
			(void)crd_dec_int(c, it, "observedGeneration", 0, INT64_MAX,
					  &cond->observed_generation);
		}
		crd_dec_pop(c, s2);
	}
cleanup:
	crd_dec_pop(c, saved);
	return n ? 0 : 1;
}
