/* SPDX-License-Identifier: MIT */
/* Builders shared by the trace and metric encoders (KeyValue, Resource, scope). */
#ifndef SONDE_OTLP_COMMON_H
#define SONDE_OTLP_COMMON_H

#include "export/arena.h"
#include "otlp_common.pb-c.h"
#include "host/resource.h"
#include "spans/span_attrs.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;
typedef Opentelemetry__Proto__Common__V1__Resource otlp_resource;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope otlp_scope;

otlp_kv *otlp_kv_str(struct arena *a, const char *key, const char *value);
otlp_kv *otlp_kv_int(struct arena *a, const char *key, int64_t value);
otlp_kv *otlp_kv_bool(struct arena *a, const char *key, bool value);
otlp_resource *otlp_resource_of(struct arena *a, const struct resource *r);
otlp_scope *otlp_scope_sonde(struct arena *a);

#endif /* SONDE_OTLP_COMMON_H */
