/* SPDX-License-Identifier: MIT */
/*
 * Kubernetes API objects with json-c. Field names and meanings are those of the
 * core/v1 Pod, PodList, meta/v1 WatchEvent and Status API references.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "k8s/pod_json.h"

/* Pod objects from the API server carry managedFields, whose fieldsV1 trees nest
 * deeper than json-c's default limit of 32; 64 still stops stack-eating input. */
#define JSON_DEPTH	       64

#define OTEL_ANNOTATION_PREFIX "resource.opentelemetry.io/"

int k8s_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		/* Messages quote what files and the API server said: a line break or
		 * an escape sequence in there must not start a line of its own. */
		for (char *c = err; *c; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		}
	}
	return -EINVAL;
}

bool k8s_copy_str(char *dst, size_t size, const char *src, size_t len)
{
	bool fits;

	if (!size)
		return false;
	if (!src)
		len = 0;
	fits = len < size;
	if (!fits) {
		len = size - 1;
		/* Do not leave half a character: back up over continuation bytes
		 * (10xxxxxx) to the lead byte and drop it too. */
		if (len && ((unsigned char)src[len] & 0xc0) == 0x80) {
			while (len && ((unsigned char)src[len] & 0xc0) == 0x80)
				len--;
		}
	}
	if (len)
		memcpy(dst, src, len);
	dst[len] = '\0';
	/* A \u0000 inside a JSON string ends the C string early, which is safe. */
	return fits;
}

/* The member key of obj when it is of type want, else NULL. */
static struct json_object *member(struct json_object *obj, const char *key, enum json_type want)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, want))
		return NULL;
	return v;
}

/* Copies the string member key of obj into dst; "" when absent or not a string. */
static bool get_str(struct json_object *obj, const char *key, char *dst, size_t size)
{
	struct json_object *v = member(obj, key, json_type_string);

	if (!v) {
		dst[0] = '\0';
		return false;
	}
	k8s_copy_str(dst, size, json_object_get_string(v), (size_t)json_object_get_string_len(v));
	return true;
}

/* Like get_str(), but a value that does not fit is an error: a cut
 * resourceVersion or continue token would name something else. */
static bool get_str_whole(struct json_object *obj, const char *key, char *dst, size_t size)
{
	struct json_object *v = member(obj, key, json_type_string);

	dst[0] = '\0';
	if (!v || (size_t)json_object_get_string_len(v) >= size)
		return false;
	k8s_copy_str(dst, size, json_object_get_string(v), (size_t)json_object_get_string_len(v));
	return true;
}

