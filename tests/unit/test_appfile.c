/* test_appfile.c: the app file container (engine/appfile.c): what is written reads back;
 * every damaged byte, a cut-off file, a newer version and a file that is no app file are
 * refused with a message; blocks of kinds a later version adds are passed over. */
#include "unit.h"

#include "data/data.h"

#include <unistd.h>
#include <zstd.h>

static const char script[] = "Sales:\nLOAD * INLINE [\nRegion, Amount\nNorth, 10\n];\n";
static const char props[] = "{\"qTitle\":\"Sales\",\"objects\":[]}";

/* The sample table (a region a row, one NULL) in QVD layout, or with `cols` in column
 * layout. */
static void sample_table(struct buf *b, bool cols)
{
	struct qvd_value sym[] = {{QVD_STRING, 0, "North"}, {QVD_STRING, 0, "South"}};
	int32_t idx[] = {0, 1, 0, -1};
	char name[] = "Region", tn[] = "Sales";
	struct qvd_field f = {.name = name, .n_symbols = 2, .symbols = sym, .index = idx};
	struct qvd_table t = {.name = tn, .n_fields = 1, .fields = &f, .n_rows = 4};
	struct err e;
	err_init(&e);
	assert_int_equal(cols ? data_coltab_write(&t, b, &e) : data_qvd_write(&t, b, &e), 0);
}

static void table_qvd(struct buf *b)
{
	sample_table(b, false);
}

static void table_cols(struct buf *b)
{
	sample_table(b, true);
}

/* An app file of properties, script and the table in QVD layout; with `raw`, the table in
 * column layout too, stored raw (format version 4). */
static void build_app(struct buf *out, bool raw)
{
	struct buf q, c;
	buf_init(&q, 1 << 20);
	buf_init(&c, 1 << 20);
	table_qvd(&q);
	table_cols(&c);
	struct appfile_block blocks[] = {
	    {.kind = APPFILE_PROPS, .data = (char *)props, .len = strlen(props)},
	    {.kind = APPFILE_SCRIPT, .data = (char *)script, .len = strlen(script)},
	    {.kind = APPFILE_TABLE, .data = q.data, .len = q.len},
	    {.kind = APPFILE_TABLE, .data = c.data, .len = c.len, .raw = true},
	};
	struct err e;
	err_init(&e);
	assert_int_equal(data_appfile_write(blocks, raw ? 4 : 3, 0, out, &e), 0);
	buf_release(&q);
	buf_release(&c);
}

static void build(struct buf *out)
{
	build_app(out, true);
}

static void writes_and_reads_back(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	build(&b);
	struct appfile *a = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(data_appfile_read(b.data, b.len, &a, &e), 0);
	assert_int_equal(b.data[10], 4); /* a raw block: version 4 */
	assert_int_equal(a->n_blocks, 4);
	assert_string_equal(data_appfile_find(a, APPFILE_SCRIPT)->data, script);
	assert_string_equal(data_appfile_find(a, APPFILE_PROPS)->data, props);
	/* the table in either layout, each as an index and (the model's) narrow */
	for (int k = 2; k < 4; k++) {
		const struct appfile_block *tb = &a->blocks[k];
		assert_int_equal(tb->raw, k == 3);
		assert_int_equal(data_coltab_is(tb->data, tb->len), k == 3);
		assert_int_equal((uintptr_t)tb->data % 8, 0);
		struct qvd_table *t = NULL;
		assert_int_equal(data_set_read_block(tb, 0, &t, &e), 0);
		assert_string_equal(t->name, "Sales");
		assert_string_equal(t->fields[0].name, "Region");
		assert_int_equal(t->n_rows, 4);
		assert_int_equal(t->fields[0].index[0], 0);
		assert_int_equal(t->fields[0].index[1], 1);
		assert_int_equal(t->fields[0].index[3], -1);
		assert_string_equal(t->fields[0].symbols[1].text, "South");
		data_qvd_free(t);
		assert_int_equal(data_set_read_block(tb, QVD_READ_NARROW, &t, &e), 0);
		assert_true(t->fields[0].narrow);
		assert_int_equal(t->fields[0].col.width, 1);
		assert_int_equal(data_col_at(&t->fields[0].col, 1), 1);
		assert_int_equal(data_col_at(&t->fields[0].col, 3), -1);
		data_qvd_free(t);
	}
	data_appfile_free(a);
	buf_release(&b);
}

