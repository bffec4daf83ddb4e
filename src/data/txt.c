/* txt.c: delimited text into a table (see txt.h for the rules and where they come from). */
#include "data/data_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

/* ---------------------------------------------------------------- cells */

struct reader {
	const char *s;
	size_t len, pos;
	int64_t line;
	const struct format *f;
};

/* Where an unquoted cell that starts at i ends. */
static size_t cell_stop(const struct reader *r, size_t i)
{
	const char *s = r->s;
	char delim = r->f->delimiter;
	while (i < r->len && s[i] != delim && s[i] != '\n' && s[i] != '\r')
		i++;
	if (delim == ' ') /* 'spaces': a run of blanks */
		while (i < r->len && s[i] == '\t' && s[i] != '\n')
			i++;
	return i;
}

/* Standard quoting: a cell whose first non-blank character (at `lead`) is " or ' holds
 * delimiters up to the same quote followed by nothing but blanks before the delimiter or
 * the line's end, so "Smith, John" is one value. Where that cell ends, or 0 when the cell
 * is not quoted so (it is cut at the first delimiter, quotes and all). */
static size_t quoted_stop(const struct reader *r, size_t lead)
{
	const char *s = r->s;
	char q = s[lead], delim = r->f->delimiter;
	for (size_t i = lead + 1; i < r->len && s[i] != '\n' && s[i] != '\r'; i++) {
		if (s[i] != q)
			continue;
		size_t k = i + 1;
		while (k < r->len && (s[k] == ' ' || s[k] == '\t') && s[k] != delim)
			k++;
		if (k >= r->len || s[k] == delim || s[k] == '\n' || s[k] == '\r')
			return k;
	}
	return 0;
}

/* The first non-blank character of the cell at i. */
static size_t cell_lead(const struct reader *r, size_t i)
{
	while (i < r->len && (r->s[i] == ' ' || r->s[i] == '\t') && r->s[i] != r->f->delimiter)
		i++;
	return i;
}

/* Whether the cell whose first non-blank character is at `lead` opens a quote of standard
 * quoting. */
static bool standard_quote(const struct reader *r, size_t lead)
{
	return !r->f->msq && !r->f->no_quotes && lead < r->len &&
	       (r->s[lead] == '"' || r->s[lead] == '\'');
}

/* Steps past the delimiter or the line end at i: 1 when the row goes on, 0 at its end. */
static int cell_end(struct reader *r, size_t i)
{
	const char *s = r->s;
	char delim = r->f->delimiter;
	int more;
	if (i < r->len && s[i] == delim) {
		i++;
		if (delim == ' ')
			while (i < r->len && s[i] == ' ')
				i++;
		more = 1;
	} else {
		if (i < r->len && s[i] == '\r')
			i++;
		if (i < r->len && s[i] == '\n')
			i++;
		r->line++;
		more = 0;
	}
	r->pos = i;
	return more;
}

/* Reads one cell into b (raw, untrimmed unless quoted). Returns 1 when the row goes on,
 * 0 at the end of the row, -1 on error. */
static int cell(struct reader *r, struct buf *b, struct err *e)
{
	b->len = 0;
	const char *s = r->s;
	size_t i = r->pos;
	char delim = r->f->delimiter;
	/* msq: a cell that starts with " (after blanks) is quoted and may hold anything */
	size_t lead = i;
	while (lead < r->len && (s[lead] == ' ' || s[lead] == '\t') && s[lead] != delim)
		lead++;
	if (r->f->msq && !r->f->no_quotes && lead < r->len && s[lead] == '"') {
		int64_t start_line = r->line;
		i = lead + 1;
		for (;;) {
			if (i >= r->len) {
				err_set(e, ERR_INVALID, "line %lld: a quoted value is not closed",
					(long long)start_line);
				return -1;
			}
			if (s[i] == '"') {
				if (i + 1 < r->len && s[i + 1] == '"') {
					if (buf_append(b, "\"", 1))
						goto big;
					i += 2;
					continue;
				}
				i++;
				break;
			}
			if (s[i] == '\n')
				r->line++;
			if (buf_append(b, s + i, 1))
				goto big;
			i++;
		}
		/* what follows the closing quote up to the delimiter is kept */
		while (i < r->len && s[i] != delim && s[i] != '\n' && s[i] != '\r') {
			if (buf_append(b, s + i, 1))
				goto big;
			i++;
		}
	} else {
		size_t k = standard_quote(r, lead) ? quoted_stop(r, lead) : 0;
		if (!k)
			k = cell_stop(r, i);
		if (buf_append(b, s + i, k - i))
			goto big;
		i = k;
	}
	return cell_end(r, i);
big:
	err_set(e, ERR_INVALID, "line %lld: a value is too long", (long long)r->line);
	return -1;
}

/* Passes over one cell without keeping it (another thread's field): as cell() but for
 * copying. Returns what cell() returns. */
static int skip_cell(struct reader *r, struct buf *b, struct err *e)
{
	const char *s = r->s;
	size_t i = r->pos;
	if (!r->f->no_quotes) {
		size_t lead = cell_lead(r, i);
		if (lead < r->len && (s[lead] == '"' || (!r->f->msq && s[lead] == '\'')))
			return cell(r, b, e); /* quoted: the careful way */
	}
	return cell_end(r, cell_stop(r, i));
}

/* Trims blanks, and under standard quoting drops one pair of enclosing quotes. */
static char *clean(struct buf *b, const struct format *f)
{
	char *s = b->data ? b->data : (char *)"";
	size_t n = b->len;
	if (b->data)
		b->data[n] = '\0';
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (*s == ' ' || *s == '\t') {
		s++;
		n--;
	}
	if (!f->msq && !f->no_quotes && n >= 2 && (s[0] == '"' || s[0] == '\'') &&
	    s[n - 1] == s[0]) {
		s[n - 1] = '\0';
		s++;
	}
	return s;
}

/* ---------------------------------------------------------------- symbols */

/* A slot of a field's hash table: the symbol + 1 (0: empty); the hash's top 31 bits and
 * whether the value is a text, so that a probe that meets another value rarely looks
 * further; and a key that settles the comparison without reading the symbol (a cache miss
 * for a field of many values): a number itself, or a text's first 8 bytes, its whole text
 * when shorter (the key then holds its NUL). */
struct slot {
	uint64_t key;
	uint32_t tag;
	uint32_t sym1;
};

