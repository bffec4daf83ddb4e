/* script.c: parsing one statement of a load script (split.c splits the script into them;
 * parse.c reads its tokens and expressions). Paths and inline data are read as raw text,
 * since they are not tokens. */
#include "script/parse.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- raw text */

/* The rest of the statement from the current token on, trimmed. */
static const char *rest(struct parser *p)
{
	size_t from = p->t.off, n = strlen(p->text);
	while (n > from && isspace((unsigned char)p->text[n - 1]))
		n--;
	p->pos = strlen(p->text);
	p->t.kind = T_END;
	p->t.off = p->pos;
	return arena_strndup(p->a, p->text + from, n - from);
}

/* A path after FROM or INTO: [..], '..', "..", `..`, or a run without blanks. */
/* A lib:// path written with Windows backslashes (lib://Data\\2024\\x.csv) means the same
 * path with slashes, as Qlik reads it. */
static const char *slashes(struct parser *p, const char *v)
{
	if (strncasecmp(v, "lib://", 6) != 0 || !strchr(v, '\\'))
		return v;
	char *c = arena_strdup(p->a, v);
	for (char *q = c; *q; q++)
		*q = *q == '\\' ? '/' : *q;
	return c;
}

static const char *path(struct parser *p)
{
	if (p->t.kind == T_NAME || p->t.kind == T_STR) {
		const char *v = p->t.value;
		script_next(p);
		return slashes(p, v);
	}
	size_t from = p->t.off, k = from;
	while (p->text[k] && !isspace((unsigned char)p->text[k]) && p->text[k] != '(')
		k++;
	if (k == from) {
		script_perr(p, from, "expected a file name, found %s", script_describe(p));
		return NULL;
	}
	p->pos = k;
	const char *v = arena_strndup(p->a, p->text + from, k - from);
	script_next(p);
	return slashes(p, v);
}

/* ---------------------------------------------------------------- format specs */

static void format_default(struct format *f)
{
	memset(f, 0, sizeof(*f));
	f->labels = LABELS_EMBEDDED;
	f->delimiter = ',';
	f->codepage = 65001;
}

/* The format specifiers that are one word and set one thing. */
static const struct {
	const char *word;
	int qvd;      /* -1: leaves it */
	int codepage; /* 0: leaves it */
	bool msq;
} simple_specs[] = {
    {"txt", 0, 0, false},	  {"qvd", 1, 0, false},	   {"utf8", -1, 65001, false},
    {"ansi", -1, 1252, false},	  {"oem", -1, 850, false}, {"mac", -1, 10000, false},
    {"unicode", -1, 1200, false}, {"msq", -1, 0, true},
};

static bool simple_spec(struct parser *p, struct format *f)
{
	for (size_t i = 0; i < ARRAY_LEN(simple_specs); i++) {
		if (!script_word(p, simple_specs[i].word))
			continue;
		if (simple_specs[i].qvd >= 0)
			f->qvd = simple_specs[i].qvd;
		if (simple_specs[i].codepage)
			f->codepage = simple_specs[i].codepage;
		if (simple_specs[i].msq)
			f->msq = true;
		script_next(p);
		return true;
	}
	return false;
}

/* codepage is N; false when the number is missing (the format ends there). */
static bool spec_codepage(struct parser *p, struct format *f)
{
	script_next(p);
	script_expect_word(p, "is");
	if (p->t.kind != T_NUM) {
		script_perr(p, p->t.off, "expected a code page number, found %s",
			    script_describe(p));
		return false;
	}
	int64_t cp;
	if (str_to_i64(p->t.value, 1, 65535, &cp) != 0)
		script_perr(p, p->t.off, "code page %s does not exist", p->t.value);
	f->codepage = (int)cp;
	script_next(p);
	return true;
}

/* delimiter is 'c' (or '\t', tab, spaces); false when the text is missing. */
static bool spec_delimiter(struct parser *p, struct format *f)
{
	script_next(p);
	script_expect_word(p, "is");
	if (p->t.kind != T_STR) {
		script_perr(p, p->t.off, "expected the delimiter in quotes, found %s",
			    script_describe(p));
		return false;
	}
	const char *d = p->t.value;
	if (!strcmp(d, "\\t") || !strcasecmp(d, "tab"))
		f->delimiter = '\t';
	else if (!strcasecmp(d, "spaces"))
		f->delimiter = ' ';
	else if (!strcmp(d, "\\\\"))
		f->delimiter = '\\';
	else if (strlen(d) == 1 && d[0] != '\n' && d[0] != '"')
		f->delimiter = d[0];
	else
		script_perr(p, p->t.off, "the delimiter must be one character, not '%s'", d);
	script_next(p);
	return true;
}

/* header is N lines */
static void spec_header(struct parser *p, struct format *f)
{
	script_next(p);
	script_expect_word(p, "is");
	int64_t h = 0;
	if (p->t.kind != T_NUM || str_to_i64(p->t.value, 0, 1000000, &h) != 0)
		script_perr(p, p->t.off, "expected a number of header lines, found %s",
			    script_describe(p));
	f->header_lines = (int)h;
	script_next(p);
	if (script_word(p, "lines") || script_word(p, "line"))
		script_next(p);
}

/* no labels, no quotes, no eof */
static void spec_no(struct parser *p, struct format *f)
{
	script_next(p);
	if (script_word(p, "labels"))
		f->labels = LABELS_NONE;
	else if (script_word(p, "quotes"))
		f->no_quotes = true;
	else if (!script_word(p, "eof"))
		script_perr(p, p->t.off, "expected labels, quotes or eof after no, found %s",
			    script_describe(p));
	script_next(p);
}

