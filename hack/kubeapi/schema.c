/* kubeapi test server: structural schemas as the real API server applies them to a write:
 * pruning of unknown fields and of non-nullable nulls, defaults, then validation with field
 * paths (422 Invalid with details.causes), and the client's fieldValidation (Strict, Warn,
 * Ignore) over what was pruned. CRDs bring their openAPIV3Schema; built-in kinds a schema of
 * their Go types (types.c), whose type errors are decode errors (400) as on the real server. */
#include "schema.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* Deepest nesting walked; deeper parts of an object are left as they are. */
#define MAX_DEPTH 64
/* Most causes one reply lists. */
#define MAX_CAUSES 64

struct walk {
	json_t *causes;   /* [{reason, message, field}] */
	json_t *unknown;  /* ["spec.foo", ...]: fields pruned as unknown */
	bool typed;       /* a built-in kind: type errors are decode errors */
	bool decode;      /* a type error was found in a typed kind */
};

static bool flag(json_t *s, const char *key)
{
	return json_is_true(json_object_get(s, key));
}

/* "PARENT.KEY" (or "KEY" at the root). The caller owns it; NULL on OOM. */
static char *child_path(const char *path, const char *key)
{
	return *path ? kas_printf("%s.%s", path, key) : strdup(key);
}

static char *item_path(const char *path, size_t i)
{
	return kas_printf("%s[%zu]", path, i);
}

/* Keys of the root (and of embedded resources) that the object's type owns, not its schema. */
static bool meta_key(const char *key)
{
	return !strcmp(key, "apiVersion") || !strcmp(key, "kind") || !strcmp(key, "metadata");
}

static void prune(json_t *s, json_t *v, const char *path, struct walk *w, bool root, int depth);

/* Drops what ObjectMeta does not have: metadata is decoded into its Go type, not by the schema. */
static void prune_meta(json_t *meta, struct walk *w)
{
	static const char *const known[] = {
		"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
		"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
		"ownerReferences", "finalizers", "managedFields",
	};
	const char *key;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(meta, tmp, key, v) {
		size_t i = 0;
		char *cp;

		while (i < sizeof(known) / sizeof(known[0]) && strcmp(key, known[i]))
			i++;
		if (i < sizeof(known) / sizeof(known[0]))
			continue;
		cp = child_path("metadata", key);
		if (cp && json_array_size(w->unknown) < MAX_CAUSES)
			json_array_append_new(w->unknown, json_string(cp));
		free(cp);
		json_object_del(meta, key);
	}
}

static void prune_object(json_t *s, json_t *v, const char *path, struct walk *w, bool root, int depth)
{
	json_t *props = json_object_get(s, "properties"), *addl = json_object_get(s, "additionalProperties");
	bool keep = flag(s, "x-kubernetes-preserve-unknown-fields") || json_is_true(addl);
	bool embedded = root || flag(s, "x-kubernetes-embedded-resource");
	const char *key;
	json_t *child;
	void *tmp;

	json_object_foreach_safe(v, tmp, key, child) {
		json_t *cs = json_object_get(props, key);
		char *cp;

		if (root && !strcmp(key, "metadata") && json_is_object(child))
			prune_meta(child, w);
		if (embedded && meta_key(key))
			continue;
		if (!cs && json_is_object(addl))
			cs = addl;
		if (!cs && keep)
			continue;
		cp = child_path(path, key);
		if (!cs) {
			if (cp && json_array_size(w->unknown) < MAX_CAUSES)
				json_array_append_new(w->unknown, json_string(cp));
			json_object_del(v, key);
		} else if (json_is_null(child) && !flag(cs, "nullable")) {
			/* Nulls of non-nullable fields are dropped before defaulting, not refused. */
			json_object_del(v, key);
		} else if (cp) {
			prune(cs, child, cp, w, false, depth + 1);
		}
		free(cp);
	}
}

static void prune(json_t *s, json_t *v, const char *path, struct walk *w, bool root, int depth)
{
	json_t *items = json_object_get(s, "items"), *el;
	size_t i;

	if (depth > MAX_DEPTH || !json_is_object(s))
		return;
	if (json_is_object(v)) {
		prune_object(s, v, path, w, root, depth);
		return;
	}
	if (!json_is_array(v) || !json_is_object(items))
		return;
	json_array_foreach(v, i, el) {
		char *ip = item_path(path, i);

		if (ip)
			prune(items, el, ip, w, false, depth + 1);
		free(ip);
	}
}

