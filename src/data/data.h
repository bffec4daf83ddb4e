/* data.h: the engine's data: QVD files, delimited text, the tables a reload builds, the
 * app file that holds them, and the set of tables of one data model. Depends on core only.
 * Design notes: src/data/README.md. Each section below says its threads. */
#ifndef FATHOM_DATA_H
#define FATHOM_DATA_H

#include "core/core.h"

/* ================================================================ symbol columns (col.c) */

/* A column of symbol indexes, one a row, in as few bytes a row as its field's symbols need:
 * width 1, 2 or 3 holds index + 1 (0: NULL; three bytes low first); width 4 an int32_t (-1:
 * NULL); width 0 nothing: row r holds symbol r (a field of ids in row order). The model's
 * rows are kept so (a sales table's eight fields in 12 bytes a row instead of 32). */
struct data_col {
	void *p;
	int width;
	bool mapped; /* p lies in an app file's bytes (a data_map that its holder keeps): not
			freed */
};

/* The width a column needs for n_sym symbols and NULL (1 to 4). */
int data_col_width(int64_t n_sym);
/* Room for n_rows rows of that width (p NULL for width 0); false: out of memory. */
NODISCARD bool data_col_alloc(struct data_col *c, int width, int64_t n_rows);
void data_col_free(struct data_col *c);
/* Rows [from, from + n) into out, -1 for NULL. */
void data_col_range(const struct data_col *c, int64_t from, int64_t n, int32_t *out);
/* Rows rows[0..n) into out, -1 for NULL. */
void data_col_gather(const struct data_col *c, const int64_t *rows, int64_t n, int32_t *out);
/* n_rows symbols (-1 NULL) written from row `at` on (nothing for width 0: only when each
 * row r holds r). */
void data_col_write(struct data_col *c, int64_t at, const int32_t *from, int64_t n_rows);
/* Whether rows [from, from + n) each hold NULL or a symbol below n_sym (a column read from
 * a file, before it is used). */
bool data_col_within(const struct data_col *c, int64_t from, int64_t n, int64_t n_sym);
/* Whether every row r of an int32_t column holds r. */
bool data_col_identity(const int32_t *col, int64_t n_rows);

/* Row r's symbol, -1 for NULL. */
static inline int32_t data_col_at(const struct data_col *c, int64_t r)
{
	const uint8_t *b = c->p;
	switch (c->width) {
	case 0: return (int32_t)r;
	case 1: return (int32_t)b[r] - 1;
	case 2: return (int32_t)((const uint16_t *)c->p)[r] - 1;
	case 3:
		b += 3 * r;
		return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16) - 1;
	default: return ((const int32_t *)c->p)[r];
	}
}

/* Sets row r to symbol s (-1: NULL). */
static inline void data_col_put(struct data_col *c, int64_t r, int32_t s)
{
	uint8_t *b = c->p;
	uint32_t v = (uint32_t)(s + 1);
	switch (c->width) {
	case 0: break;
	case 1: b[r] = (uint8_t)v; break;
	case 2: ((uint16_t *)c->p)[r] = (uint16_t)v; break;
	case 3:
		b += 3 * r;
		b[0] = (uint8_t)v, b[1] = (uint8_t)(v >> 8), b[2] = (uint8_t)(v >> 16);
		break;
	default: ((int32_t *)c->p)[r] = s; break;
	}
}

/* ================================================================ QVD files (qvd.c) */

/* QVD files, Qlik's one-table data files: reading files Qlik wrote, and writing
 * files other readers load. Format notes: ../shared/api/engine.md section 1 and
 * src/engine/README.md.
 *
 * A table is columns of symbol indexes: per field, its distinct values (the symbol table,
 * in first-occurrence order) and per row the index of the row's value, or -1 for NULL.
 * That is how the engine stores a table, so loading a QVD copies no text per row.
 *
 * Threads: a struct qvd_table is a plain value; read it from any thread, write from one. */