/* An identifier that is no specifier this reader knows. */
static void spec_unknown(struct parser *p, size_t off)
{
	static const char *const later[] = {"fix", "dif",     "biff", "html", "xml",
					    "qvx", "parquet", "kml",  "json"};
	bool known = false;
	for (size_t i = 0; i < ARRAY_LEN(later); i++)
		known |= script_word(p, later[i]);
	script_perr(p, off,
		    known ? "the %s format is not supported yet" : "unknown format specifier %s",
		    p->t.value);
}

static const char *prefix_name(struct parser *p, const char *what);

/* One specifier; false when the format cannot be read on. */
static bool one_spec(struct parser *p, struct format *f)
{
	size_t off = p->t.off;
	if (simple_spec(p, f))
		return true;
	if (script_word(p, "embedded") || script_word(p, "explicit")) {
		f->labels = script_word(p, "embedded") ? LABELS_EMBEDDED : LABELS_EXPLICIT;
		script_next(p);
		script_expect_word(p, "labels");
	} else if (script_word(p, "no")) {
		spec_no(p, f);
	} else if (script_word(p, "codepage")) {
		return spec_codepage(p, f);
	} else if (script_word(p, "delimiter")) {
		return spec_delimiter(p, f);
	} else if (script_word(p, "header")) {
		spec_header(p, f);
	} else if (script_word(p, "ooxml")) {
		f->xlsx = true;
		f->qvd = false;
		script_next(p);
	} else if (script_word(p, "table")) { /* table is Sheet1: the workbook's sheet */
		script_next(p);
		script_expect_word(p, "is");
		const char *sheet = p->failed ? NULL : prefix_name(p, "a sheet name");
		if (sheet && str_copy(f->sheet, sheet, sizeof(f->sheet)) >= sizeof(f->sheet))
			script_perr(p, off, "the sheet name is too long");
	} else if (p->t.kind == T_IDENT) {
		spec_unknown(p, off);
	} else {
		script_perr(p, off, "expected a format specifier, found %s", script_describe(p));
	}
	return true;
}

/* (txt, utf8, embedded labels, delimiter is ',', ...) */
static void format_spec(struct parser *p, struct format *f)
{
	if (!script_op(p, '('))
		return;
	script_next(p);
	while (!p->failed && !script_op(p, ')')) {
		if (!one_spec(p, f))
			break;
		if (script_op(p, ','))
			script_next(p);
		else if (!script_op(p, ')'))
			script_perr(p, p->t.off, "expected ',' or ')' in the format, found %s",
				    script_describe(p));
	}
	script_next(p);
}

/* ---------------------------------------------------------------- LOAD */

static void items(struct parser *p, struct load_item **out, int *n_out, bool allow_star)
{
	int cap = 8, n = 0;
	struct load_item *it = arena_alloc(p->a, sizeof(*it) * (size_t)cap);
	for (;;) {
		if (n == cap) {
			struct load_item *more = arena_alloc(p->a, sizeof(*more) * (size_t)cap * 2);
			memcpy(more, it, sizeof(*more) * (size_t)n);
			it = more;
			cap *= 2;
		}
		size_t from = p->t.off;
		if (allow_star && script_op(p, '*')) {
			script_next(p);
			it[n].expr = NULL;
		} else {
			it[n].expr = script_expr(p);
		}
		if (!p->failed) {
			size_t to = p->t.off;
			while (to > from && isspace((unsigned char)p->text[to - 1]))
				to--;
			it[n].text = arena_strndup(p->a, p->text + from, to - from);
		}
		if (p->failed)
			break;
		if (script_word(p, "AS")) {
			script_next(p);
			it[n].as = p->t.kind == T_STR ? p->t.value : NULL;
			if (it[n].as)
				script_next(p);
			else
				it[n].as = script_name(p, "a field name after AS");
		}
		n++;
		if (!script_op(p, ','))
			break;
		script_next(p);
	}
	*out = it;
	*n_out = n;
}

/* A name in a list (CROSSTABLE( ), INTERVALMATCH( ), DERIVE, tags): a name, or a text in
 * quotes. */
static const char *prefix_name(struct parser *p, const char *what)
{
	if (p->t.kind == T_STR) {
		const char *v = p->t.value;
		script_next(p);
		return v;
	}
	return script_name(p, what);
}

static const char **name_list(struct parser *p, int *n_out, const char *what)
{
	int cap = 8, n = 0;
	const char **v = arena_alloc(p->a, sizeof(char *) * (size_t)cap);
	for (;;) {
		if (n == cap) {
			const char **more = arena_alloc(p->a, sizeof(char *) * (size_t)cap * 2);
			memcpy(more, v, sizeof(char *) * (size_t)n);
			v = more;
			cap *= 2;
		}
		v[n] = prefix_name(p, what);
		if (p->failed)
			break;
		n++;
		if (!script_op(p, ','))
			break;
		script_next(p);
	}
	*n_out = n;
	return v;
}

/* The optional "(Table)" after CONCATENATE, JOIN or KEEP. */
static const char *target(struct parser *p)
{
	if (!script_op(p, '('))
		return NULL;
	script_next(p);
	const char *t = script_name(p, "a table name");
	script_expect_op(p, ')');
	return t;
}

static void inline_data(struct parser *p, struct load *l)
{
	size_t i = p->t.off;
	char c = p->text[i];
	if (c != '[' && c != '"' && c != '\'' && c != '`') {
		script_perr(p, i, "expected the inline data in [ ], found %s", script_describe(p));
		return;
	}
	size_t k = script_skip_quoted(p->text, i);
	if (!k) {
		script_perr(p, i, "the inline data is not closed");
		return;
	}
	l->inline_data = arena_strndup(p->a, p->text + i + 1, k - i - 2);
	p->pos = k;
	script_next(p);
}

