/* split.h: what the splitter (split.c) and the statement parser (script.c) share. Not for
 * other modules. */
#ifndef FATHOM_SCRIPT_SPLIT_H
#define FATHOM_SCRIPT_SPLIT_H

#include "script/script.h"

/* Line and column of offset `off` in `text`, which starts at line:col. */
void script_locate(const char *text, size_t off, int line, int col, int *out_line, int *out_col);
/* Sets e to "line L, column C: ..." for offset `off` of `text` (with e->position), and
 * returns ERR_INVALID. */
int script_fail_at(struct err *e, const char *text, size_t off, int line, int col, const char *fmt,
		   ...) PRINTF_LIKE(6, 7);
/* The offset just past the quoted text or name that starts at s[i] ('...' with '' inside
 * for a quote, "...", [...], `...`), or 0 when it is not closed. */
size_t script_skip_quoted(const char *s, size_t i);

#endif