static void every_damage_is_refused(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	build(&b);
	struct err e;
	struct appfile *a = NULL;
	/* Any one byte changed anywhere either is refused (headers are checksummed, zstd
	 * frames carry their content's checksum) or changes nothing that is read (a bit of
	 * zstd's encoding that does not affect the output, the reserved header bytes). */
	struct appfile *good = NULL;
	err_init(&e);
	assert_int_equal(data_appfile_read(b.data, b.len, &good, &e), 0);
	int accepted = 0;
	for (size_t i = 0; i < b.len; i++) {
		b.data[i] ^= 0x5a;
		err_init(&e);
		int rc = data_appfile_read(b.data, b.len, &a, &e);
		b.data[i] ^= 0x5a;
		if (rc == 0) {
			assert_int_equal(a->n_blocks, good->n_blocks);
			for (int k = 0; k < a->n_blocks; k++) {
				assert_int_equal(a->blocks[k].kind, good->blocks[k].kind);
				assert_int_equal(a->blocks[k].len, good->blocks[k].len);
				assert_memory_equal(a->blocks[k].data, good->blocks[k].data,
						    a->blocks[k].len);
			}
			data_appfile_free(a);
			accepted++;
			continue;
		}
		assert_int_equal(rc, ERR_INVALID);
		assert_null(a);
		assert_true(e.message[0] != '\0');
	}
	assert_true(accepted < 8);
	data_appfile_free(good);
	/* Any cut: refused. */
	for (size_t n = 0; n < b.len; n++) {
		err_init(&e);
		assert_int_equal(data_appfile_read(b.data, n, &a, &e), ERR_INVALID);
	}
	/* Trailing bytes: refused. */
	assert_int_equal(buf_append(&b, "x", 1), 0);
	err_init(&e);
	assert_int_equal(data_appfile_read(b.data, b.len, &a, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "after its last block"));
	buf_release(&b);
}

static void versions_and_signatures(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	build_app(&b, false);
	struct err e;
	err_init(&e);
	assert_true(data_appfile_looks_valid(b.data, 5, &e));
	assert_true(data_appfile_looks_valid(b.data, b.len, &e));
	assert_false(data_appfile_looks_valid("PK\x03\x04", 4, &e)); /* a zip (a Qlik QVF) */
	assert_non_null(strstr(e.message, "not a Fathom app file"));
	assert_int_equal(b.data[10], 1); /* no section access: version 1 */
	b.data[10] = 5;			 /* version 5 */
	err_init(&e);
	struct appfile *a = NULL;
	assert_int_equal(data_appfile_read(b.data, b.len, &a, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "format version 5"));
	buf_release(&b);
	/* a raw block needs version 4: in an older version's file it is refused, as the
	 * reader of that version would */
	buf_init(&b, 1 << 20);
	build(&b);
	b.data[10] = 3;
	err_init(&e);
	assert_int_equal(data_appfile_read(b.data, b.len, &a, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "block 4 of the app file has unknown flags 0x2"));
	buf_release(&b);
	/* a section access table makes it version 2, which this build reads */
	struct appfile_block blocks[] = {
	    {.kind = APPFILE_SCRIPT, .data = (char *)script, .len = strlen(script)},
	    {.kind = APPFILE_ACCESS, .data = (char *)"who", .len = 3}};
	buf_init(&b, 1 << 20);
	assert_int_equal(data_appfile_write(blocks, 2, 0, &b, &e), 0);
	assert_int_equal(b.data[10], 2);
	assert_int_equal(data_appfile_read(b.data, b.len, &a, &e), 0);
	assert_int_equal(a->n_blocks, 2);
	assert_int_equal(a->blocks[1].kind, APPFILE_ACCESS);
	assert_string_equal(a->blocks[1].data, "who");
	data_appfile_free(a);
	buf_release(&b);
}