struct field_build {
	char *name;
	int64_t n_sym, cap_sym;
	struct qvd_value *sym;
	size_t *text_at; /* offset of each symbol's text in the table's text buffer */
	int32_t *index;
	int64_t cap_rows;
	/* open addressing (see struct slot) */
	struct slot *slots;
	size_t n_slots;
	/* false while the symbols are the whole numbers dense_base, dense_base + 1, ... in
	 * that order (a column of ids: no hash table, a value's symbol is its distance from
	 * the first); true once the hash table holds them */
	bool hashed;
	double dense_base;
	/* while dense: whether no symbol is kept (sym and text_at hold none), every one so far
	 * a QVD_DUAL_INT with the text its number writes (a field of ids: 40 bytes a row
	 * saved); see make_values */
	bool implicit;
	/* the texts of the cells already seen, each with its symbol (struct slot again), so
	 * that a text that recurs (a date, a category, an amount) is read as a number or a
	 * date once: only texts that are their symbol's own text, and only while the field has
	 * at most MEMO_MAX symbols (memo_off past that: the memo would save little) */
	struct slot *memo;
	size_t n_memo_slots, n_memo;
	bool memo_off;
	/* the rows the reader expects in all (0: no idea yet); see add_row_index */
	int64_t expect;
	/* index is a share of another field's row column (see read_stretches) */
	bool fixed;
};

#define MEMO_MAX (1 << 20)

/* splitmix64's finaliser */
static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t data_txt_hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = s ? s : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h ^ 1;
}

uint64_t data_txt_hash_number(double d)
{
	if (d == 0)
		d = 0; /* -0 and 0 are one number */
	if (d == floor(d) && fabs(d) < 9e15) {
		/* whole numbers: runs of 8 consecutive values get 8 neighbouring slots (one
		 * cache line), so a column of ids is not a cache miss per row; the runs are
		 * spread by the mixer */
		uint64_t n = (uint64_t)(int64_t)d;
		return (mix64(n >> 3) << 3) | (n & 7);
	}
	/* other numbers differ mostly in their high bits; the slot is taken from the low */
	uint64_t bits;
	memcpy(&bits, &d, sizeof(bits));
	return mix64(bits ^ 1469598103934665603ULL);
}

static uint64_t hash_value(const struct qvd_value *v)
{
	return v->type == QVD_STRING ? data_txt_hash_text(v->text) : data_txt_hash_number(v->num);
}

/* A value's tag and key as a slot holds them (text: its text, when not v->text). */
static struct slot slot_of(const struct qvd_value *v, const char *text, uint64_t h, int64_t sym)
{
	struct slot s = {.tag = (uint32_t)(h >> 33) << 1, .sym1 = (uint32_t)(sym + 1)};
	if (v->type == QVD_STRING) {
		s.tag |= 1;
		/* (byte by byte: a call to strnlen a cell was a tenth of reading a file) */
		for (size_t i = 0; i < sizeof(s.key) && text[i]; i++)
			s.key |= (uint64_t)(unsigned char)text[i] << (8 * i);
	} else {
		memcpy(&s.key, &v->num, sizeof(s.key));
	}
	return s;
}

/* Whether a text key holds the text's end (a NUL byte): the text is then all of it. */
static bool key_whole(uint64_t k)
{
	return ((k - 0x0101010101010101ULL) & ~k & 0x8080808080808080ULL) != 0;
}

/* Whether texts a and b, whose first 8 bytes are the same and no NUL (their keys are equal
 * and not whole), are the same (inline: a call to strcmp a cell was 6 % of reading). */
