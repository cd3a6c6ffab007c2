/*
 * server/http/multipart.h — an incremental reader of multipart/form-data bodies (RFC 7578 on the
 * framing of RFC 2046 §5.1). The body arrives in chunks split anywhere (inside a boundary,
 * between CR and LF, inside part headers); parts are handed on as they stream, so memory is
 * O(boundary + part headers), never O(body).
 *  - The boundary comes from the Content-Type parameter (quoted or not, 1-70 characters).
 *  - The preamble before the first boundary and the epilogue after the closing one are
 *    ignored; a delimiter is CRLF "--" boundary, then optional spaces/tabs and CRLF (or "--"
 *    for the last one). The first delimiter may start the body without its CRLF.
 *  - Part headers end with an empty line and are capped (MULTIPART_MAX_HEADERS); of them
 *    Content-Disposition (name, filename, filename* in RFC 5987 UTF-8 form, which wins) and
 *    Content-Type are read; names are case-insensitive; other headers are ignored.
 *  - At most MULTIPART_MAX_PARTS parts.
 * Called by the sales import route; tested in tests/unit/http/test_multipart.c and fuzzed in
 * tests/fuzz/fuzz_multipart.c.
 */
#ifndef PLANTAO_MULTIPART_H
#define PLANTAO_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rc.h"

#define MULTIPART_MAX_HEADERS  (16 * 1024)
#define MULTIPART_MAX_PARTS    100
#define MULTIPART_BOUNDARY_MAX 70

/* One part's headers. Borrowed: valid during the part_begin call only. */
struct multipart_part {
	const char *name;         /* form field name, "" when absent */
	const char *filename;     /* NULL when the part is not a file; may be "" (no file chosen) */
	const char *content_type; /* "" when absent */
};

/* What the reader calls. Any rc other than RC_OK stops the parse and is returned by
 * multipart_feed/multipart_finish (the callback writes its own message if it wants one). */
struct multipart_cb {
	enum rc (*part_begin)(void *ctx, const struct multipart_part *p);
	enum rc (*part_data)(void *ctx, const char *data, size_t len); /* len > 0 */
	enum rc (*part_end)(void *ctx);
	void *ctx;
};

struct multipart;

/* Finds the boundary in content_type ("multipart/form-data; boundary=xyz"). RC_INVALID, with
 * a message in err, when the type is not multipart/form-data or the boundary is missing or
 * malformed; RC_INTERNAL when out of memory. cb is copied. *out: multipart_free(). */
enum rc multipart_new(const char *content_type, const struct multipart_cb *cb, struct multipart **out, char *err,
                      size_t errlen);
void multipart_free(struct multipart *m);

/* True when content_type names multipart/form-data (any parameters). */
bool multipart_is(const char *content_type);

/* Reads a Content-Disposition value ("form-data; name=\"f\"; filename=\"janeiro.xlsx\""; also
 * the raw upload's "attachment; filename=..."): name and filename (filename* wins; only the
 * last path component is kept; bytes that are not UTF-8 and control characters become '_').
 * Either output may be NULL; both are always NUL-terminated ("" when absent). Returns true
 * when a filename parameter is present (even empty). */
bool multipart_disposition(const char *value, char *name, size_t name_len, char *filename, size_t filename_len);

/* Feeds the next len bytes. RC_OK to go on; otherwise the parse has stopped and every later
 * call returns the same rc: RC_INVALID (malformed framing or headers: err says what),
 * RC_TOO_BIG (headers over MULTIPART_MAX_HEADERS, more than MULTIPART_MAX_PARTS parts), or
 * a callback's rc (err left as the callback set it, "" otherwise). */
enum rc multipart_feed(struct multipart *m, const char *data, size_t len, char *err, size_t errlen);

/* Ends the body. RC_INVALID when the closing boundary was not seen (truncated upload) or
 * when the body held no part at all. */
enum rc multipart_finish(struct multipart *m, char *err, size_t errlen);

#endif
