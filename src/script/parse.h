/* parse.h: the load script parser's tokens and expressions (parse.c), for the statement
 * parser (script.c). Internal to src/script. */
#ifndef FATHOM_SCRIPT_PARSE_H
#define FATHOM_SCRIPT_PARSE_H

#include "script/split.h"

#define MAX_NESTING 200

enum tok_kind { T_END, T_IDENT, T_NAME, T_STR, T_NUM, T_OP };

struct tok {
	enum tok_kind kind;
	size_t off, len;   /* in the text */
	const char *value; /* T_IDENT/T_NAME/T_STR: decoded; T_NUM: as written */
	int op;		   /* T_OP: the character or an enum expr_op */
};

struct parser {
	const char *text;
	size_t pos; /* next unread byte */
	int line, col;
	struct arena *a;
	struct err *e;
	struct tok t; /* the current token */
	int depth;
	bool failed;
};

/* Fails the parse at byte `off` (the first failure only); returns ERR_INVALID. */
int script_perr(struct parser *p, size_t off, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Reads the next token into p->t. */
void script_next(struct parser *p);
/* Whether the current token is the word w (any case), or the operator op. */
bool script_word(const struct parser *p, const char *w);
bool script_op(const struct parser *p, int op);
/* The current token as an error message names it. */
const char *script_describe(const struct parser *p);
/* Takes the word w or the operator op, or fails saying what was found. */
bool script_expect_word(struct parser *p, const char *w);
bool script_expect_op(struct parser *p, int op);
/* A field or table name: an identifier or a quoted name (NULL after failing). */
const char *script_name(struct parser *p, const char *what);
/* An expression (NULL after failing). */
struct expr *script_expr(struct parser *p);

#endif
