/* errors.c: the error table (from errors.def) and the request-owned error object. */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct err_info {
	int code;
	const char *name;
	int http;
	int rpc;
	const char *msg;
};

static const struct err_info table[] = {
#define X(name, http, rpc, msg) {name, #name, http, rpc, msg},
#include "errors.def"
#undef X
};

static const struct err_info *lookup(int code)
{
	for (size_t i = 0; i < ARRAY_LEN(table); i++)
		if (table[i].code == code)
			return &table[i];
	return NULL;
}

const char *err_str(int code)
{
	const struct err_info *i = lookup(code);
	return i ? i->msg : "internal error";
}

const char *err_name(int code)
{
	const struct err_info *i = lookup(code);
	return i ? i->name : (code == 0 ? "OK" : "ERR_INTERNAL");
}

int err_http_status(int code)
{
	const struct err_info *i = lookup(code);
	return i ? i->http : 500;
}

int err_rpc_code(int code)
{
	const struct err_info *i = lookup(code);
	return i ? i->rpc : -32603;
}

void err_init(struct err *e)
{
	memset(e, 0, sizeof(*e));
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	if (!e || e->code != 0)
		return code;
	e->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return code;
}

void err_detail(struct err *e, const char *fmt, ...)
{
	if (!e || e->code == 0 || e->detail[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
}

void err_hint(struct err *e, const char *fmt, ...)
{
	if (!e || e->code == 0 || e->hint[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
	va_end(ap);
}

int err_io_code(int errnum)
{
	switch (errnum) {
	case EIO:
	case ENOTCONN:
	case ETIMEDOUT:
	case ESTALE:
	case EHOSTDOWN:
	case EHOSTUNREACH:
	case ENETDOWN:
	case ENETUNREACH:
	case ECONNRESET:
	case ECONNABORTED:
	case ECONNREFUSED: return ERR_UNAVAILABLE;
	case ENOSPC:
	case EDQUOT: return ERR_NO_SPACE;
	default: return ERR_IO;
	}
}
