/* xlsx.c: Excel workbooks (Office Open XML, .xlsx) as LOAD ... (ooxml, embedded labels,
 * table is Sheet1) reads them: one sheet into a table.
 *
 * A workbook is a ZIP archive of XML parts. The archive is read here (the central directory
 * from its end record; entries stored or deflated, through zlib; no ZIP64, no encryption),
 * every size and offset checked against the file before use, and each part at most
 * MAX_PART bytes once inflated. The XML is read by expat (no external entities are
 * fetched; its protection against entity amplification is on): xl/workbook.xml names the
 * sheets, xl/_rels/workbook.xml.rels says which part each is, xl/sharedStrings.xml holds
 * the texts cells refer to, xl/styles.xml says which cells show dates, and the sheet's part
 * holds the cells by reference (B3).
 *
 * Values: a number cell is a number, a date cell (a date format of its style) a dual of its
 * day serial and its text in `date_format`, a text cell (shared, inline or a formula's) a
 * text, a boolean 1 or 0, an error cell NULL; a missing cell is NULL. Labels: the first row
 * (after `header_lines`) with embedded labels, else the column letters (A, B, ...). */
#include "data/data.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define MAX_PART (256u << 20) /* bytes of one XML part, inflated */
#define MAX_COLS 16384	      /* Excel's columns */