/* INNER, OUTER, LEFT or RIGHT, then JOIN or KEEP, then the optional (Table). */
static void join_prefix(struct parser *p, struct load *l)
{
	size_t off = p->t.off;
	enum load_join j = script_word(p, "INNER")   ? JOIN_INNER
			   : script_word(p, "OUTER") ? JOIN_OUTER
			   : script_word(p, "LEFT")  ? JOIN_LEFT
						     : JOIN_RIGHT;
	script_next(p);
	if (script_word(p, "KEEP")) {
		if (j == JOIN_OUTER) {
			script_perr(p, off, "OUTER KEEP does not exist: use INNER, LEFT or RIGHT");
			return;
		}
		l->keep = true;
	} else if (!script_word(p, "JOIN")) {
		script_perr(p, p->t.off, "expected JOIN or KEEP, found %s", script_describe(p));
		return;
	}
	l->join = j;
	script_next(p);
	l->target = target(p);
}

/* CROSSTABLE(attribute, data[, n]). */
static void crosstable(struct parser *p, struct load *l)
{
	script_next(p);
	if (!script_expect_op(p, '('))
		return;
	l->cross_attr = prefix_name(p, "a field name in CROSSTABLE");
	if (!p->failed && script_expect_op(p, ','))
		l->cross_data = prefix_name(p, "a field name in CROSSTABLE");
	l->cross_keep = 1;
	if (!p->failed && script_op(p, ',')) {
		script_next(p);
		int64_t n = 0;
		if (p->t.kind != T_NUM || str_to_i64(p->t.value, 0, 1000, &n) != 0) {
			script_perr(p, p->t.off,
				    "CROSSTABLE's third argument is the number of fields kept");
			return;
		}
		l->cross_keep = (int)n;
		script_next(p);
	}
	script_expect_op(p, ')');
}

/* INTERVALMATCH(field[, key, ...]). */
static void intervalmatch(struct parser *p, struct load *l)
{
	script_next(p);
	if (!script_expect_op(p, '('))
		return;
	const char *names[17];
	int n = 0;
	do {
		if (n && !script_expect_op(p, ','))
			return;
		if (n == 17) {
			script_perr(p, p->t.off, "INTERVALMATCH takes a field and at most 16 keys");
			return;
		}
		names[n++] = prefix_name(p, "a field name in INTERVALMATCH");
	} while (!p->failed && script_op(p, ','));
	if (p->failed || !script_expect_op(p, ')'))
		return;
	l->im = arena_alloc(p->a, sizeof(char *) * (size_t)n);
	memcpy(l->im, names, sizeof(char *) * (size_t)n);
	l->n_im = n;
}

/* HIERARCHY(NodeID, ParentID, NodeName[, ParentName, PathSource, PathName, PathDelimiter,
 * Depth]): the first three are needed; a later one may be left empty.
 * HIERARCHYBELONGSTO(NodeID, ParentID, NodeName, AncestorID, AncestorName[, DepthDiff]):
 * the first five are needed. */
static void hierarchy(struct parser *p, struct load *l)
{
	l->belongs = script_word(p, "HIERARCHYBELONGSTO");
	const char *what = l->belongs ? "HIERARCHYBELONGSTO" : "HIERARCHY";
	int most = l->belongs ? 6 : 8, needed = l->belongs ? 5 : 3;
	script_next(p);
	if (!script_expect_op(p, '('))
		return;
	for (int n = 0; !p->failed && n < most; n++) {
		if (n && !script_op(p, ','))
			break;
		if (n)
			script_next(p);
		if (n >= needed && (script_op(p, ',') || script_op(p, ')')))
			continue; /* left empty */
		l->hier[n] = prefix_name(p, l->belongs ? "a field name in HIERARCHYBELONGSTO"
						       : "a field name in HIERARCHY");
	}
	bool missing = false;
	for (int n = 0; n < needed; n++)
		missing = missing || !l->hier[n];
	if (!p->failed && missing)
		script_perr(p, p->t.off, "%s needs %s", what,
			    l->belongs ? "NodeID, ParentID, NodeName, AncestorID and AncestorName"
				       : "NodeID, ParentID and NodeName");
	else if (!p->failed)
		script_expect_op(p, ')');
}

/* MAPPING, CONCATENATE, NOCONCATENATE, JOIN, KEEP, FIRST n, CROSSTABLE, INTERVALMATCH,
 * GENERIC, HIERARCHY, ADD and REPLACE before LOAD. */
static void load_prefixes(struct parser *p, struct load *l)
{
	while (!p->failed) {
		if (script_word(p, "CROSSTABLE") && !l->cross_attr) {
			crosstable(p, l);
		} else if (script_word(p, "INTERVALMATCH") && !l->im) {
			intervalmatch(p, l);
		} else if ((script_word(p, "HIERARCHY") || script_word(p, "HIERARCHYBELONGSTO")) &&
			   !l->hier[0]) {
			hierarchy(p, l);
		} else if (script_word(p, "GENERIC")) {
			l->generic = true;
			script_next(p);
		} else if (script_word(p, "ADD") || script_word(p, "REPLACE")) {
			/* a full reload runs ADD and REPLACE loads as plain ones */
			script_next(p);
			if (script_word(p, "ONLY")) {
				l->partial_only = true;
				script_next(p);
			}
		} else if (script_word(p, "FIRST") && !l->first) {
			script_next(p);
			l->first = script_expr(p);
		} else if (script_word(p, "MAPPING")) {
			l->mapping = true;
			script_next(p);
		} else if (script_word(p, "CONCATENATE")) {
			l->concatenate = true;
			script_next(p);
			l->target = target(p);
		} else if (script_word(p, "NOCONCATENATE")) {
			l->noconcatenate = true;
			script_next(p);
		} else if (script_word(p, "JOIN")) {
			l->join = JOIN_OUTER;
			script_next(p);
			l->target = target(p);
		} else if (script_word(p, "INNER") || script_word(p, "OUTER") ||
			   script_word(p, "LEFT") || script_word(p, "RIGHT")) {
			join_prefix(p, l);
		} else if (script_word(p, "KEEP")) {
			script_perr(p, p->t.off, "KEEP needs INNER, LEFT or RIGHT before it");
		} else {
			return;
		}
	}
}