static void apply_defaults(json_t *s, json_t *v, int depth)
{
	json_t *props = json_object_get(s, "properties"), *addl = json_object_get(s, "additionalProperties");
	json_t *child, *cs;
	const char *key;
	size_t i;

	if (depth > MAX_DEPTH || !json_is_object(s))
		return;
	if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			apply_defaults(json_object_get(s, "items"), child, depth + 1);
		return;
	}
	if (!json_is_object(v))
		return;
	json_object_foreach(props, key, cs) {
		json_t *def = json_object_get(cs, "default");

		if (def && !json_object_get(v, key))
			json_object_set_new(v, key, json_deep_copy(def));
	}
	json_object_foreach(v, key, child) {
		cs = json_object_get(props, key);
		if (!cs && json_is_object(addl))
			cs = addl;
		if (cs)
			apply_defaults(cs, child, depth + 1);
	}
}

/* ---- validation ---- */

/* Adds one cause; the message as the real server words it after "FIELD: ". */
static void cause(struct walk *w, const char *reason, const char *path, char *message)
{
	if (message && json_array_size(w->causes) < MAX_CAUSES)
		json_array_append_new(w->causes, json_pack("{s:s, s:s, s:s}", "reason", reason, "message", message,
							   "field", path));
	free(message);
}

/* The value as the real server quotes it in "Invalid value: ...". The caller owns it. */
static char *quote(json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	char *cut;

	if (text && strlen(text) > 120 && (cut = kas_printf("%.117s...", text))) {
		free(text);
		return cut;
	}
	return text ? text : strdup("?");
}