static bool same_past_key(const char *a, const char *b)
{
	a += 8, b += 8;
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* A hash table of twice the slots, or more where the symbols need them (at most three
 * quarters full), with every symbol in it. */
static int grow_slots(struct field_build *fb, struct buf *texts)
{
	size_t n = fb->n_slots ? fb->n_slots * 2 : 64;
	while ((size_t)(fb->n_sym + 1) * 4 > n * 3)
		n *= 2;
	struct slot *s = calloc(n, sizeof(*s));
	if (!s)
		return ERR_NOMEM;
	for (int64_t i = 0; i < fb->n_sym; i++) {
		struct qvd_value v = fb->sym[i];
		if (v.type != QVD_INT && v.type != QVD_DOUBLE)
			v.text = texts->data + fb->text_at[i];
		uint64_t h = hash_value(&v);
		size_t k = h & (n - 1);
		while (s[k].sym1)
			k = (k + 1) & (n - 1);
		s[k] = slot_of(&v, v.text, h, i);
	}
	free(fb->slots);
	fb->slots = s;
	fb->n_slots = n;
	fb->hashed = true;
	return 0;
}

/* add_symbol's `at` for a text to copy */
#define TEXT_COPY SIZE_MAX

/* Appends v as a new symbol: its text copied to texts, or already there at offset `at`. */
static int add_symbol(struct field_build *fb, const struct qvd_value *v, struct buf *texts,
		      size_t at)
{
	if (fb->n_sym >= INT32_MAX)
		return ERR_INVALID;
	if (fb->n_sym == fb->cap_sym) {
		int64_t cap = fb->cap_sym ? fb->cap_sym + fb->cap_sym / 2 : 16;
		/* consecutive whole numbers so far (ids): as many as the rows, likely */
		if (!fb->hashed && fb->expect > fb->n_sym)
			cap = fb->expect + fb->expect / 32 + 1024;
		struct qvd_value *ns = realloc(fb->sym, sizeof(*ns) * (size_t)cap);
		size_t *nt = ns ? realloc(fb->text_at, sizeof(*nt) * (size_t)cap) : NULL;
		if (!ns || !nt) {
			if (ns)
				fb->sym = ns;
			return ERR_NOMEM;
		}
		fb->sym = ns;
		fb->text_at = nt;
		fb->cap_sym = cap;
	}
	if (at == TEXT_COPY) {
		fb->text_at[fb->n_sym] = texts->len;
		if (buf_append(texts, v->text, strlen(v->text) + 1))
			return ERR_TOO_LARGE;
	} else {
		fb->text_at[fb->n_sym] = at;
	}
	fb->sym[fb->n_sym] = *v;
	return 0;
}

/* A field whose symbols were implicit keeps them from now on: each number and its text
 * (the text its number writes). */
static int make_values(struct field_build *fb, struct buf *texts)
{
	int64_t cap = fb->n_sym + fb->n_sym / 2 + 16;
	struct qvd_value *sym = malloc(sizeof(*sym) * (size_t)cap);
	size_t *text_at = malloc(sizeof(*text_at) * (size_t)cap);
	if (!sym || !text_at) {
		free(sym);
		free(text_at);
		return ERR_NOMEM;
	}
	free(fb->sym);
	free(fb->text_at);
	fb->sym = sym;
	fb->text_at = text_at;
	fb->cap_sym = cap;
	for (int64_t k = 0; k < fb->n_sym; k++) {
		double v = fb->dense_base + (double)k;
		sym[k] = (struct qvd_value){QVD_DUAL_INT, v, NULL};
		text_at[k] = texts->len;
		if (buf_printf(texts, "%.0f", v) || buf_append(texts, "", 1))
			return ERR_TOO_LARGE;
	}
	fb->implicit = false;
	return 0;
}

/* The symbol of `v` in a field whose symbols are consecutive whole numbers so far (*done),
 * adding it when it is the next one; *done false when v is none of them and not the next:
 * the field then needs its hash table. Values are equal as symbol_of has them: a number
 * by its number, whatever its text. */
static int dense_symbol_of(struct field_build *fb, const struct qvd_value *v, struct buf *texts,
			   size_t at, bool canonical, int32_t *out, bool *done)
{
	*done = false;
	if (v->type == QVD_STRING || v->num != floor(v->num) || fabs(v->num) >= 9e15)
		return 0;
	if (fb->n_sym == 0) {
		fb->dense_base = v->num;
		fb->implicit = true;
	}
	double d = v->num - fb->dense_base;
	if (d >= 0 && d < (double)fb->n_sym) {
		*out = (int32_t)d;
		*done = true;
		return 0;
	}
	if (d != (double)fb->n_sym)
		return 0;
	if (fb->implicit) {
		if (canonical ||
		    (v->type == QVD_DUAL_INT && data_canonical_integer(v->text, v->num))) {
			if (fb->n_sym >= INT32_MAX)
				return ERR_INVALID;
			*out = (int32_t)fb->n_sym++;
			*done = true;
			return 0;
		}
		int rc = make_values(fb, texts);
		if (rc)
			return rc;
	}
	int rc = add_symbol(fb, v, texts, at);
	if (rc == 0) {
		*out = (int32_t)fb->n_sym++;
		*done = true;
	}
	return rc;
}

/* The symbol of `v` in fb, adding it when new (its text as add_symbol's `at` says). */
static int symbol_at(struct field_build *fb, const struct qvd_value *v, struct buf *texts,
		     size_t at, int32_t *out)
{
	if (!fb->hashed) {
		bool done = false;
		int rc = dense_symbol_of(fb, v, texts, at, false, out, &done);
		if (rc || done)
			return rc;
		/* no longer consecutive: hashed from now on */
		if (fb->implicit && (rc = make_values(fb, texts)))
			return rc;
		if (grow_slots(fb, texts))
			return ERR_NOMEM;
	}
	/* up to three quarters full: the tags keep probes short */
	if ((size_t)(fb->n_sym + 1) * 4 > fb->n_slots * 3 && grow_slots(fb, texts))
		return ERR_NOMEM;
	uint64_t h = hash_value(v);
	struct slot want = slot_of(v, v->text, h, 0);
	size_t mask = fb->n_slots - 1, k = h & mask;
	for (; fb->slots[k].sym1; k = (k + 1) & mask) {
		const struct slot *sl = &fb->slots[k];
		if (sl->tag != want.tag)
			continue;
		int64_t i = (int64_t)sl->sym1 - 1;
		bool same;
		if (!(want.tag & 1)) { /* numbers: equal as numbers (-0 is 0, NaN is no NaN) */
			double d;
			memcpy(&d, &sl->key, sizeof(d));
			same = d == v->num;
		} else {
			same = sl->key == want.key &&
			       (key_whole(want.key) ||
				same_past_key(texts->data + fb->text_at[i], v->text));
		}
		if (same) {
			*out = (int32_t)i;
			return 0;
		}
	}
	int rc = add_symbol(fb, v, texts, at);
	if (rc)
		return rc;
	fb->slots[k] = slot_of(v, v->text, h, fb->n_sym);
	*out = (int32_t)fb->n_sym++;
	return 0;
}

/* The symbol of `v` in fb, adding it (its text copied) when new. */
static int symbol_of(struct field_build *fb, const struct qvd_value *v, struct buf *texts,
		     int32_t *out)
{
	return symbol_at(fb, v, texts, TEXT_COPY, out);
}

/* A memo of twice the slots (the first: 1,024), with every text it held; false when out
 * of memory. */
static bool grow_memo(struct field_build *fb, const struct buf *texts)
{
	size_t n = fb->n_memo_slots ? fb->n_memo_slots * 2 : 1024;
	struct slot *m = calloc(n, sizeof(*m));
	if (!m)
		return false;
	for (size_t j = 0; j < fb->n_memo_slots; j++) {
		const struct slot *o = &fb->memo[j];
		if (!o->sym1)
			continue;
		const char *tx = texts->data + fb->text_at[o->sym1 - 1];
		size_t k = data_txt_hash_text(tx) & (n - 1);
		while (m[k].sym1)
			k = (k + 1) & (n - 1);
		m[k] = *o;
	}
	free(fb->memo);
	fb->memo = m;
	fb->n_memo_slots = n;
	return true;
}

static void memo_stop(struct field_build *fb)
{
	free(fb->memo);
	fb->memo = NULL;
	fb->n_memo_slots = fb->n_memo = 0;
	fb->memo_off = true;
}

/* The symbol of a cell's text `v` in fb: the memo's when it has the text, else the text
 * read (a number, a date, a text) and interned, and remembered. */
static int cell_symbol(struct field_build *fb, const char *v, const char *date_format,
		       struct buf *texts, int32_t *out)
{
	bool memo = fb->hashed && !fb->memo_off;
	if (memo && fb->n_memo * 4 >= fb->n_memo_slots * 3 && !grow_memo(fb, texts)) {
		memo_stop(fb); /* (no memory for it: it is only a shortcut) */
		memo = false;
	}
	if (!fb->hashed) {
		/* a field of ids so far: a cell of at most 9 digits without a leading zero is a
		 * whole number as data_txt_interpret reads it, written as its number writes */
		const char *p = v + (*v == '-');
		int64_t n = 0;
		int d = 0;
		while (d < 10 && p[d] >= '0' && p[d] <= '9')
			n = n * 10 + (p[d] - '0'), d++;
		if (d && d <= 9 && !p[d] && (p[0] != '0' || d == 1) && (p == v || n)) {
			struct qvd_value val = {QVD_DUAL_INT, (double)(p == v ? n : -n), v};
			bool done = false;
			int rc = dense_symbol_of(fb, &val, texts, TEXT_COPY, true, out, &done);
			return rc || done ? rc : symbol_of(fb, &val, texts, out);
		}
	}
	uint64_t h = 0;
	size_t k = 0;
	if (memo) {
		h = data_txt_hash_text(v);
		struct qvd_value tv = {.type = QVD_STRING, .text = v};
		struct slot want = slot_of(&tv, v, h, 0);
		size_t mask = fb->n_memo_slots - 1;
		for (k = h & mask; fb->memo[k].sym1; k = (k + 1) & mask) {
			const struct slot *sl = &fb->memo[k];
			if (sl->tag == want.tag && sl->key == want.key &&
			    (key_whole(want.key) ||
			     same_past_key(texts->data + fb->text_at[sl->sym1 - 1], v))) {
				*out = (int32_t)(sl->sym1 - 1);
				return 0;
			}
		}
	}
	struct qvd_value val;
	data_txt_interpret(v, date_format, &val);
	int64_t before = fb->n_sym;
	int rc = symbol_of(fb, &val, texts, out);
	if (rc || !memo)
		return rc;
	if (fb->n_sym > MEMO_MAX) {
		memo_stop(fb);
		return 0;
	}
	/* the text the symbol keeps (its first): "1.50" is not remembered as 1.5's */
	if (*out == before || strcmp(texts->data + fb->text_at[*out], v) == 0) {
		struct qvd_value tv = {.type = QVD_STRING, .text = v};
		fb->memo[k] = slot_of(&tv, v, h, *out);
		fb->n_memo++;
	}
	return 0;
}

/* Adds row `row`'s symbol. `expected`: the rows the reader expects in all, from how far
 * it has read (0: no idea yet): once known, a row column grows to about its final size at
 * once, neither half again and again (each time moved: on this kind of machine, a page
 * moved by realloc is slow to read the first time after, and a 10 M-row column took 40
 * ms to read where one allocated once takes 4) nor past it. A column of a part that reads
 * rows into a share of a larger array (fb->fixed) never grows: its room is a bound. */
static int add_row_index(struct field_build *fb, int64_t row, int32_t idx, int64_t expected)
{
	if (row >= fb->cap_rows) {
		if (fb->fixed)
			return ERR_INVALID;
		int64_t cap = fb->cap_rows ? fb->cap_rows + fb->cap_rows / 2 : 1024;
		if (expected > row)
			cap = expected + expected / 32 + 1024;
		int32_t *ni = realloc(fb->index, sizeof(*ni) * (size_t)cap);
		if (!ni)
			return ERR_NOMEM;
		fb->index = ni;
		fb->cap_rows = cap;
	}
	fb->index[row] = idx;
	return 0;
}

/* ---------------------------------------------------------------- data rows */

/* A large text's rows are read by up to MAX_PARTS threads at once, each its own stretch
 * of whole lines (outside msq quoting no value holds a line end, so a line end ends a row)
 * with all the fields, interning values into symbols of its own and writing its rows'
 * symbols into its share of the table's row columns (each share as large as the lines
 * its stretch has, counted first). Then the stretches' symbols are merged in order into
 * the first's, field by field on the threads: a value that the stretches before already
 * have is theirs, a new one is added as it comes, so the symbols are those one thread
 * makes, and each stretch's rows are moved up to follow the rows before them and given
 * the merged symbols. */
#define MAX_PARTS 4
/* smaller texts are read by one thread (the fuzzing build makes it 64 bytes) */
#ifdef DATA_TXT_PARALLEL_MIN
#define PARALLEL_MIN DATA_TXT_PARALLEL_MIN
#else
#define PARALLEL_MIN (16u << 20)
#endif

struct part {
	struct reader r;
	struct field_build *fb;
	int nf;
	struct buf texts, cellb;
	const struct txt_options *o;
	int64_t rows;
	int rc;
	struct err e;
	/* a stretch: its line ends ('\n' and '\r', counted before reading), where its rows
	 * lie in the row columns and where they go after the merge, its texts' offset in
	 * the merged texts */
	int64_t n_lf, n_cr, row_at, row_to;
	size_t text_base;
};

/* Gives back the pages of a mapped input that p has read past since *done (a page that
 * begins before p's stretch may hold the end of the stretch before it: kept). */
static void release_read(const struct part *p, size_t first, uintptr_t *done)
{
	uintptr_t lo = ((uintptr_t)(p->r.s + first) + 4095) & ~(uintptr_t)4095;
	uintptr_t hi = (uintptr_t)(p->r.s + p->r.pos) & ~(uintptr_t)4095;
	if (*done > lo)
		lo = *done;
	if (hi > lo && lo >= (uintptr_t)p->o->release_base) {
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
		*done = hi;
	}
}

/* The usual cell, read the short way: one that starts with neither a blank nor a quote
 * (so clean would only trim its end) and fits b, copied there as clean leaves it; *more
 * as cell() says. NULL (nothing read) for any other. */
static char *plain_cell(struct reader *r, struct buf *b, int *more)
{
	size_t i = r->pos;
	char c = i < r->len ? r->s[i] : '\n';
	if (c == ' ' || c == '\t' || c == '"' || c == '\'')
		return NULL;
	size_t k = cell_stop(r, i), n = k - i;
	if (n >= b->cap)
		return NULL;
	memcpy(b->data, r->s + i, n);
	while (n && (b->data[n - 1] == ' ' || b->data[n - 1] == '\t'))
		n--;
	b->data[n] = '\0';
	b->len = n;
	*more = cell_end(r, k);
	return b->data;
}

/* Reads the data rows of p->r up to its end (fields are known). */
static void read_rows(struct part *p)
{
	struct reader *r = &p->r;
	const char *data = r->s;
	size_t len = r->len, last = r->pos;
	const struct format *f = r->f;
	int rc = 0;
	uintptr_t released = 0;
	size_t first = r->pos;
	int64_t expected = 0, rows0 = p->rows;
	if (buf_reserve(&p->cellb, 4096)) /* (room for plain_cell's cells) */
		rc = err_set(&p->e, ERR_NOMEM, "out of memory");
	while (rc == 0 && r->pos < len) {
		if (r->pos - last > (32u << 20)) {
			/* rows so far, scaled to the whole text */
			expected =
			    rows0 + (int64_t)((double)(p->rows - rows0) * (double)(len - first) /
					      (double)(r->pos - first));
			for (int c = 0; c < p->nf; c++)
				p->fb[c].expect = expected;
			/* and the texts of the part's values to about their final size (as the
			 * row columns; without the room now, they move later as before) */
			double more = (double)p->texts.len * (double)(len - r->pos) /
				      (double)(r->pos - first);
			bool room = buf_reserve(&p->texts, (size_t)(more * 1.03)) == 0;
			(void)room;
			if (p->o && p->o->release_base)
				release_read(p, first, &released);
			last = r->pos;
		}
		/* a blank line is no row */
		size_t k = r->pos;
		while (k < len && (data[k] == ' ' || data[k] == '\t' || data[k] == '\r'))
			k++;
		if (k < len && data[k] == '\n') {
			r->pos = k + 1;
			r->line++;
			continue;
		}
		if (k >= len)
			break;
		int col = 0, more;
		do {
			/* more cells than fields are ignored */
			bool mine = col < p->nf;
			char *v = mine ? plain_cell(r, &p->cellb, &more) : NULL;
			if (!v)
				more = mine ? cell(r, &p->cellb, &p->e)
					    : skip_cell(r, &p->cellb, &p->e);
			if (more < 0) {
				rc = ERR_INVALID;
				break;
			}
			if (!mine) {
				col++;
				continue;
			}
			if (!v)
				v = clean(&p->cellb, f);
			int32_t idx = 0;
			int src = cell_symbol(&p->fb[col], v, p->o ? p->o->date_format : NULL,
					      &p->texts, &idx);
			if (src == 0)
				src = add_row_index(&p->fb[col], p->rows, idx, expected);
			if (src == ERR_INVALID) /* (a stretch's rows are fewer than its lines) */
				rc = err_set(&p->e, ERR_INTERNAL, "line %lld: more rows than lines",
					     (long long)r->line);
			else if (src)
				rc =
				    err_set(&p->e, src == ERR_TOO_LARGE ? ERR_TOO_LARGE : ERR_NOMEM,
					    "the table does not fit in memory");
			col++;
		} while (more > 0 && rc == 0);
		/* fewer cells than fields: the rest are empty */
		for (; col < p->nf && rc == 0; col++) {
			struct qvd_value val = {QVD_STRING, 0, ""};
			int32_t idx = 0;
			if (symbol_of(&p->fb[col], &val, &p->texts, &idx) ||
			    add_row_index(&p->fb[col], p->rows, idx, expected))
				rc = err_set(&p->e, ERR_NOMEM, "out of memory");
		}
		if (rc == 0)
			p->rows++;
	}
	p->rc = rc;
}

static void *read_rows_thread(void *arg)
{
	read_rows(arg);
	return NULL;
}

/* Counts a stretch's line ends: no more rows than one plus their number. Sixteen bytes
 * at a time (memchr a line took 110 ms for a 583 MB text on two threads). */
static void *count_line_ends(void *arg)
{
	typedef unsigned char u8x16 __attribute__((vector_size(16)));
	struct part *p = arg;
	const char *s = p->r.s + p->r.pos;
	size_t n = p->r.len - p->r.pos, i = 0;
	u8x16 lf = {0}, cr = {0};
	lf += '\n';
	cr += '\r';
	while (n - i >= 16) {
		u8x16 n_lf = {0}, n_cr = {0}; /* per lane, up to 255 */
		for (int k = 0; k < 255 && n - i >= 16; k++, i += 16) {
			u8x16 v;
			memcpy(&v, s + i, sizeof(v));
			n_lf -= (u8x16)(v == lf);
			n_cr -= (u8x16)(v == cr);
		}
		for (int k = 0; k < 16; k++) {
			p->n_lf += n_lf[k];
			p->n_cr += n_cr[k];
		}
	}
	for (; i < n; i++) {
		p->n_lf += s[i] == '\n';
		p->n_cr += s[i] == '\r';
	}
	return NULL;
}

/* Runs fn on each of the n items of `size` bytes at `items`: the first here, the others
 * on threads of their own (or here after, when a thread cannot be had). */
static void on_threads(void *(*fn)(void *), void *items, size_t size, int n)
{
	pthread_t th[MAX_PARTS];
	bool started[MAX_PARTS] = {false};
	char *it = items;
	for (int k = 1; k < n; k++)
		started[k] = pthread_create(&th[k], NULL, fn, it + size * (size_t)k) == 0;
	fn(it);
	for (int k = 1; k < n; k++)
		if (started[k])
			pthread_join(th[k], NULL);
		else
			fn(it + size * (size_t)k);
}

static void fields_free(struct field_build *fb, int nf)
{
	for (int i = 0; fb && i < nf; i++) {
		free(fb[i].name);
		free(fb[i].sym);
		free(fb[i].text_at);
		if (!fb[i].fixed)
			free(fb[i].index);
		free(fb[i].slots);
		free(fb[i].memo);
	}
	free(fb);
}

/* Merges part p's field c into g (the stretches before it, merged): each of its symbols
 * is g's symbol of the same value, added when new (its text is in `texts` at the part's
 * base), and its rows, now at `rows`, get those symbols. */
static int merge_field(struct field_build *g, const struct field_build *l, struct buf *texts,
		       size_t base, int32_t *rows, int64_t n_rows)
{
	if (l->implicit) { /* (so g is: see keep_implicit) */
		int64_t from = g->n_sym;
		if (from + l->n_sym > INT32_MAX)
			return ERR_TOO_LARGE;
		if (from == 0) {
			g->dense_base = l->dense_base;
			g->implicit = true;
		}
		g->n_sym += l->n_sym;
		for (int64_t r = 0; from && r < n_rows; r++)
			rows[r] += (int32_t)from;
		return 0;
	}
	if (!g->hashed && !l->hashed && l->n_sym &&
	    (g->n_sym == 0 || l->dense_base == g->dense_base + (double)g->n_sym)) {
		/* ids that go on from where the stretches before stopped: appended as they are */
		int64_t from = g->n_sym, n = from + l->n_sym;
		if (n > INT32_MAX)
			return ERR_TOO_LARGE;
		if (n > g->cap_sym) {
			struct qvd_value *ns = realloc(g->sym, sizeof(*ns) * (size_t)n);
			size_t *nt = ns ? realloc(g->text_at, sizeof(*nt) * (size_t)n) : NULL;
			if (ns)
				g->sym = ns;
			if (!nt)
				return ERR_NOMEM;
			g->text_at = nt;
			g->cap_sym = n;
		}
		memcpy(g->sym + from, l->sym, sizeof(*l->sym) * (size_t)l->n_sym);
		for (int64_t s = 0; s < l->n_sym; s++)
			g->text_at[from + s] = base + l->text_at[s];
		if (from == 0)
			g->dense_base = l->dense_base;
		g->n_sym = n;
		for (int64_t r = 0; from && r < n_rows; r++)
			rows[r] += (int32_t)from;
		return 0;
	}
	int32_t *map = malloc(sizeof(*map) * (size_t)(l->n_sym ? l->n_sym : 1));
	if (!map)
		return ERR_NOMEM;
	bool same = true;
	for (int64_t s = 0; s < l->n_sym; s++) {
		struct qvd_value v = l->sym[s];
		v.text = texts->data + base + l->text_at[s];
		int rc = symbol_at(g, &v, texts, base + l->text_at[s], &map[s]);
		if (rc) {
			free(map);
			return rc;
		}
		same = same && map[s] == s;
	}
	for (int64_t r = 0; !same && r < n_rows; r++)
		rows[r] = map[rows[r]];
	free(map);
	return 0;
}

/* The merge of every part's fields c = id, id + n, ... into parts[0]'s (a thread's work:
 * parts[id] says which). */
struct merge_job {
	struct part *parts;
	int n, id, rc;
	int64_t rows;
};

static void *merge_fields(void *arg)
{
	struct merge_job *j = arg;
	struct part *main_part = &j->parts[0];
	for (int c = j->id; c < main_part->nf && j->rc == 0; c += j->n) {
		struct field_build *g = &main_part->fb[c];
		g->expect = j->rows; /* (a field of ids: room for all at once) */
		for (int k = 1; k < j->n && j->rc == 0; k++) {
			struct part *p = &j->parts[k];
			int32_t *at = g->index + p->row_to;
			if (p->row_to != p->row_at)
				memmove(at, g->index + p->row_at, sizeof(*at) * (size_t)p->rows);
			j->rc =
			    merge_field(g, &p->fb[c], &main_part->texts, p->text_base, at, p->rows);
		}
	}
	return NULL;
}

/* A field of ids stays without its values when each stretch's ids go on from where the
 * stretches before stopped; else every stretch's field gets its values (in its own texts,
 * before the merge). */
static int keep_implicit(struct part *parts, int n, struct err *e)
{
	for (int c = 0; c < parts[0].nf; c++) {
		bool chain = true, any = false;
		double next = 0;
		for (int k = 0; k < n && chain; k++) {
			const struct field_build *l = &parts[k].fb[c];
			if (l->n_sym == 0)
				continue;
			chain = l->implicit && (!any || l->dense_base == next);
			next = l->dense_base + (double)l->n_sym;
			any = true;
		}
		for (int k = 0; k < n && !chain; k++)
			if (parts[k].fb[c].implicit &&
			    make_values(&parts[k].fb[c], &parts[k].texts))
				return err_set(e, ERR_NOMEM, "the table does not fit in memory");
	}
	return 0;
}

/* Reads the stretches parts[0..n) (parts[0] is main_part, with the head's rows) on n
 * threads and merges them into main_part. */
static int read_stretches(struct part *parts, int n, struct err *e)
{
	struct part *main_part = &parts[0];
	on_threads(count_line_ends, parts, sizeof(*parts), n);
	int64_t at = main_part->rows, line = main_part->r.line;
	for (int k = 0; k < n; k++) {
		parts[k].row_at = k ? at : 0;
		parts[k].r.line = line;
		at += parts[k].n_lf + parts[k].n_cr + 1;
		line += parts[k].n_lf;
	}
	/* the row columns at their full size (pages are had as rows are written) */
	int rc = 0;
	for (int c = 0; c < main_part->nf && rc == 0; c++) {
		struct field_build *g = &main_part->fb[c];
		int32_t *ix = malloc(sizeof(*ix) * (size_t)at);
		if (!ix) {
			rc = err_set(e, ERR_NOMEM, "the table does not fit in memory");
			break;
		}
		if (main_part->rows)
			memcpy(ix, g->index, sizeof(*ix) * (size_t)main_part->rows);
		free(g->index);
		g->index = ix;
		g->cap_rows = parts[1].row_at;
		g->expect = g->cap_rows;
		g->fixed = true; /* (the others' shares lie in it) */
		for (int k = 1; k < n; k++) {
			struct field_build *l = &parts[k].fb[c];
			l->index = ix + parts[k].row_at;
			l->cap_rows = (k + 1 < n ? parts[k + 1].row_at : at) - parts[k].row_at;
			l->expect = l->cap_rows;
			l->fixed = true;
		}
	}
	if (rc == 0)
		on_threads(read_rows_thread, parts, sizeof(*parts), n);
	for (int k = 0; k < n && rc == 0; k++)
		if ((rc = parts[k].rc))
			*e = parts[k].e;
	if (rc == 0)
		rc = keep_implicit(parts, n, e);
	/* every stretch's texts after the first's, then the symbols merged */
	int64_t rows = 0;
	for (int k = 0; k < n && rc == 0; k++) {
		parts[k].row_to = rows;
		rows += parts[k].rows;
		parts[k].text_base = main_part->texts.len;
		if (k &&
		    buf_append(&main_part->texts, parts[k].texts.data ? parts[k].texts.data : "",
			       parts[k].texts.len))
			rc = err_set(e, ERR_TOO_LARGE, "the table does not fit in memory");
	}
	if (rc == 0) {
		struct merge_job jobs[MAX_PARTS];
		for (int k = 0; k < n; k++)
			jobs[k] = (struct merge_job){parts, n, k, 0, rows};
		on_threads(merge_fields, jobs, sizeof(*jobs), n);
		for (int k = 0; k < n; k++)
			if (jobs[k].rc && !rc)
				rc = jobs[k].rc;
		if (rc)
			rc = err_set(e, rc == ERR_TOO_LARGE ? ERR_TOO_LARGE : ERR_NOMEM,
				     "the table does not fit in memory");
	}
	main_part->rows = rows;
	for (int c = 0; c < main_part->nf; c++) {
		main_part->fb[c].cap_rows = at;
		main_part->fb[c].fixed = false;
	}
	return rc;
}

/* Reads the rows from main_part->r.pos on into main_part's fields, on several threads
 * when the text is large. */
static int read_all_rows(struct part *main_part, struct err *e)
{
	struct reader *r = &main_part->r;
	long cpus = main_part->o && main_part->o->threads > 0 ? main_part->o->threads
							      : sysconf(_SC_NPROCESSORS_ONLN);
	int n = cpus > MAX_PARTS ? MAX_PARTS : cpus < 1 ? 1 : (int)cpus;
	/* msq quoting may hold line ends: one reader */
	if (r->len - r->pos < PARALLEL_MIN || (r->f->msq && !r->f->no_quotes))
		n = 1;
	if (n == 1) {
		read_rows(main_part);
		if (main_part->rc)
			*e = main_part->e;
		return main_part->rc;
	}
	/* stretches of about equal length, each from a line's start */
	struct part parts[MAX_PARTS];
	size_t from = r->pos, whole = r->len - r->pos;
	parts[0] = *main_part;
	int made = 1;
	for (int k = 1; k < n; k++) {
		size_t cut = from + whole / (size_t)n * (size_t)k;
		const char *nl = memchr(r->s + cut, '\n', r->len - cut);
		size_t start = nl ? (size_t)(nl - r->s) + 1 : r->len;
		if (start >= r->len || start <= parts[made - 1].r.pos)
			continue;
		parts[made - 1].r.len = start;
		parts[made] = (struct part){
		    .r = {r->s, r->len, start, 0, r->f}, .nf = main_part->nf, .o = main_part->o};
		err_init(&parts[made].e);
		buf_init(&parts[made].texts, 1ULL << 36);
		buf_init(&parts[made].cellb, 64u << 20);
		parts[made].fb = calloc((size_t)main_part->nf, sizeof(*parts[made].fb));
		made++;
		if (!parts[made - 1].fb)
			break;
	}
	int rc = 0;
	for (int k = 1; k < made; k++)
		if (!parts[k].fb)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0 && made == 1) {
		read_rows(&parts[0]);
		if ((rc = parts[0].rc))
			*e = parts[0].e;
	} else if (rc == 0) {
		rc = read_stretches(parts, made, e);
	}
	for (int k = 1; k < made; k++) {
		fields_free(parts[k].fb, parts[k].nf);
		buf_release(&parts[k].texts);
		buf_release(&parts[k].cellb);
	}
	main_part->fb = parts[0].fb;
	main_part->texts = parts[0].texts;
	main_part->cellb = parts[0].cellb;
	main_part->rows = parts[0].rows;
	main_part->r.line = parts[0].r.line;
	main_part->r.pos = r->len;
	return rc;
}

