/* vproxy.c: the virtual proxies (repository entity virtualproxyconfig), read from the
 * database at most once a second, so that a change reaches every node's proxy within two
 * seconds without a restart. A request belongs to the virtual proxy whose prefix is the
 * first segment of its path, else to the one without a prefix. */
#include "proxy/proxy_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define REFRESH_MS 1000

struct loading {
	struct vproxy *list;
	int n;
};

static void copy(char *dst, size_t n, const struct db_value *v)
{
	str_copy(dst, v->type == DBV_TEXT && v->s ? v->s : "", n);
}

/* loadBalancingServerNodes ([{"id": ...}, ...]) as ids joined by \x1f. */
static void engine_nodes(struct vproxy *vp, const struct db_value *v)
{
	json_t *a = v->type == DBV_TEXT && v->s ? json_loads(v->s, 0, NULL) : NULL;
	size_t i, at = 0;
	json_t *n;
	json_array_foreach (a, i, n) {
		const char *id = json_string_value(json_object_get(n, "id"));
		size_t l = id ? strlen(id) : 0;
		if (!l || at + l + 2 > sizeof(vp->engine_nodes))
			continue;
		if (at)
			vp->engine_nodes[at++] = '\x1f';
		memcpy(vp->engine_nodes + at, id, l + 1);
		at += l;
	}
	json_decref(a);
}

static int on_vproxy(void *ctx, int n, const struct db_value *v)
{
	struct loading *l = ctx;
	if (n < 27 || l->n == VP_MAX)
		return 0;
	struct vproxy *vp = &l->list[l->n++];
	memset(vp, 0, sizeof(*vp));
	copy(vp->prefix, sizeof(vp->prefix), &v[0]);
	vp->method = (int)v[1].i;
	copy(vp->cookie, sizeof(vp->cookie), &v[2]);
	if (!vp->cookie[0])
		str_copy(vp->cookie, PROXY_COOKIE, sizeof(vp->cookie));
	vp->idle_ms = (v[3].i > 0 ? v[3].i : 30) * 60000;
	copy(vp->redirect_uri, sizeof(vp->redirect_uri), &v[4]);
	copy(vp->header, sizeof(vp->header), &v[5]);
	copy(vp->static_dir, sizeof(vp->static_dir), &v[6]);
	copy(vp->dynamic_dir, sizeof(vp->dynamic_dir), &v[7]);
	copy(vp->trusted, sizeof(vp->trusted), &v[8]);
	copy(vp->origins, sizeof(vp->origins), &v[9]);
	copy(vp->extra, sizeof(vp->extra), &v[10]);
	copy(vp->jwt_key, sizeof(vp->jwt_key), &v[11]);
	copy(vp->jwt_user, sizeof(vp->jwt_user), &v[12]);
	if (!vp->jwt_user[0])
		str_copy(vp->jwt_user, "sub", sizeof(vp->jwt_user));
	copy(vp->jwt_dir, sizeof(vp->jwt_dir), &v[13]);
	copy(vp->jwt_aud, sizeof(vp->jwt_aud), &v[14]);
	copy(vp->jwt_iss, sizeof(vp->jwt_iss), &v[15]);
	copy(vp->oidc_url, sizeof(vp->oidc_url), &v[16]);
	copy(vp->oidc_client, sizeof(vp->oidc_client), &v[17]);
	copy(vp->oidc_secret, sizeof(vp->oidc_secret), &v[18]);
	copy(vp->oidc_realm, sizeof(vp->oidc_realm), &v[19]);
	copy(vp->oidc_scope, sizeof(vp->oidc_scope), &v[20]);
	copy(vp->oidc_sub, sizeof(vp->oidc_sub), &v[21]);
	copy(vp->oidc_name, sizeof(vp->oidc_name), &v[22]);
	copy(vp->oidc_groups, sizeof(vp->oidc_groups), &v[23]);
	copy(vp->oidc_email, sizeof(vp->oidc_email), &v[24]);
	copy(vp->oidc_ca, sizeof(vp->oidc_ca), &v[25]);
	engine_nodes(vp, &v[26]);
	static const struct {
		size_t off, n;
		const char *dflt;
	} dflt[] = {
	    {offsetof(struct vproxy, oidc_realm), sizeof(vp->oidc_realm), "OIDC"},
	    {offsetof(struct vproxy, oidc_scope), sizeof(vp->oidc_scope), "openid profile email"},
	    {offsetof(struct vproxy, oidc_sub), sizeof(vp->oidc_sub), "sub"},
	    {offsetof(struct vproxy, oidc_name), sizeof(vp->oidc_name), "name"},
	    {offsetof(struct vproxy, oidc_groups), sizeof(vp->oidc_groups), "groups"},
	    {offsetof(struct vproxy, oidc_email), sizeof(vp->oidc_email), "email"},
	};
	for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]); i++) {
		char *f = (char *)vp + dflt[i].off;
		if (!*f)
			str_copy(f, dflt[i].dflt, dflt[i].n);
	}
	return 0;
}