static const char *type_name(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

static bool type_ok(const char *type, json_t *v)
{
	double d;

	if (!strcmp(type, "object"))
		return json_is_object(v);
	if (!strcmp(type, "array"))
		return json_is_array(v);
	if (!strcmp(type, "string"))
		return json_is_string(v);
	if (!strcmp(type, "boolean"))
		return json_is_boolean(v);
	if (!strcmp(type, "number"))
		return json_is_number(v);
	if (!strcmp(type, "integer")) {
		d = json_is_real(v) ? json_real_value(v) : 0;
		return json_is_integer(v) || (json_is_real(v) && d == (double)(long long)d);
	}
	return true;
}

static void type_error(struct walk *w, const char *path, json_t *v, const char *want)
{
	cause(w, "FieldValueTypeInvalid", path,
	      kas_printf("Invalid value: \"%s\": %s in body must be of type %s: \"%s\"", type_name(v), path, want,
			 type_name(v)));
	if (w->typed)
		w->decode = true;
}

/* RFC 3339 date-time: "2024-05-01T10:00:00Z", with an optional fraction and a numeric offset. */
static bool is_date_time(const char *s)
{
	const char *shape = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	}
	s += i;
	if (*s == '.') {
		size_t digits = strspn(s + 1, "0123456789");

		if (digits == 0 || digits > 9)
			return false;
		s += 1 + digits;
	}
	if (!strcmp(s, "Z"))
		return true;
	return (s[0] == '+' || s[0] == '-') && strlen(s) == 6 && s[3] == ':' &&
	       strspn(s + 1, "0123456789") == 2 && strspn(s + 4, "0123456789") == 2;
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* True when @s matches @pattern. A pattern POSIX regcomp does not take passes (logged). */
static bool pattern_ok(const char *pattern, const char *s)
{
	regex_t re;
	bool ok;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
		kas_log("schema: pattern %s is not checked (not a POSIX extended regex)", pattern);
		return true;
	}
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static void check_string(json_t *s, json_t *v, const char *path, struct walk *w)
{
	const char *str = json_string_value(v), *pattern = kas_json_str(s, "pattern");
	const char *format = kas_json_str(s, "format");
	json_t *max = json_object_get(s, "maxLength"), *min = json_object_get(s, "minLength");
	size_t n = utf8_len(str);

	if (json_is_integer(max) && n > (size_t)json_integer_value(max))
		cause(w, "FieldValueTooLong", path,
		      kas_printf("Too long: may not be more than %lld bytes", (long long)json_integer_value(max)));
	if (json_is_integer(min) && n < (size_t)json_integer_value(min))
		cause(w, "FieldValueInvalid", path,
		      kas_printf("Invalid value: \"%s\": %s in body should be at least %lld chars long", str, path,
				 (long long)json_integer_value(min)));
	if (pattern && !pattern_ok(pattern, str))
		cause(w, "FieldValueInvalid", path,
		      kas_printf("Invalid value: \"%s\": %s in body should match '%s'", str, path, pattern));
	if (format && !strcmp(format, "date-time") && !is_date_time(str)) {
		cause(w, "FieldValueInvalid", path,
		      kas_printf("Invalid value: \"%s\": %s in body must be of type date-time: \"%s\"", str, path, str));
		if (w->typed)
			w->decode = true;
	}
}

static void check_bound(json_t *s, double d, const char *path, struct walk *w, bool upper)
{
	json_t *b = json_object_get(s, upper ? "maximum" : "minimum");
	bool excl = flag(s, upper ? "exclusiveMaximum" : "exclusiveMinimum");
	double lim = json_number_value(b);
	bool bad = upper ? (excl ? d >= lim : d > lim) : (excl ? d <= lim : d < lim);

	if (!json_is_number(b) || !bad)
		return;
	cause(w, "FieldValueInvalid", path,
	      kas_printf("Invalid value: %g: %s in body should be %s %s%g", d, path, upper ? "less than" : "greater than",
			 excl ? "" : "or equal to ", lim));
}

static void check_number(json_t *s, json_t *v, const char *path, struct walk *w)
{
	const char *format = kas_json_str(s, "format");
	double d = json_number_value(v);

	check_bound(s, d, path, w, false);
	check_bound(s, d, path, w, true);
	if (format && !strcmp(format, "int32") && (d > 2147483647.0 || d < -2147483648.0))
		type_error(w, path, v, "int32");
}

static void check_enum(json_t *s, json_t *v, const char *path, struct walk *w)
{
	json_t *values = json_object_get(s, "enum"), *e;
	struct kas_buf list = { NULL, 0 };
	char *text, *got;
	size_t i;

	if (!json_is_array(values))
		return;
	json_array_foreach(values, i, e) {
		if (json_equal(e, v))
			return;
	}
	json_array_foreach(values, i, e) {
		text = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text && ((i && kas_buf_append(&list, ", ", 2, 4096) < 0) ||
			     kas_buf_append(&list, text, strlen(text), 4096) < 0))
			i = json_array_size(values);
		free(text);
	}
	got = quote(v);
	cause(w, "FieldValueNotSupported", path,
	      kas_printf("Unsupported value: %s: supported values: %s", got ? got : "", list.data ? list.data : ""));
	free(got);
	kas_buf_free(&list);
}

static void validate(json_t *s, json_t *v, const char *path, struct walk *w, int depth);

static void check_object(json_t *s, json_t *v, const char *path, struct walk *w, int depth)
{
	json_t *props = json_object_get(s, "properties"), *addl = json_object_get(s, "additionalProperties");
	json_t *req = json_object_get(s, "required"), *r, *child, *cs;
	const char *key;
	size_t i;

	json_array_foreach(req, i, r) {
		const char *name = json_string_value(r);
		char *cp;

		if (!name || json_object_get(v, name))
			continue;
		cp = child_path(path, name);
		if (cp)
			cause(w, "FieldValueRequired", cp, strdup("Required value"));
		free(cp);
	}
	json_object_foreach(v, key, child) {
		char *cp;

		cs = json_object_get(props, key);
		if (!cs && json_is_object(addl))
			cs = addl;
		if (!cs || !(cp = child_path(path, key)))
			continue;
		validate(cs, child, cp, w, depth + 1);
		free(cp);
	}
}

