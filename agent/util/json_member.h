/* SPDX-License-Identifier: MIT */
/* Reading JSON documents parsed with json-c: a member of the type expected. */
#ifndef SONDE_JSON_MEMBER_H
#define SONDE_JSON_MEMBER_H

#include <json-c/json.h>

/* The member key of obj when obj is an object and the member is of type
 * want, else NULL (obj may be NULL: lookups chain). */
struct json_object *json_member(struct json_object *obj, const char *key, enum json_type want);

#endif /* SONDE_JSON_MEMBER_H */