/* Parses a whole JSON text; trailing white space only. */
static struct json_object *parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	if (!text || !len) {
		k8s_fail(err, errlen, "empty JSON");
		return NULL;
	}
	if (len > INT_MAX) {
		k8s_fail(err, errlen, "JSON text of %zu bytes is too large", len);
		return NULL;
	}
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok) {
		k8s_fail(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!obj || jerr != json_tokener_success) {
		k8s_fail(err, errlen, "invalid JSON at byte %zu: %s", end,
			 jerr == json_tokener_continue ? "unexpected end"
						       : json_tokener_error_desc(jerr));
		json_object_put(obj);
		json_tokener_free(tok);
		return NULL;
	}
	for (; end < len; end++) {
		if (!strchr(" \t\r\n", text[end])) {
			k8s_fail(err, errlen, "invalid JSON: data after the value at byte %zu",
				 end);
			json_object_put(obj);
			json_tokener_free(tok);
			return NULL;
		}
	}
	json_tokener_free(tok);
	if (!json_object_is_type(obj, json_type_object)) {
		k8s_fail(err, errlen, "expected a JSON object");
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

static bool is_hex64(const char *s, size_t len)
{
	if (len != 64)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

bool pod_json_container_id(const char *runtime_id, char id[K8S_CONTAINER_ID_LEN])
{
	static const char *const prefixes[] = { "containerd://", "cri-o://", "docker://" };
	const char *p = NULL;

	id[0] = '\0';
	if (!runtime_id)
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (!strncmp(runtime_id, prefixes[i], n)) {
			p = runtime_id + n;
			break;
		}
	}
	/* The cgroup path holds the id in lowercase hex; anything else could not
	 * match it, and must not reach a path or a log line as is. */
	if (!p || !is_hex64(p, strlen(p)))
		return false;
	for (int i = 0; i < 64; i++)
		id[i] = (char)((p[i] >= 'A' && p[i] <= 'F') ? p[i] - 'A' + 'a' : p[i]);
	id[64] = '\0';
	return true;
}

/* Containers of one spec list, with their ids from the matching status list. */
static void add_containers(struct k8s_pod_meta *m, struct json_object *spec,
			   struct json_object *status, const char *spec_key, const char *status_key)
{
	struct json_object *list = member(spec, spec_key, json_type_array);
	struct json_object *statuses = member(status, status_key, json_type_array);
	size_t n = list ? json_object_array_length(list) : 0;
	size_t ns = statuses ? json_object_array_length(statuses) : 0;

	for (size_t i = 0; i < n && m->ncontainers < K8S_MAX_CONTAINERS; i++) {
		struct json_object *c = json_object_array_get_idx(list, i);
		struct k8s_container *out = &m->containers[m->ncontainers];

		if (!get_str(c, "name", out->name, sizeof(out->name)) || !out->name[0])
			continue;
		out->id[0] = '\0';
		for (size_t j = 0; j < ns; j++) {
			struct json_object *st = json_object_array_get_idx(statuses, j);
			char name[K8S_LABEL_LEN], rid[128];

			get_str(st, "name", name, sizeof(name));
			if (strcmp(name, out->name))
				continue;
			/* containerID appears once the runtime has created the
			 * container; a pending pod has none yet. */
			if (get_str(st, "containerID", rid, sizeof(rid)))
				pod_json_container_id(rid, out->id);
			break;
		}
		m->ncontainers++;
	}
}

static void add_annotations(struct k8s_pod_meta *m, struct json_object *annotations)
{
	const size_t plen = strlen(OTEL_ANNOTATION_PREFIX);

	if (!annotations || !json_object_is_type(annotations, json_type_object))
		return;
	json_object_object_foreach(annotations, key, val)
	{
		const char *k = key + plen;
		struct k8s_attr *a;

		if (strncmp(key, OTEL_ANNOTATION_PREFIX, plen) || !*k ||
		    !json_object_is_type(val, json_type_string))
			continue;
		if (!strcmp(k, "service.name")) {
			k8s_copy_str(m->service_annotation, sizeof(m->service_annotation),
				     json_object_get_string(val),
				     (size_t)json_object_get_string_len(val));
			continue;
		}
		/* A key cut short would be another attribute: leave it out. */
		if (m->nextra >= K8S_MAX_EXTRA_ATTRS || strlen(k) >= sizeof(a->key))
			continue;
		a = &m->extra[m->nextra++];
		k8s_copy_str(a->key, sizeof(a->key), k, strlen(k));
		k8s_copy_str(a->value, sizeof(a->value), json_object_get_string(val),
			     (size_t)json_object_get_string_len(val));
	}
}

/* The ownerReference with controller: true, else the first one. */
static struct json_object *controller_ref(struct json_object *meta)
{
	struct json_object *refs = member(meta, "ownerReferences", json_type_array);
	size_t n = refs ? json_object_array_length(refs) : 0;
	struct json_object *first = NULL;

	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(refs, i);
		struct json_object *ctl = member(r, "controller", json_type_boolean);

		if (!json_object_is_type(r, json_type_object))
			continue;
		if (ctl && json_object_get_boolean(ctl))
			return r;
		if (!first)
			first = r;
	}
	return first;
}

static void set_owner(struct k8s_pod *p)
{
	struct {
		const char *kind;
		char *field;
	} map[] = {
		{ "ReplicaSet", p->meta.replicaset },
		{ "StatefulSet", p->meta.statefulset },
		{ "DaemonSet", p->meta.daemonset },
		{ "Job", p->meta.job },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!strcmp(p->owner_kind, map[i].kind)) {
			/* Same size fields (K8S_NAME_LEN): no cut. */
			strcpy(map[i].field, p->owner_name);
			return;
		}
	}
}