/* ---------------------------------------------------------------- the archive */

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* The part named `name` (inflated, malloc'd, NUL-ended) into *out; ERR_NOT_FOUND when the
 * archive has none. */
static int zip_part(const unsigned char *z, size_t len, const char *name, char **out, size_t *n,
		    struct err *e)
{
	*out = NULL;
	size_t eocd = len >= 22 ? len - 22 : 0;
	while (len >= 22 && le32(z + eocd) != 0x06054b50 && eocd > 0 && len - eocd < 65557)
		eocd--;
	if (len < 22 || le32(z + eocd) != 0x06054b50)
		return err_set(e, ERR_INVALID,
			       "not an Excel workbook: no ZIP directory at its end");
	uint32_t count = le16(z + eocd + 10), cd = le32(z + eocd + 16),
		 cd_size = le32(z + eocd + 12);
	if ((size_t)cd > eocd || (size_t)cd_size > eocd - cd)
		return err_set(e, ERR_INVALID, "the workbook's ZIP directory lies outside it");
	size_t at = cd, nlen = strlen(name);
	for (uint32_t i = 0; i < count; i++) {
		if (at + 46 > eocd || le32(z + at) != 0x02014b50)
			return err_set(e, ERR_INVALID, "the workbook's ZIP directory is damaged");
		uint32_t method = le16(z + at + 10), csize = le32(z + at + 20),
			 usize = le32(z + at + 24);
		uint32_t fl = le16(z + at + 28), xl = le16(z + at + 30), cl = le16(z + at + 32);
		uint32_t local = le32(z + at + 42), flags = le16(z + at + 8);
		size_t next = at + 46 + fl + xl + cl;
		if (next > eocd)
			return err_set(e, ERR_INVALID, "the workbook's ZIP directory is damaged");
		if (fl != nlen || memcmp(z + at + 46, name, nlen) != 0) {
			at = next;
			continue;
		}
		if (flags & 1)
			return err_set(e, ERR_INVALID, "the workbook is encrypted");
		if (csize == 0xFFFFFFFFu || usize == 0xFFFFFFFFu || usize > MAX_PART)
			return err_set(e, ERR_INVALID, "%s is too large (or ZIP64, not supported)",
				       name);
		if ((size_t)local + 30 > len || le32(z + local) != 0x04034b50)
			return err_set(e, ERR_INVALID, "the workbook's %s is damaged", name);
		size_t data = (size_t)local + 30 + le16(z + local + 26) + le16(z + local + 28);
		if (data > len || csize > len - data)
			return err_set(e, ERR_INVALID, "the workbook's %s is cut short", name);
		char *buf = malloc((size_t)usize + 1);
		if (!buf)
			return err_set(e, ERR_NOMEM, "out of memory");
		if (method == 0 && csize == usize) {
			memcpy(buf, z + data, usize);
		} else if (method == 8) {
			z_stream s = {.next_in = (unsigned char *)(z + data),
				      .avail_in = csize,
				      .next_out = (unsigned char *)buf,
				      .avail_out = usize};
			int zr = inflateInit2(&s, -MAX_WBITS);
			if (zr == Z_OK)
				zr = inflate(&s, Z_FINISH);
			bool whole = zr == Z_STREAM_END && s.total_out == usize;
			inflateEnd(&s);
			if (!whole) {
				free(buf);
				return err_set(e, ERR_INVALID, "the workbook's %s does not inflate",
					       name);
			}
		} else {
			free(buf);
			return err_set(e, ERR_INVALID,
				       "the workbook's %s is compressed in a way "
				       "Excel does not use (method %u)",
				       name, method);
		}
		buf[usize] = '\0';
		*out = buf;
		*n = usize;
		return 0;
	}
	return ERR_NOT_FOUND;
}

/* ---------------------------------------------------------------- the XML parts */

struct cell {
	int64_t row;
	int col;
	struct val v;
};

struct book {
	/* workbook.xml and its relations: the chosen sheet's relation id, then its part */
	const char *want; /* the sheet's name, or NULL for the first */
	char rid[256], target[512];
	bool found;
	/* sharedStrings.xml */
	char **strings;
	int64_t n_strings, cap_strings;
	bool in_si, in_t, in_rph;
	struct buf text;
	/* styles.xml: per cell style, whether it shows a date */
	bool *date_style;
	int n_styles, cap_styles;
	int custom_ids[512];
	bool custom_date[512];
	int n_custom;
	bool in_cellxfs;
	/* the sheet */
	struct cell *cells;
	int64_t n_cells, cap_cells;
	int64_t row;
	int col;
	char type[16];
	int style;
	bool in_v, in_is;
	int max_col;
	int64_t max_row;
	struct arena *a;
	const char *date_format;
	int failed; /* an error code set by a handler */
};

/* A whole number of an attribute or text, or `dflt` when it is none in [0, hi]. */
static int64_t whole(const char *s, int64_t dflt, int64_t hi)
{
	int64_t v;
	return s && str_to_i64(s, 0, hi, &v) == 0 ? v : dflt;
}

/* An element's name without its namespace prefix. */
static const char *local(const char *n)
{
	const char *c = strrchr(n, ':');
	return c ? c + 1 : n;
}

static const char *attr(const char **at, const char *name)
{
	for (int i = 0; at[i]; i += 2)
		if (strcmp(local(at[i]), name) == 0)
			return at[i + 1];
	return NULL;
}

static void book_start(void *ud, const char *el, const char **at)
{
	struct book *b = ud;
	const char *n = local(el);
	if (strcmp(n, "sheet") == 0 && !b->found) {
		const char *name = attr(at, "name"), *id = attr(at, "id");
		if (id && (!b->want || (name && strcasecmp(name, b->want) == 0))) {
			snprintf(b->rid, sizeof(b->rid), "%s", id);
			b->found = true;
		}
	} else if (strcmp(n, "Relationship") == 0 && b->rid[0]) {
		const char *id = attr(at, "Id"), *target = attr(at, "Target");
		if (id && target && strcmp(id, b->rid) == 0)
			snprintf(b->target, sizeof(b->target), "%s", target);
	}
}

/* Built-in number formats that show dates and times (Excel's 14 to 22, 45 to 47). */
static bool builtin_date(int id)
{
	return (id >= 14 && id <= 22) || (id >= 45 && id <= 47);
}

/* Whether a format code shows a date: a d, m (outside [..] and quotes) next to a y or d, or
 * an h:mm. */
static bool code_is_date(const char *c)
{
	bool q = false, br = false, y = false, d = false, h = false;
	for (; *c; c++) {
		if (*c == '"')
			q = !q;
		else if (*c == '[')
			br = true;
		else if (*c == ']')
			br = false;
		else if (!q && !br) {
			char l = (char)(*c | 0x20);
			y |= l == 'y';
			d |= l == 'd';
			h |= l == 'h';
		}
	}
	return y || d || h;
}

static void styles_start(void *ud, const char *el, const char **at)
{
	struct book *b = ud;
	const char *n = local(el), *id = attr(at, "numFmtId");
	if (strcmp(n, "numFmt") == 0 && id && b->n_custom < 512) {
		const char *code = attr(at, "formatCode");
		b->custom_ids[b->n_custom] = (int)whole(id, -1, INT32_MAX);
		b->custom_date[b->n_custom++] = code && code_is_date(code);
	} else if (strcmp(n, "cellXfs") == 0) {
		b->in_cellxfs = true;
	} else if (strcmp(n, "xf") == 0 && b->in_cellxfs && b->n_styles < 65536) {
		if (b->n_styles == b->cap_styles) {
			int cap = b->cap_styles ? 2 * b->cap_styles : 64;
			bool *g = realloc(b->date_style, sizeof(bool) * (size_t)cap);
			if (!g) {
				b->failed = ERR_NOMEM;
				return;
			}
			b->date_style = g;
			b->cap_styles = cap;
		}
		int f = (int)whole(id, 0, INT32_MAX);
		bool date = builtin_date(f);
		for (int i = 0; i < b->n_custom; i++)
			if (b->custom_ids[i] == f)
				date = b->custom_date[i];
		b->date_style[b->n_styles++] = date;
	}
}

static void styles_end(void *ud, const char *el)
{
	struct book *b = ud;
	if (strcmp(local(el), "cellXfs") == 0)
		b->in_cellxfs = false;
}

static void strings_start(void *ud, const char *el, const char **at)
{
	(void)at;
	struct book *b = ud;
	const char *n = local(el);
	if (strcmp(n, "si") == 0) {
		b->in_si = true;
		b->text.len = 0;
	} else if (strcmp(n, "rPh") == 0) {
		b->in_rph = true; /* phonetic hints: not the text */
	} else if (strcmp(n, "t") == 0 && b->in_si && !b->in_rph) {
		b->in_t = true;
	}
}

static void strings_end(void *ud, const char *el)
{
	struct book *b = ud;
	const char *n = local(el);
	if (strcmp(n, "t") == 0) {
		b->in_t = false;
	} else if (strcmp(n, "rPh") == 0) {
		b->in_rph = false;
	} else if (strcmp(n, "si") == 0 && b->in_si) {
		b->in_si = false;
		if (b->n_strings == b->cap_strings) {
			int64_t cap = b->cap_strings ? 2 * b->cap_strings : 256;
			char **g = realloc(b->strings, sizeof(char *) * (size_t)cap);
			if (!g) {
				b->failed = ERR_NOMEM;
				return;
			}
			b->strings = g;
			b->cap_strings = cap;
		}
		if (!(b->strings[b->n_strings++] =
			  arena_strndup(b->a, b->text.data ? b->text.data : "", b->text.len)))
			b->failed = ERR_NOMEM;
	}
}

static void text_chars(void *ud, const char *s, int len)
{
	struct book *b = ud;
	if ((b->in_t || b->in_v) && buf_append(&b->text, s, (size_t)len) != 0)
		b->failed = ERR_TOO_LARGE;
}

/* A reference (B3) as column (from 0) and row (from 1); false when it is none. */
static bool cell_ref(const char *r, int *col, int64_t *row)
{
	int c = 0, k = 0;
	while (r[k] >= 'A' && r[k] <= 'Z' && k < 3)
		c = c * 26 + (r[k++] - 'A' + 1);
	int64_t n = 0;
	int digits = 0;
	while (r[k] >= '0' && r[k] <= '9' && digits < 8)
		n = n * 10 + (r[k++] - '0'), digits++;
	if (!k || !digits || r[k] || c > MAX_COLS || n < 1)
		return false;
	*col = c - 1;
	*row = n;
	return true;
}

static void sheet_start(void *ud, const char *el, const char **at)
{
	struct book *b = ud;
	const char *n = local(el);
	if (strcmp(n, "row") == 0) {
		const char *r = attr(at, "r");
		b->row = whole(r, b->row + 1, 100000000);
		b->col = -1;
	} else if (strcmp(n, "c") == 0) {
		const char *r = attr(at, "r"), *t = attr(at, "t"), *s = attr(at, "s");
		int64_t row;
		if (!r || !cell_ref(r, &b->col, &row))
			b->col++;
		else if (row != b->row)
			b->row = row;
		snprintf(b->type, sizeof(b->type), "%s", t ? t : "n");
		b->style = (int)whole(s, 0, INT32_MAX);
		b->text.len = 0;
	} else if (strcmp(n, "v") == 0 || (strcmp(n, "t") == 0 && b->in_is)) {
		b->in_v = true;
	} else if (strcmp(n, "is") == 0) {
		b->in_is = true;
	}
}

/* The value of the cell just read, from its type and text. */
static struct val cell_value(struct book *b)
{
	const char *t = b->text.data ? b->text.data : "";
	if (strcmp(b->type, "s") == 0) {
		int64_t i = whole(t, -1, INT64_MAX / 2);
		return i >= 0 && i < b->n_strings ? (struct val){.text = b->strings[i]}
						  : (struct val){.null = true};
	}
	if (strcmp(b->type, "inlineStr") == 0 || strcmp(b->type, "str") == 0)
		return (struct val){.text = arena_strndup(b->a, t, b->text.len)};
	if (strcmp(b->type, "e") == 0 || !*t)
		return (struct val){.null = true};
	char *end;
	double d = strtod(t, &end);
	if (end == t || *end)
		return (struct val){.text = arena_strndup(b->a, t, b->text.len)};
	struct val v = {.has_num = true, .num = d};
	char text[128];
	if (strcmp(b->type, "b") != 0 && b->style >= 0 && b->style < b->n_styles &&
	    b->date_style[b->style] &&
	    data_date_format(d, b->date_format ? b->date_format : "YYYY-MM-DD", text,
			     sizeof(text)) == 0)
		v.text = arena_strdup(b->a, text);
	return v;
}

static void sheet_end(void *ud, const char *el)
{
	struct book *b = ud;
	const char *n = local(el);
	if (strcmp(n, "v") == 0 || (strcmp(n, "t") == 0 && b->in_is)) {
		b->in_v = false;
	} else if (strcmp(n, "is") == 0) {
		b->in_is = false;
	} else if (strcmp(n, "c") == 0 && b->col >= 0 && b->col < MAX_COLS && !b->failed) {
		if (b->n_cells == b->cap_cells) {
			int64_t cap = b->cap_cells ? 2 * b->cap_cells : 1024;
			struct cell *g = realloc(b->cells, sizeof(*g) * (size_t)cap);
			if (!g) {
				b->failed = ERR_NOMEM;
				return;
			}
			b->cells = g;
			b->cap_cells = cap;
		}
		b->cells[b->n_cells++] = (struct cell){b->row, b->col, cell_value(b)};
		b->max_col = b->col > b->max_col ? b->col : b->max_col;
		b->max_row = b->row > b->max_row ? b->row : b->max_row;
		b->text.len = 0;
	}
}

/* Reads one part with expat and the handlers given. */
static int parse(struct book *b, const char *xml, size_t n, XML_StartElementHandler start,
		 XML_EndElementHandler end, const char *what, struct err *e)
{
	XML_Parser p = XML_ParserCreate(NULL);
	if (!p)
		return err_set(e, ERR_NOMEM, "out of memory");
	XML_SetUserData(p, b);
	XML_SetElementHandler(p, start, end);
	XML_SetCharacterDataHandler(p, text_chars);
	int ok = n <= (size_t)INT32_MAX && XML_Parse(p, xml, (int)n, 1) == XML_STATUS_OK;
	int rc = b->failed ? err_set(e, b->failed, "out of memory reading the workbook's %s", what)
		 : ok	   ? 0
			   : err_set(e, ERR_INVALID,
				     "the workbook's %s is not well-formed XML: %s "
					  "(line %lu)",
				     what, XML_ErrorString(XML_GetErrorCode(p)),
				     (unsigned long)XML_GetCurrentLineNumber(p));
	XML_ParserFree(p);
	return rc;
}

/* Reads part `name` with the handlers; a missing part is nothing when `optional`. */
static int read_part(struct book *b, const unsigned char *z, size_t len, const char *name,
		     bool optional, XML_StartElementHandler start, XML_EndElementHandler end,
		     struct err *e)
{
	char *xml = NULL;
	size_t n = 0;
	int rc = zip_part(z, len, name, &xml, &n, e);
	if (rc == ERR_NOT_FOUND)
		return optional ? 0 : err_set(e, ERR_INVALID, "not an Excel workbook: no %s", name);
	if (rc == 0)
		rc = parse(b, xml, n, start, end, name, e);
	free(xml);
	return rc;
}

static void nothing_end(void *ud, const char *el)
{
	(void)ud, (void)el;
}

/* ---------------------------------------------------------------- the table */

static int cmp_cell(const void *x, const void *y)
{
	const struct cell *a = x, *b = y;
	return a->row != b->row ? (a->row < b->row ? -1 : 1) : a->col - b->col;
}

/* The table of the sheet's cells: labels, then a row per sheet row after them. */
static int make_table(struct book *b, const struct format *f, struct tbl **out, struct err *e)
{
	qsort(b->cells, (size_t)b->n_cells, sizeof(*b->cells), cmp_cell);
	int64_t first = 1 + f->header_lines, i = 0;
	while (i < b->n_cells && b->cells[i].row < first)
		i++;
	if (i < b->n_cells)
		first = b->cells[i].row;
	int ncol = b->n_cells ? b->max_col + 1 : 0;
	struct tbl *t = data_tbl_new("sheet");
	struct val *row = calloc((size_t)ncol + 1, sizeof(*row));
	int rc = t && row ? 0 : ERR_NOMEM;
	for (int c = 0; rc == 0 && c < ncol; c++) {
		char name[600], letters[8];
		int k = 0;
		for (int x = c + 1; x > 0 && k < 7; x = (x - 1) / 26)
			letters[k++] = (char)('A' + (x - 1) % 26);
		for (int l = 0; l < k; l++)
			name[l] = letters[k - 1 - l];
		name[k] = '\0';
		if (f->labels == LABELS_EMBEDDED)
			for (int64_t j = i; j < b->n_cells && b->cells[j].row == first; j++)
				if (b->cells[j].col == c && !b->cells[j].v.null) {
					char nb[64];
					str_copy(name,
						 data_val_text(&b->cells[j].v, nb, sizeof(nb)),
						 sizeof(name) - 8);
				}
		if (data_tbl_field(t, name, false) >= 0) /* a label twice: the letters */
			snprintf(name + strlen(name), sizeof(name) - strlen(name), "_%d", c + 1);
		rc = data_tbl_field(t, name, true) < 0 ? ERR_NOMEM : 0;
	}
	if (f->labels == LABELS_EMBEDDED)
		while (i < b->n_cells && b->cells[i].row == first)
			i++;
	while (rc == 0 && i < b->n_cells) {
		int64_t r = b->cells[i].row;
		for (int c = 0; c < ncol; c++)
			row[c] = (struct val){.null = true};
		for (; i < b->n_cells && b->cells[i].row == r; i++)
			row[b->cells[i].col] = b->cells[i].v;
		rc = data_tbl_append(t, row, ncol) ? ERR_NOMEM : 0;
	}
	free(row);
	if (rc) {
		data_tbl_free(t);
		return err_set(e, rc, "out of memory");
	}
	*out = t;
	return 0;
}

int data_xlsx_read(const void *data, size_t len, const struct format *f, const char *date_format,
		   struct tbl **out, struct err *e)
{
	*out = NULL;
	const unsigned char *z = data;
	struct book b = {.want = f->sheet[0] ? f->sheet : NULL, .date_format = date_format};
	buf_init(&b.text, MAX_PART);
	if (!(b.a = arena_new()))
		return err_set(e, ERR_NOMEM, "out of memory");
	int rc = read_part(&b, z, len, "xl/workbook.xml", false, book_start, nothing_end, e);
	if (rc == 0 && !b.found)
		rc = err_set(e, ERR_NOT_FOUND,
			     b.want ? "the workbook has no sheet named %s"
				    : "the workbook has no sheet%s",
			     b.want ? b.want : "");
	if (rc == 0)
		rc = read_part(&b, z, len, "xl/_rels/workbook.xml.rels", false, book_start,
			       nothing_end, e);
	char part[4096];
	if (rc == 0 && !b.target[0])
		rc = err_set(e, ERR_INVALID, "the workbook does not say where its sheet is");
	if (rc == 0)
		snprintf(part, sizeof(part), "%s%s", b.target[0] == '/' ? "" : "xl/",
			 b.target[0] == '/' ? b.target + 1 : b.target);
	if (rc == 0)
		rc = read_part(&b, z, len, "xl/sharedStrings.xml", true, strings_start, strings_end,
			       e);
	if (rc == 0)
		rc = read_part(&b, z, len, "xl/styles.xml", true, styles_start, styles_end, e);
	if (rc == 0)
		rc = read_part(&b, z, len, part, false, sheet_start, sheet_end, e);
	if (rc == 0)
		rc = make_table(&b, f, out, e);
	free(b.cells);
	free(b.strings);
	free(b.date_style);
	buf_release(&b.text);
	arena_free(b.a);
	return rc;
}
