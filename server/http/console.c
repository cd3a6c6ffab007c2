/* server/http/console.c — serving static/ (embedded by tools/embed.c), or the folder
 * PLANTAO_STATIC_DIR names: its regular files only, no dotfiles, nothing outside it. */
#include "http/console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/app.h"
#include "core/embedded.h"

static const char *content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	        {".html", "text/html; charset=utf-8"},
	        {".js", "text/javascript; charset=utf-8"},
	        {".css", "text/css; charset=utf-8"},
	        {".svg", "image/svg+xml"},
	        {".json", "application/json"},
	        {".png", "image/png"},
	        {".ico", "image/x-icon"},
	        {".webmanifest", "application/manifest+json"},
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/*
 * PLANTAO_STATIC_DIR serves regular files inside the folder only: never a directory, and
 * never a symbolic link that leads out of it (the resolved path must stay under the
 * resolved folder). Dotfiles are refused before we get here.
 */
static enum rc from_disk(struct http_req *req, const char *dir, const char *rel)
{
	char path[4096], *real_dir = NULL, *real = NULL;
	FILE *f = NULL;
	struct buf b;
	struct stat st;
	char chunk[8192];
	size_t n, dlen;
	enum rc rc = RC_OK;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	real_dir = realpath(dir, NULL);
	real = realpath(path, NULL);
	dlen = real_dir ? strlen(real_dir) : 0;
	if (real && real_dir && strncmp(real, real_dir, dlen) == 0 && real[dlen] == '/' && stat(real, &st) == 0 &&
	    S_ISREG(st.st_mode))
		f = fopen(real, "rb");
	free(real);
	free(real_dir);
	if (!f)
		return http_fail(req, RC_NOT_FOUND, "no such page");
	buf_init(&b, 8 * HTTP_MIB);
	while (rc == RC_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc = buf_append(&b, chunk, n);
	fclose(f);
	if (rc == RC_OK)
		rc = http_reply(req, 200, content_type(rel), b.data ? b.data : "", b.len);
	buf_release(&b);
	return rc;
}

enum rc console_get(struct http_req *req)
{
	const char *rel = req->n_params ? req->params[0] : "";
	const struct embedded_file *f;
	char key[512];

	if (!strncmp(req->path, "/api/", 5) || !strncmp(req->path, "/twilio/", 8))
		return http_fail(req, RC_NOT_FOUND, "no route for %s %s", req->method, req->path);
	if (!rel[0] || rel[strlen(rel) - 1] == '/')
		rel = "index.html";
	if (strstr(rel, "..") || rel[0] == '/' || rel[0] == '.' || strstr(rel, "/.") || strlen(rel) > 400)
		return http_fail(req, RC_NOT_FOUND, "no such page"); /* no parent, no dotfiles (.env, .git) */
	if (req->app->cfg->static_dir)
		return from_disk(req, req->app->cfg->static_dir, rel);
	snprintf(key, sizeof key, "static/%s", rel);
	f = embedded_find(key);
	if (!f)
		return http_fail(req, RC_NOT_FOUND, "no such page");
	return http_reply(req, 200, content_type(rel), (const char *)f->data, f->len);
}