static void unknown_kinds_are_passed_over(void **state)
{
	(void)state;
	struct appfile_block blocks[] = {
	    {.kind = (enum appfile_kind)99, .data = (char *)"future", .len = 6},
	    {.kind = APPFILE_SCRIPT, .data = (char *)script, .len = strlen(script)},
	};
	struct buf b;
	buf_init(&b, 1 << 20);
	struct err e;
	err_init(&e);
	assert_int_equal(data_appfile_write(blocks, 2, 1, &b, &e), 0);
	struct appfile *a = NULL;
	assert_int_equal(data_appfile_read(b.data, b.len, &a, &e), 0);
	assert_int_equal(a->n_blocks, 1);
	assert_string_equal(data_appfile_find(a, APPFILE_SCRIPT)->data, script);
	assert_null(data_appfile_find(a, APPFILE_TABLE));
	data_appfile_free(a);
	buf_release(&b);
}

/* Feeds a file to the streaming check in pieces of `chunk` bytes. */
static int stream_check(const char *data, size_t len, size_t chunk, struct err *e)
{
	struct appfile_check *c = data_appfile_check_new();
	assert_non_null(c);
	int rc = 0;
	for (size_t at = 0; rc == 0 && at < len; at += chunk)
		rc = data_appfile_check_feed(c, data + at, len - at < chunk ? len - at : chunk, e);
	if (rc == 0)
		rc = data_appfile_check_end(c, e);
	data_appfile_check_free(c);
	return rc;
}

static void the_streaming_check_agrees_with_the_reader(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	build(&b);
	struct err e;
	static const size_t chunks[] = {1, 7, 28, 4096};
	for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		err_init(&e);
		assert_int_equal(stream_check(b.data, b.len, chunks[k], &e), 0);
	}
	/* every one-byte change: the check and the reader say the same */
	for (size_t i = 0; i < b.len; i++) {
		b.data[i] ^= 0x21;
		struct appfile *a = NULL;
		err_init(&e);
		int read = data_appfile_read(b.data, b.len, &a, &e);
		err_init(&e);
		int check = stream_check(b.data, b.len, 13, &e);
		b.data[i] ^= 0x21;
		data_appfile_free(a);
		if ((read == 0) != (check == 0))
			fail_msg("byte %zu: reader %d, streaming check %d (%s)", i, read, check,
				 e.message);
	}
	for (size_t n = 0; n < b.len; n++) {
		err_init(&e);
		assert_int_equal(stream_check(b.data, n, 5, &e), ERR_INVALID);
	}
	err_init(&e);
	static const char zip[] = "PK\x03\x04 a zip";
	assert_int_equal(stream_check(zip, sizeof(zip) - 1, 4, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "not a Fathom app file"));
	assert_int_equal(buf_append(&b, "x", 1), 0);
	err_init(&e);
	assert_int_equal(stream_check(b.data, b.len, 64, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "after its last block"));
	buf_release(&b);
}

static void le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Writes a block header's checksum (FNV-1a of its first 24 bytes) after them. */
static void seal(uint8_t *bh)
{
	uint32_t fnv = 2166136261u;
	for (int i = 0; i < 24; i++)
		fnv = (fnv ^ bh[i]) * 16777619u;
	le(bh + 24, fnv, 4);
}

/* A file of one load-script block that declares (and holds) 257 MiB of zeros, 8 KiB
 * compressed: the shape of a decompression bomb. Written by hand, since the writer
 * refuses it. */
