/* col.c: columns of symbol indexes in as few bytes a row as they need (see data.h). */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

int data_col_width(int64_t n_sym)
{
	/* symbol s is stored as s + 1: n_sym itself must fit */
	return n_sym <= 0xff ? 1 : n_sym <= 0xffff ? 2 : n_sym <= 0xffffff ? 3 : 4;
}

bool data_col_alloc(struct data_col *c, int width, int64_t n_rows)
{
	c->width = width;
	c->mapped = false;
	c->p = width ? malloc((size_t)width * (size_t)n_rows + 1) : NULL;
	return width == 0 || c->p;
}

void data_col_free(struct data_col *c)
{
	if (!c->mapped)
		free(c->p);
	c->p = NULL;
}

/* One loop per width, so that the compiler widens a block at a time. */
void data_col_range(const struct data_col *c, int64_t from, int64_t n, int32_t *out)
{
	const uint8_t *b = c->p;
	switch (c->width) {
	case 0:
		for (int64_t i = 0; i < n; i++)
			out[i] = (int32_t)(from + i);
		break;
	case 1:
		b += from;
		for (int64_t i = 0; i < n; i++)
			out[i] = (int32_t)b[i] - 1;
		break;
	case 2: {
		const uint16_t *h = (const uint16_t *)c->p + from;
		for (int64_t i = 0; i < n; i++)
			out[i] = (int32_t)h[i] - 1;
		break;
	}
	case 3:
		b += 3 * from;
		for (int64_t i = 0; i < n; i++, b += 3)
			out[i] =
			    (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16) -
			    1;
		break;
	default: memcpy(out, (const int32_t *)c->p + from, sizeof(int32_t) * (size_t)n); break;
	}
}

void data_col_gather(const struct data_col *c, const int64_t *rows, int64_t n, int32_t *out)
{
	const uint8_t *b = c->p;
	switch (c->width) {
	case 0:
		for (int64_t i = 0; i < n; i++)
			out[i] = (int32_t)rows[i];
		break;
	case 1:
		for (int64_t i = 0; i < n; i++)
			out[i] = (int32_t)b[rows[i]] - 1;
		break;
	case 2: {
		const uint16_t *h = c->p;
		for (int64_t i = 0; i < n; i++)
			out[i] = (int32_t)h[rows[i]] - 1;
		break;
	}
	case 3:
		for (int64_t i = 0; i < n; i++) {
			const uint8_t *x = b + 3 * rows[i];
			out[i] =
			    (int32_t)((uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16) -
			    1;
		}
		break;
	default: {
		const int32_t *w = c->p;
		for (int64_t i = 0; i < n; i++)
			out[i] = w[rows[i]];
		break;
	}
	}
}

void data_col_write(struct data_col *c, int64_t at, const int32_t *from, int64_t n_rows)
{
	if (c->width == 0) /* (no memory: p is NULL) */
		return;
	uint8_t *b = (uint8_t *)c->p + (size_t)c->width * (size_t)at;
	switch (c->width) {
	case 1:
		for (int64_t r = 0; r < n_rows; r++)
			b[r] = (uint8_t)(from[r] + 1);
		break;
	case 2: {
		uint16_t *h = (uint16_t *)c->p + at;
		for (int64_t r = 0; r < n_rows; r++)
			h[r] = (uint16_t)(from[r] + 1);
		break;
	}
	case 3:
		for (int64_t r = 0; r < n_rows; r++, b += 3) {
			uint32_t v = (uint32_t)(from[r] + 1);
			b[0] = (uint8_t)v, b[1] = (uint8_t)(v >> 8), b[2] = (uint8_t)(v >> 16);
		}
		break;
	default: memcpy((int32_t *)c->p + at, from, sizeof(int32_t) * (size_t)n_rows); break;
	}
}

bool data_col_identity(const int32_t *col, int64_t n_rows)
{
	int32_t bad = 0; /* one pass without a branch a row */
	for (int64_t r = 0; r < n_rows; r++)
		bad |= col[r] ^ (int32_t)r;
	return bad == 0;
}

/* The largest stored value of rows [from, from + n) (index + 1; for width 4 the index + 1
 * too, so NULL is 0 and a value below -1 wraps above any count). */
static uint32_t stored_max(const struct data_col *c, int64_t from, int64_t n)
{
	const uint8_t *b = c->p;
	uint32_t m = 0;
	switch (c->width) {
	case 1:
		b += from;
		for (int64_t i = 0; i < n; i++)
			m = b[i] > m ? b[i] : m;
		break;
	case 2: {
		const uint16_t *h = (const uint16_t *)c->p + from;
		for (int64_t i = 0; i < n; i++)
			m = h[i] > m ? h[i] : m;
		break;
	}
	case 3:
		b += 3 * from;
		for (int64_t i = 0; i < n; i++, b += 3) {
			uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
			m = v > m ? v : m;
		}
		break;
	case 4: {
		const int32_t *w = (const int32_t *)c->p + from;
		for (int64_t i = 0; i < n; i++) {
			uint32_t v = (uint32_t)w[i] + 1u;
			m = v > m ? v : m;
		}
		break;
	}
	default: break;
	}
	return m;
}

bool data_col_within(const struct data_col *c, int64_t from, int64_t n, int64_t n_sym)
{
	if (c->width == 0)
		return from + n <= n_sym;
	return (int64_t)stored_max(c, from, n) <= n_sym;
}
