/*
 * server/http/console.h — the web console: files of static/ compiled into the binary (or read
 * from PLANTAO_STATIC_DIR while developing), served at / with the security headers of
 * server/http/http.c (CSP without inline scripts, frame-ancestors 'none').
 */
#ifndef PLANTAO_CONSOLE_H
#define PLANTAO_CONSOLE_H

#include "http/http.h"

/* GET /{*}: a console file, or a JSON 404 for unknown /api/ and /twilio/ paths. */
enum rc console_get(struct http_req *req);

#endif
