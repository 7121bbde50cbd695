/*
 * Copyright (c) 2026 The oidcd authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * Config distribution (httpd's config.c shape): the parent alone reads
 * the file; each child gets, as one JSON object in IMSG_CFG_GLOBAL, only
 * what it needs.  A frontend never sees a client secret in clear, an
 * upstream secret or a key.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "oidcd.h"
#include "conf.h"
#include "jose.h"
#include "template.h"

static json_t *
config_strv(const struct conf_strv *sv)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		fatal("%s: json_array", __func__);
	for (i = 0; i < sv->sv_n; i++)
		json_array_append_new(a, json_string(sv->sv_v[i]));
	return (a);
}

static json_int_t
config_secs(int64_t msec)
{
	return (msec / 1000);
}

/* Hex SHA-256 of a client secret: what the frontend compares against. */
static char *
config_secret_hash(const char *secret)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char		*hex;
	unsigned int	 i;

	if (EVP_Digest(secret, strlen(secret), md, &mdlen, EVP_sha256(),
	    NULL) != 1)
		fatalx("%s: EVP_Digest", __func__);
	if ((hex = malloc(mdlen * 2 + 1)) == NULL)
		fatal("%s: malloc", __func__);
	for (i = 0; i < mdlen; i++)
		(void)snprintf(hex + i * 2, 3, "%02x", md[i]);
	explicit_bzero(md, sizeof(md));
	return (hex);
}

/* sessions: for the frontend and storage; at least a second each. */
static json_t *
config_sessions(const struct oidcd_conf *cf)
{
	json_t	*o;

	o = json_pack("{s:b, s:s, s:I, s:I}",
	    "enabled", cf->cf_sess_enabled,
	    "cookieName", cf->cf_sess_cookie_name ? cf->cf_sess_cookie_name :
	    CONF_DEF_SESS_COOKIE,
	    "absoluteLifetime", cf->cf_sess_absolute < 1000 ? 1 :
	    config_secs(cf->cf_sess_absolute),
	    "validIfNotUsedFor", cf->cf_sess_idle < 1000 ? 1 :
	    config_secs(cf->cf_sess_idle));
	if (o == NULL)
		fatalx("%s: json_pack", __func__);
	return (o);
}

static json_t *
config_frontend(const struct oidcd_conf *cf)
{
	struct conf_client	*cl;
	struct conf_connector	*cn;
	json_t			*o, *clients, *conns, *c, *headers;
	char			*hash;

	if ((clients = json_array()) == NULL ||
	    (conns = json_array()) == NULL ||
	    (headers = json_object()) == NULL)
		fatal("%s: json", __func__);
	TAILQ_FOREACH(cl, &cf->cf_clients, cl_entry) {
		c = json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:s?}",
		    "id", cl->cl_id, "name", cl->cl_name ? cl->cl_name : "",
		    "public", cl->cl_public,
		    "redirectURIs", config_strv(&cl->cl_redirect_uris),
		    "trustedPeers", config_strv(&cl->cl_trusted_peers),
		    "grantTypes", config_strv(&cl->cl_grant_types),
		    "logoURL", cl->cl_logo_url);
		if (c == NULL)
			fatalx("%s: json_pack", __func__);
		if (cl->cl_cc_groups.sv_n > 0 && json_object_set_new(c,
		    "clientCredentialsClaims", json_pack("{s:o}", "groups",
		    config_strv(&cl->cl_cc_groups))) == -1)
			fatalx("%s: clientCredentialsClaims", __func__);
		/* RP-initiated and back-channel logout (logout.c). */
		if (json_object_set_new(c, "postLogoutRedirectURIs",
		    config_strv(&cl->cl_post_logout_uris)) == -1 ||
		    (cl->cl_backchannel_logout_uri != NULL &&
		    json_object_set_new(c, "backchannelLogoutURI",
		    json_string(cl->cl_backchannel_logout_uri)) == -1))
			fatalx("%s: logout URIs", __func__);
		if (cl->cl_secret != NULL) {
			hash = config_secret_hash(cl->cl_secret);
			json_object_set_new(c, "secretHash", json_string(hash));
			free(hash);
		}
		json_array_append_new(clients, c);
	}
	TAILQ_FOREACH(cn, &cf->cf_connectors, cn_entry) {
		c = json_pack("{s:s, s:s, s:s}", "id", cn->cn_id,
		    "name", cn->cn_name, "type", cn->cn_type);
		if (c == NULL)
			fatalx("%s: json_pack", __func__);
		json_array_append_new(conns, c);
	}
	if (cf->cf_enable_password_db)
		json_array_append_new(conns, json_pack("{s:s, s:s, s:s}",
		    "id", "local", "name", "Email", "type", "local"));