/* The type byte of a symbol. */
enum qvd_type {
	QVD_INT = 1,	     /* int32 */
	QVD_DOUBLE = 2,	     /* binary64 */
	QVD_STRING = 4,	     /* text */
	QVD_DUAL_INT = 5,    /* int32 and its text */
	QVD_DUAL_DOUBLE = 6, /* binary64 and its text */
};

struct qvd_value {
	enum qvd_type type;
	double num;	  /* the number (QVD_INT: exact), 0 for strings */
	const char *text; /* NUL-terminated UTF-8; NULL for QVD_INT and QVD_DOUBLE */
};

struct qvd_field {
	char *name;
	int64_t n_symbols;
	struct qvd_value *symbols;
	int32_t *index;	      /* per row: a symbol, or -1 for NULL */
	char number_type[16]; /* NumberFormat/Type: a display hint ("UNKNOWN", "DATE", ...) */
	char number_fmt[64];  /* NumberFormat/Fmt: its format code, or "" */
	char **tags;	      /* "$numeric", "$text", ...; n_tags of them */
	int n_tags;
	/* as read from a file (the writer computes its own) */
	int bit_offset, bit_width, bias;
	/* read with QVD_READ_DENSE, a field of consecutive whole numbers (DATA_DENSE_MIN or
	 * more of them, each written as its number writes it: a field of ids): symbols is
	 * NULL, and symbol s is the number dense_base + s */
	bool dense;
	double dense_base;
	/* what its symbols are when dense and known (the text reader's fields, a view's): 1
	 * QVD_INTs, 2 QVD_DUAL_INTs each with the text its number writes; 0 unknown */
	int dense_kind;
	/* read with QVD_READ_NARROW: index is NULL and col holds the rows, as narrow as the
	 * symbols allow (width 0 when row r holds symbol r) */
	bool narrow;
	struct data_col col;
};

struct qvd_table {
	char *name;
	int n_fields;
	struct qvd_field *fields;
	int64_t n_rows;
	char *text_store; /* where symbol texts live (owned) */
};

/* Reads a QVD held in memory. Every size, offset and index is checked; a malformed file
 * is ERR_INVALID with what is wrong and where. Caller frees *out with data_qvd_free. */
NODISCARD int data_qvd_read(const void *data, size_t len, struct qvd_table **out, struct err *e);
/* How many consecutive whole numbers make a field dense (below, a field keeps its values;
 * the fuzzing build makes it 4, so that inputs of a few hundred bytes reach it). */
#ifndef DATA_DENSE_MIN
#define DATA_DENSE_MIN 4096
#endif
/* data_qvd_read's options: QVD_READ_DENSE leaves a dense field's symbols unread (its
 * qvd_field says dense): a model needs no value each of 10 million ids. QVD_READ_NARROW
 * decodes the rows into narrow columns (qvd_field.col), as the model keeps them. */
enum { QVD_READ_DENSE = 1, QVD_READ_NARROW = 2 };
NODISCARD int data_qvd_read_opts(const void *data, size_t len, unsigned opts,
				 struct qvd_table **out, struct err *e);
/* Whether `text` is how a whole number num is written without a text of its own: at most
 * 15 digits, no leading zero, no "+" (the text a model need not keep). */
bool data_canonical_integer(const char *text, double num);
/* What a QVD's header says, without its data (QvdNoOfRecords() and its kin). */
struct qvd_info {
	char *table_name; /* or NULL */
	int64_t n_records;
	int n_fields;
	char **fields;	      /* names (NULL where the header gives none) */
	char create_time[32]; /* CreateUtcTime as written, or "" */
};
/* Reads the XML header of a QVD held in memory (the data after it is not read). */
NODISCARD int data_qvd_read_info(const void *data, size_t len, struct qvd_info **out,
				 struct err *e);
void data_qvd_info_free(struct qvd_info *i);
/* Reads a QVD file (mapped, not copied). */
NODISCARD int data_qvd_read_file(const char *path, struct qvd_table **out, struct err *e);
void data_qvd_free(struct qvd_table *t);

