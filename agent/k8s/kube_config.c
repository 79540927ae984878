/* SPDX-License-Identifier: MIT */
/*
 * Kubernetes client configuration, the pure part: a kubeconfig's text (the
 * fields of clientcmd/api/v1: clusters, users, contexts, current-context), an
 * exec plugin's ExecCredential, copies. The files a kubeconfig names are checked
 * through the caller's function; reading files and the environment is
 * kube_config_load.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <yaml.h>

#include "k8s/kube_config.h"
#include "k8s/pod_json.h"
#include "util/url.h"

#define PEM_MAX (1 << 20)

void kube_config_free(struct kube_config *c)
{
	if (!c)
		return;
	free(c->token);
	free(c->ca_data);
	free(c->cert_data);
	free(c->key_data);
	free(c->exec.command);
	for (int i = 0; i < c->exec.nargs; i++)
		free(c->exec.args[i]);
	for (int i = 0; i < c->exec.nenv; i++)
		free(c->exec.env[i]);
	memset(c, 0, sizeof(*c));
}

void kube_exec_cred_free(struct kube_exec_cred *cred)
{
	if (!cred)
		return;
	free(cred->token);
	free(cred->cert_data);
	free(cred->key_data);
	memset(cred, 0, sizeof(*cred));
}

static int dup_mem(char **dst, const char *src, size_t len)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = malloc(len + 1);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, len);
	(*dst)[len] = '\0';
	return 0;
}

int kube_config_copy(struct kube_config *dst, const struct kube_config *src)
{
	int err = 0;

	*dst = *src;
	dst->token = dst->ca_data = dst->cert_data = dst->key_data = dst->exec.command = NULL;
	dst->exec.nargs = dst->exec.nenv = 0;
	err = err ?: dup_mem(&dst->token, src->token, src->token ? strlen(src->token) : 0);
	err = err ?: dup_mem(&dst->ca_data, src->ca_data, src->ca_data_len);
	err = err ?: dup_mem(&dst->cert_data, src->cert_data, src->cert_data_len);
	err = err ?: dup_mem(&dst->key_data, src->key_data, src->key_data_len);
	err = err
		      ?: dup_mem(&dst->exec.command, src->exec.command,
				 src->exec.command ? strlen(src->exec.command) : 0);
	for (int i = 0; !err && i < src->exec.nargs; i++) {
		err = dup_mem(&dst->exec.args[i], src->exec.args[i], strlen(src->exec.args[i]));
		if (!err)
			dst->exec.nargs++;
	}
	for (int i = 0; !err && i < src->exec.nenv; i++) {
		err = dup_mem(&dst->exec.env[i], src->exec.env[i], strlen(src->exec.env[i]));
		if (!err)
			dst->exec.nenv++;
	}
	if (err)
		kube_config_free(dst);
	return err;
}

/* RFC 4648 base64, white space ignored (some tools wrap long lines). */
static int base64_decode(const char *in, char **out, size_t *outlen)
{
	size_t n = strlen(in), o = 0;
	unsigned acc = 0;
	int bits = 0, pad = 0;
	char *buf = malloc(n / 4 * 3 + 4);

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char ch = in[i];
		int v;

		if (isspace((unsigned char)ch))
			continue;
		if (ch == '=') {
			pad++;
			continue;
		}
		if (pad)
			goto bad; /* data after padding */
		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '+')
			v = 62;
		else if (ch == '/')
			v = 63;
		else
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6 || pad > 2)
		goto bad;
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}

/* Walking the kubeconfig document. */
struct kc {
	yaml_document_t doc;
	const char *path;
	char dir[PATH_MAX];
	kube_file_check_fn check;
	void *check_arg;
	char *err;
	size_t errlen;
};

static yaml_node_t *node(struct kc *k, int id)
{
	return id ? yaml_document_get_node(&k->doc, id) : NULL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value under key in a mapping, or NULL. */
static yaml_node_t *get(struct kc *k, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *name = scalar(node(k, p->key));

		if (name && !strcmp(name, key))
			return node(k, p->value);
	}
	return NULL;
}

