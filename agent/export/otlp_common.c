/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "export/otlp_common.h"

static otlp_kv *kv_new(struct arena *a, const char *key)
{
	otlp_kv *kv = arena_alloc(a, sizeof(*kv));
	otlp_any *v = arena_alloc(a, sizeof(*v));

	if (!kv || !v)
		return NULL;
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(v);
	kv->key = (char *)key;
	kv->value = v;
	return kv;
}

otlp_kv *otlp_kv_str(struct arena *a, const char *key, const char *value)
{
	otlp_kv *kv = kv_new(a, key);

	if (kv) {
		kv->value->value_case =
			OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		kv->value->string_value = (char *)value;
	}
	return kv;
}

otlp_kv *otlp_kv_int(struct arena *a, const char *key, int64_t value)
{
	otlp_kv *kv = kv_new(a, key);

	if (kv) {
		kv->value->value_case =
			OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
		kv->value->int_value = value;
	}
	return kv;
}

otlp_kv *otlp_kv_bool(struct arena *a, const char *key, bool value)
{
	otlp_kv *kv = kv_new(a, key);

	if (kv) {
		kv->value->value_case =
			OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
		kv->value->bool_value = value;
	}
	return kv;
}

otlp_resource *otlp_resource_of(struct arena *a, const struct resource *r)
{
	otlp_resource *res = arena_alloc(a, sizeof(*res));
	otlp_kv **kvs = arena_alloc(a, sizeof(*kvs) * (size_t)(r->nattrs ? r->nattrs : 1));

	if (!res || !kvs)
		return NULL;
	opentelemetry__proto__common__v1__resource__init(res);
	for (int i = 0; i < r->nattrs; i++) {
		const struct resource_attr *ra = &r->attrs[i];
		otlp_kv *kv = ra->is_int ? otlp_kv_int(a, ra->key, strtoll(ra->value, NULL, 10))
					 : otlp_kv_str(a, ra->key, ra->value);

		if (!kv)
			return NULL;
		kvs[res->n_attributes++] = kv;
	}
	res->attributes = kvs;
	return res;
}

otlp_scope *otlp_scope_sonde(struct arena *a)
{
	otlp_scope *s = arena_alloc(a, sizeof(*s));

	if (!s)
		return NULL;
	opentelemetry__proto__common__v1__instrumentation_scope__init(s);
	s->name = "sonde";
	s->version = SONDE_VERSION;
	return s;
}