static void bomb(struct buf *out)
{
	const uint64_t raw = 257ull << 20;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setPledgedSrcSize(cc, raw);
	static char zeros[1 << 20];
	struct buf z;
	buf_init(&z, 1 << 24);
	assert_int_equal(buf_reserve(&z, 1 << 20), 0);
	for (uint64_t fed = 0; fed < raw;) {
		ZSTD_inBuffer in = {zeros, sizeof(zeros), 0};
		bool last = fed + sizeof(zeros) >= raw;
		size_t left;
		do {
			assert_int_equal(buf_reserve(&z, 1 << 16), 0);
			ZSTD_outBuffer o = {z.data + z.len, z.cap - z.len - 1, 0};
			left =
			    ZSTD_compressStream2(cc, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
			assert_false(ZSTD_isError(left));
			z.len += o.pos;
		} while (in.pos < in.size || (last && left));
		fed += sizeof(zeros);
	}
	ZSTD_freeCCtx(cc);
	uint8_t h[16 + 28] = "FATHOMAPP";
	le(h + 10, 1, 2); /* version */
	le(h + 12, 1, 4); /* blocks */
	le(h + 16, APPFILE_SCRIPT, 4);
	le(h + 24, raw, 8);
	le(h + 32, z.len, 8);
	seal(h + 16);
	assert_int_equal(buf_append(out, h, sizeof(h)), 0);
	assert_int_equal(buf_append(out, z.data, z.len), 0);
	buf_release(&z);
}

/* The reader and the streaming check (in pieces of `chunk`) both refuse the file, saying
 * `says`. */
static void both_refuse(const struct buf *b, size_t chunk, const char *says)
{
	struct appfile *a = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(data_appfile_read(b->data, b->len, &a, &e), ERR_INVALID);
	assert_null(a);
	if (!strstr(e.message, says))
		fail_msg("the reader says \"%s\", not \"%s\"", e.message, says);
	err_init(&e);
	assert_int_equal(stream_check(b->data, b->len, chunk, &e), ERR_INVALID);
	if (!strstr(e.message, says))
		fail_msg("the streaming check says \"%s\", not \"%s\"", e.message, says);
}

/* A table of 8 MiB or more is stored as frames of 4 MiB (flag 1 in its header, format
 * version 3) that open on two threads: it reads back the same, the streaming check takes
 * it, and damage in any frame names that frame. */
static void large_tables_are_stored_in_frames(void **state)
{
	(void)state;
	size_t n = (12u << 20) + 5; /* four frames, the last of 5 bytes */
	char *big = malloc(n);
	assert_non_null(big);
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < n; i++) { /* digits and commas: compressible, not trivially */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		big[i] = i % 9 == 8 ? ',' : (char)('0' + (x >> 60) % 10);
	}
	struct appfile_block blocks[] = {
	    {.kind = APPFILE_SCRIPT, .data = (char *)script, .len = strlen(script)},
	    {.kind = APPFILE_TABLE, .data = big, .len = n}};
	struct buf b;
	buf_init(&b, 64 << 20);
	struct err e;
	err_init(&e);
	assert_int_equal(data_appfile_write(blocks, 2, 0, &b, &e), 0);
	assert_int_equal(b.data[10], 3);
	/* the table's block: after the file header, the script's header and its frame */
	size_t at =
	    16 + 28 + (size_t)(uint8_t)b.data[16 + 16] + ((size_t)(uint8_t)b.data[16 + 17] << 8);
	const uint8_t *th = (const uint8_t *)b.data + at;
	assert_int_equal(th[0], APPFILE_TABLE);
	assert_int_equal(th[4], 1); /* flags: frames */
	const uint8_t *z = th + 28;
	size_t stored = b.len - at - 28, frames = 0, third = 0;
	for (size_t k = 0; k < stored; frames++) {
		size_t fs = ZSTD_findFrameCompressedSize(z + k, stored - k);
		assert_false(ZSTD_isError(fs));
		if (frames == 2)
			third = k + fs / 2;
		k += fs;
	}
	assert_int_equal(frames, 4);
	struct appfile *a = NULL;
	assert_int_equal(data_appfile_read(b.data, b.len, &a, &e), 0);
	const struct appfile_block *tb = data_appfile_find(a, APPFILE_TABLE);
	assert_int_equal(tb->len, n);
	assert_memory_equal(tb->data, big, n);
	data_appfile_free(a);
	assert_int_equal(stream_check(b.data, b.len, 65537, &e), 0);
	/* a byte of the third frame changed: both refuse, naming the block */
	b.data[at + 28 + third] ^= 0x10;
	a = NULL;
	err_init(&e);
	assert_int_equal(data_appfile_read(b.data, b.len, &a, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "block 2 of the app file is damaged (frame 3"));
	both_refuse(&b, 65537, "block 2 of the app file is damaged");
	b.data[at + 28 + third] ^= 0x10;
	/* a flag this build does not know (the header's checksum made good again) */
	b.data[at + 4] = 3;
	seal((uint8_t *)b.data + at);
	both_refuse(&b, 4096, "block 2 of the app file has unknown flags 0x3");
	/* without the flag, the frames after the first are bytes after its data */
	b.data[at + 4] = 0;
	seal((uint8_t *)b.data + at);
	both_refuse(&b, 4096, "block 2 of the app file");
	buf_release(&b);
	/* a smaller table stays one frame, in a version 1 file */
	blocks[1].len = (8u << 20) - 1;
	buf_init(&b, 64 << 20);
	assert_int_equal(data_appfile_write(blocks, 2, 0, &b, &e), 0);
	assert_int_equal(b.data[10], 1);
	assert_int_equal(b.data[at + 4], 0);
	buf_release(&b);
	free(big);
}

