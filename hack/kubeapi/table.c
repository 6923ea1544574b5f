/* kubeapi test server: meta.k8s.io/v1 Table output with additionalPrinterColumns. */
#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char name_description[] =
	"Name must be unique within a namespace. Is required when creating resources, although some "
	"resources may allow a client to request the generation of an appropriate name automatically. "
	"Name is primarily intended for creation idempotence and configuration definition. Cannot be "
	"updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

bool kas_table_wanted(const char *accept)
{
	return accept && strstr(accept, "as=Table") && strstr(accept, "g=meta.k8s.io");
}

const char *kas_table_age(long s, char *buf, size_t len)
{
	long m = s / 60, h = s / 3600, d = s / 86400;

	if (s < -1)
		snprintf(buf, len, "<invalid>");
	else if (s < 0)
		snprintf(buf, len, "0s");
	else if (s < 120)
		snprintf(buf, len, "%lds", s);
	else if (m < 10 && s % 60)
		snprintf(buf, len, "%ldm%lds", m, s % 60);
	else if (m < 180)
		snprintf(buf, len, "%ldm", m);
	else if (h < 8 && m % 60)
		snprintf(buf, len, "%ldh%ldm", h, m % 60);
	else if (h < 48)
		snprintf(buf, len, "%ldh", h);
	else if (h < 192 && h % 24)
		snprintf(buf, len, "%ldd%ldh", d, h % 24);
	else if (d < 730)
		snprintf(buf, len, "%ldd", d);
	else if (d < 2920 && d % 365)
		snprintf(buf, len, "%ldy%ldd", d / 365, d % 365);
	else
		snprintf(buf, len, "%ldy", d / 365);
	return buf;
}

/* Evaluates a simple JSONPath (".spec.host", "{.status.conditions[0].type}"). Borrowed or NULL. */
static json_t *simple_path(json_t *obj, const char *path)
{
	char seg[256];
	const char *p = path;

	if (*p == '{')
		p++;
	for (int depth = 0; obj && depth < 32; depth++) {
		size_t n = 0;

		if (*p == '}' || !*p)
			return obj;
		if (*p == '.')
			p++;
		while (*p && *p != '.' && *p != '[' && *p != '}' && n + 1 < sizeof(seg))
			seg[n++] = *p++;
		seg[n] = '\0';
		obj = n ? json_object_get(obj, seg) : obj;
		if (*p == '[') {
			char *end;
			unsigned long idx = strtoul(p + 1, &end, 10);

			if (*end != ']')
				return NULL;
			obj = json_array_get(obj, idx);
			p = end + 1;
		}
	}
	return NULL;
}

static json_t *cell(json_t *obj, json_t *col)
{
	const char *type = kas_json_str(col, "type");
	const char *path = kas_json_str(col, "jsonPath");
	json_t *v = path ? simple_path(obj, path) : NULL;
	char buf[32];
	time_t t;

	if (!v || json_is_null(v) || !type)
		return json_null();
	if (!strcmp(type, "date")) {
		if (kas_time_parse(json_string_value(v), &t) < 0)
			return json_string("<invalid>");
		return json_string(kas_table_age((long)(time(NULL) - t), buf, sizeof(buf)));
	}
	if (!strcmp(type, "string") && !json_is_string(v)) {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		json_t *out = json_string(s ? s : "");

		free(s);
		return out;
	}
	return json_incref(v);
}

static json_t *column_defs(const struct kas_rtype *rt)
{
	json_t *defs = json_pack("[{s:s, s:s, s:s, s:s, s:i}]", "name", "Name", "type", "string", "format",
				 "name", "description", name_description, "priority", 0);
	size_t i;
	json_t *c;

	json_array_foreach(rt->columns, i, c) {
		const char *fmt = kas_json_str(c, "format"), *desc = kas_json_str(c, "description");

		json_array_append_new(defs, json_pack("{s:s?, s:s?, s:s, s:s, s:I}", "name",
						      kas_json_str(c, "name"), "type", kas_json_str(c, "type"),
						      "format", fmt ? fmt : "", "description", desc ? desc : "",
						      "priority", json_integer_value(json_object_get(c, "priority"))));
	}
	return defs;
}

static json_t *row_object(json_t *obj, const char *include)
{
	if (include && !strcmp(include, "None"))
		return NULL;
	if (include && !strcmp(include, "Object"))
		return json_deep_copy(obj);
	return json_pack("{s:s, s:s, s:O}", "kind", "PartialObjectMetadata", "apiVersion", "meta.k8s.io/v1",
			 "metadata", json_object_get(obj, "metadata"));
}

static json_t *row(const struct kas_rtype *rt, json_t *obj, const char *include)
{
	json_t *cells = json_pack("[s?]", kas_json_str(obj, "metadata.name"));
	json_t *r, *o;
	size_t i;
	json_t *c;

	json_array_foreach(rt->columns, i, c)
		json_array_append_new(cells, cell(obj, c));
	r = json_pack("{s:o}", "cells", cells);
	o = row_object(obj, include);
	if (r && o)
		json_object_set_new(r, "object", o);
	else
		json_decref(o);
	return r;
}

json_t *kas_table(const struct kas_rtype *rt, json_t *objs, const char *include, json_t *list_meta)
{
	json_t *rows = json_array();
	size_t i;
	json_t *obj;

	json_array_foreach(objs, i, obj)
		json_array_append_new(rows, row(rt, obj, include));
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
			 "metadata", list_meta ? json_incref(list_meta) : json_object(),
			 "columnDefinitions", column_defs(rt), "rows", rows);
}
