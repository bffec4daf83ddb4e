/* request_input.h: how the request-path fuzzers read their input:
 *   METHOD SP PATH[?QUERY] LF {Header: value LF} LF BODY
 * A missing method is GET, a path that does not start with / is /. */
#ifndef FATHOM_FUZZ_REQUEST_INPUT_H
#define FATHOM_FUZZ_REQUEST_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_request {
	char *in; /* the input, NUL-terminated and cut into the parts below */
	const char *method;
	char *path;	     /* malloc'd */
	const char *query;   /* NULL when the target has none */
	const char *headers; /* "Name: value\n" lines */
	const char *body;
	size_t body_len;
};

static inline void fuzz_request_split(const uint8_t *data, size_t size, struct fuzz_request *r)
{
	char *in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';
	char *nl = strchr(in, '\n');
	char *headers = nl ? nl + 1 : in + size;
	if (nl)
		*nl = '\0';
	char *body = strstr(headers, "\n\n");
	if (body) {
		*body = '\0';
		body += 2;
	} else {
		body = in + size;
	}
	char *sp = strchr(in, ' ');
	const char *method = "GET", *target = in;
	if (sp) {
		*sp = '\0';
		method = in;
		target = sp + 1;
	}
	char *path = strdup(target[0] == '/' ? target : "/");
	char *q = strchr(path, '?');
	if (q)
		*q++ = '\0';
	*r = (struct fuzz_request){in, method, path, q, headers, body, size - (size_t)(body - in)};
}

static inline void fuzz_request_free(struct fuzz_request *r)
{
	free(r->path);
	free(r->in);
}

#endif