/* A scalar under key: NULL when absent, empty or null. */
static const char *get_str(struct kc *k, yaml_node_t *map, const char *key)
{
	const char *s = scalar(get(k, map, key));

	if (!s || !*s || !strcmp(s, "~") || !strcmp(s, "null"))
		return NULL;
	return s;
}

/* The entry named name in clusters/users/contexts, and its inner mapping. */
static yaml_node_t *named(struct kc *k, const char *list, const char *inner, const char *name)
{
	yaml_node_t *seq = get(k, node(k, 1), list);

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *e = node(k, *it);
		const char *n = get_str(k, e, "name");

		if (n && !strcmp(n, name)) {
			yaml_node_t *m = get(k, e, inner);

			return m && m->type == YAML_MAPPING_NODE ? m : NULL;
		}
	}
	return NULL;
}

/* A path from the kubeconfig: relative ones are relative to its directory. */
static int resolve(struct kc *k, const char *p, char *out, size_t size, const char *field)
{
	int n;

	if (p[0] == '/')
		n = snprintf(out, size, "%s", p);
	else
		n = snprintf(out, size, "%s/%s", k->dir, p);
	if (n < 0 || (size_t)n >= size)
		return k8s_fail(k->err, k->errlen, "%s: %s: path too long", k->path, field);
	return 0;
}

/* A file the kubeconfig names, through the caller's check (none: all are
 * fine). The message names the field and the file; a certificate or key keeps
 * the check's -errno (-ENOENT, -EACCES), a token file that cannot be used is
 * -EINVAL. */
static int check_file(struct kc *k, const char *field, const char *file, enum kube_file what)
{
	char why[256];
	int ret;

	if (!k->check)
		return 0;
	why[0] = '\0';
	ret = k->check(k->check_arg, file, what, why, sizeof(why));
	if (!ret)
		return 0;
	k8s_fail(k->err, k->errlen, "%s: %s %s: %s", k->path, field, file, why);
	return what == KUBE_FILE_TOKEN ? -EINVAL : ret;
}

static int decode_field(struct kc *k, const char *b64, char **data, size_t *len, const char *field)
{
	int ret = base64_decode(b64, data, len);

	if (ret == -ENOMEM)
		return ret;
	if (ret || !*len) {
		free(*data);
		*data = NULL;
		return k8s_fail(k->err, k->errlen, "%s: %s is not valid base64", k->path, field);
	}
	return 0;
}

static int load_cluster(struct kc *k, struct kube_config *c, yaml_node_t *cl, const char *name)
{
	const char *server = get_str(k, cl, "server");
	const char *v;
	char field[K8S_NAME_LEN + 64];
	int ret;
	size_t n;

	if (!server)
		return k8s_fail(k->err, k->errlen, "%s: clusters[%s].cluster.server is missing",
				k->path, name);
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7))
		return k8s_fail(k->err, k->errlen,
				"%s: clusters[%s].cluster.server %s is not an http(s) URL", k->path,
				name, server);
	n = url_trimmed_len(server);
	if (n >= sizeof(c->server))
		return k8s_fail(k->err, k->errlen, "%s: clusters[%s].cluster.server is too long",
				k->path, name);
	memcpy(c->server, server, n);
	c->server[n] = '\0';

	v = get_str(k, cl, "insecure-skip-tls-verify");
	c->insecure = v && !strcmp(v, "true");

	snprintf(field, sizeof(field), "clusters[%s].cluster.certificate-authority-data", name);
	if ((v = get_str(k, cl, "certificate-authority-data"))) {
		ret = decode_field(k, v, &c->ca_data, &c->ca_data_len, field);
		if (ret)
			return ret;
	} else if ((v = get_str(k, cl, "certificate-authority"))) {
		snprintf(field, sizeof(field), "clusters[%s].cluster.certificate-authority", name);
		ret = resolve(k, v, c->ca_file, sizeof(c->ca_file), field);
		if (ret)
			return ret;
		return check_file(k, field, c->ca_file, KUBE_FILE_PEM);
	}
	return 0;
}

static int add_str(char **slot, const char *s)
{
	return dup_mem(slot, s, strlen(s));
}