/* Reads the list again when it is older than a second. Called under vp_mu. */
static int refresh(struct proxy *p, struct err *e)
{
	int64_t now = time_mono_ms();
	if (p->vps && now - p->vp_loaded < REFRESH_MS)
		return 0;
	struct loading l = {calloc(VP_MAX, sizeof(struct vproxy)), 0};
	if (!l.list)
		return err_set(e, ERR_NOMEM, "out of memory");
	int rc =
	    db_exec_once(p->cfg.db,
			 "SELECT prefix, authentication_method, session_cookie_header_name, "
			 "session_inactivity_timeout, authentication_module_redirect_uri, "
			 "header_authentication_header_name, "
			 "header_authentication_static_user_directory, "
			 "header_authentication_dynamic_user_directory, "
			 "header_authentication_trusted_addresses, "
			 "websocket_cross_origin_white_list, additional_response_headers, "
			 "jwt_public_key_certificate, jwt_attribute_user_id, "
			 "jwt_attribute_user_directory, jwt_audience, jwt_issuer, "
			 "oidc_configuration_endpoint_uri, oidc_client_id, oidc_client_secret, "
			 "oidc_realm, oidc_scope, oidc_attribute_sub, oidc_attribute_name, "
			 "oidc_attribute_groups, oidc_attribute_email, oidc_ca_certificate, "
			 "load_balancing_server_nodes FROM "
			 "virtualproxyconfig ORDER BY prefix",
			 NULL, on_vproxy, &l, e);
	if (rc) {
		free(l.list);
		if (!p->vps)
			return rc;
		log_warn("proxy: cannot read the virtual proxies, going on with the ones known: %s",
			 e->message);
		p->vp_loaded = now; /* try again in a second, not at every request */
		return 0;
	}
	free(p->vps);
	p->vps = l.list;
	p->n_vps = l.n;
	p->vp_loaded = now;
	return 0;
}

int proxy_vproxy_pick(struct proxy *p, const char *path, struct vproxy *out, bool by_prefix,
		      struct err *e)
{
	pthread_mutex_lock(&p->vp_mu);
	int rc = refresh(p, e);
	const struct vproxy *found = NULL, *dflt = NULL;
	for (int i = 0; rc == 0 && i < p->n_vps; i++) {
		const struct vproxy *vp = &p->vps[i];
		size_t n = strlen(vp->prefix);
		if (n == 0)
			dflt = vp;
		else if (by_prefix ? strcmp(path, vp->prefix) == 0
				   : path[0] == '/' && strncmp(path + 1, vp->prefix, n) == 0 &&
					 (path[n + 1] == '/' || path[n + 1] == '\0'))
			found = vp;
	}
	if (!found && (!by_prefix || !*path))
		found = dflt;
	if (found)
		*out = *found;
	pthread_mutex_unlock(&p->vp_mu);
	if (rc == 0 && !found)
		rc = err_set(e, ERR_NOT_FOUND, "there is no virtual proxy for this path");
	return rc;
}

bool proxy_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *s = list; s && *s;) {
		const char *end = strchr(s, '\x1f');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		if (len == n && n && str_ieqn(s, item, n))
			return true;
		s = end ? end + 1 : NULL;
	}
	return false;
}

void proxy_vproxy_headers(struct http_req *r, const struct vproxy *vp)
{
	struct arena *a = http_req_arena(r);
	for (const char *line = vp->extra; *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		char *l = arena_strndup(a, line, n);
		size_t ln = strlen(l);
		if (ln && l[ln - 1] == '\r')
			l[--ln] = '\0';
		char *colon = strchr(l, ':');
		if (colon && colon != l) {
			*colon = '\0';
			const char *v = colon + 1;
			while (*v == ' ')
				v++;
			http_add_header(r, l, v);
		}
		line = end ? end + 1 : line + n;
	}
}