static int pod_from_object(struct json_object *obj, struct k8s_pod *p, char *err, size_t errlen)
{
	struct json_object *meta = member(obj, "metadata", json_type_object);
	struct json_object *spec = member(obj, "spec", json_type_object);
	struct json_object *status = member(obj, "status", json_type_object);
	struct json_object *labels = member(meta, "labels", json_type_object);
	struct json_object *owner;
	char kind[K8S_KIND_LEN];

	memset(p, 0, sizeof(*p));
	if (get_str(obj, "kind", kind, sizeof(kind)) && strcmp(kind, "Pod"))
		return k8s_fail(err, errlen, "expected a Pod, got a %s", kind);
	if (!meta)
		return k8s_fail(err, errlen, "pod without metadata");
	if (!get_str(meta, "uid", p->meta.uid, sizeof(p->meta.uid)) || !p->meta.uid[0])
		return k8s_fail(err, errlen, "pod without metadata.uid");
	if (!get_str(meta, "name", p->meta.name, sizeof(p->meta.name)) || !p->meta.name[0])
		return k8s_fail(err, errlen, "pod %s without metadata.name", p->meta.uid);
	if (!get_str(meta, "namespace", p->meta.namespace_, sizeof(p->meta.namespace_)) ||
	    !p->meta.namespace_[0])
		return k8s_fail(err, errlen, "pod %s without metadata.namespace", p->meta.uid);
	get_str_whole(meta, "resourceVersion", p->resource_version, sizeof(p->resource_version));
	p->deleting = member(meta, "deletionTimestamp", json_type_string) != NULL;
	get_str(spec, "nodeName", p->meta.node, sizeof(p->meta.node));
	get_str(status, "phase", p->phase, sizeof(p->phase));
	get_str(labels, "app.kubernetes.io/name", p->meta.app_name_label,
		sizeof(p->meta.app_name_label));
	get_str(labels, "pod-template-hash", p->template_hash, sizeof(p->template_hash));
	add_annotations(&p->meta, member(meta, "annotations", json_type_object));

	owner = controller_ref(meta);
	if (owner) {
		get_str(owner, "kind", p->owner_kind, sizeof(p->owner_kind));
		get_str(owner, "name", p->owner_name, sizeof(p->owner_name));
		set_owner(p);
	}

	/* Regular containers first: if a pod has more than fit, those are the ones
	 * that serve traffic. */
	add_containers(&p->meta, spec, status, "containers", "containerStatuses");
	add_containers(&p->meta, spec, status, "initContainers", "initContainerStatuses");
	add_containers(&p->meta, spec, status, "ephemeralContainers", "ephemeralContainerStatuses");
	return 0;
}

int pod_json_parse(const char *text, size_t len, struct k8s_pod *out, char *err, size_t errlen)
{
	struct json_object *obj = parse(text, len, err, errlen);
	int ret;

	if (!obj)
		return -EINVAL;
	ret = pod_from_object(obj, out, err, errlen);
	json_object_put(obj);
	return ret;
}

int pod_json_parse_list(const char *text, size_t len, pod_json_item_fn fn, void *arg, char *rv,
			size_t rvlen, char *cont, size_t contlen, int *skipped, char *err,
			size_t errlen)
{
	struct json_object *obj = parse(text, len, err, errlen);
	struct json_object *meta, *items;
	struct k8s_pod pod;
	char kind[K8S_KIND_LEN];
	size_t n;
	int ret = 0;

	rv[0] = cont[0] = '\0';
	if (skipped)
		*skipped = 0;
	if (!obj)
		return -EINVAL;
	if (get_str(obj, "kind", kind, sizeof(kind)) && strcmp(kind, "PodList")) {
		ret = k8s_fail(err, errlen, "expected a PodList, got a %s", kind);
		goto out;
	}
	meta = member(obj, "metadata", json_type_object);
	items = member(obj, "items", json_type_array);
	/* An empty list may come as "items": null (json-c holds null as NULL). */
	if (!items && !(json_object_object_get_ex(obj, "items", &items) && !items)) {
		ret = k8s_fail(err, errlen, "list without items");
		goto out;
	}
	if (!get_str_whole(meta, "resourceVersion", rv, rvlen) || !rv[0]) {
		ret = k8s_fail(err, errlen, "list without a usable metadata.resourceVersion");
		goto out;
	}
	if (member(meta, "continue", json_type_string) &&
	    !get_str_whole(meta, "continue", cont, contlen)) {
		ret = k8s_fail(err, errlen, "list continue token longer than %zu bytes",
			       contlen - 1);
		goto out;
	}
	n = items ? json_object_array_length(items) : 0;
	for (size_t i = 0; i < n; i++) {
		if (pod_from_object(json_object_array_get_idx(items, i), &pod, NULL, 0)) {
			if (skipped)
				(*skipped)++;
			continue;
		}
		ret = fn(&pod, arg);
		if (ret)
			break;
	}
out:
	json_object_put(obj);
	return ret;
}

