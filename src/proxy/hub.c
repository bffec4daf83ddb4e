/* hub.c: the web apps the proxy serves from its web folder (proxy_config.web_root, built
 * from web/ by make): the hub under {prefix}/hub/, the management console under
 * {prefix}/qmc/ (the same files for every signed-in person: what each may see and do is
 * the repository's answer to their own requests), and Qlik's deep links
 * ({prefix}/sense/app/{id}[/sheet/{id}], {prefix}/datamodelviewer/app/{id},
 * {prefix}/dataloadeditor/app/{id}) answered with
 * the hub's page, which finds its
 * way from the address. A page gets a <base> naming the virtual proxy's folder of its app,
 * so one build serves every prefix. Files under assets/ carry a content hash in their
 * names and are cached for a year; the page itself is asked for again each time. */
#include "proxy/proxy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The policy of the hub's pages: its own scripts only; styles may be inline (the chart
 * library sets them); WebSockets and fetches to this origin only. */
static const char hub_csp[] = "default-src 'self'; script-src 'self'; style-src 'self' "
			      "'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' "
			      "data:; connect-src 'self'; worker-src 'self' blob:; "
			      "frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

static const struct {
	const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/* A path below the hub folder that names a file we may serve: segments of letters, digits,
 * '-', '_' and '.', none empty or starting with a dot (no "..", no hidden files). */
bool proxy_hub_path_ok(const char *rel)
{
	if (!*rel || strlen(rel) > 200)
		return false;
	bool seg_start = true;
	for (const char *s = rel; *s; s++) {
		char c = *s;
		if (c == '/') {
			if (seg_start)
				return false;
			seg_start = true;
			continue;
		}
		if (seg_start && c == '.')
			return false;
		seg_start = false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return !seg_start;
}

bool proxy_hub_installed(const struct proxy *p)
{
	if (!p->cfg.web_root)
		return false;
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/hub/index.html", p->cfg.web_root);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void hub_headers(struct http_req *r)
{
	http_add_header(r, "Content-Security-Policy", hub_csp);
	proxy_common_headers(r);
}

static void not_found(struct http_req *r, const char *msg)
{
	hub_headers(r);
	http_add_header(r, "Cache-Control", "no-store");
	http_respond(r, 404, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* An app's page, with a <base> for this virtual proxy. */
static void page(struct proxy *p, struct http_req *r, const struct preq *pr, const char *app)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s/index.html", p->cfg.web_root, app);
	char *html = NULL;
	size_t len = 0;
	struct err e;
	err_init(&e);
	if (file_read_all(path, 1 << 20, &html, &len, &e) != 0) {
		log_error("proxy: the %s page: %s", app, e.message);
		not_found(r, "this web app is not installed on this node (make builds it into "
			     "web/)\n");
		return;
	}
	const char *head = strstr(html, "<head>");
	struct buf b;
	buf_init(&b, 2u << 20);
	int bad = 0;
	if (head) {
		size_t at = (size_t)(head - html) + 6;
		bad |= buf_append(&b, html, at);
		bad |= buf_puts(&b, "<base href=\"");
		proxy_html_put(&b, pr->base);
		bad |= buf_printf(&b, "/%s/\">", app);
		bad |= buf_append(&b, html + at, len - at);
	} else {
		bad |= buf_append(&b, html, len);
	}
	free(html);
	if (bad) {
		buf_release(&b);
		http_respond(r, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
		return;
	}
	hub_headers(r);
	http_add_header(r, "Cache-Control", "no-cache");
	size_t n = b.len;
	http_respond_owned(r, 200, "text/html; charset=utf-8", buf_steal(&b), n);
}

/* A file of an app: the precompressed copy (NAME.gz) when the browser takes gzip. */
static void file(struct proxy *p, struct http_req *r, const char *app, const char *rel)
{
	const char *type = type_of(rel);
	if (!type) {
		not_found(r, "there is nothing here\n");
		return;
	}
	const char *ae = http_req_header(r, "Accept-Encoding");
	bool gz = ae && strstr(ae, "gzip");
	char path[4096];
	int fd = -1;
	if (gz) {
		snprintf(path, sizeof(path), "%s/%s/%s.gz", p->cfg.web_root, app, rel);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		gz = fd >= 0;
	}
	if (fd < 0) {
		snprintf(path, sizeof(path), "%s/%s/%s", p->cfg.web_root, app, rel);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		not_found(r, "there is nothing here\n");
		return;
	}
	hub_headers(r);
	http_add_header(r, "Vary", "Accept-Encoding");
	if (gz)
		http_add_header(r, "Content-Encoding", "gzip");
	http_add_header(r, "Cache-Control",
			strncmp(rel, "assets/", 7) == 0 ? "public, max-age=31536000, immutable"
							: "no-cache");
	http_respond_fd(r, 200, type, fd, (uint64_t)st.st_size);
}

bool proxy_hub_serve(struct proxy *p, struct http_req *r, const struct preq *pr, const char *path)
{
	bool sense = proxy_path_under(path, "/sense") ||
		     proxy_path_under(path, "/datamodelviewer") ||
		     proxy_path_under(path, "/dataloadeditor");
	const char *app = sense || proxy_path_under(path, "/hub") ? "hub"
			  : proxy_path_under(path, "/qmc")	  ? "qmc"
								  : NULL;
	if (!app)
		return false;
	char index[4096];
	struct stat st;
	snprintf(index, sizeof(index), "%s/%s/index.html", p->cfg.web_root ? p->cfg.web_root : "",
		 app);
	if (!p->cfg.web_root || stat(index, &st) != 0 || !S_ISREG(st.st_mode)) {
		not_found(r, "this web app is not installed on this node (make builds it into "
			     "web/)\n");
		return true;
	}
	size_t n = strlen(app) + 1; /* "/hub" */
	if (!sense && path[n] == 0) {
		http_add_header(r, "Location",
				arena_printf(http_req_arena(r), "%s/%s/", pr->base, app));
		http_respond(r, 301, "text/plain; charset=utf-8", "", 0);
		return true;
	}
	const char *rel = sense ? "" : path + n + 1;
	if (!*rel || strcmp(rel, "index.html") == 0) {
		page(p, r, pr, app);
		return true;
	}
	/* a path of the app's own (an app, a stream, a page) that is not a file: the page */
	if (!strchr(rel, '.') && proxy_hub_path_ok(rel)) {
		page(p, r, pr, app);
		return true;
	}
	if (!proxy_hub_path_ok(rel)) {
		not_found(r, "there is nothing here\n");
		return true;
	}
	file(p, r, app, rel);
	return true;
}
