/* SPDX-License-Identifier: MIT */
#include "util/json_member.h"

struct json_object *json_member(struct json_object *obj, const char *key, enum json_type want)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, want))
		return NULL;
	return v;
}