static int status_from_object(struct json_object *obj, int *code, char *reason, size_t reasonlen,
			      char *message, size_t messagelen)
{
	struct json_object *c = member(obj, "code", json_type_int);
	char kind[K8S_KIND_LEN];

	get_str(obj, "kind", kind, sizeof(kind));
	if (strcmp(kind, "Status"))
		return -EINVAL;
	*code = c ? (int)json_object_get_int(c) : 0;
	get_str(obj, "reason", reason, reasonlen);
	get_str(obj, "message", message, messagelen);
	return 0;
}

int pod_json_status(const char *text, size_t len, int *code, char *reason, size_t reasonlen,
		    char *message, size_t messagelen)
{
	struct json_object *obj = parse(text, len, NULL, 0);
	int ret;

	*code = 0;
	reason[0] = message[0] = '\0';
	if (!obj)
		return -EINVAL;
	ret = status_from_object(obj, code, reason, reasonlen, message, messagelen);
	json_object_put(obj);
	return ret;
}

int pod_json_parse_event(const char *line, size_t len, struct k8s_watch_event *ev, char *err,
			 size_t errlen)
{
	static const char *const types[] = {
		[K8S_EVENT_ADDED] = "ADDED",	 [K8S_EVENT_MODIFIED] = "MODIFIED",
		[K8S_EVENT_DELETED] = "DELETED", [K8S_EVENT_BOOKMARK] = "BOOKMARK",
		[K8S_EVENT_ERROR] = "ERROR",
	};
	struct json_object *obj = parse(line, len, err, errlen);
	struct json_object *o;
	char type[16];
	int ret = 0;
	size_t i;

	memset(ev, 0, sizeof(*ev));
	if (!obj)
		return -EINVAL;
	get_str(obj, "type", type, sizeof(type));
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (!strcmp(type, types[i]))
			break;
	}
	if (i == sizeof(types) / sizeof(types[0])) {
		ret = k8s_fail(err, errlen, "watch event of unknown type '%s'", type);
		goto out;
	}
	ev->type = (enum k8s_event_type)i;
	o = member(obj, "object", json_type_object);
	if (!o) {
		ret = k8s_fail(err, errlen, "%s watch event without an object", type);
		goto out;
	}
	switch (ev->type) {
	case K8S_EVENT_BOOKMARK:
		/* A bookmark's object is a Pod with only metadata.resourceVersion
		 * (and the initial-events-end annotation): nothing else is real. */
		if (!get_str_whole(member(o, "metadata", json_type_object), "resourceVersion",
				   ev->pod.resource_version, sizeof(ev->pod.resource_version)) ||
		    !ev->pod.resource_version[0])
			ret = k8s_fail(err, errlen, "BOOKMARK without metadata.resourceVersion");
		break;
	case K8S_EVENT_ERROR:
		if (status_from_object(o, &ev->code, ev->reason, sizeof(ev->reason), ev->message,
				       sizeof(ev->message)))
			ret = k8s_fail(err, errlen, "ERROR watch event without a Status");
		break;
	default:
		ret = pod_from_object(o, &ev->pod, err, errlen);
		break;
	}
out:
	json_object_put(obj);
	return ret;
}

int pod_json_controller(const char *text, size_t len, char *kind, size_t kindlen, char *name,
			size_t namelen, char *err, size_t errlen)
{
	struct json_object *obj = parse(text, len, err, errlen);
	struct json_object *ref;

	kind[0] = name[0] = '\0';
	if (!obj)
		return -EINVAL;
	ref = controller_ref(member(obj, "metadata", json_type_object));
	if (ref) {
		get_str(ref, "kind", kind, kindlen);
		get_str(ref, "name", name, namelen);
	}
	json_object_put(obj);
	return 0;
}