/* A block whose frame does not say its size, or that holds a second frame after its own:
 * the reader cannot open it, so the streaming check refuses it too (it took both). */
static void frames_must_say_their_size(void **state)
{
	(void)state;
	/* the script compressed as a stream: no content size in the frame's header */
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	assert_non_null(cc);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	uint8_t z[512];
	ZSTD_inBuffer in = {script, strlen(script), 0};
	ZSTD_outBuffer o = {z, sizeof(z), 0};
	assert_false(ZSTD_isError(ZSTD_compressStream2(cc, &o, &in, ZSTD_e_continue)));
	ZSTD_inBuffer none = {NULL, 0, 0};
	assert_int_equal(ZSTD_compressStream2(cc, &o, &none, ZSTD_e_end), 0);
	ZSTD_freeCCtx(cc);
	assert_int_equal(ZSTD_getFrameContentSize(z, o.pos), ZSTD_CONTENTSIZE_UNKNOWN);
	/* and a skippable frame of 4 bytes, which adds nothing to the contents */
	static const uint8_t skip[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};
	uint8_t whole[512];
	size_t n_whole = ZSTD_compress(whole, sizeof(whole), script, strlen(script), 1);
	assert_false(ZSTD_isError(n_whole));
	memcpy(whole + n_whole, skip, sizeof(skip));
	const struct {
		const uint8_t *z;
		size_t n;
	} cases[] = {{z, o.pos}, {whole, n_whole + sizeof(skip)}};
	for (size_t k = 0; k < 2; k++) {
		uint8_t h[16 + 28] = "FATHOMAPP";
		le(h + 10, 1, 2);
		le(h + 12, 1, 4);
		le(h + 16, APPFILE_SCRIPT, 4);
		le(h + 24, strlen(script), 8);
		le(h + 32, cases[k].n, 8);
		seal(h + 16);
		struct buf b;
		buf_init(&b, 1 << 20);
		assert_int_equal(buf_append(&b, h, sizeof(h)), 0);
		assert_int_equal(buf_append(&b, cases[k].z, cases[k].n), 0);
		both_refuse(&b, 7, "block 1 of the app file");
		buf_release(&b);
	}
}

static void blocks_past_their_kind_are_refused(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	bomb(&b);
	assert_true(b.len < (64 << 10));
	struct appfile *a = NULL;
	struct err e;
	err_init(&e);
	assert_int_equal(data_appfile_read(b.data, b.len, &a, &e), ERR_INVALID);
	assert_null(a);
	assert_string_equal(e.message, "block 1 of the app file (load script) claims 269484032 "
				       "bytes; it may hold 268435456");
	err_init(&e);
	assert_int_equal(stream_check(b.data, b.len, 4096, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "(load script) claims 269484032 bytes"));
	/* the writer refuses to make one (its data is not even read) */
	struct appfile_block big = {
	    .kind = APPFILE_PROPS, .data = (char *)props, .len = (256u << 20) + 1};
	struct buf w;
	buf_init(&w, 1 << 20);
	err_init(&e);
	assert_int_equal(data_appfile_write(&big, 1, 0, &w, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "(properties) claims 268435457 bytes"));
	buf_release(&w);
	buf_release(&b);
}

/* A file read from disk is mapped: its raw table lies in the mapping, a data set read for
 * the model points into it and keeps it (the appfile may go first), and the columns read
 * the same as from memory. */
static void raw_tables_are_used_where_they_lie(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	build(&b);
	char *dir = make_tmpdir(), path[512];
	snprintf(path, sizeof(path), "%s/a.fapp", dir);
	struct err e;
	err_init(&e);
	assert_int_equal(file_write_atomic(path, b.data, b.len, 0644, &e), 0);
	struct appfile *a = NULL;
	assert_int_equal(data_appfile_read_file(path, &a, &e), 0);
	assert_non_null(a->map);
	const struct appfile_block *tb = &a->blocks[3];
	assert_true(tb->raw);
	assert_int_equal((uintptr_t)tb->data % 64, 0); /* a page-aligned mapping + offset */
	struct data_set *m = NULL;
	assert_int_equal(data_set_from_app(a, APPFILE_TABLE, DATA_SET_MODEL, &m, &e), 0);
	assert_int_equal(m->n_tables, 2);
	assert_non_null(m->map);
	data_appfile_free(a); /* the set keeps the bytes */
	const struct tbl_field *f = &m->tables[1]->fields[0];
	assert_true(f->narrow);
	assert_true(f->col.mapped);
	static const int32_t want[] = {0, 1, 0, -1};
	for (int r = 0; r < 4; r++)
		assert_int_equal(data_col_at(&f->col, r), want[r]);
	/* the QVD-layout table of the same file: its own memory */
	assert_false(m->tables[0]->fields[0].col.mapped);
	data_set_free(m);
	rm_tree(dir);
	buf_release(&b);
}