/* FROM file, INLINE [...], RESIDENT table, AUTOGENERATE n, or none (a preceding load). */
static void load_source(struct parser *p, struct load *l)
{
	if (script_word(p, "FROM")) {
		script_next(p);
		l->source = SRC_FILE;
		l->path = path(p);
		if (l->path) {
			size_t n = strlen(l->path);
			l->format.qvd = n > 4 && strcasecmp(l->path + n - 4, ".qvd") == 0;
			l->format.xlsx = n > 5 && strcasecmp(l->path + n - 5, ".xlsx") == 0;
		}
		format_spec(p, &l->format);
	} else if (script_word(p, "INLINE")) {
		script_next(p);
		l->source = SRC_INLINE;
		inline_data(p, l);
		format_spec(p, &l->format);
		if (l->format.qvd)
			script_perr(p, p->t.off, "inline data is text, not qvd");
	} else if (script_word(p, "RESIDENT")) {
		script_next(p);
		l->source = SRC_RESIDENT;
		l->path = script_name(p, "a table name after RESIDENT");
	} else if (script_word(p, "AUTOGENERATE")) {
		script_next(p);
		l->source = SRC_AUTOGENERATE;
		l->count = script_expr(p);
	} else {
		l->source = SRC_PRECEDING;
	}
}

/* ORDER BY field [ASC|DESC], ... (RESIDENT loads only) */
static void order_by(struct parser *p, struct load *l)
{
	script_next(p);
	script_expect_word(p, "BY");
	int cap = 8;
	l->order_by = arena_alloc(p->a, sizeof(char *) * (size_t)cap);
	l->order_desc = arena_alloc(p->a, sizeof(bool) * (size_t)cap);
	for (;;) {
		if (l->n_order_by == cap) {
			const char **m = arena_alloc(p->a, sizeof(char *) * (size_t)cap * 2);
			bool *d = arena_alloc(p->a, sizeof(bool) * (size_t)cap * 2);
			memcpy(m, l->order_by, sizeof(char *) * (size_t)cap);
			memcpy(d, l->order_desc, sizeof(bool) * (size_t)cap);
			l->order_by = m;
			l->order_desc = d;
			cap *= 2;
		}
		const char *f = script_name(p, "a field after ORDER BY");
		if (!f)
			break;
		bool desc = false;
		if (script_word(p, "DESC") || script_word(p, "ASC")) {
			desc = script_word(p, "DESC");
			script_next(p);
		}
		l->order_by[l->n_order_by] = f;
		l->order_desc[l->n_order_by++] = desc;
		if (!script_op(p, ','))
			break;
		script_next(p);
	}
	if (l->source != SRC_RESIDENT && !p->failed)
		script_perr(p, p->t.off, "ORDER BY works only with RESIDENT loads");
}

/* WHERE, WHILE, GROUP BY and ORDER BY after the source, each at most once. */
static void load_clauses(struct parser *p, struct load *l)
{
	while (!p->failed && p->t.kind != T_END) {
		if (script_word(p, "WHERE") && !l->where) {
			script_next(p);
			l->where = script_expr(p);
		} else if (script_word(p, "WHILE") && !l->while_) {
			script_next(p);
			l->while_ = script_expr(p);
		} else if (script_word(p, "GROUP") && !l->group_by) {
			script_next(p);
			script_expect_word(p, "BY");
			l->group_by = name_list(p, &l->n_group_by, "a field after GROUP BY");
		} else if (script_word(p, "ORDER") && !l->order_by) {
			order_by(p, l);
		} else {
			script_perr(p, p->t.off, "unexpected %s in LOAD", script_describe(p));
		}
	}
}

static void load(struct parser *p, struct load *l)
{
	format_default(&l->format);
	load_prefixes(p, l);
	if (p->failed)
		return;
	if (script_word(p, "SQL") || script_word(p, "SELECT")) {
		script_perr(p, p->t.off,
			    "SQL SELECT is not supported: load from files, INLINE or RESIDENT");
		return;
	}
	if (!script_expect_word(p, "LOAD"))
		return;
	if (script_word(p, "DISTINCT")) {
		l->distinct = true;
		script_next(p);
	}
	items(p, &l->items, &l->n_items, true);
	if (p->failed)
		return;
	load_source(p, l);
	load_clauses(p, l);
}

/* ---------------------------------------------------------------- other statements */

static void store(struct parser *p, struct stmt *s)
{
	format_default(&s->store.format);
	s->store.format.qvd = true;
	struct load_item *it = NULL;
	int n = 0;
	items(p, &it, &n, true);
	if (p->failed)
		return;
	if (script_word(p, "FROM")) {
		script_next(p);
		s->store.items = it;
		s->store.n_items = n;
		s->store.table = script_name(p, "a table name after FROM");
		if (n == 1 && !it[0].expr) { /* STORE * FROM T: the whole table */
			s->store.items = NULL;
			s->store.n_items = 0;
		}
	} else if (n == 1 && it[0].expr && it[0].expr->kind == EX_FIELD && !it[0].as) {
		s->store.table = it[0].expr->text;
	} else {
		script_perr(p, p->t.off,
			    "expected STORE table INTO file, or STORE fields FROM table INTO file");
		return;
	}
	if (!script_expect_word(p, "INTO"))
		return;
	s->store.path = path(p);
	if (script_op(p, '(')) {
		s->store.format.qvd = false;
		format_spec(p, &s->store.format);
	}
}

