/* SPDX-License-Identifier: MIT */
/*
 * Kubernetes client configuration. The kubeconfig fields are those of
 * clientcmd/api/v1 (clusters, users, contexts, current-context); in-cluster is
 * what rest.InClusterConfig reads. Nothing is run here.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <yaml.h>

#include "k8s/kube_config.h"
#include "k8s/pod_json.h"

/* A kubeconfig with a few embedded certificates is tens of kilobytes. */
#define KUBECONFIG_MAX (4 << 20)
/* A service-account JWT is about 1 KB; EKS tokens are a few. */
#define TOKEN_MAX (64 << 10)
#define PEM_MAX	  (1 << 20)

/* Reads a whole file of at most max bytes, NUL-terminated. */
static int read_file(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat st;
	char *b;
	size_t n = 0;
	ssize_t r;
	int fd, err;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	b = malloc(max + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		r = read(fd, b + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			free(b);
			close(fd);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(b);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

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

static void strip_space(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* Checks that a token file can be read and holds a usable token now; it is read
 * again for every request. */
static int check_token_file(const char *path, const char *field, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int ret = read_file(path, TOKEN_MAX, &buf, &len);

	if (ret) {
		k8s_fail(err, errlen, "%s %s: %s", field, path, strerror(-ret));
		return ret;
	}
	strip_space(buf);
	if (!buf[0])
		ret = k8s_fail(err, errlen, "%s %s: the file is empty", field, path);
	free(buf);
	return ret;
}

static int check_readable(const char *path, const char *field, char *err, size_t errlen)
{
	int ret;

	if (!access(path, R_OK))
		return 0;
	ret = -errno;
	k8s_fail(err, errlen, "%s %s: %s", field, path, strerror(-ret));
	return ret;
}

int kube_config_in_cluster(struct kube_config *c, const char *sa_dir, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char path[PATH_MAX];
	char *ns = NULL;
	size_t len;
	int ret;

	memset(c, 0, sizeof(*c));
	if (!sa_dir || !*sa_dir)
		sa_dir = KUBE_SA_DIR_DEFAULT;
	if (!host || !*host) {
		k8s_fail(err, errlen, "in-cluster: KUBERNETES_SERVICE_HOST is not set");
		return -ENOENT;
	}
	if (!port || !*port)
		return k8s_fail(err, errlen, "in-cluster: KUBERNETES_SERVICE_PORT is not set");
	if (strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 || atoi(port) > 65535)
		return k8s_fail(err, errlen, "in-cluster: KUBERNETES_SERVICE_PORT=%s is not a port",
				port);
	/* An IPv6 literal needs brackets in a URL (RFC 3986 3.2.2). */
	if (strchr(host, ':') && host[0] != '[')
		snprintf(c->server, sizeof(c->server), "https://[%s]:%s", host, port);
	else
		snprintf(c->server, sizeof(c->server), "https://%s:%s", host, port);
	snprintf(c->source, sizeof(c->source), "in-cluster (%s)", sa_dir);

	snprintf(c->token_file, sizeof(c->token_file), "%s/token", sa_dir);
	ret = check_token_file(c->token_file, "in-cluster: token", err, errlen);
	if (ret)
		goto fail;
	snprintf(c->ca_file, sizeof(c->ca_file), "%s/ca.crt", sa_dir);
	ret = check_readable(c->ca_file, "in-cluster: ca.crt", err, errlen);
	if (ret)
		goto fail;

	snprintf(path, sizeof(path), "%s/namespace", sa_dir);
	if (!read_file(path, 1024, &ns, &len)) {
		strip_space(ns);
		snprintf(c->namespace_, sizeof(c->namespace_), "%.*s",
			 (int)sizeof(c->namespace_) - 1, ns);
		free(ns);
	}
	if (!c->namespace_[0])
		snprintf(c->namespace_, sizeof(c->namespace_), "default");
	return 0;
fail:
	kube_config_free(c);
	return ret;
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

/* After a failed access(): the message names the field and the file, the
 * return value keeps errno (-ENOENT, -EACCES). */
static int file_error(struct kc *k, const char *field, const char *file)
{
	int ret = -errno;

	k8s_fail(k->err, k->errlen, "%s: %s %s: %s", k->path, field, file, strerror(-ret));
	return ret;
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
	n = strlen(server);
	while (n && server[n - 1] == '/')
		n--;
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
		if (access(c->ca_file, R_OK))
			return file_error(k, field, c->ca_file);
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
		if (access(file, R_OK))
			return file_error(k, field, file);
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
		if (!ret) {
			char msg[512];

			ret = check_token_file(c->token_file, field, msg, sizeof(msg));
			if (ret)
				return k8s_fail(k->err, k->errlen, "%s: %s", k->path, msg);
		}
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

int kube_config_load_kubeconfig(struct kube_config *c, const char *path, const char *context,
				char *err, size_t errlen)
{
	struct kc k = { .path = path, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	char *text;
	size_t len;
	const char *slash;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = read_file(path, KUBECONFIG_MAX, &text, &len);
	if (ret) {
		k8s_fail(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(k.dir, sizeof(k.dir), ".");
	else if (slash == path)
		snprintf(k.dir, sizeof(k.dir), "/");
	else
		snprintf(k.dir, sizeof(k.dir), "%.*s", (int)(slash - path), path);

	if (!yaml_parser_initialize(&parser)) {
		free(text);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &k.doc)) {
		ret = k8s_fail(err, errlen, "%s:%zu: %s", path, parser.problem_mark.line + 1,
			       parser.problem ? parser.problem : "yaml syntax error");
		yaml_parser_delete(&parser);
		free(text);
		return ret;
	}
	ret = load_doc(&k, c, context);
	yaml_document_delete(&k.doc);
	yaml_parser_delete(&parser);
	free(text);
	if (ret)
		kube_config_free(c);
	return ret;
}

int kube_config_auto(struct kube_config *c, const char *explicit_kubeconfig, const char *sa_dir,
		     char *err, size_t errlen)
{
	const char *env = getenv("KUBECONFIG");
	const char *home = getenv("HOME");
	char tried[3][512] = { "KUBERNETES_SERVICE_HOST is not set", "KUBECONFIG is not set", "" };
	char path[PATH_MAX];
	int ret;

	if (explicit_kubeconfig && *explicit_kubeconfig)
		return kube_config_load_kubeconfig(c, explicit_kubeconfig, NULL, err, errlen);
	if (getenv("KUBERNETES_SERVICE_HOST")) {
		ret = kube_config_in_cluster(c, sa_dir, tried[0], sizeof(tried[0]));
		if (!ret)
			return 0;
	}
	if (env && *env) {
		/* Only the first file of the list: merging kubeconfigs is kubectl's
		 * business, an agent is given one. */
		size_t n = strcspn(env, ":");

		snprintf(path, sizeof(path), "%.*s", (int)n, env);
		return kube_config_load_kubeconfig(c, path, NULL, err, errlen);
	}
	if (home && *home) {
		snprintf(path, sizeof(path), "%s/.kube/config", home);
		ret = kube_config_load_kubeconfig(c, path, NULL, tried[2], sizeof(tried[2]));
		if (!ret)
			return 0;
		if (ret != -ENOENT) {
			snprintf(err, errlen, "%s", tried[2]);
			return ret;
		}
	} else {
		snprintf(tried[2], sizeof(tried[2]), "HOME is not set");
	}
	k8s_fail(err, errlen, "no kubernetes api configuration: %s; %s; %s", tried[0], tried[1],
		 tried[2]);
	return -ENOENT;
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