static int load_exec(struct kc *k, struct kube_config *c, yaml_node_t *ex, const char *name)
{
	const char *cmd = get_str(k, ex, "command");
	const char *api = get_str(k, ex, "apiVersion");
	const char *mode = get_str(k, ex, "interactiveMode");
	yaml_node_t *args = get(k, ex, "args");
	yaml_node_t *env = get(k, ex, "env");
	char path[PATH_MAX];
	int ret;

	if (!cmd)
		return k8s_fail(k->err, k->errlen, "%s: users[%s].user.exec.command is missing",
				k->path, name);
	if (!api)
		return k8s_fail(k->err, k->errlen, "%s: users[%s].user.exec.apiVersion is missing",
				k->path, name);
	if (strcmp(api, KUBE_EXEC_V1) && strcmp(api, KUBE_EXEC_V1BETA1))
		return k8s_fail(k->err, k->errlen,
				"%s: users[%s].user.exec.apiVersion %s is not supported (use %s)",
				k->path, name, api, KUBE_EXEC_V1);
	/* The agent has no terminal to answer a prompt on. */
	if (mode && !strcmp(mode, "Always"))
		return k8s_fail(k->err, k->errlen,
				"%s: users[%s].user.exec.interactiveMode Always needs a terminal",
				k->path, name);
	snprintf(c->exec.api_version, sizeof(c->exec.api_version), "%s", api);
	/* As kubectl: a command with a slash in it is relative to the kubeconfig's
	 * directory, a bare name is looked up in PATH. */
	if (strchr(cmd, '/') && cmd[0] != '/') {
		ret = resolve(k, cmd, path, sizeof(path), "exec.command");
		if (ret)
			return ret;
		cmd = path;
	}
	ret = add_str(&c->exec.command, cmd);
	if (ret)
		return ret;
	if (args && args->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = args->data.sequence.items.start;
		     it < args->data.sequence.items.top; it++) {
			const char *a = scalar(node(k, *it));

			if (!a || c->exec.nargs >= KUBE_EXEC_MAX_ARGS)
				return k8s_fail(k->err, k->errlen,
						"%s: users[%s].user.exec.args: at most %d strings",
						k->path, name, KUBE_EXEC_MAX_ARGS);
			ret = add_str(&c->exec.args[c->exec.nargs], a);
			if (ret)
				return ret;
			c->exec.nargs++;
		}
	}
	if (env && env->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = env->data.sequence.items.start;
		     it < env->data.sequence.items.top; it++) {
			yaml_node_t *e = node(k, *it);
			const char *n = get_str(k, e, "name");
			const char *v = scalar(get(k, e, "value"));
			char *kv;

			if (!n || strchr(n, '=') || c->exec.nenv >= KUBE_EXEC_MAX_ENV)
				return k8s_fail(k->err, k->errlen,
						"%s: users[%s].user.exec.env: expected at most %d "
						"name/value pairs",
						k->path, name, KUBE_EXEC_MAX_ENV);
			if (asprintf(&kv, "%s=%s", n, v ? v : "") < 0)
				return -ENOMEM;
			c->exec.env[c->exec.nenv++] = kv;
		}
	}
	c->has_exec = true;
	return 0;
}

/* client-certificate(-data) or client-key(-data). */
static int load_pem(struct kc *k, yaml_node_t *u, const char *name, const char *key, char *file,
		    size_t filesize, char **data, size_t *datalen)
{
	char dkey[64], field[K8S_NAME_LEN + 64];
	const char *v;
	int ret;

	snprintf(dkey, sizeof(dkey), "%s-data", key);
	if ((v = get_str(k, u, dkey))) {
		snprintf(field, sizeof(field), "users[%s].user.%s", name, dkey);
		return decode_field(k, v, data, datalen, field);
	}
	if ((v = get_str(k, u, key))) {
		snprintf(field, sizeof(field), "users[%s].user.%s", name, key);
		ret = resolve(k, v, file, filesize, field);
		if (ret)
			return ret;
		return check_file(k, field, file, KUBE_FILE_PEM);
	}
	return 0;
}