#define HDR(name, v) do {						\
	if ((v) != NULL && *(v) != '\0')				\
		json_object_set_new(headers, name, json_string(v));	\
} while (0)
	HDR("Content-Security-Policy", cf->cf_web_csp);
	HDR("X-Frame-Options", cf->cf_web_xframe);
	HDR("X-Content-Type-Options", cf->cf_web_xcto);
	HDR("X-XSS-Protection", cf->cf_web_xxss);
	HDR("Strict-Transport-Security", cf->cf_web_hsts);
#undef HDR

	o = json_pack("{s:s, s:s, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o, s:i, s:b, s:o, s:I, s:I, s:I}",
	    "issuer", cf->cf_issuer,
	    "issuerPath", cf->cf_issuer_path,
	    "tlsMin", cf->cf_web_tls_min,
	    "tlsMax", cf->cf_web_tls_max,
	    "headers", headers,
	    "allowedOrigins", config_strv(&cf->cf_web_allowed_origins),
	    "allowedHeaders", config_strv(&cf->cf_web_allowed_headers),
	    "responseTypes", config_strv(&cf->cf_response_types),
	    "clients", clients,
	    "connectors", conns,
	    "pkceMethods", config_strv(&cf->cf_pkce_methods),
	    "grantMask", cf->cf_grant_mask,
	    "passwordGrant", cf->cf_password_connector != NULL,
	    "signingAlgs", json_pack("[s]",
	    cf->cf_signing_alg == CONF_ALG_ES256 ? "ES256" : "RS256"),
	    "idTokens", config_secs(cf->cf_exp_id_tokens),
	    "authRequests", config_secs(cf->cf_exp_auth_requests),
	    "jwksMaxAge", config_secs(cf->cf_jwks_max_age));
	if (o == NULL)
		fatalx("%s: json_pack", __func__);
	if (json_object_update_new(o, json_pack("{s:b, s:s?, s:b, s:b, s:{s:s?, "
	    "s:s?, s:s?, s:O?}}",
	    "pkceEnforce", cf->cf_pkce_enforce,
	    "passwordConnector", cf->cf_password_connector,
	    "skipApproval", cf->cf_skip_approval,
	    "alwaysShowLogin", cf->cf_always_show_login,
	    "frontend", "logoURL", cf->cf_fe_logo_url,
	    "issuer", cf->cf_fe_issuer, "theme", cf->cf_fe_theme,
	    "extra", cf->cf_fe_extra)) == -1)
		fatalx("%s: json_pack", __func__);
	json_object_set_new(o, "sessions", config_sessions(cf));
	return (o);
}

static json_t *
config_signer(const struct oidcd_conf *cf)
{
	struct conf_client	*cl;
	json_t			*auds, *o;

	if ((auds = json_array()) == NULL)
		fatal("%s: json_array", __func__);
	TAILQ_FOREACH(cl, &cf->cf_clients, cl_entry)
		json_array_append_new(auds, json_string(cl->cl_id));
	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o}",
	    "issuer", cf->cf_issuer,
	    "alg", cf->cf_signing_alg == CONF_ALG_ES256 ? "ES256" : "RS256",
	    "rotation", config_secs(cf->cf_keys_rotation),
	    "idTokens", config_secs(cf->cf_exp_id_tokens),
	    "maxAge", config_secs(cf->cf_jwks_max_age),
	    "publishAhead", config_secs(cf->cf_keys_publish_ahead),
	    "audiences", auds);
	if (o == NULL)
		fatalx("%s: json_pack", __func__);
	return (o);
}

/*
 * The static passwords as the passwd.c loaders take them; without the
 * hashes for storage, which looks a local user up on refresh.
 */