static void drop(struct parser *p, struct stmt *s)
{
	if (script_word(p, "MAPPING")) {
		script_next(p);
		if (!script_word(p, "TABLE") && !script_word(p, "TABLES")) {
			script_perr(p, p->t.off, "expected TABLE after DROP MAPPING, found %s",
				    script_describe(p));
			return;
		}
	}
	if (script_word(p, "TABLE") || script_word(p, "TABLES")) {
		script_next(p);
		s->kind = ST_DROP_TABLES;
		s->names = name_list(p, &s->n_names, "a table name");
	} else if (script_word(p, "FIELD") || script_word(p, "FIELDS")) {
		script_next(p);
		s->kind = ST_DROP_FIELDS;
		s->names = name_list(p, &s->n_names, "a field name");
		if (script_word(p, "FROM")) {
			script_next(p);
			s->from = name_list(p, &s->n_from, "a table name");
		}
	} else {
		script_perr(p, p->t.off, "expected TABLE or FIELD after DROP, found %s",
			    script_describe(p));
	}
}

/* Whether the current word is a variable given a value ("Connect = 1" is LET). */
static bool assigns(struct parser *p)
{
	size_t save = p->pos;
	struct tok t = p->t;
	script_next(p);
	bool eq = script_op(p, '=');
	p->pos = save;
	p->t = t;
	return eq;
}

/* TAG FIELD[S] a, b WITH 'tag', ...; UNTAG the same. */
static void tag(struct parser *p, struct stmt *s)
{
	s->kind = ST_TAG;
	s->until = script_word(p, "UNTAG");
	script_next(p);
	if (!script_word(p, "FIELD") && !script_word(p, "FIELDS")) {
		script_perr(p, p->t.off, "expected FIELD or FIELDS after %s, found %s",
			    s->until ? "UNTAG" : "TAG", script_describe(p));
		return;
	}
	script_next(p);
	/* FIELDS USING map (every field the map names) or FIELDS a, b USING map */
	if (!script_word(p, "USING"))
		s->names = name_list(p, &s->n_names, "a field name");
	if (!p->failed && script_word(p, "USING")) {
		script_next(p);
		s->name = script_name(p, "a mapping table");
	} else if (!p->failed && script_expect_word(p, "WITH")) {
		s->from = name_list(p, &s->n_from, "a tag");
	}
}

/* a TO b, c TO d (RENAME) or a AS b, ... (ALIAS): into names, two by two. */
static void pairs(struct parser *p, struct stmt *s, const char *word)
{
	int cap = 8;
	s->names = arena_alloc(p->a, sizeof(char *) * (size_t)cap);
	while (!p->failed) {
		if (s->n_names + 2 > cap) {
			const char **more = arena_alloc(p->a, sizeof(char *) * (size_t)cap * 2);
			memcpy(more, s->names, sizeof(char *) * (size_t)s->n_names);
			s->names = more;
			cap *= 2;
		}
		s->names[s->n_names] = prefix_name(p, "a name");
		if (p->failed || !script_expect_word(p, word))
			return;
		s->names[s->n_names + 1] = prefix_name(p, "the new name");
		s->n_names += 2;
		if (!script_op(p, ','))
			break;
		script_next(p);
	}
}

/* MAP a, b USING m, MAP * USING m; UNMAP a, b or UNMAP *. */
static void map_fields(struct parser *p, struct stmt *s)
{
	s->kind = ST_MAP;
	s->until = script_word(p, "UNMAP");
	script_next(p);
	if (script_op(p, '*')) {
		script_next(p);
		s->names = arena_alloc(p->a, sizeof(char *));
		s->names[0] = "*";
		s->n_names = 1;
	} else {
		s->names = name_list(p, &s->n_names, "a field name");
	}
	if (!s->until && !p->failed && script_expect_word(p, "USING"))
		s->name = prefix_name(p, "a mapping table name");
}

static void patterns(struct parser *p, struct stmt *s);

/* The statements that change nothing here (kept in the log), those that are refused with
 * why, and those of the settings of later loads. False: none of them. */
static bool other_statement(struct parser *p, struct stmt *s)
{
	size_t off = p->t.off;
	if (script_word(p, "SECTION")) {
		script_next(p);
		s->kind = ST_SECTION;
		s->until = script_word(p, "ACCESS");
		if (!s->until && !script_word(p, "APPLICATION"))
			script_perr(p, p->t.off, "SECTION is followed by ACCESS or APPLICATION");
		script_next(p);
	} else if (script_word(p, "BINARY")) {
		s->kind = ST_BINARY;
		script_next(p);
		if (p->t.kind == T_END)
			script_perr(p, off, "BINARY names the app file whose tables it loads");
		s->raw = path(p);
	} else if (script_word(p, "EXECUTE")) {
		script_perr(p, off, "EXECUTE is not allowed: a load script runs no programs here");
	} else if (script_word(p, "COMMENT") || script_word(p, "STAR") || script_word(p, "FORCE") ||
		   script_word(p, "SEARCH")) {
		s->kind = ST_NOTED;
		s->raw = rest(p);
	} else if (script_word(p, "ALIAS")) {
		s->kind = ST_ALIAS;
		script_next(p);
		pairs(p, s, "AS");
	} else if (script_word(p, "MAP") || script_word(p, "UNMAP")) {
		map_fields(p, s);
	} else if (script_word(p, "NULLASVALUE") || script_word(p, "NULLASNULL")) {
		bool null = script_word(p, "NULLASNULL");
		script_next(p);
		patterns(p, s);
		s->kind = ST_NULLAS;
		s->until = null;
	} else if (script_word(p, "DIRECTORY")) {
		s->kind = ST_DIRECTORY;
		script_next(p);
		s->raw = p->t.kind == T_END ? "" : path(p);
	} else {
		return false;
	}
	return true;
}