/* ---------------------------------------------------------------- code pages */

/* Converts 8-bit text (ISO-8859-1, or Windows-1252 where it differs) to UTF-8. */
static char *to_utf8(const char *s, size_t n, int codepage, size_t *out_len)
{
	static const uint16_t cp1252[32] = {
	    0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
	    0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
	    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};
	char *o = malloc(n * 3 + 1);
	if (!o)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned char)s[i];
		if (codepage == 1252 && c >= 0x80 && c < 0xA0)
			c = cp1252[c - 0x80];
		if (c < 0x80) {
			o[k++] = (char)c;
		} else if (c < 0x800) {
			o[k++] = (char)(0xC0 | (c >> 6));
			o[k++] = (char)(0x80 | (c & 0x3F));
		} else {
			o[k++] = (char)(0xE0 | (c >> 12));
			o[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
			o[k++] = (char)(0x80 | (c & 0x3F));
		}
	}
	o[k] = '\0';
	*out_len = k;
	return o;
}

/* ---------------------------------------------------------------- the table */

/* The text as UTF-8 without a BOM: converted (a copy the caller frees in *converted) from
 * Windows-1252 or ISO-8859-1, or as it is. */
static int to_plain_utf8(const char **data, size_t *len, const struct format *f, char **converted,
			 struct err *e)
{
	*converted = NULL;
	if (f->codepage == 28591 || f->codepage == 1252) {
		*converted = to_utf8(*data, *len, f->codepage, len);
		if (!*converted)
			return err_set(e, ERR_NOMEM, "out of memory");
		*data = *converted;
	} else if (f->codepage != 65001) {
		return err_set(e, ERR_INVALID,
			       "code page %d is not supported (utf8, ansi and codepage is 28591 "
			       "are)",
			       f->codepage);
	}
	if (f->labels == LABELS_EXPLICIT) {
		free(*converted);
		*converted = NULL;
		return err_set(e, ERR_INVALID, "explicit labels are not supported yet");
	}
	const unsigned char *u = (const unsigned char *)*data;
	if (*len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
		*data += 3;
		*len -= 3;
	}
	return 0;
}

