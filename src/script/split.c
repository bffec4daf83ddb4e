/* split.c: a load script split into statements, and the positions every error names.
 *
 * The splitter knows only what it must to find statement ends: quotes ('...', "...",
 * [...], `...`), comments, and which statements are control statements (they end at the
 * end of their line). script.c parses each statement. */
#include "script/split.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- positions */

/* Line and column of offset `off` in `text`, which starts at line:col. */
void script_locate(const char *text, size_t off, int line, int col, int *out_line, int *out_col)
{
	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	*out_line = line;
	*out_col = col;
}

int script_fail_at(struct err *e, const char *text, size_t off, int line, int col, const char *fmt,
		   ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int l, c;
	script_locate(text, off, line, col, &l, &c);
	err_set(e, ERR_INVALID, "line %d, column %d: %s", l, c, msg);
	e->position = (int)off + 1;
	return ERR_INVALID;
}

/* ---------------------------------------------------------------- splitting */

static bool word_at(const char *s, const char *w)
{
	size_t n = strlen(w);
	return strncasecmp(s, w, n) == 0 && !isalnum((unsigned char)s[n]) && s[n] != '_';
}

static bool is_control(const char *s)
{
	static const char *const words[] = {
	    "IF",   "ELSEIF", "ELSE", "END",  "ENDIF",	"ENDSUB", "FOR",     "NEXT",	 "DO",
	    "LOOP", "SUB",    "CALL", "EXIT", "SWITCH", "CASE",	  "DEFAULT", "ENDSWITCH"};
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (word_at(s, words[i])) {
			/* "IF(" or "Sub:" would be something else */
			const char *p = s + strlen(words[i]);
			while (*p == ' ' || *p == '\t')
				p++;
			return *p != ':';
		}
	return false;
}

/* Skips a quoted run starting at s[i] (the opening quote); returns the index after the
 * closing quote, or 0 when it is not closed. */
size_t script_skip_quoted(const char *s, size_t i)
{
	char close = s[i] == '[' ? ']' : s[i];
	for (size_t k = i + 1; s[k]; k++) {
		if (s[k] == close) {
			if (close == '\'' && s[k + 1] == '\'') {
				k++;
				continue;
			}
			return k + 1;
		}
	}
	return 0;
}

int script_split(const char *src, struct arena *a, struct script_piece **out, int *n_out,
		 struct err *e)
{
	*out = NULL;
	*n_out = 0;
	size_t len = strlen(src);
	char *work = arena_strndup(a, src, len); /* comments become blanks here */
	int cap = 64, n = 0;
	struct script_piece *pieces = arena_alloc(a, sizeof(*pieces) * (size_t)cap);
	size_t i = 0;
	while (i < len) {
		/* between statements: blanks, comments and stray ';' */
		char c = work[i];
		if (isspace((unsigned char)c) || c == ';') {
			i++;
			continue;
		}
		if (c == '/' && work[i + 1] == '/') {
			while (i < len && work[i] != '\n')
				i++;
			continue;
		}
		if (c == '/' && work[i + 1] == '*') {
			/* one not closed runs to the end of the script, as in Qlik */
			const char *end = strstr(work + i + 2, "*/");
			i = end ? (size_t)(end - work) + 2 : len;
			continue;
		}
		if (word_at(work + i, "REM")) {
			const char *semi = strchr(work + i, ';');
			i = semi ? (size_t)(semi - work) + 1 : len;
			continue;
		}
		size_t start = i;
		bool control = is_control(work + i);
		while (i < len) {
			c = work[i];
			if (c == ';' || (control && c == '\n'))
				break;
			if (c == '\'' || c == '"' || c == '[' || c == '`') {
				size_t k = script_skip_quoted(work, i);
				if (!k)
					return script_fail_at(e, src, i, 1, 1, "%s is not closed",
							      c == '['	  ? "a [ name"
							      : c == '\'' ? "a string"
									  : "a quoted name");
				if (control && memchr(work + i, '\n', k - i))
					return script_fail_at(
					    e, src, i, 1, 1,
					    "a quoted text runs past the end of its line");
				i = k;
				continue;
			}
			if (c == '/' && work[i + 1] == '/' && !(i > 0 && work[i - 1] == ':')) {
				while (i < len && work[i] != '\n')
					work[i++] = ' ';
				continue;
			}
			if (c == '/' && work[i + 1] == '*') {
				const char *end = strstr(work + i + 2, "*/");
				size_t stop = end ? (size_t)(end - work) + 2 : len;
				for (; i < stop; i++)
					if (work[i] != '\n')
						work[i] = ' ';
				continue;
			}
			i++;
		}
		if (n == cap) {
			struct script_piece *more = arena_alloc(a, sizeof(*more) * (size_t)cap * 2);
			memcpy(more, pieces, sizeof(*more) * (size_t)n);
			pieces = more;
			cap *= 2;
		}
		struct script_piece *p = &pieces[n++];
		p->text = arena_strndup(a, work + start, i - start);
		p->control = control;
		script_locate(src, start, 1, 1, &p->line, &p->col);
		if (i < len && work[i] == ';')
			i++;
	}
	*out = pieces;
	*n_out = n;
	return 0;
}