static void rename_(struct parser *p, struct stmt *s)
{
	if (script_word(p, "TABLE") || script_word(p, "TABLES"))
		s->kind = ST_RENAME_TABLE;
	else if (script_word(p, "FIELD") || script_word(p, "FIELDS"))
		s->kind = ST_RENAME_FIELD;
	else {
		script_perr(p, p->t.off, "expected TABLE or FIELD after RENAME, found %s",
			    script_describe(p));
		return;
	}
	script_next(p);
	if (script_word(p, "USING")) { /* the pairs are the rows of a mapping table */
		script_next(p);
		s->name = script_name(p, "a mapping table name");
		return;
	}
	pairs(p, s, "TO");
}

/* QUALIFY/UNQUALIFY: names with wildcards, taken as written. */
static void patterns(struct parser *p, struct stmt *s)
{
	const char *r = rest(p);
	int cap = 8;
	s->names = arena_alloc(p->a, sizeof(char *) * (size_t)cap);
	while (*r) {
		const char *comma = r;
		while (*comma && *comma != ',') {
			if (*comma == '[' || *comma == '"' || *comma == '`' || *comma == '\'') {
				size_t k = script_skip_quoted(comma, 0);
				comma = k ? comma + k : comma + strlen(comma);
			} else {
				comma++;
			}
		}
		const char *b = r, *e2 = comma;
		while (b < e2 && isspace((unsigned char)*b))
			b++;
		while (e2 > b && isspace((unsigned char)e2[-1]))
			e2--;
		if (e2 - b >= 2 &&
		    ((*b == '[' && e2[-1] == ']') || (*b == '"' && e2[-1] == '"') ||
		     (*b == '\'' && e2[-1] == '\'') || (*b == '`' && e2[-1] == '`'))) {
			b++;
			e2--;
		}
		if (e2 > b) {
			if (s->n_names == cap) {
				const char **more =
				    arena_alloc(p->a, sizeof(char *) * (size_t)cap * 2);
				memcpy(more, s->names, sizeof(char *) * (size_t)cap);
				s->names = more;
				cap *= 2;
			}
			s->names[s->n_names++] = arena_strndup(p->a, b, (size_t)(e2 - b));
		}
		r = *comma ? comma + 1 : comma;
	}
	if (s->n_names == 0)
		script_perr(p, p->t.off, "expected field names");
}

static void call_args(struct parser *p, struct stmt *s, bool params)
{
	if (!script_op(p, '('))
		return;
	script_next(p);
	int cap = 8;
	if (params)
		s->names = arena_alloc(p->a, sizeof(char *) * (size_t)cap);
	else
		s->args = arena_alloc(p->a, sizeof(struct expr *) * (size_t)cap);
	while (!p->failed && !script_op(p, ')')) {
		int *n = params ? &s->n_names : &s->n_args;
		if (*n == cap) {
			script_perr(p, p->t.off, "more than %d %s", cap,
				    params ? "parameters" : "arguments");
			return;
		}
		if (params)
			s->names[(*n)++] = script_name(p, "a parameter name");
		else
			s->args[(*n)++] = script_expr(p);
		if (script_op(p, ','))
			script_next(p);
		else if (!script_op(p, ')'))
			script_perr(p, p->t.off, "expected ',' or ')', found %s",
				    script_describe(p));
	}
	script_next(p);
}

/* END IF, END SUB, END SWITCH, and their one-word forms ENDIF, ENDSUB and ENDSWITCH. */
static void block_end(struct parser *p, struct stmt *s)
{
	bool one_word = !script_word(p, "END");
	if (one_word)
		s->kind = script_word(p, "ENDIF")    ? ST_END_IF
			  : script_word(p, "ENDSUB") ? ST_END_SUB
						     : ST_END_SWITCH;
	script_next(p);
	if (one_word)
		return;
	if (script_word(p, "IF"))
		s->kind = ST_END_IF;
	else if (script_word(p, "SUB"))
		s->kind = ST_END_SUB;
	else if (script_word(p, "SWITCH"))
		s->kind = ST_END_SWITCH;
	else
		script_perr(p, p->t.off, "expected IF, SUB or SWITCH after END, found %s",
			    script_describe(p));
	script_next(p);
}

/* Expressions separated by commas, into s->args (FOR EACH's values, CASE's). */
static void expr_list(struct parser *p, struct stmt *s)
{
	int cap = 16;
	s->args = arena_alloc(p->a, sizeof(*s->args) * (size_t)cap);
	while (!p->failed) {
		if (s->n_args == cap) {
			struct expr **more = arena_alloc(p->a, sizeof(*more) * (size_t)cap * 2);
			memcpy(more, s->args, sizeof(*more) * (size_t)cap);
			s->args = more;
			cap *= 2;
		}
		s->args[s->n_args++] = script_expr(p);
		if (!script_op(p, ','))
			break;
		script_next(p);
	}
}

/* SWITCH expr, CASE value[, value ...], DEFAULT. */
static void switch_part(struct parser *p, struct stmt *s)
{
	s->kind = script_word(p, "SWITCH") ? ST_SWITCH
		  : script_word(p, "CASE") ? ST_CASE
					   : ST_DEFAULT;
	script_next(p);
	if (s->kind == ST_SWITCH) {
		s->expr = script_expr(p);
		return;
	}
	if (s->kind == ST_CASE)
		expr_list(p, s);
}