static int load_user(struct kc *k, struct kube_config *c, yaml_node_t *u, const char *name)
{
	yaml_node_t *ap = get(k, u, "auth-provider");
	yaml_node_t *ex = get(k, u, "exec");
	const char *v;
	char field[K8S_NAME_LEN + 64];
	int ret;

	if (ap) {
		const char *apn = get_str(k, ap, "name");

		return k8s_fail(
			k->err, k->errlen,
			"%s: users[%s].user.auth-provider%s%s%s is not supported: use an exec "
			"credential plugin",
			k->path, name, apn ? " (" : "", apn ? apn : "", apn ? ")" : "");
	}
	if (get(k, u, "username") || get(k, u, "password"))
		return k8s_fail(
			k->err, k->errlen,
			"%s: users[%s].user.username/password (basic auth) is not supported",
			k->path, name);
	if ((v = get_str(k, u, "token"))) {
		ret = add_str(&c->token, v);
		if (ret)
			return ret;
	}
	if ((v = get_str(k, u, "tokenFile"))) {
		snprintf(field, sizeof(field), "users[%s].user.tokenFile", name);
		ret = resolve(k, v, c->token_file, sizeof(c->token_file), field);
		if (!ret)
			ret = check_file(k, field, c->token_file, KUBE_FILE_TOKEN);
		if (ret)
			return ret;
	}
	ret = load_pem(k, u, name, "client-certificate", c->cert_file, sizeof(c->cert_file),
		       &c->cert_data, &c->cert_data_len);
	if (!ret)
		ret = load_pem(k, u, name, "client-key", c->key_file, sizeof(c->key_file),
			       &c->key_data, &c->key_data_len);
	if (ret)
		return ret;
	if ((c->cert_file[0] || c->cert_data) != (c->key_file[0] || c->key_data))
		return k8s_fail(
			k->err, k->errlen,
			"%s: users[%s].user has a client certificate without its key, or a key "
			"without its certificate",
			k->path, name);
	if (ex && ex->type == YAML_MAPPING_NODE) {
		ret = load_exec(k, c, ex, name);
		if (ret)
			return ret;
	}
	return 0;
}

static int load_doc(struct kc *k, struct kube_config *c, const char *context)
{
	yaml_node_t *root = node(k, 1), *ctx, *cl, *u;
	const char *cluster_name, *user_name, *ns;
	int ret;

	if (!root || root->type != YAML_MAPPING_NODE)
		return k8s_fail(k->err, k->errlen, "%s: not a kubeconfig (expected a mapping)",
				k->path);
	if (!context) {
		context = get_str(k, root, "current-context");
		if (!context)
			return k8s_fail(k->err, k->errlen,
					"%s: current-context is not set and no context was given",
					k->path);
	}
	ctx = named(k, "contexts", "context", context);
	if (!ctx)
		return k8s_fail(k->err, k->errlen, "%s: context '%s' not found in contexts",
				k->path, context);
	cluster_name = get_str(k, ctx, "cluster");
	if (!cluster_name)
		return k8s_fail(k->err, k->errlen, "%s: contexts[%s].context.cluster is missing",
				k->path, context);
	cl = named(k, "clusters", "cluster", cluster_name);
	if (!cl)
		return k8s_fail(k->err, k->errlen,
				"%s: cluster '%s' (of context '%s') not found in clusters", k->path,
				cluster_name, context);
	snprintf(c->source, sizeof(c->source), "%s context %s", k->path, context);
	ns = get_str(k, ctx, "namespace");
	snprintf(c->namespace_, sizeof(c->namespace_), "%s", ns ? ns : "default");
	ret = load_cluster(k, c, cl, cluster_name);
	if (ret)
		return ret;
	/* A context without a user is anonymous access, which is legal. */
	user_name = get_str(k, ctx, "user");
	if (user_name) {
		u = named(k, "users", "user", user_name);
		if (!u)
			return k8s_fail(k->err, k->errlen,
					"%s: user '%s' (of context '%s') not found in users",
					k->path, user_name, context);
		return load_user(k, c, u, user_name);
	}
	return 0;
}