/* A value as text: a dual's or string's text, or the number formatted as Qlik shows it
 * for plain numbers (integers without a decimal point, others with up to 15 significant
 * digits). Returns out. */
const char *data_qvd_value_text(const struct qvd_value *v, char *out, size_t n);

/* Writes `t` as a QVD: symbols in the table's order (callers keep first-occurrence order),
 * Bias -2 only for columns with NULLs, minimal widths packed from bit 0, no timestamps
 * (the output depends only on the table). Text may not contain NUL (ERR_INVALID). The file
 * goes to `out`. */
NODISCARD int data_qvd_write(const struct qvd_table *t, struct buf *out, struct err *e);

/* ================================================================ column tables (coltab.c) */

/* A table of the data model as an app file holds it from format version 4: each field's
 * rows as the model keeps them (a data_col: one to four bytes a row, or none), so that
 * opening an app uses the file's bytes as they are instead of decoding records. Stored
 * uncompressed (APPFILE_RAW), the rows of the 10 M-row sales table take less room than
 * their QVD layout compressed with zstd.
 *
 *   "FATHOMCT", u32 layout version (1), u32 field count, u64 rows,
 *   u32 length + the table's name,
 *   per field: u32 length + name, u32 tag count and per tag u32 length + tag,
 *              u8 length + number type, u8 length + number format,
 *              u8 width (0-4, as data_col), u8 dense (0; 1: symbol s is the QVD_INT
 *              base + s; 2: the QVD_DUAL_INT base + s with the text it writes), u16 0,
 *              u64 symbols, f64 dense base, u64 bytes of its symbol table
 *   the symbol tables, field after field, as a QVD writes them (none for a dense field)
 *   the columns of width 1 to 4, each at the next multiple of 64 bytes from the table's
 *   start and followed by at least 8 zero bytes up to the next multiple of 64; the
 *   table ends after the last column's padding (after its symbol tables' when it has none)
 *
 * Numbers little endian. The reader checks every length, and every row's symbol against
 * its field's symbol count, before anything reads it.
 * Threads: plain values. */

/* Whether a table block holds a column table (else it is a QVD). */
bool data_coltab_is(const void *data, size_t len);
/* Appends table `t` (a QVD view of a table) in column layout to `out` (whose length must
 * be a multiple of 8: the layout's alignment is from its start). A field of
 * DATA_DENSE_MIN or more consecutive whole numbers, all QVD_INT or all QVD_DUAL_INT with
 * the text the number writes, is stored as its first number alone. */
NODISCARD int data_coltab_write(const struct qvd_table *t, struct buf *out, struct err *e);
/* The same into out (see struct data_out): its columns handed on a million rows at a time. */
struct data_out;
NODISCARD int data_coltab_write_out(const struct qvd_table *t, struct data_out *out, struct err *e);
/* Reads a column table (`data` 64-byte aligned) as data_qvd_read_opts reads a QVD: with
 * QVD_READ_NARROW the fields' columns point into `data` (col.mapped; the caller keeps
 * `data` for as long as they are read), else each field has its int32 index; with
 * QVD_READ_DENSE a dense field stays dense (no symbols), else its symbols are made.
 * ERR_INVALID says what is wrong. Caller frees *out with data_qvd_free. */
NODISCARD int data_coltab_read(const void *data, size_t len, unsigned opts, struct qvd_table **out,
			       struct err *e);

/* ================================================================ tables (table.c) */

/* tables the reload builds: per field a symbol table and per row a symbol index
 * (-1 for NULL), growing row by row, with fields added as concatenation needs them.
 * A value is a dual: a number, a text, or both; or NULL.
 *
 * Interning follows Qlik: per field, values with the same number are one symbol (which
 * keeps the first text seen); values without a number are one symbol per text.
 *
 * Threads: one thread per table. */

struct val {
	bool null;
	bool has_num;
	double num;
	const char *text; /* NULL: the number alone */
};