static void check_array(json_t *s, json_t *v, const char *path, struct walk *w, int depth)
{
	json_t *items = json_object_get(s, "items"), *el;
	json_t *max = json_object_get(s, "maxItems"), *min = json_object_get(s, "minItems");
	size_t i, n = json_array_size(v);

	if (json_is_integer(max) && n > (size_t)json_integer_value(max))
		cause(w, "FieldValueTooMany", path,
		      kas_printf("Too many: %zu: must have at most %lld items", n, (long long)json_integer_value(max)));
	if (json_is_integer(min) && n < (size_t)json_integer_value(min))
		cause(w, "FieldValueInvalid", path,
		      kas_printf("Invalid value: %zu: %s in body should have at least %lld items", n, path,
				 (long long)json_integer_value(min)));
	json_array_foreach(v, i, el) {
		char *ip = item_path(path, i);

		if (ip)
			validate(items, el, ip, w, depth + 1);
		free(ip);
	}
}

/* anyOf, allOf, oneOf: the branches are judged on their own, their causes kept when they fail. */
static void check_combinators(json_t *s, json_t *v, const char *path, struct walk *w, int depth)
{
	static const char *const kinds[] = { "allOf", "anyOf", "oneOf" };

	for (size_t k = 0; k < 3; k++) {
		json_t *branches = json_object_get(s, kinds[k]), *b, *first = NULL;
		size_t i, passed = 0;

		if (!json_is_array(branches) || json_array_size(branches) == 0)
			continue;
		json_array_foreach(branches, i, b) {
			struct walk sub = { json_array(), NULL, w->typed, false };

			validate(b, v, path, &sub, depth + 1);
			if (json_array_size(sub.causes) == 0)
				passed++;
			if (!first && json_array_size(sub.causes) > 0)
				first = json_incref(sub.causes);
			json_decref(sub.causes);
		}
		if ((k == 0 && passed < json_array_size(branches)) || (k == 1 && passed == 0) || (k == 2 && passed != 1))
			json_array_extend(w->causes, first ? first : json_array());
		json_decref(first);
	}
}

static void validate(json_t *s, json_t *v, const char *path, struct walk *w, int depth)
{
	const char *type = kas_json_str(s, "type");
	bool int_or_string = flag(s, "x-kubernetes-int-or-string");

	if (depth > MAX_DEPTH || !json_is_object(s) || json_array_size(w->causes) >= MAX_CAUSES)
		return;
	if (json_is_null(v)) {
		if (!flag(s, "nullable") && (type || int_or_string))
			type_error(w, path, v, int_or_string ? "integer,string" : type);
		return;
	}
	if (int_or_string ? !(json_is_integer(v) || json_is_string(v)) : (type && !type_ok(type, v))) {
		type_error(w, path, v, int_or_string ? "integer,string" : type);
		return;
	}
	check_enum(s, v, path, w);
	if (json_is_string(v))
		check_string(s, v, path, w);
	else if (json_is_number(v))
		check_number(s, v, path, w);
	else if (json_is_array(v))
		check_array(s, v, path, w, depth);
	else if (json_is_object(v))
		check_object(s, v, path, w, depth);
	if (!int_or_string)
		check_combinators(s, v, path, w, depth);
}

/* ---- admission ---- */

/* "a: x" for one cause, "[a: x, b: y]" for several. The caller owns it. */
static char *causes_text(json_t *causes)
{
	struct kas_buf b = { NULL, 0 };
	size_t i, n = json_array_size(causes);
	json_t *c;
	char *text;

	json_array_foreach(causes, i, c) {
		char *one = kas_printf("%s%s: %s%s", i == 0 && n > 1 ? "[" : i ? ", " : "", kas_json_str(c, "field"),
				       kas_json_str(c, "message"), i + 1 == n && n > 1 ? "]" : "");

		if (one && kas_buf_append(&b, one, strlen(one), KAS_PRINTF_MAX / 2) < 0)
			i = n;
		free(one);
	}
	text = b.data ? b.data : strdup("");
	return text;
}

static json_t *details(const struct kas_rtype *rt, const char *name, json_t *causes)
{
	json_t *d = json_pack("{s:s, s:s, s:s}", "name", name ? name : "", "group", rt->group, "kind", rt->kind);

	if (d && causes)
		json_object_set(d, "causes", causes);
	return d;
}