static void control(struct parser *p, struct stmt *s)
{
	size_t off = p->t.off;
	if (script_word(p, "IF") || script_word(p, "ELSEIF")) {
		s->kind = script_word(p, "IF") ? ST_IF : ST_ELSEIF;
		script_next(p);
		s->expr = script_expr(p);
		script_expect_word(p, "THEN");
	} else if (script_word(p, "ELSE")) {
		s->kind = ST_ELSE;
		script_next(p);
	} else if (script_word(p, "ENDIF") || script_word(p, "ENDSUB") ||
		   script_word(p, "ENDSWITCH") || script_word(p, "END")) {
		block_end(p, s);
	} else if (script_word(p, "SWITCH") || script_word(p, "CASE") ||
		   script_word(p, "DEFAULT")) {
		switch_part(p, s);
	} else if (script_word(p, "FOR")) {
		script_next(p);
		if (script_word(p, "EACH")) {
			script_next(p);
			s->kind = ST_FOR_EACH;
			s->name = script_name(p, "a variable name");
			script_expect_word(p, "IN");
			expr_list(p, s);
		} else {
			s->kind = ST_FOR;
			s->name = script_name(p, "a variable name");
			script_expect_op(p, '=');
			s->expr = script_expr(p);
			script_expect_word(p, "TO");
			s->to = script_expr(p);
			if (script_word(p, "STEP")) {
				script_next(p);
				s->step = script_expr(p);
			}
		}
	} else if (script_word(p, "NEXT")) {
		s->kind = ST_NEXT;
		script_next(p);
		if (p->t.kind == T_IDENT || p->t.kind == T_NAME)
			s->name = script_name(p, "a variable name");
	} else if (script_word(p, "SUB")) {
		s->kind = ST_SUB;
		script_next(p);
		s->name = script_name(p, "a sub name");
		call_args(p, s, true);
	} else if (script_word(p, "CALL")) {
		s->kind = ST_CALL;
		script_next(p);
		s->name = script_name(p, "a sub name");
		call_args(p, s, false);
	} else if (script_word(p, "EXIT")) {
		s->kind = ST_EXIT;
		script_next(p);
		if (script_word(p, "SCRIPT") || script_word(p, "FOR") || script_word(p, "SUB") ||
		    script_word(p, "DO"))
			s->name = p->t.value;
		else
			script_perr(p, p->t.off,
				    "expected SCRIPT, FOR, SUB or DO after EXIT, found %s",
				    script_describe(p));
		script_next(p);
		if (script_word(p, "WHEN") || script_word(p, "UNLESS")) {
			s->until = script_word(p, "UNLESS");
			script_next(p);
			s->expr = script_expr(p);
		}
	} else if (script_word(p, "DO") || script_word(p, "LOOP")) {
		s->kind = script_word(p, "DO") ? ST_DO : ST_LOOP;
		script_next(p);
		if (script_word(p, "WHILE") || script_word(p, "UNTIL")) {
			s->until = script_word(p, "UNTIL");
			script_next(p);
			s->expr = script_expr(p);
		}
	} else {
		script_perr(p, off, "unknown control statement %s", script_describe(p));
	}
}

/* TAGGED ('$a', '$b') after a DECLARE's field: the tags (kept for the definition itself,
 * skipped for its fields: fields carry no tags here). */
static const char **tagged(struct parser *p, int *n)
{
	*n = 0;
	if (!script_word(p, "TAGGED"))
		return NULL;
	script_next(p);
	if (!script_expect_op(p, '('))
		return NULL;
	const char **tags = name_list(p, n, "a tag");
	script_expect_op(p, ')');
	return tags;
}

/* Label: DECLARE [FIELD] DEFINITION [TAGGED (tags)] FIELDS expr AS name [TAGGED (...)],
 * ... [GROUPS ...]: the definition (label), its tags (names) and its fields (load.items,
 * whose expressions read the source field as $1). */
static void declare(struct parser *p, struct stmt *s)
{
	s->kind = ST_DECLARE;
	script_next(p);
	if (script_word(p, "FIELD"))
		script_next(p);
	if (!script_expect_word(p, "DEFINITION"))
		return;
	if (!s->label) {
		script_perr(p, p->t.off, "DECLARE needs a label: the definition's name");
		return;
	}
	s->names = tagged(p, &s->n_names);
	if (script_word(p, "PARAMETERS")) {
		script_perr(p, p->t.off, "DECLARE with PARAMETERS is not supported yet");
		return;
	}
	if (!p->failed && !script_expect_word(p, "FIELDS"))
		return;
	int cap = 8, n = 0, nt;
	struct load_item *it = arena_alloc(p->a, sizeof(*it) * (size_t)cap);
	while (!p->failed) {
		if (n == cap) {
			struct load_item *more = arena_alloc(p->a, sizeof(*more) * (size_t)cap * 2);
			memcpy(more, it, sizeof(*more) * (size_t)n);
			it = more;
			cap *= 2;
		}
		it[n].expr = script_expr(p);
		if (!p->failed && script_expect_word(p, "AS"))
			it[n].as = prefix_name(p, "a field name after AS");
		(void)tagged(p, &nt);
		n++;
		if (!script_op(p, ','))
			break;
		script_next(p);
	}
	s->load.items = it;
	s->load.n_items = n;
	if (script_word(p, "GROUPS")) /* drill-down groups: not kept (the rest is skipped) */
		while (p->t.kind != T_END)
			script_next(p);
}

/* DERIVE FIELDS FROM FIELDS a, b USING def; FROM EXPLICIT TAGS (tags) USING def; FROM
 * IMPLICIT TAG USING def: the fields (names) or tags (from; until for IMPLICIT: the
 * definition's own tags), and the definition (name). */