/* A new field named `name` (a label, or @N without labels) at the end of p->fb. */
static int add_field(struct part *p, int *cap_f, const char *name, bool numbered, struct err *e)
{
	if (p->nf == *cap_f) {
		struct field_build *m = realloc(p->fb, sizeof(*p->fb) * (size_t)*cap_f * 2);
		if (!m)
			return err_set(e, ERR_NOMEM, "out of memory");
		memset(m + *cap_f, 0, sizeof(*p->fb) * (size_t)*cap_f);
		p->fb = m;
		*cap_f *= 2;
	}
	char nm[16];
	if (numbered)
		snprintf(nm, sizeof(nm), "@%d", p->nf + 1);
	if (!(p->fb[p->nf++].name = strdup(numbered ? nm : name)))
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

/* Cell `col` of the current row: its symbol in its field. */
static int add_cell(struct part *p, int col, const struct qvd_value *val, struct err *e)
{
	int32_t idx = 0;
	int src = symbol_of(&p->fb[col], val, &p->texts, &idx);
	if (src == 0)
		src = add_row_index(&p->fb[col], p->rows, idx, 0);
	if (src)
		return err_set(e, src == ERR_TOO_LARGE ? ERR_TOO_LARGE : ERR_NOMEM,
			       "the table does not fit in memory");
	return 0;
}

/* One line of the head: the labels (header_done false), or without labels the first row,
 * which also names the fields. */
static int head_line(struct part *p, int *cap_f, bool *header_done, const struct format *f,
		     struct err *e)
{
	int col = 0, more, rc = 0;
	do {
		more = cell(&p->r, &p->cellb, e);
		if (more < 0)
			return ERR_INVALID;
		char *v = clean(&p->cellb, f);
		if (!*header_done || (f->labels == LABELS_NONE && p->rows == 0)) {
			if ((rc = add_field(p, cap_f, v, f->labels == LABELS_NONE, e)))
				return rc;
			if (!*header_done)
				continue;
		}
		if (col >= p->nf) { /* more cells than fields: ignored */
			col++;
			continue;
		}
		struct qvd_value val;
		data_txt_interpret(v, p->o ? p->o->date_format : NULL, &val);
		rc = add_cell(p, col, &val, e);
		col++;
	} while (more > 0 && rc == 0);
	if (rc || !*header_done) {
		*header_done = true;
		return rc;
	}
	/* fewer cells than fields: the rest are empty */
	for (; col < p->nf && rc == 0; col++) {
		struct qvd_value val = {QVD_STRING, 0, ""};
		rc = add_cell(p, col, &val, e);
	}
	p->rows++;
	return rc;
}

/* The header lines to skip, then the labels (and without labels the first row); the other
 * rows are read_all_rows's. */
static int read_head(struct part *p, int *cap_f, const struct format *f, struct err *e)
{
	struct reader *r = &p->r;
	for (int h = 0; h < f->header_lines && r->pos < r->len; h++) {
		while (r->pos < r->len && r->s[r->pos] != '\n')
			r->pos++;
		r->pos++;
		r->line++;
	}
	bool header_done = f->labels == LABELS_NONE;
	int rc = 0;
	while (rc == 0 && r->pos < r->len &&
	       !(header_done && (f->labels != LABELS_NONE || p->rows > 0))) {
		/* a blank line is no row */
		size_t k = r->pos;
		while (k < r->len && (r->s[k] == ' ' || r->s[k] == '\t' || r->s[k] == '\r'))
			k++;
		if (k < r->len && r->s[k] == '\n') {
			r->pos = k + 1;
			r->line++;
			continue;
		}
		if (k >= r->len)
			break;
		rc = head_line(p, cap_f, &header_done, f, e);
	}
	return rc;
}

/* The fields built into a QVD table: symbols and row indexes handed over, the texts in
 * one store, spare capacity given back. */
static int to_table(struct part *p, const struct txt_options *o, struct qvd_table **out,
		    struct err *e)
{
	struct qvd_table *t = calloc(1, sizeof(*t));
	*out = t;
	if (t)
		t->fields = calloc((size_t)(p->nf ? p->nf : 1), sizeof(*t->fields));
	if (!t || !t->fields)
		return err_set(e, ERR_NOMEM, "out of memory");
	t->name = strdup(o && o->table_name ? o->table_name : "");
	t->n_rows = p->rows;
	t->n_fields = p->nf;
	/* fields of ids stay without values when there are DATA_DENSE_MIN or more */
	for (int i = 0; i < p->nf; i++)
		if (p->fb[i].implicit && p->fb[i].n_sym < DATA_DENSE_MIN &&
		    make_values(&p->fb[i], &p->texts))
			return err_set(e, ERR_NOMEM, "out of memory");
	t->text_store = buf_steal(&p->texts);
	for (int i = 0; i < p->nf; i++) {
		struct field_build *fb = &p->fb[i];
		struct qvd_field *qf = &t->fields[i];
		/* the hash index is done with; spare capacity goes back */
		free(fb->slots);
		fb->slots = NULL;
		memo_stop(fb);
		struct qvd_value *fit =
		    fb->implicit ? NULL : realloc(fb->sym, sizeof(*fit) * (size_t)(fb->n_sym + 1));
		if (fit)
			fb->sym = fit;
		int32_t *ifit =
		    fb->index ? realloc(fb->index, sizeof(*ifit) * (size_t)(p->rows + 1)) : NULL;
		if (ifit)
			fb->index = ifit;
		qf->name = fb->name;
		fb->name = NULL;
		qf->n_symbols = fb->n_sym;
		qf->dense = fb->implicit;
		qf->dense_kind = fb->implicit ? 2 : 0;
		qf->dense_base = fb->implicit ? fb->dense_base : 0;
		qf->symbols = fb->implicit ? NULL : fb->sym;
		fb->sym = qf->symbols ? NULL : fb->sym;
		for (int64_t s = 0; !qf->dense && s < qf->n_symbols; s++)
			qf->symbols[s].text = t->text_store + fb->text_at[s];
		qf->index = fb->index ? fb->index : calloc(1, sizeof(int32_t));
		fb->index = NULL;
		str_copy(qf->number_type, "UNKNOWN", sizeof(qf->number_type));
	}
	return 0;
}

int data_txt_read(const char *data, size_t len, const struct format *f, const struct txt_options *o,
		  struct qvd_table **out, struct err *e)
{
	*out = NULL;
	char *converted = NULL;
	int rc = to_plain_utf8(&data, &len, f, &converted, e);
	if (rc)
		return rc;
	struct part p = {.r = {data, len, 0, 1, f}, .o = o};
	buf_init(&p.cellb, 64u << 20);
	buf_init(&p.texts, 1ULL << 36);
	int cap_f = 16;
	if (!(p.fb = calloc((size_t)cap_f, sizeof(*p.fb))))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0)
		rc = read_head(&p, &cap_f, f, e);
	if (rc == 0 && p.r.pos < len) {
		struct txt_options plain = {0};
		p.o = converted ? NULL : o;
		if (converted && o) { /* the converted copy is not the mapping */
			plain = *o;
			plain.release_base = NULL;
			p.o = &plain;
		}
		err_init(&p.e);
		rc = read_all_rows(&p, e);
	}
	struct qvd_table *t = NULL;
	if (rc == 0)
		rc = to_table(&p, o, &t, e);
	fields_free(p.fb, p.nf);
	buf_release(&p.cellb);
	buf_release(&p.texts);
	free(converted);
	if (rc) {
		data_qvd_free(t);
		return rc;
	}
	*out = t;
	return 0;
}