int kube_config_parse(struct kube_config *c, const char *text, size_t len, const char *path,
		      const char *context, kube_file_check_fn check, void *check_arg, char *err,
		      size_t errlen)
{
	struct kc k = {
		.path = path, .check = check, .check_arg = check_arg, .err = err, .errlen = errlen
	};
	yaml_parser_t parser;
	const char *slash;
	int ret;

	memset(c, 0, sizeof(*c));
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(k.dir, sizeof(k.dir), ".");
	else if (slash == path)
		snprintf(k.dir, sizeof(k.dir), "/");
	else
		snprintf(k.dir, sizeof(k.dir), "%.*s", (int)(slash - path), path);

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &k.doc)) {
		ret = k8s_fail(err, errlen, "%s:%zu: %s", path, parser.problem_mark.line + 1,
			       parser.problem ? parser.problem : "yaml syntax error");
		yaml_parser_delete(&parser);
		return ret;
	}
	ret = load_doc(&k, c, context);
	yaml_document_delete(&k.doc);
	yaml_parser_delete(&parser);
	if (ret)
		kube_config_free(c);
	return ret;
}

int kube_parse_time(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0;
	long off = 0;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    !n)
		return -EINVAL;
	s += n;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int oh, om;

		if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2 || strlen(s) != 6)
			return -EINVAL;
		off = (oh * 60L + om) * 60L * (*s == '+' ? 1 : -1);
		s += 6;
	} else {
		return -EINVAL;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = t - off;
	return 0;
}

static const char *json_str(struct json_object *o, const char *key, size_t *len)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(v);
	return *len ? json_object_get_string(v) : NULL;
}

int kube_exec_cred_parse(const char *json, size_t len, const char *want_api_version,
			 struct kube_exec_cred *out, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	struct json_object *obj = NULL, *status = NULL;
	const char *s;
	size_t n;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!tok)
		return -ENOMEM;
	if (len > PEM_MAX) {
		json_tokener_free(tok);
		return k8s_fail(err, errlen, "ExecCredential of %zu bytes is too large", len);
	}
	obj = json_tokener_parse_ex(tok, json, (int)len);
	json_tokener_free(tok);
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		ret = k8s_fail(err, errlen, "the output is not an ExecCredential JSON object");
		goto out;
	}
	s = json_str(obj, "kind", &n);
	if (!s || strcmp(s, "ExecCredential")) {
		ret = k8s_fail(err, errlen, "the output has kind %s, not ExecCredential",
			       s ? s : "(none)");
		goto out;
	}
	s = json_str(obj, "apiVersion", &n);
	if (want_api_version && (!s || strcmp(s, want_api_version))) {
		ret = k8s_fail(err, errlen,
			       "the output has apiVersion %s, the kubeconfig asked for %s",
			       s ? s : "(none)", want_api_version);
		goto out;
	}
	if (!json_object_object_get_ex(obj, "status", &status) ||
	    !json_object_is_type(status, json_type_object)) {
		ret = k8s_fail(err, errlen, "ExecCredential without status");
		goto out;
	}
	if ((s = json_str(status, "token", &n))) {
		if (memchr(s, '\r', n) || memchr(s, '\n', n) || strlen(s) != n) {
			ret = k8s_fail(err, errlen,
				       "ExecCredential status.token has control characters");
			goto out;
		}
		ret = dup_mem(&out->token, s, n);
	}
	if (!ret && (s = json_str(status, "clientCertificateData", &n)))
		ret = dup_mem(&out->cert_data, s, n);
	if (!ret && (s = json_str(status, "clientKeyData", &n)))
		ret = dup_mem(&out->key_data, s, n);
	if (ret)
		goto out;
	if (!out->token && !(out->cert_data && out->key_data)) {
		ret = k8s_fail(err, errlen,
			       "ExecCredential has neither status.token nor "
			       "status.clientCertificateData and clientKeyData");
		goto out;
	}
	if ((s = json_str(status, "expirationTimestamp", &n))) {
		if (kube_parse_time(s, &out->expiry)) {
			ret = k8s_fail(err, errlen,
				       "ExecCredential status.expirationTimestamp '%s' is "
				       "not an RFC 3339 time",
				       s);
			goto out;
		}
		out->has_expiry = true;
	}
out:
	json_object_put(obj);
	if (ret)
		kube_exec_cred_free(out);
	return ret;
}