static void derive(struct parser *p, struct stmt *s)
{
	s->kind = ST_DERIVE;
	script_next(p);
	if (!script_expect_word(p, "FIELDS") || !script_expect_word(p, "FROM"))
		return;
	if (script_word(p, "FIELDS")) {
		script_next(p);
		s->names = name_list(p, &s->n_names, "a field name");
	} else if (script_word(p, "EXPLICIT")) {
		script_next(p);
		if (script_expect_word(p, "TAGS") && script_expect_op(p, '(')) {
			s->from = name_list(p, &s->n_from, "a tag");
			script_expect_op(p, ')');
		}
	} else if (script_word(p, "IMPLICIT")) {
		script_next(p);
		s->until = true;
		script_expect_word(p, "TAG");
	} else {
		script_perr(p, p->t.off, "expected FIELDS, EXPLICIT TAGS or IMPLICIT TAG, found %s",
			    script_describe(p));
	}
	if (!p->failed && script_expect_word(p, "USING"))
		s->name = prefix_name(p, "a definition name");
}

/* WHEN condition or UNLESS condition before a statement (or after its label). */
static void when_prefix(struct parser *p, struct stmt *s)
{
	if (s->when || (!script_word(p, "WHEN") && !script_word(p, "UNLESS")))
		return;
	s->unless = script_word(p, "UNLESS");
	script_next(p);
	s->when = script_expr(p);
}

/* A statement that is not a control statement: its WHEN or UNLESS, its label, and what it
 * is (LOAD when nothing else). */
static void regular(struct parser *p, struct stmt *s)
{
	when_prefix(p, s);
	/* a label: Name: or [Long name]: */
	if (p->t.kind == T_IDENT || p->t.kind == T_NAME) {
		size_t save = p->pos;
		struct tok t = p->t;
		script_next(p);
		if (script_op(p, ':')) {
			s->label = t.value;
			script_next(p);
		} else {
			p->pos = save;
			p->t = t;
		}
	}
	when_prefix(p, s);
	if (script_word(p, "SET") || script_word(p, "LET")) {
		bool set = script_word(p, "SET");
		s->kind = set ? ST_SET : ST_LET;
		script_next(p);
		s->name = script_name(p, "a variable name");
		script_expect_op(p, '=');
		if (p->failed) {
		} else if (set) {
			s->raw = p->t.kind == T_END ? "" : rest(p);
		} else if (p->t.kind != T_END) {
			s->expr = script_expr(p);
		}
	} else if (script_word(p, "DROP")) {
		script_next(p);
		drop(p, s);
	} else if (script_word(p, "RENAME")) {
		script_next(p);
		rename_(p, s);
	} else if (script_word(p, "STORE")) {
		s->kind = ST_STORE;
		script_next(p);
		store(p, s);
	} else if (script_word(p, "QUALIFY") || script_word(p, "UNQUALIFY")) {
		s->kind = script_word(p, "QUALIFY") ? ST_QUALIFY : ST_UNQUALIFY;
		script_next(p);
		patterns(p, s);
	} else if (!assigns(p) && other_statement(p, s)) {
	} else if (script_word(p, "TAG") || script_word(p, "UNTAG")) {
		tag(p, s);
	} else if ((script_word(p, "LIB") || script_word(p, "CONNECT") || script_word(p, "ODBC") ||
		    script_word(p, "OLEDB") || script_word(p, "DISCONNECT")) &&
		   !assigns(p)) {
		/* connections to databases: what follows them (SQL) is refused where it is
		 */
		s->kind = ST_CONNECT;
		s->raw = rest(p);
	} else if (script_word(p, "DECLARE")) {
		declare(p, s);
	} else if (script_word(p, "DERIVE")) {
		derive(p, s);
	} else if (script_word(p, "TRACE")) {
		s->kind = ST_TRACE;
		script_next(p);
		s->raw = p->t.kind == T_END ? "" : rest(p);
	} else if (script_word(p, "SLEEP")) {
		s->kind = ST_SLEEP;
		script_next(p);
		if (p->t.kind == T_END)
			script_perr(p, p->t.off, "SLEEP needs a number of milliseconds");
		else
			s->expr = script_expr(p);
	} else if (p->t.kind == T_IDENT && !s->label) {
		/* "x = 1" is LET without its keyword */
		size_t save = p->pos;
		struct tok t = p->t;
		script_next(p);
		if (script_op(p, '=')) {
			s->kind = ST_LET;
			s->name = t.value;
			script_next(p);
			if (p->t.kind != T_END)
				s->expr = script_expr(p);
		} else {
			p->pos = save;
			p->t = t;
			s->kind = ST_LOAD;
			load(p, &s->load);
		}
	} else {
		s->kind = ST_LOAD;
		load(p, &s->load);
	}
}

int script_parse(const char *text, int line, int col, bool is_control_stmt, struct arena *a,
		 struct stmt **out, struct err *e)
{
	*out = NULL;
	struct parser p = {.text = text, .line = line, .col = col, .a = a, .e = e};
	struct stmt *s = arena_alloc(a, sizeof(*s));
	s->line = line;
	s->col = col;
	script_next(&p);
	if (p.t.kind == T_END) {
		s->kind = ST_EMPTY;
	} else if (is_control_stmt) {
		control(&p, s);
	} else {
		regular(&p, s);
	}
	if (!p.failed && p.t.kind != T_END)
		script_perr(&p, p.t.off, "unexpected %s at the end of the statement",
			    script_describe(&p));
	if (p.failed)
		return ERR_INVALID;
	*out = s;
	return 0;
}