/* A column table with a right checksum but a wrong value is still refused, before any row
 * is read: a symbol past its field's count, a width the count does not need, a cut. */
static void column_tables_are_checked(void **state)
{
	(void)state;
	struct buf c;
	buf_init(&c, 1 << 20);
	table_cols(&c);
	uint8_t *p = (uint8_t *)c.data;
	size_t col = c.len - 64;	 /* the one column: 4 rows, padded to 64 */
	assert_int_equal(p[col + 1], 2); /* row 1: South (symbol 1, stored + 1) */
	struct qvd_table *t = NULL;
	struct err e;
	p[col + 1] = 3;
	err_init(&e);
	assert_int_equal(data_coltab_read(c.data, c.len, QVD_READ_NARROW, &t, &e), ERR_INVALID);
	assert_null(t);
	assert_non_null(strstr(e.message, "field \"Region\", row 1: symbol 2 of 2"));
	p[col + 1] = 2;
	/* the width byte: after the table's head and name, and the field's name, tag count
	 * (none) and two empty formats */
	size_t w = 8 + 4 + 4 + 8 + (4 + 5) + (4 + 6) + 4 + 1 + 1;
	assert_int_equal(p[w], 1);
	p[w] = 2;
	err_init(&e);
	assert_int_equal(data_coltab_read(c.data, c.len, 0, &t, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "width 2"));
	p[w] = 1;
	for (size_t n = 0; n < c.len; n += 7) {
		err_init(&e);
		assert_int_equal(data_coltab_read(c.data, n, 0, &t, &e), ERR_INVALID);
	}
	err_init(&e);
	assert_int_equal(data_coltab_read(c.data, c.len, 0, &t, &e), 0);
	data_qvd_free(t);
	buf_release(&c);
}

static int fill_sample(void *ctx, struct data_out *out, struct err *e)
{
	if (ctx)
		return err_set(e, ERR_INVALID, "no table today");
	table_cols(&out->b);
	return 0;
}

/* A table of 2.5 M rows in two fields (a key of 200,000 values, one of three), for a
 * column table written in pieces. */
struct big_table {
	struct qvd_value sym[2][200000];
	int32_t idx[2][2500000];
	struct qvd_field f[2];
	struct qvd_table t;
};

static int fill_big(void *ctx, struct data_out *out, struct err *e)
{
	struct big_table *b = ctx;
	struct qvd_table v = b->t;
	return data_coltab_write_out(&v, out, e);
}

/* An app file written to its file as it is made (a column table handed on a million rows
 * at a time, its header and checksum written back once it is whole) is the file made in
 * memory, byte for byte. */