struct tbl_field {
	char *name;
	int64_t n_sym, cap_sym;
	struct qvd_value *sym; /* texts are offsets into the table's text store until frozen */
	size_t *text_at;       /* (size_t)-1 for number-only symbols */
	int32_t *index;
	int64_t *slots; /* open addressing: symbol + 1 */
	size_t n_slots;
	/* the number format it was loaded with (a QVD's NumberFormat): "DATE", "TIME",
	 * "TIMESTAMP", ... and its format code; empty when unknown */
	char number_type[16], number_fmt[64];
	/* the tags the script (TAG FIELD) or a QVD gave it, one a line; NULL: none. The tags
	 * the engine works out itself ($numeric, $key, $date, ...) are not kept here */
	char *tags;
	/* dense: a field of consecutive whole numbers (ids) kept without their values: sym and
	 * text_at are NULL and symbol s is the number dense_base + s, each a QVD_INT
	 * (dense_kind 1) or a QVD_DUAL_INT with the text its number writes (2). The functions
	 * here read it as it is and make its values when they need them (to add a value that
	 * is not the next id, for a view). dense_kind 0: an app file's field read for the
	 * model (data_set_from_app with DATA_SET_MODEL), where index is NULL too and col holds
	 * the rows (narrow); model_assoc_build reads such a table, no function here but
	 * data_tbl_free may be given one */
	bool narrow, dense;
	int dense_kind;
	double dense_base;
	struct data_col col;
};

/* Whether `tag` is one the engine works out from a field's values ($numeric, $integer,
 * $text, $ascii, $key, $date, $timestamp, $time), not one to keep. */
bool data_tag_computed(const char *tag);
/* Adds `tag` to the field's tags unless it has it (false: out of memory). */
bool data_field_tag(struct tbl_field *f, const char *tag);
/* Takes `tag` off the field's tags. */
void data_field_untag(struct tbl_field *f, const char *tag);

struct tbl {
	char *name;
	int n_fields, cap_fields;
	struct tbl_field *fields;
	int64_t n_rows, cap_rows;
	struct buf texts;
	bool access; /* loaded in SECTION ACCESS: who may see what, not part of the model */
};

struct tbl *data_tbl_new(const char *name);
void data_tbl_free(struct tbl *t);
/* The field's index, adding it (NULL in every row so far) when `add`; -1 if absent. */
int data_tbl_field(struct tbl *t, const char *name, bool add);
/* Appends a row: vals[i] for field i (n must equal n_fields). ERR_NOMEM/ERR_TOO_LARGE. */
NODISCARD int data_tbl_append(struct tbl *t, const struct val *vals, int n);
/* Row r of field f. Texts point into the table and live as long as it (or the next
 * append). */
void data_tbl_get(const struct tbl *t, int f, int64_t r, struct val *out);
/* Symbol s (0 to n_sym - 1, in order of first appearance) of field f. */
void data_tbl_symbol(const struct tbl *t, int f, int64_t s, struct val *out);
/* The symbol of `v` in field f, or -1 when the field has no such value. */
int64_t data_tbl_lookup(struct tbl *t, int f, const struct val *v);
/* Drops field f. */
void data_tbl_drop_field(struct tbl *t, int f);
/* A read-only QVD view of the table (for STORE): pointers into the table; free the view
 * with data_tbl_view_free, not data_qvd_free. A dense field's values are made for it,
 * unless `opts` has TBL_VIEW_DENSE (for data_coltab_write): the view's field is dense too. */
enum { TBL_VIEW_DENSE = 1 };
NODISCARD int data_tbl_view(struct tbl *t, unsigned opts, struct qvd_table *out, struct err *e);
void data_tbl_view_free(struct qvd_table *v);
/* A table that takes over a QVD's contents (q is freed). */
NODISCARD int data_tbl_from_qvd(struct qvd_table *q, const char *name, struct tbl **out,
				struct err *e);

/* The same for a QVD whose symbols are known to be distinct (an app file this engine wrote):
 * they are taken as they are, without interning; the hash index is built on first use.
 * Every row's index must be -1 or one of its field's symbols, as data_qvd_read and the
 * text reader give them (they are not checked again). */