static json_t *
config_passwords(const struct oidcd_conf *cf, int hashes)
{
	struct conf_password	*pw;
	json_t			*pws;

	if ((pws = json_array()) == NULL)
		fatal("%s: json_array", __func__);
	TAILQ_FOREACH(pw, &cf->cf_passwords, pw_entry)
		json_array_append_new(pws, json_pack("{s:s, s:s?, s:s?, "
		    "s:s?, s:s?, s:b, s:s?, s:o}",
		    "email", pw->pw_email,
		    "hash", hashes ? pw->pw_hash : NULL,
		    "username", pw->pw_username, "name", pw->pw_name,
		    "preferredUsername", pw->pw_preferred_username,
		    "emailVerified", pw->pw_email_verified,
		    "userId", pw->pw_user_id,
		    "groups", config_strv(&pw->pw_groups)));
	return (pws);
}

static json_t *
config_storage(const struct oidcd_conf *cf)
{
	struct conf_connector	*cn;
	json_t			*o, *refreshers;

	/* Connectors that can refresh (Dex: RefreshConnector). */
	if ((refreshers = json_array()) == NULL)
		fatal("%s: json_array", __func__);
	if (cf->cf_enable_password_db)
		json_array_append_new(refreshers, json_string("local"));
	TAILQ_FOREACH(cn, &cf->cf_connectors, cn_entry)
		if (strcmp(cn->cn_type, "oauth") != 0)
			json_array_append_new(refreshers,
			    json_string(cn->cn_id));
	o = json_pack("{s:s, s:I, s:I, s:b, s:I, s:o, s:{s:b, s:I, s:I, s:I}}",
	    "issuer", cf->cf_issuer,
	    "mapSize", (json_int_t)cf->cf_storage_mapsize,
	    "gcInterval", (json_int_t)OIDCD_GC_INTERVAL,
	    "memory", cf->cf_storage_type == CONF_STORAGE_MEMORY,
	    "authRequests", config_secs(cf->cf_exp_auth_requests),
	    "refreshConnectors", refreshers,
	    "refresh",
	    "disableRotation", cf->cf_rt_disable_rotation,
	    "reuseInterval", config_secs(cf->cf_rt_reuse_interval),
	    "validIfNotUsedFor", config_secs(cf->cf_rt_valid_if_not_used_for),
	    "absoluteLifetime", config_secs(cf->cf_rt_absolute_lifetime));
	if (o == NULL)
		fatalx("%s: json_pack", __func__);
	/* The local users, so that a refresh checks them in its txn. */
	if (cf->cf_enable_password_db)
		json_object_set_new(o, "localUsers", config_passwords(cf, 0));
	/* At least a second: "500ms" must not mean Dex's default. */
	json_object_set_new(o, "deviceRequests",
	    json_integer(cf->cf_exp_device_requests < 1000 ? 1 :
	    config_secs(cf->cf_exp_device_requests)));
	json_object_set_new(o, "sessions", config_sessions(cf));
	return (o);
}

/*
 * A connector's rootCAs, read here by the parent, as one PEM text: the
 * connector has no files in its chroot.  The parser checked each entry.
 */
static const char *
config_root_cas(const json_t *cfg)
{
	static char	*all;
	json_t		*v;
	char		*pem, *t;
	size_t		 i, len;

	free(all);
	if ((all = strdup("")) == NULL)
		fatal("%s: strdup", __func__);
	json_array_foreach(json_object_get(cfg, "rootCAs"), i, v) {
		if (!json_is_string(v))
			continue;
		if ((pem = conf_pem_resolve(json_string_value(v), &len)) ==
		    NULL) {
			log_warnx("connector rootCAs entry %zu: cannot read "
			    "it any more; left out", i);
			continue;
		}
		if (asprintf(&t, "%s%s\n", all, pem) == -1)
			fatal("%s: asprintf", __func__);
		free(pem);
		free(all);
		all = t;
	}
	return (all);
}

static json_t *
config_connector(const struct oidcd_conf *cf)
{
	struct conf_connector	*cn;
	json_t			*conns, *o, *pws;

	if ((conns = json_array()) == NULL)
		fatal("%s: json_array", __func__);
	TAILQ_FOREACH(cn, &cf->cf_connectors, cn_entry)
		json_array_append_new(conns, json_pack("{s:s, s:s, s:s, s:o, "
		    "s:s}", "id", cn->cn_id, "type", cn->cn_type, "name",
		    cn->cn_name, "config", json_deep_copy(cn->cn_config),
		    "caPEM", config_root_cas(cn->cn_config)));

	/* The password database lives with the other identity sources. */
	pws = config_passwords(cf, 1);
	o = json_pack("{s:s, s:o, s:b, s:o, s:s}", "issuer", cf->cf_issuer,
	    "connectors", conns,
	    "passwordDB", cf->cf_enable_password_db,
	    "passwords", pws,
	    "sealKey", cf->cf_seal_key ? cf->cf_seal_key : "");
	if (o == NULL)
		fatalx("%s: json_pack", __func__);
	return (o);
}