static void files_written_as_they_are_made(void **state)
{
	(void)state;
	struct big_table *b = calloc(1, sizeof(*b));
	assert_non_null(b);
	static char names[2][8] = {"Key", "Kind"};
	for (int s = 0; s < 200000; s++) {
		b->sym[0][s] = (struct qvd_value){QVD_INT, 7 * s, NULL};
		b->sym[1][s] = (struct qvd_value){QVD_INT, s, NULL};
	}
	uint64_t x = 99;
	for (int r = 0; r < 2500000; r++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		b->idx[0][r] = (int32_t)(x % 200000);
		b->idx[1][r] = (int32_t)(x % 3);
	}
	for (int f = 0; f < 2; f++)
		b->f[f] = (struct qvd_field){.name = names[f],
					     .n_symbols = f ? 3 : 200000,
					     .symbols = b->sym[f],
					     .index = b->idx[f]};
	b->t =
	    (struct qvd_table){.name = names[0], .n_fields = 2, .fields = b->f, .n_rows = 2500000};
	struct buf q;
	buf_init(&q, 1 << 20);
	table_qvd(&q);
	struct appfile_block blocks[] = {
	    {.kind = APPFILE_PROPS, .data = (char *)props, .len = strlen(props)},
	    {.kind = APPFILE_TABLE, .fill = fill_big, .ctx = b},
	    {.kind = APPFILE_SCRIPT, .data = (char *)script, .len = strlen(script)},
	    {.kind = APPFILE_TABLE, .fill = fill_big, .ctx = b},
	    {.kind = APPFILE_TABLE, .data = q.data, .len = q.len},
	};
	struct err e;
	err_init(&e);
	struct buf mem;
	buf_init(&mem, 1u << 30);
	assert_int_equal(data_appfile_write(blocks, 5, 0, &mem, &e), 0);
	char path[] = "/tmp/fathom-appfile-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	struct data_out o;
	data_out_init(&o, fd);
	assert_int_equal(data_appfile_write_out(blocks, 5, 0, &o, &e), 0);
	assert_true(o.b.cap < (8u << 20)); /* (never the whole table in memory) */
	assert_int_equal(data_out_finish(&o, &e), 0);
	data_out_release(&o);
	close(fd);
	char *file = NULL;
	size_t len = 0;
	assert_int_equal(file_read_all(path, 1u << 30, &file, &len, &e), 0);
	unlink(path);
	assert_int_equal(len, mem.len);
	assert_memory_equal(file, mem.data, len);
	struct appfile *app = NULL;
	assert_int_equal(data_appfile_read(file, len, &app, &e), 0);
	data_appfile_free(app);
	free(file);
	buf_release(&mem);
	buf_release(&q);
	free(b);
}

/* A raw block made in place by its fill gives the same file as one copied in; a fill that
 * fails leaves the buffer as it was before the block, with its error. */
static void filled_blocks_are_written_in_place(void **state)
{
	(void)state;
	struct buf copied, filled;
	buf_init(&copied, 1 << 20);
	buf_init(&filled, 1 << 20);
	build(&copied);
	struct buf q;
	buf_init(&q, 1 << 20);
	table_qvd(&q);
	struct appfile_block blocks[] = {
	    {.kind = APPFILE_PROPS, .data = (char *)props, .len = strlen(props)},
	    {.kind = APPFILE_SCRIPT, .data = (char *)script, .len = strlen(script)},
	    {.kind = APPFILE_TABLE, .data = q.data, .len = q.len},
	    {.kind = APPFILE_TABLE, .fill = fill_sample},
	};
	struct err e;
	err_init(&e);
	assert_int_equal(data_appfile_write(blocks, 4, 0, &filled, &e), 0);
	assert_int_equal(filled.len, copied.len);
	assert_memory_equal(filled.data, copied.data, copied.len);
	buf_release(&filled);
	buf_init(&filled, 1 << 20);
	int fail = 1;
	blocks[3].ctx = &fail;
	err_init(&e);
	assert_int_equal(data_appfile_write(blocks, 4, 0, &filled, &e), ERR_INVALID);
	assert_string_equal(e.message, "no table today");
	/* (the three blocks before it, as in the good file, and nothing of the fourth) */
	assert_true(filled.len < copied.len);
	assert_memory_equal(filled.data + 16, copied.data + 16, filled.len - 16);
	assert_int_equal((uint8_t)copied.data[filled.len], APPFILE_TABLE);
	buf_release(&filled);
	buf_release(&copied);
	buf_release(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(writes_and_reads_back),
	    cmocka_unit_test(every_damage_is_refused),
	    cmocka_unit_test(versions_and_signatures),
	    cmocka_unit_test(unknown_kinds_are_passed_over),
	    cmocka_unit_test(the_streaming_check_agrees_with_the_reader),
	    cmocka_unit_test(blocks_past_their_kind_are_refused),
	    cmocka_unit_test(large_tables_are_stored_in_frames),
	    cmocka_unit_test(frames_must_say_their_size),
	    cmocka_unit_test(raw_tables_are_used_where_they_lie),
	    cmocka_unit_test(column_tables_are_checked),
	    cmocka_unit_test(filled_blocks_are_written_in_place),
	    cmocka_unit_test(files_written_as_they_are_made),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