NODISCARD int data_tbl_adopt_qvd(struct qvd_table *q, struct tbl **out, struct err *e);

/* Reads a symbol as a value. */
void data_val_of_symbol(const struct qvd_value *s, struct val *out);
/* The value as text (a number formatted when it has no text). Returns buf or the text. */
const char *data_val_text(const struct val *v, char *buf, size_t n);
/* x written as the Qlik number format code `fmt` says ("#,##0.00", "0.0%", "$#,##0;($#,##0)")
 * with the decimal separator `dec` (NULL or "": ".") and the thousands separator `thou`
 * (NULL or "": none), into out[n]. -1 when fmt has no digit placeholder, x is not finite,
 * or the text does not fit; out is then unspecified. */
NODISCARD int data_num_format(double x, const char *fmt, const char *dec, const char *thou,
			      char *out, size_t n);

/* x, a day serial (day 0 = 1899-12-30; the fraction is the time of day), written as the
 * Qlik date and time format `fmt` says: YYYY or YY (year), M, MM, MMM, MMMM (month), D,
 * DD (day), WWW, WWWW (weekday), h, hh (hour; 1 to 12 when the format has TT or tt), mm
 * (minute), ss (second), f to fff (fraction), TT or tt (AM or PM); [ ] around a part that
 * shows only when the fraction is not zero; other characters as they are. -1 when x is
 * not a date of years -9999 to 9999 or the text does not fit in out[n]. */
NODISCARD int data_date_format(double x, const char *fmt, char *out, size_t n);
/* The year, month (1-12) and day (1-31) of day serial `serial`. */
void data_civil_date(int64_t serial, int64_t *y, int64_t *m, int64_t *d);
/* The day serial of y-m-d (proleptic Gregorian; day 0 = 1899-12-30), m from 1 to 12. A day
 * past the month's end runs on into the next month (day 0 is the month's eve). */
int64_t data_serial_date(int64_t y, int64_t m, int64_t d);

/* ================================================================ text formats */

enum labels { LABELS_EMBEDDED, LABELS_EXPLICIT, LABELS_NONE };

/* A file's or inline data's format specification. */
struct format {
	bool qvd;	    /* (qvd); else delimited text */
	enum labels labels; /* default embedded */
	char delimiter;	    /* default ','; ' ' for 'spaces' */
	int codepage;	    /* 65001 utf8 (default), 1252 ansi, 28591, ... */
	bool msq;	    /* modern-style quoting */
	bool no_quotes;
	int header_lines;
	bool xlsx;	 /* (ooxml): an Excel workbook */
	char sheet[256]; /* table is ...: the workbook's sheet ("": the first) */
};

/* ================================================================ Excel workbooks (xlsx.c) */

/* Reads one sheet of an Excel workbook (.xlsx) held in memory into a new table: f->sheet
 * (the first when ""), labels from its first row with f->labels embedded (after
 * f->header_lines rows), else the column letters; dates (cells of a date style) as duals
 * with their text in date_format (NULL: YYYY-MM-DD). ERR_INVALID says what is wrong. */
NODISCARD int data_xlsx_read(const void *data, size_t len, const struct format *f,
			     const char *date_format, struct tbl **out, struct err *e);

/* ================================================================ media files (media.c) */

/* The meta tag `name` of a media file held in memory (the script's Attribute()): an MP3's
 * ID3v1 fields (Title, Artist, Album, Year, Comment, Track, Genre; from the ID3v2 frames
 * that hold the same when the file has no ID3v1 tag) and ID3v2.3/2.4 text frames by id
 * (TALB, TPE1, COMM, ...); a PNG's text chunks by keyword (Title, Author, Creation Time,
 * ...); a JPEG's EXIF tags by name (Make, Model, DateTimeOriginal, GPSLatitude, ...; lists
 * of numbers blank-separated, rationals as decimals); a Windows Media file's content
 * descriptions (Title, Author, Copyright, Description, Rating, WM/AlbumTitle, ...).
 * 1 and *out (UTF-8, the caller frees it) when the file has it; 0 when it has not or is
 * none of these; ERR_NOMEM. Threads: any. */