static json_t *
config_control(const struct oidcd_conf *cf, gid_t show_gid)
{
	json_t	*o;

	o = json_pack("{s:i}", "showGroup", (int)show_gid);
	if (o == NULL)
		fatalx("%s: json_pack", __func__);
	return (o);
}

/* Send IMSG_CFG_GLOBAL with the part of cf that process id needs. */
void
config_setglobal(struct privsep *ps, enum privsep_procid id,
    const struct oidcd_conf *cf, gid_t show_gid)
{
	json_t	*o;
	char	*s;
	size_t	 len;

	switch (id) {
	case PROC_FRONTEND:
		o = config_frontend(cf);
		break;
	case PROC_SIGNER:
		o = config_signer(cf);
		break;
	case PROC_STORAGE:
		o = config_storage(cf);
		break;
	case PROC_CONNECTOR:
		o = config_connector(cf);
		break;
	case PROC_CONTROL:
		o = config_control(cf, show_gid);
		break;
	default:
		fatalx("%s: no config for %s", __func__, proc_title(id));
	}
	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(o);
	len = strlen(s);
	if (len > CFG_JSON_MAX)
		fatalx("%s: the %s config is too large (%zu bytes)",
		    __func__, proc_title(id), len);
	if (proc_compose(ps, id, IMSG_CFG_GLOBAL, s, len) == -1)
		fatal("%s: compose", __func__);
	freezero(s, len);
}

/* Child side: the IMSG_CFG_GLOBAL payload as a JSON object. */
json_t *
config_getglobal(struct imsg *imsg)
{
	json_error_t	 jerr;
	json_t		*o;

	if (imsg_get_len(imsg) == 0 || imsg_get_len(imsg) > CFG_JSON_MAX)
		fatalx("%s: bad config size", __func__);
	if ((o = json_loadb(imsg->data, imsg_get_len(imsg),
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(o))
		fatalx("%s: bad config: %s", __func__, jerr.text);
	return (o);
}

/*
 * Send a PEM file to every frontend in chunks (httpd's config_settls()
 * shape), so that no message has to be large.
 */
void
config_settls(struct privsep *ps, enum privsep_procid to, uint32_t listener,
    uint32_t type, const uint8_t *data, size_t len)
{
	struct cfg_tls	 ct;
	struct iovec	 iov[2];
	size_t		 off, chunk;

	for (off = 0; off < len; off += chunk) {
		chunk = len - off;
		if (chunk > CFG_TLS_CHUNK)
			chunk = CFG_TLS_CHUNK;
		ct.ct_listener = listener;
		ct.ct_type = type;
		ct.ct_total = len;
		ct.ct_offset = off;
		ct.ct_len = chunk;
		iov[0].iov_base = &ct;
		iov[0].iov_len = sizeof(ct);
		iov[1].iov_base = (void *)(uintptr_t)(data + off);
		iov[1].iov_len = chunk;
		if (proc_composev(ps, to, IMSG_CFG_TLS, iov, 2) == -1)
			fatal("%s: compose", __func__);
	}
}

void
config_freetemplates(struct config_templates *ct)
{
	size_t	 i;

	for (i = 0; i < ct->ct_n; i++)
		free(ct->ct_text[i]);
	memset(ct, 0, sizeof(*ct));
}

/*
 * The templates of frontend.dir (Dex's layout: *.html in dir/templates),
 * read as root before they go to the chrooted frontends, and parsed
 * here too so that a broken one fails the start or the reload with
 * its name and line, not a frontend.
 */
int
config_loadtemplates(const char *dir, struct config_templates *ct, char *err,
    size_t errlen)
{
	struct tmpl_set	*set;
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		 path[PATH_MAX], e[256];
	size_t		 len;
	int		 fd, rv = -1;

	memset(ct, 0, sizeof(*ct));
	if (dir == NULL)
		return (0);
	if ((set = tmpl_set_new()) == NULL) {
		(void)snprintf(err, errlen, "cannot load built-in templates");
		return (-1);
	}
	(void)snprintf(path, sizeof(path), "%s/templates", dir);
	if ((d = opendir(path)) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".html") != 0)
			continue;
		if (ct->ct_n == CFG_TEMPLATES_MAX ||
		    len >= sizeof(ct->ct_hdr[0].ct_name)) {
			(void)snprintf(err, errlen, "%s: too many templates or "
			    "too long a name", path);
			goto fail;
		}
		(void)snprintf(path, sizeof(path), "%s/templates/%s", dir,
		    de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_size > TMPL_MAX_SIZE) {
			(void)snprintf(err, errlen, "%s: %s", path, fd == -1 ?
			    strerror(errno) : "not a file or too large");
			if (fd != -1)
				close(fd);
			goto fail;
		}
		if ((ct->ct_text[ct->ct_n] = malloc(st.st_size + 1)) == NULL)
			fatal("%s: malloc", __func__);
		if (read(fd, ct->ct_text[ct->ct_n], st.st_size) !=
		    st.st_size) {
			(void)snprintf(err, errlen, "%s: short read", path);
			close(fd);
			free(ct->ct_text[ct->ct_n]);
			goto fail;
		}
		close(fd);
		(void)strlcpy(ct->ct_hdr[ct->ct_n].ct_name, de->d_name,
		    sizeof(ct->ct_hdr[ct->ct_n].ct_name));
		ct->ct_hdr[ct->ct_n].ct_len = st.st_size;
		if (tmpl_set_add(set, de->d_name, ct->ct_text[ct->ct_n],
		    st.st_size, e, sizeof(e)) == -1) {
			(void)snprintf(err, errlen, "%s/templates/%s", dir, e);
			ct->ct_n++;
			goto fail;
		}
		ct->ct_n++;
	}
	if (tmpl_set_check(set, e, sizeof(e)) == -1) {
		(void)snprintf(err, errlen, "%s/templates: %s", dir, e);
		goto fail;
	}
	rv = 0;
 fail:
	closedir(d);
	if (rv == -1)
		config_freetemplates(ct);
 done:
	tmpl_set_free(set);
	return (rv);
}

