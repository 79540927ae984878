/* SPDX-License-Identifier: MIT */
/*
 * The YAML file layer: nested mappings whose paths are the setting keys, so
 * `exporter: {otlp: {endpoint: …}}` and `exporter.otlp.endpoint: …` mean the
 * same. Each value goes through config_set(), the same door as the
 * environment and the flags; this file only walks the document and puts
 * "file:line: " in front of messages. The file is read by config_load.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "config/config.h"

struct walk {
	struct sonde_config *c;
	yaml_document_t *doc;
	const char *name;
	char *err;
	size_t errlen;
};

static size_t line_of(const yaml_node_t *node)
{
	return node->start_mark.line + 1;
}

__attribute__((format(printf, 3, 4))) static int fail(struct walk *w, const yaml_node_t *node,
						      const char *fmt, ...)
{
	char msg[CONFIG_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(w->err, w->errlen, "%s:%zu: %s", w->name, line_of(node), msg);
	return -EINVAL;
}

static const char *text_of(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* A key with nothing after it ("endpoint:"), ~ or null leaves the setting as
 * the lower layers have it, as an empty environment variable does. */
static bool is_null(const yaml_node_t *node)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		if (!strcmp(text_of(node), nulls[i]))
			return true;
	}
	return false;
}

/* config_set() or config_add() with the file and line in front of the message. */
static int apply(struct walk *w, const yaml_node_t *at, const char *key, const char *value,
		 bool add)
{
	char msg[CONFIG_ERR_LEN];
	int ret;

	if (add)
		ret = config_add(w->c, key, value, key, msg, sizeof(msg));
	else
		ret = config_set(w->c, key, value, key, msg, sizeof(msg));
	if (ret)
		snprintf(w->err, w->errlen, "%s:%zu: %s", w->name, line_of(at), msg);
	return ret;
}

/* A mapping under a k=v setting (headers, resource.attributes). Each pair goes
 * through the "k=v" parser; the value is %-encoded so that commas, '=' and '%'
 * in it stay part of it. */
/* Whether the pair p repeats an earlier key of its mapping: YAML forbids it
 * (1.2, §3.2.1.1), and libyaml keeps both, so the first would be lost. */
static bool key_repeated(const struct walk *w, const yaml_node_t *map, const yaml_node_pair_t *p)
{
	const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);

	for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
		const yaml_node_t *e = yaml_document_get_node(w->doc, q->key);

		if (e->type == YAML_SCALAR_NODE && k->type == YAML_SCALAR_NODE &&
		    !strcmp(text_of(e), text_of(k)))
			return true;
	}
	return false;
}

static int apply_map(struct walk *w, const char *key, yaml_node_t *map)
{
	char item[CONFIG_KEY_LEN + 3 * CONFIG_VALUE_LEN + 2];
	int ret = apply(w, map, key, "", false);

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     !ret && p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		const char *kt, *vt;
		size_t o;

		if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE)
			return fail(w, k, "%s: expected key: value pairs", key);
		if (key_repeated(w, map, p))
			return fail(w, k, "%s: key '%s' given twice", key, text_of(k));
		kt = text_of(k);
		vt = is_null(v) ? "" : text_of(v);
		if (strpbrk(kt, ",=") || strlen(kt) >= CONFIG_KEY_LEN)
			return fail(w, k, "bad key '%s'", kt);
		if (strlen(vt) >= CONFIG_VALUE_LEN)
			return fail(w, v, "the value of '%s' is too long", kt);
		o = (size_t)snprintf(item, sizeof(item), "%s=", kt);
		for (; *vt; vt++)
			o += (size_t)snprintf(item + o, sizeof(item) - o, "%%%02X",
					      (unsigned char)*vt);
		ret = apply(w, v, key, item, true);
	}
	return ret;
}

/* A sequence under a list setting (select.pids, or "k=v" items of headers). */
static int apply_seq(struct walk *w, const char *key, yaml_node_t *seq)
{
	int ret = apply(w, seq, key, "", false);

	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     !ret && it < seq->data.sequence.items.top; it++) {
		yaml_node_t *v = yaml_document_get_node(w->doc, *it);

		if (v->type != YAML_SCALAR_NODE)
			return fail(w, v, "%s: expected a list of values", key);
		ret = apply(w, v, key, text_of(v), true);
	}
	return ret;
}

/* Is key the beginning of some setting's path ("exporter.otlp")? */
static bool is_section(const char *key)
{
	size_t n, len = strlen(key);
	const struct config_setting *s = config_settings(&n);

	for (size_t i = 0; i < n; i++) {
		if (!strncmp(s[i].key, key, len) && s[i].key[len] == '.')
			return true;
	}
	return false;
}

static int walk_map(struct walk *w, const char *prefix, yaml_node_t *map)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
		const struct config_setting *s;
		char key[2 * CONFIG_KEY_LEN];
		int ret;

		if (k->type != YAML_SCALAR_NODE)
			return fail(w, k, "%s", "expected a setting name");
		if (key_repeated(w, map, p))
			return fail(w, k, "'%s' given twice", text_of(k));
		if ((size_t)snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "",
				     text_of(k)) >= sizeof(key))
			return fail(w, k, "unknown setting '%s'", text_of(k));
		s = config_find(key);
		if (!s && v->type == YAML_MAPPING_NODE && is_section(key))
			ret = walk_map(w, key, v);
		else if (!s && is_section(key))
			ret = fail(w, v, "%s: expected a mapping of settings", key);
		else if (!s)
			ret = fail(w, k, "unknown setting '%s'", key);
		else if (v->type == YAML_SCALAR_NODE)
			ret = is_null(v) ? 0 : apply(w, v, key, text_of(v), false);
		else if (v->type == YAML_MAPPING_NODE && s->type == CONFIG_T_KV)
			ret = apply_map(w, key, v);
		else if (v->type == YAML_SEQUENCE_NODE &&
			 (s->type == CONFIG_T_KV || s->type == CONFIG_T_PIDS))
			ret = apply_seq(w, key, v);
		else
			ret = fail(w, v, "%s: expected a single value", key);
		if (ret)
			return ret;
	}
	return 0;
}

static int syntax_error(const yaml_parser_t *p, const char *name, char *err, size_t errlen)
{
	size_t line = p->problem_mark.line + 1;

	if (p->context)
		snprintf(err, errlen, "%s:%zu: %s %s (line %zu)", name, line,
			 p->problem ? p->problem : "syntax error", p->context,
			 p->context_mark.line + 1);
	else
		snprintf(err, errlen, "%s:%zu: %s", name, line,
			 p->problem ? p->problem : "syntax error");
	return -EINVAL;
}

int config_load_yaml_text(struct sonde_config *c, const char *text, size_t len, const char *name,
			  char *err, size_t errlen)
{
	struct walk w = { .c = c, .name = name, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc, next;
	yaml_node_t *root;
	int ret = 0;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = syntax_error(&parser, name, err, errlen);
		yaml_parser_delete(&parser);
		return ret;
	}
	w.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root && root->type != YAML_MAPPING_NODE)
		ret = fail(&w, root, "%s", "expected a mapping of settings");
	else if (root)
		ret = walk_map(&w, "", root);
	/* a second document would be silently ignored otherwise */
	if (!ret && !yaml_parser_load(&parser, &next)) {
		ret = syntax_error(&parser, name, err, errlen);
	} else if (!ret) {
		root = yaml_document_get_root_node(&next);
		if (root)
			ret = fail(&w, root, "%s", "more than one YAML document");
		yaml_document_delete(&next);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}