NODISCARD int data_media_attribute(const void *data, size_t len, const char *name, char **out);

/* ================================================================ delimited text (txt.c) */

/* delimited text (CSV and the like, and INLINE data) read the way Qlik reads it,
 * into a table of symbol tables and symbol indexes (engine/qvd.h). What Qlik does, as the
 * tests check it against QVDs Qlik made from the same files:
 *
 *   - leading and trailing blanks of every value are stripped (Verbatim = 0);
 *   - a value that reads as a number keeps its text: a dual of an int32 and the text when
 *     the number is integral and fits, else of a double and the text; more than 15
 *     significant digits stay text; a date in the DateFormat (default YYYY-MM-DD) is a dual
 *     of its day serial (day 0 = 1899-12-30) and its text;
 *   - per field, values with the same number are one symbol, which keeps the first text
 *     seen; everything else is text, and an empty cell is the empty string, never NULL;
 *   - symbols are numbered in first-occurrence order.
 *
 * Threads: no shared state. */

struct txt_options {
	const char *table_name;
	const char *date_format; /* NULL: YYYY-MM-DD */
	/* The page-aligned start of a private file mapping that holds the text: what has been
	 * read is given back to the system as reading goes on (it must not be read again). */
	const void *release_base;
	/* Threads that read a large text, each interning its share of the fields (0: one per
	 * processor, up to 4). The result is the same for any number. */
	int threads;
};

/* Reads `len` bytes of delimited text as `f` says (delimiter, labels, quoting, code page,
 * header lines). ERR_INVALID for what cannot be read (an unsupported code page, a quote
 * not closed under msq), naming the line. Caller frees *out with data_qvd_free. */
NODISCARD int data_txt_read(const char *data, size_t len, const struct format *f,
			    const struct txt_options *o, struct qvd_table **out, struct err *e);

/* How one text value reads: *out gets its type (QVD_STRING, QVD_DUAL_INT or
 * QVD_DUAL_DOUBLE) and number. `text` is already trimmed. */
void data_txt_interpret(const char *text, const char *date_format, struct qvd_value *out);
/* The same with the names a format's MMM, MMMM, WWW and WWWW read: ";"-separated lists of
 * short and long month names and short and long day names (the script's MonthNames,
 * LongMonthNames, DayNames, LongDayNames); NULL or "" for English ones. */
void data_txt_interpret_names(const char *text, const char *date_format, const char *const names[4],
			      struct qvd_value *out);

/* ================================================================ app files (appfile.c) */

/* the app file, what an app is on the share: a versioned container of blocks,
 * each compressed with zstd or stored as it is, and checksummed, so an app opens without
 * re-running its script and a damaged file is noticed before anything is used.
 *
 *   "FATHOMAPP" NUL, u16 format version, u32 block count                  (16 bytes)
 *   per block: u32 kind, u32 flags, u64 raw length, u64 stored length,
 *              u32 header checksum (FNV-1a of the 24 bytes before it)       (28 bytes)
 *              stored bytes: one zstd frame with its content checksum, or with flag 1
 *              several, one after another, each with its size and checksum: their
 *              contents, in order, are the block's raw bytes; or with flag 2 (raw) the
 *              XXH3-64 of the raw bytes (u64), zero bytes up to the next offset in the
 *              file that is a multiple of 64, and the raw bytes themselves
 *
 * Numbers are little endian. Block kinds: APPFILE_PROPS (the app's properties as JSON:
 * title, variables, objects), APPFILE_SCRIPT (the load script, UTF-8), APPFILE_TABLE
 * (one table of the data model: in column layout, raw, from version 4; in QVD layout
 * before) and APPFILE_ACCESS (one table of the script's SECTION ACCESS, in QVD layout).
 * A file with APPFILE_ACCESS blocks has format version 2, so that an engine that would
 * pass them over (and show everyone all the data) refuses the file instead. A compressed
 * table of 8 MiB or more is stored as frames of 4 MiB (flag 1), which open on two threads,
 * and makes the file version 3, which an engine that reads one frame per block refuses; a
 * raw block makes it version 4; others have version 1. Reading a file maps it (on a local
 * file system), so that a raw block is used where it lies: opening an app touches its
 * columns' bytes once, to check them. Blocks of unknown kind are checked like the others
 * (decompressed 64 KiB at a time, never kept) and then passed over, so later versions can
 * add kinds. Properties and scripts may hold 256 MiB each,
 * other blocks 16 GiB; a block that declares more is refused before anything is allocated
 * (by the writer, the reader and the streaming check alike).
 *
 * Threads: plain values; no shared state. */