void kas_schema_reply_invalid(const struct kas_rtype *rt, const char *name, json_t *causes, struct kas_reply *out)
{
	char *text = causes_text(causes);

	kas_reply_details(out, 422, "Invalid", details(rt, name, causes), "%s%s%s \"%s\" is invalid: %s", rt->kind,
			  *rt->group ? "." : "", rt->group, name ? name : "", text ? text : "");
	free(text);
}

/* Logs what pruning dropped: a test can tell when a writer's field would be lost on a real
 * server (kf_pruned in tests/lab/kubeapi_fixture.c reads these lines). */
static void log_pruned(const struct kas_rtype *rt, json_t *obj, json_t *unknown)
{
	const char *ns = kas_json_str(obj, "metadata.namespace"), *name = kas_json_str(obj, "metadata.name");
	size_t i;
	json_t *u;

	json_array_foreach(unknown, i, u)
		kas_log("pruned unknown field \"%s\" of %s %s%s%s", json_string_value(u), rt->qname, ns ? ns : "",
			ns ? "/" : "", name ? name : "");
}

/* Reads fieldValidation. Returns 'S', 'W' or 'I', or 0 when the value is unknown. */
static char field_validation(const struct kas_request *req)
{
	const char *fv = kas_arg(req, "fieldValidation");

	if (!fv || !*fv || !strcmp(fv, "Warn"))
		return 'W';
	if (!strcmp(fv, "Strict"))
		return 'S';
	if (!strcmp(fv, "Ignore"))
		return 'I';
	return 0;
}

/* Answers the unknown fields as the client asked: 400 (Strict) or warnings (Warn).
 * Returns 0, or -1 with the 400 reply set. */
static int unknown_fields(json_t *unknown, char mode, struct kas_reply *out)
{
	struct kas_buf b = { NULL, 0 };
	size_t i;
	json_t *u;

	if (mode == 'I' || json_array_size(unknown) == 0)
		return 0;
	json_array_foreach(unknown, i, u) {
		char *one = kas_printf("unknown field \"%s\"", json_string_value(u));

		if (mode == 'W' && one)
			kas_reply_warn(out, one);
		else if (one && ((i && kas_buf_append(&b, ", ", 2, KAS_PRINTF_MAX / 2) < 0) ||
				 kas_buf_append(&b, one, strlen(one), KAS_PRINTF_MAX / 2) < 0))
			i = json_array_size(unknown);
		free(one);
	}
	if (mode == 'W')
		return 0;
	kas_reply_status(out, 400, "BadRequest", "strict decoding error: %s", b.data ? b.data : "");
	kas_buf_free(&b);
	return -1;
}

int kas_schema_admit(const struct kas_request *req, json_t *obj, struct kas_reply *out)
{
	const struct kas_rtype *rt = req->rt;
	struct walk w = { json_array(), json_array(), !rt->custom, false };
	const char *name = kas_json_str(obj, "metadata.name");
	char mode = field_validation(req), *text = NULL;
	int rc = -1;

	if (!mode) {
		kas_reply_status(out, 400, "BadRequest", "fieldValidation must be one of Ignore, Warn or Strict, not \"%s\"",
				 kas_arg(req, "fieldValidation"));
		goto cleanup;
	}
	if (!w.causes || !w.unknown) {
		kas_reply_status(out, 500, "InternalError", "out of memory");
		goto cleanup;
	}
	if (!json_is_object(rt->schema)) {
		rc = 0;
		goto cleanup;
	}
	prune(rt->schema, obj, "", &w, true, 0);
	log_pruned(rt, obj, w.unknown);
	if (unknown_fields(w.unknown, mode, out) < 0)
		goto cleanup;
	apply_defaults(rt->schema, obj, 0);
	validate(rt->schema, obj, "", &w, 0);
	if (w.decode) {
		/* The real server cannot even decode such a body into its Go type. */
		text = causes_text(w.causes);
		kas_reply_details(out, 400, "BadRequest", details(rt, name, w.causes),
				  "%s in version \"%s\" cannot be handled as a %s: %s", rt->kind, rt->version, rt->kind,
				  text ? text : "");
	} else if (json_array_size(w.causes) > 0) {
		kas_schema_reply_invalid(rt, name, w.causes, out);
	} else {
		rc = 0;
	}
cleanup:
	free(text);
	json_decref(w.causes);
	json_decref(w.unknown);
	return rc;
}