void
config_settemplates(struct privsep *ps, const struct config_templates *ct)
{
	struct iovec	 iov[2];
	size_t		 i;

	for (i = 0; i < ct->ct_n; i++) {
		iov[0].iov_base = (void *)(uintptr_t)&ct->ct_hdr[i];
		iov[0].iov_len = sizeof(ct->ct_hdr[i]);
		iov[1].iov_base = ct->ct_text[i];
		iov[1].iov_len = ct->ct_hdr[i].ct_len;
		if (proc_composev(ps, PROC_FRONTEND, IMSG_CFG_TEMPLATE, iov,
		    2) == -1)
			fatal("%s: compose", __func__);
	}
}

/*
 * The static files and theme of frontend.dir (Dex's static/,
 * themes/<theme>/ and robots.txt), read as root: the frontends run in
 * an empty chroot.  Nothing is read, and nothing held, without a dir.
 */
int
config_loadassets(const char *dir, const char *theme, struct asset_set *set,
    char *err, size_t errlen)
{
	if (asset_load(dir, theme, set, err, errlen) == -1)
		return (-1);
	if (set->as_n > 0)
		log_debug("frontend.dir: %zu files, %zu bytes", set->as_n,
		    set->as_total);
	return (0);
}

void
config_freeassets(struct asset_set *set)
{
	asset_set_free(set);
}

/*
 * Send the set to every frontend in ASSET_CHUNK pieces, in path order.
 * An empty set is still one message: it replaces what a frontend had,
 * so a reload that drops frontend.dir goes back to the built-ins.
 */
static int
config_asset_chunk(const struct cfg_asset *ca, const void *data, size_t len,
    void *arg)
{
	struct iovec	 iov[2];

	iov[0].iov_base = (void *)(uintptr_t)ca;
	iov[0].iov_len = sizeof(*ca);
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	if (proc_composev(arg, PROC_FRONTEND, IMSG_CFG_ASSET, iov,
	    len ? 2 : 1) == -1)
		fatal("%s: compose", __func__);
	return (0);
}

/* frontend.dir's files to every frontend, in chunks (asset_send()). */
void
config_setassets(struct privsep *ps, const struct asset_set *set)
{
	(void)asset_send(set, config_asset_chunk, ps);
}