#define APPFILE_VERSION 4 /* the highest this build reads */

enum appfile_kind {
	APPFILE_PROPS = 1,
	APPFILE_SCRIPT = 2,
	APPFILE_TABLE = 3,
	APPFILE_ACCESS = 4,
};

/* Where bytes being made go: kept in b (fd -1), or written to the file fd as they are
 * handed on (data_out_drain), `at` counting the bytes handed on before b. A raw block
 * being made is hashed as it is handed on (hash, from its byte hash_from). */
struct data_out {
	struct buf b;
	int fd;
	uint64_t at;
	void *hash;
	uint64_t hash_from;
};
/* An out to a file open for writing at its start (fd), or to memory (fd -1). */
void data_out_init(struct data_out *o, int fd);
/* Hands all of b on (to the file; kept in memory without one). Call it only where the
 * position (at + b.len) is a multiple of 64 from the start: what follows is written from
 * the start of b again, so its alignment in memory is its alignment in the file. */
NODISCARD int data_out_drain(struct data_out *o, struct err *e);
/* The rest handed on (to a file: b is released then). */
NODISCARD int data_out_finish(struct data_out *o, struct err *e);
void data_out_release(struct data_out *o);

struct appfile_block {
	enum appfile_kind kind;
	char *data; /* raw (decompressed) bytes, NUL-terminated for convenience unless raw */
	size_t len;
	/* stored as it is (flag 2), not compressed: a table in column layout. Read, data is
	 * 64-byte aligned and, read from a file, lies in the appfile's map */
	bool raw;
	/* writing, a raw block made when its turn comes, instead of data and len: fill
	 * appends its bytes to out->b, at a position that is a multiple of 64 from the file's
	 * start (a table goes straight into the file, not through a copy), and may hand them
	 * on (data_out_drain) at any such position */
	int (*fill)(void *ctx, struct data_out *out, struct err *e);
	void *ctx;
};

/* The bytes of a file, kept for as long as anything reads them: mapped (a local file) or
 * read into memory (a file on a network share or FUSE, where a mapped page could fault
 * once the share is gone). Counted references; the last unref lets them go. Threads: any
 * (the count is atomic). */
struct data_map;
struct data_map *data_map_ref(struct data_map *m); /* NULL stays NULL */
void data_map_unref(struct data_map *m);

struct appfile {
	int n_blocks;
	struct appfile_block *blocks;
	struct data_map *map; /* read from a file: its bytes, where the raw blocks lie */
};

/* Builds a file from blocks (their data is read, not kept); `level` is the zstd level
 * (0: the default). The bytes are appended to `out`. */
NODISCARD int data_appfile_write(const struct appfile_block *blocks, int n, int level,
				 struct buf *out, struct err *e);
/* The same into `out`: with a file, its bytes are written as they are made (a column table
 * a few MiB at a time, through the same buffer: 120 MB at 10 M rows not made in memory
 * first); call data_out_finish after. */
NODISCARD int data_appfile_write_out(const struct appfile_block *blocks, int n, int level,
				     struct data_out *out, struct err *e);

/* Reads and checks a whole file: ERR_INVALID naming the problem (not an app file, a newer
 * format version, a damaged block) for anything else. Caller frees with data_appfile_free. */
NODISCARD int data_appfile_read(const void *data, size_t len, struct appfile **out, struct err *e);
void data_appfile_free(struct appfile *a);
/* Only the properties block of the file at `path` (title, variables, objects), without
 * reading the rest: *out NULL when it has none. Caller frees *out. */
NODISCARD int data_appfile_read_props(const char *path, char **out, size_t *out_len, struct err *e);
/* data_appfile_read of the file at `path`. */
NODISCARD int data_appfile_read_file(const char *path, struct appfile **out, struct err *e);

/* The first block of `kind`, or NULL. */
const struct appfile_block *data_appfile_find(const struct appfile *a, enum appfile_kind kind);

/* Checks a file as it streams by (an upload), without keeping it: every header and
 * every block's zstd frame and content checksum. feed gives ERR_INVALID at the first
 * damage, naming it; end gives ERR_INVALID when the file stopped short. */
struct appfile_check;
struct appfile_check *data_appfile_check_new(void);
NODISCARD int data_appfile_check_feed(struct appfile_check *c, const void *data, size_t len,
				      struct err *e);
NODISCARD int data_appfile_check_end(struct appfile_check *c, struct err *e);
void data_appfile_check_free(struct appfile_check *c);

/* Checks the first bytes of a file for the app file signature and a version this build
 * reads, without the rest (an upload's first chunk). `len` may be short: true means
 * "so far so good". */
bool data_appfile_looks_valid(const void *data, size_t len, struct err *e);

/* ================================================================ data sets (set.c) */

/* The tables of a data model, as a reload builds them and an app file holds them.
 * Threads: a plain value. */
struct data_set {
	struct tbl **tables;
	int n_tables;
	/* the load script's variables when it ended: names and values (texts) */
	char **var_names, **var_values;
	int n_vars;
	/* a reference to the app file's bytes when columns of its tables lie in them */
	struct data_map *map;
};

void data_set_free(struct data_set *m);
/* Appends an app file to `out`: the properties and script given, and one block per table of
 * `m`: in column layout, raw, for a table of the model of DATA_COLUMN_TABLES_MIN_ROWS rows
 * or more (the environment's FATHOM_COLUMN_TABLES_MIN_ROWS, when set, instead), else in
 * QVD layout. */
#define DATA_COLUMN_TABLES_MIN_ROWS (1 << 20)
NODISCARD int data_set_write_app(const struct data_set *m, const char *props, size_t props_len,
				 const char *script, size_t script_len, struct buf *out,
				 struct err *e);
/* The same into `out` (written to its file as it is made: see struct data_out), freeing
 * each table of `m` once it is in the layout the file holds (a reload's peak is then its
 * tables, not those and the file too). m->tables[t] are NULL after it, for data_set_free
 * alone. */
NODISCARD int data_set_write_app_freeing(struct data_set *m, const char *props, size_t props_len,
					 const char *script, size_t script_len,
					 struct data_out *out, struct err *e);
/* The table named `name`, or NULL. */
struct tbl *data_set_table(const struct data_set *m, const char *name);
/* The tables of an app file's blocks of `kind` (APPFILE_TABLE: the data model;
 * APPFILE_ACCESS: its section access) as a data set `out` (free with data_set_free).
 * DATA_SET_MODEL in `opts`: for a data set that model_assoc_build alone reads, the rows
 * come in narrow columns (tbl_field.narrow) and dense fields without their values
 * (tbl_field.dense). */
enum { DATA_SET_MODEL = 1 };
NODISCARD int data_set_from_app(const struct appfile *f, enum appfile_kind kind, unsigned opts,
				struct data_set **out, struct err *e);
/* A table block of an app file (a QVD or a column table) as data_qvd_read_opts reads a
 * QVD; narrow columns of a column table point into the block. */
NODISCARD int data_set_read_block(const struct appfile_block *b, unsigned opts,
				  struct qvd_table **out, struct err *e);

#endif
