/* cube_fast.c: one-pass measures (a plain aggregation of one field, for every group in one
 * pass over the fact rows) and cubes computed in parts of the rows, one part a thread. */
#include "model/cube_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- one-pass measures */

/* The kind of fast measure x is; false for a measure that is not one. */
static bool fast_kind_of(const struct expr *x, enum fast_kind *k)
{
	if (x->kind != EX_CALL || x->set || x->total || x->n_args != 1)
		return false;
	const struct expr *arg = x->args[0];
	if (strcasecmp(x->text, "Count") == 0)
		*k = arg->kind == EX_STAR ? F_COUNT_STAR : x->distinct ? F_COUNT_DISTINCT : F_COUNT;
	else if (x->distinct)
		return false;
	else if (strcasecmp(x->text, "Sum") == 0)
		*k = F_SUM;
	else if (strcasecmp(x->text, "Avg") == 0)
		*k = F_AVG;
	else if (strcasecmp(x->text, "Min") == 0)
		*k = F_MIN;
	else if (strcasecmp(x->text, "Max") == 0)
		*k = F_MAX;
	else
		return false;
	return true;
}

void model_cube_fast_release(struct fast_acc *fa)
{
	free(fa->acc);
	free(fa->cnt);
	free(fa->num);
	free(fa->isnum);
	free(fa->bits);
	memset(fa, 0, sizeof(*fa));
}

/* Readies fa for measure x over at most n_groups groups; false (nothing kept) when x is
 * not a fast measure or there is no memory for it. */
bool model_cube_fast_prepare(struct cubecalc *c, const struct expr *x, int64_t n_groups,
			     struct fast_acc *fa)
{
	memset(fa, 0, sizeof(*fa));
	if (!fast_kind_of(x, &fa->k))
		return false;
	const struct expr *arg = x->args[0];
	fa->f = fa->k == F_COUNT_STAR	? -1
		: arg->kind == EX_FIELD ? model_assoc_field(c->a, arg->text)
					: -2;
	if (fa->f == -2 || (fa->k != F_COUNT_STAR && fa->f < 0))
		return false;
	fa->ns = fa->f >= 0 ? c->a->fields[fa->f].n_sym : 0;
	fa->n_groups = n_groups;
	/* Count(DISTINCT): a bit per group and symbol, when that stays small */
	if (fa->k == F_COUNT_DISTINCT && (double)n_groups * (double)fa->ns > 8.0 * (64 << 20))
		return false;
	fa->acc = calloc((size_t)n_groups + 1, sizeof(double));
	fa->cnt = calloc((size_t)n_groups + 1, sizeof(int64_t));
	/* the symbols' numbers, for the aggregations that add or compare them (a Count of
	 * ten million ids does not convert ten million symbols) */
	bool numeric = fa->k != F_COUNT && fa->k != F_COUNT_DISTINCT && fa->k != F_COUNT_STAR;
	if (fa->f >= 0)
		fa->col = model_cube_direct_col(c, fa->f);
	if (numeric) {
		fa->num = malloc(sizeof(double) * (size_t)(fa->ns + 1));
		fa->isnum = malloc((size_t)fa->ns + 1);
	}
	if (fa->k == F_COUNT_DISTINCT)
		fa->bits = calloc((size_t)(n_groups * fa->ns / 8 + 1), 1);
	if (!fa->acc || !fa->cnt || (numeric && (!fa->num || !fa->isnum)) ||
	    (fa->k == F_COUNT_DISTINCT && !fa->bits)) {
		model_cube_fast_release(fa);
		return false;
	}
	for (int64_t i = 0; numeric && i < fa->ns; i++) {
		struct val v = model_sym(&c->a->fields[fa->f], i);
		fa->isnum[i] = script_val_number(&v, &fa->num[i]);
	}
	return true;
}

/* Fact row r counts in group g. */
void model_cube_fast_add(struct cubecalc *c, struct fast_acc *fa, int64_t r, int64_t g)
{
	if (fa->k == F_COUNT_STAR) {
		fa->cnt[g]++;
		return;
	}
	int32_t sy = fa->col ? data_col_at(fa->col, r) : model_cube_field_symbol(c, fa->f, r);
	if (sy < 0)
		return;
	switch (fa->k) {
	case F_COUNT: fa->cnt[g]++; break;
	case F_COUNT_DISTINCT: {
		uint64_t bit = (uint64_t)g * (uint64_t)fa->ns + (uint64_t)sy;
		if (!(fa->bits[bit >> 3] & (1u << (bit & 7)))) {
			fa->bits[bit >> 3] |= (uint8_t)(1u << (bit & 7));
			fa->cnt[g]++;
		}
		break;
	}
	default:
		if (!fa->isnum[sy])
			break;
		if (fa->k == F_SUM || fa->k == F_AVG)
			fa->acc[g] += fa->num[sy];
		else if (!fa->cnt[g] ||
			 (fa->k == F_MIN ? fa->num[sy] < fa->acc[g] : fa->num[sy] > fa->acc[g]))
			fa->acc[g] = fa->num[sy];
		fa->cnt[g]++;
	}
}

/* Every row of the fact table (n_rows of them) in group 0, from n, the counts of the
 * measure's field's values there (model_assoc_counts; unused by Count(*)): what
 * model_cube_fast_add of each row gives, in a pass over the values. */
void model_cube_fast_add_counts(struct fast_acc *fa, const int64_t *n, int64_t n_rows)
{
	if (fa->k == F_COUNT_STAR) {
		fa->cnt[0] += n_rows;
		return;
	}
	for (int64_t s = 0; s < fa->ns; s++) {
		if (!n[s])
			continue;
		switch (fa->k) {
		case F_COUNT: fa->cnt[0] += n[s]; break;
		case F_COUNT_DISTINCT: fa->cnt[0]++; break;
		default:
			if (!fa->isnum[s])
				break;
			if (fa->k == F_SUM || fa->k == F_AVG)
				fa->acc[0] += (double)n[s] * fa->num[s];
			else if (!fa->cnt[0] || (fa->k == F_MIN ? fa->num[s] < fa->acc[0]
								: fa->num[s] > fa->acc[0]))
				fa->acc[0] = fa->num[s];
			fa->cnt[0] += n[s];
		}
	}
}

/* One value per group of the first n_groups (a new list, NULL when out of memory); fa is
 * released. */
struct val *model_cube_fast_finish(struct fast_acc *fa, int64_t n_groups)
{
	struct val *v = calloc((size_t)n_groups + 1, sizeof(struct val));
	enum fast_kind k = fa->k;
	for (int64_t g = 0; v && g < n_groups; g++) {
		bool counted = k == F_COUNT || k == F_COUNT_DISTINCT || k == F_COUNT_STAR;
		double d = counted		      ? (double)fa->cnt[g]
			   : k == F_AVG && fa->cnt[g] ? fa->acc[g] / (double)fa->cnt[g]
						      : fa->acc[g];
		bool null = (k == F_AVG || k == F_MIN || k == F_MAX) && fa->cnt[g] == 0;
		v[g] = null ? (struct val){.null = true} : (struct val){.has_num = true, .num = d};
	}
	model_cube_fast_release(fa);
	return v;
}

/* ---------------------------------------------------------------- the rows in parts */

int64_t model_cube_split_rows = 1 << 20;

/* A cube whose dimensions are all columns of the measures' table with few combinations (or
 * none) and whose measures are all one-pass ones on its columns is computed in parts of
 * the rows, one per thread: each part keeps its accumulators by slot (the combination of
 * dimension symbols) and the first row of each slot; the parts are merged, and the groups
 * made in the order of their first rows, as one pass in row order makes them. */
#define SPLIT_PARTS 2
struct part {
	struct cube_job *j;
	const struct dense *d;
	struct fast_acc *fa; /* the first part's are the caller's; the others' borrow their
				symbols' numbers and columns from those */
	int n_fa;
	int64_t from, to, n_slots;
	int64_t *first; /* per slot: its first possible row in this part + 1; 0: none */
};

#define PART_BLOCK 4096

/* Symbols of the n (at most PART_BLOCK) rows row[i] of col (row NULL: the n rows from
 * `from` on): read as a range when they are consecutive. */
static void read_rows(const struct data_col *col, const int64_t *row, int64_t from, int64_t n,
		      int32_t *out)
{
	if (!row)
		data_col_range(col, from, n, out);
	else if (n && row[n - 1] - row[0] == n - 1)
		data_col_range(col, row[0], n, out);
	else
		data_col_gather(col, row, n, out);
}

/* The n (at most PART_BLOCK) rows row[i] (in row order; row NULL: the n from `from` on), in
 * slots slot[i], added to fa: their symbols read first, then one loop per kind, so no call
 * or choice per row. */
static void fast_add_block(struct fast_acc *fa, const int64_t *row, int64_t from,
			   const int64_t *slot, int64_t n)
{
	int32_t col[PART_BLOCK];
	if (fa->k != F_COUNT_STAR)
		read_rows(fa->col, row, from, n, col);
	double *acc = fa->acc;
	int64_t *cnt = fa->cnt;
	switch (fa->k) {
	case F_COUNT_STAR:
		for (int64_t i = 0; i < n; i++)
			cnt[slot[i]]++;
		break;
	case F_COUNT:
		for (int64_t i = 0; i < n; i++)
			cnt[slot[i]] += col[i] >= 0;
		break;
	case F_SUM:
	case F_AVG:
		for (int64_t i = 0; i < n; i++) {
			int32_t sy = col[i];
			if (sy >= 0 && fa->isnum[sy]) {
				acc[slot[i]] += fa->num[sy];
				cnt[slot[i]]++;
			}
		}
		break;
	case F_MIN:
	case F_MAX:
		for (int64_t i = 0; i < n; i++) {
			int32_t sy = col[i];
			int64_t g = slot[i];
			if (sy < 0 || !fa->isnum[sy])
				continue;
			double v = fa->num[sy];
			if (!cnt[g] || (fa->k == F_MIN ? v < acc[g] : v > acc[g]))
				acc[g] = v;
			cnt[g]++;
		}
		break;
	case F_COUNT_DISTINCT:
		for (int64_t i = 0; i < n; i++) {
			int32_t sy = col[i];
			if (sy < 0)
				continue;
			uint64_t bit = (uint64_t)slot[i] * (uint64_t)fa->ns + (uint64_t)sy;
			if (!(fa->bits[bit >> 3] & (1u << (bit & 7)))) {
				fa->bits[bit >> 3] |= (uint8_t)(1u << (bit & 7));
				cnt[slot[i]]++;
			}
		}
		break;
	}
}

/* A part's rows a block at a time: the possible ones with every dimension set, listed with
 * their slots, then each measure over the list. */
/* A part of a cube without dimensions whose measures are all Sums, Avgs or Count(*): each
 * measure in one pass over the possible rows, no list of them made. False when the
 * measures are of other kinds. */
static bool part_run_one(struct part *p, const uint8_t *possible)
{
	for (int m = 0; m < p->n_fa; m++)
		if (p->fa[m].k != F_SUM && p->fa[m].k != F_AVG && p->fa[m].k != F_COUNT_STAR)
			return false;
	for (int64_t r = p->from; r < p->to && !p->first[0]; r++)
		if (possible[r])
			p->first[0] = r + 1;
	for (int m = 0; m < p->n_fa; m++) {
		struct fast_acc *fa = &p->fa[m];
		double s[2] = {0, 0};
		int64_t c[2] = {0, 0};
		if (fa->k == F_COUNT_STAR) {
			for (int64_t r = p->from; r < p->to; r++)
				c[0] += possible[r] != 0;
		} else {
			/* two running sums (odd and even rows), so that an addition need not wait
			 * for the one before; rows not possible are passed over unread */
			int64_t row[PART_BLOCK];
			int32_t sym[PART_BLOCK];
			for (int64_t b = p->from; b < p->to; b += PART_BLOCK) {
				int64_t end = p->to - b < PART_BLOCK ? p->to : b + PART_BLOCK,
					k = 0;
				for (int64_t r = b; r < end; r++) {
					row[k] = r;
					k += possible[r] != 0;
				}
				read_rows(fa->col, row, 0, k, sym);
				for (int64_t i = 0; i < k; i++) {
					int32_t sy = sym[i];
					if (sy >= 0 && fa->isnum[sy]) {
						s[i & 1] += fa->num[sy];
						c[i & 1]++;
					}
				}
			}
		}
		fa->acc[0] += s[0] + s[1];
		fa->cnt[0] += c[0] + c[1];
	}
	return true;
}

static void *part_run(void *arg)
{
	struct part *p = arg;
	const struct cube_def *def = p->j->c.def;
	const uint8_t *possible = p->j->c.st->possible[p->j->c.fact];
	int n = def->n_dims;
	if (n == 0 && part_run_one(p, possible))
		return NULL;
	int64_t row[PART_BLOCK], slot[PART_BLOCK];
	int32_t sym[PART_BLOCK];
	int64_t unseen = p->n_slots; /* slots without a first row yet */
	for (int64_t b = p->from; b < p->to; b += PART_BLOCK) {
		int64_t end = p->to - b < PART_BLOCK ? p->to : b + PART_BLOCK, k = end - b,
			kept = 0;
		/* the possible rows: listed, unless every row of the block is (rows NULL) */
		int64_t *rows = memchr(possible + b, 0, (size_t)k) ? row : NULL;
		if (rows) {
			k = 0;
			for (int64_t r = b; r < end; r++) {
				row[k] = r; /* kept when possible: no branch a row */
				k += possible[r] != 0;
			}
		}
		memset(slot, 0, sizeof(int64_t) * (size_t)k);
		int64_t nulls = 0;
		for (int d = 0; d < n; d++) {
			read_rows(p->d->col[d], rows, b, k, sym);
			for (int64_t i = 0; i < k; i++) {
				slot[i] = slot[i] < 0 || sym[i] < 0
					      ? -1
					      : slot[i] + sym[i] * p->d->radix[d];
				nulls += sym[i] < 0;
			}
		}
		if (nulls && !rows) { /* a dimension's NULL: the rows listed after all */
			for (int64_t i = 0; i < k; i++)
				row[i] = b + i;
			rows = row;
		}
		if (rows) {
			for (int64_t i = 0; i < k; i++) {
				row[kept] = row[i];
				slot[kept] = slot[i];
				kept += slot[i] >= 0;
			}
		} else {
			kept = k;
		}
		for (int64_t i = 0; unseen && i < kept; i++)
			if (!p->first[slot[i]]) {
				p->first[slot[i]] = (rows ? rows[i] : b + i) + 1;
				unseen--;
			}
		for (int m = 0; kept && m < p->n_fa; m++)
			fast_add_block(&p->fa[m], rows, b, slot, kept);
	}
	return NULL;
}

/* Whether the cube suits parts: every dimension a dense direct column, every measure a
 * one-pass one reading a column of the measures' table (or Count(*)). */
static bool split_suits(struct cube_job *j, const struct dense *d)
{
	const struct cube_def *def = j->c.def;
	if ((def->n_dims > 0 && !d->slot) ||
	    j->c.a->tables[j->c.fact].n_rows < model_cube_split_rows)
		return false;
	for (int k = 0; k < def->n_dims; k++)
		if (!d->col[k])
			return false;
	for (int m = 0; m < def->n_measures; m++) {
		enum fast_kind fk;
		const struct expr *x = j->mx[m];
		if (!fast_kind_of(x, &fk))
			return false;
		if (fk != F_COUNT_STAR &&
		    (x->args[0]->kind != EX_FIELD ||
		     model_assoc_field(j->c.a, x->args[0]->text) < 0 ||
		     !model_cube_direct_col(&j->c, model_assoc_field(j->c.a, x->args[0]->text))))
			return false;
	}
	return true;
}

/* Adds part q's accumulators of measure m into part p's. */
static void part_merge(struct fast_acc *into, const struct fast_acc *from, int64_t n_slots)
{
	for (int64_t g = 0; g < n_slots; g++) {
		if (into->k == F_MIN || into->k == F_MAX) {
			if (from->cnt[g] &&
			    (!into->cnt[g] || (into->k == F_MIN ? from->acc[g] < into->acc[g]
								: from->acc[g] > into->acc[g])))
				into->acc[g] = from->acc[g];
		} else {
			into->acc[g] += from->acc[g];
		}
		into->cnt[g] += from->cnt[g];
	}
	if (into->k != F_COUNT_DISTINCT)
		return;
	/* the symbols seen in either part, counted again per slot */
	int64_t nbytes = n_slots * into->ns / 8 + 1;
	for (int64_t i = 0; i < nbytes; i++)
		into->bits[i] |= from->bits[i];
	for (int64_t g = 0; g < n_slots; g++) {
		int64_t c = 0;
		for (int64_t sy = 0; sy < into->ns; sy++) {
			uint64_t bit = (uint64_t)g * (uint64_t)into->ns + (uint64_t)sy;
			c += (into->bits[bit >> 3] >> (bit & 7)) & 1;
		}
		into->cnt[g] = c;
	}
}

struct slot_first {
	int64_t slot, row;
};

static int by_row(const void *a, const void *b)
{
	const struct slot_first *x = a, *y = b;
	return (x->row > y->row) - (x->row < y->row);
}

/* The parts' results as the cube's groups (in order of their first rows) and fa[m] (one
 * value per group). */
static int split_finish(struct cube_job *j, struct part *parts, int n_parts)
{
	const struct cube_def *def = j->c.def;
	struct part *p0 = &parts[0];
	for (int q = 1; q < n_parts; q++) {
		for (int m = 0; m < p0->n_fa; m++)
			part_merge(&p0->fa[m], &parts[q].fa[m], p0->n_slots);
		for (int64_t g = 0; g < p0->n_slots; g++)
			if (!p0->first[g])
				p0->first[g] = parts[q].first[g];
	}
	int64_t n = 0;
	for (int64_t g = 0; g < p0->n_slots; g++)
		n += p0->first[g] != 0;
	struct slot_first *order = malloc(sizeof(*order) * (size_t)(n + 1));
	int32_t *dsym = calloc((size_t)def->n_dims + 1, sizeof(int32_t));
	if (!order || !dsym) {
		free(order);
		free(dsym);
		return ERR_NOMEM;
	}
	n = 0;
	for (int64_t g = 0; g < p0->n_slots; g++)
		if (p0->first[g])
			order[n++] = (struct slot_first){g, p0->first[g] - 1};
	qsort(order, (size_t)n, sizeof(*order), by_row);
	int64_t cap = 0;
	int rc = 0;
	for (int64_t i = 0; rc == 0 && i < n; i++) {
		for (int k = 0; k < def->n_dims; k++) {
			int64_t ns = j->c.a->fields[j->dim_field[k]].n_sym;
			dsym[k] = (int32_t)((order[i].slot / p0->d->radix[k]) % ns);
		}
		int64_t g = model_tuples_add(&j->groups, dsym);
		rc = g != i ? ERR_NOMEM : model_cube_note_first(j, g, order[i].row, &cap);
	}
	/* the merged accumulators moved from slots to groups */
	double *acc = rc == 0 ? malloc(sizeof(double) * (size_t)(n + 1)) : NULL;
	int64_t *cnt = acc ? malloc(sizeof(int64_t) * (size_t)(n + 1)) : NULL;
	if (rc == 0 && !cnt)
		rc = ERR_NOMEM;
	for (int m = 0; rc == 0 && m < p0->n_fa; m++) {
		for (int64_t i = 0; i < n; i++) {
			acc[i] = p0->fa[m].acc[order[i].slot];
			cnt[i] = p0->fa[m].cnt[order[i].slot];
		}
		memcpy(p0->fa[m].acc, acc, sizeof(double) * (size_t)n);
		memcpy(p0->fa[m].cnt, cnt, sizeof(int64_t) * (size_t)n);
	}
	free(acc);
	free(cnt);
	free(order);
	free(dsym);
	return rc;
}

/* Another part's accumulators for fa: its own sums, fa's columns and numbers. */
static bool part_acc(const struct fast_acc *fa, struct fast_acc *out)
{
	*out = *fa;
	out->acc = calloc((size_t)fa->n_groups + 1, sizeof(double));
	out->cnt = calloc((size_t)fa->n_groups + 1, sizeof(int64_t));
	out->bits = fa->bits ? calloc((size_t)(fa->n_groups * fa->ns / 8 + 1), 1) : NULL;
	return out->acc && out->cnt && (!fa->bits || out->bits);
}

/* Computes the cube's groups and one-pass measures in parts when it suits (*done); fa is
 * prepared by the caller for as many groups as slots, and ends with one value per group. */
int model_cube_group_in_parts(struct cube_job *j, const struct dense *d, struct fast_acc *fa,
			      bool *done)
{
	*done = false;
	const struct cube_def *def = j->c.def;
	if (!split_suits(j, d))
		return 0;
	const struct assoc_table *ft = &j->c.a->tables[j->c.fact];
	int64_t n_slots = def->n_dims ? d->n_slots : 1;
	struct dense none = {0};
	int64_t zero = 0;
	if (!def->n_dims)
		none.radix = &zero;
	struct part parts[SPLIT_PARTS];
	memset(parts, 0, sizeof(parts));
	bool ok = true;
	for (int q = 0; q < SPLIT_PARTS; q++) {
		struct part *p = &parts[q];
		p->j = j;
		p->d = def->n_dims ? d : &none;
		p->n_slots = n_slots;
		p->from = ft->n_rows * q / SPLIT_PARTS;
		p->to = ft->n_rows * (q + 1) / SPLIT_PARTS;
		ok = ok && (p->first = calloc((size_t)n_slots + 1, sizeof(int64_t))) != NULL;
		p->fa = q == 0 ? fa : calloc((size_t)def->n_measures + 1, sizeof(*p->fa));
		ok = ok && p->fa;
		for (int m = 0; ok && m<def->n_measures; m++, p->n_fa += q> 0)
			ok = q == 0 || part_acc(&fa[m], &p->fa[m]);
		if (q == 0)
			p->n_fa = def->n_measures;
	}
	pthread_t th[SPLIT_PARTS];
	bool started[SPLIT_PARTS] = {0};
	for (int q = 1; ok && q < SPLIT_PARTS; q++)
		started[q] = pthread_create(&th[q], NULL, part_run, &parts[q]) == 0;
	if (ok)
		part_run(&parts[0]);
	for (int q = 1; q < SPLIT_PARTS; q++) {
		if (started[q])
			pthread_join(th[q], NULL);
		else if (ok)
			part_run(&parts[q]); /* no thread to be had: here */
	}
	int rc = ok ? split_finish(j, parts, SPLIT_PARTS) : 0;
	for (int q = 1; q < SPLIT_PARTS; q++) {
		for (int m = 0; parts[q].fa && m < parts[q].n_fa; m++) {
			free(parts[q].fa[m].acc);
			free(parts[q].fa[m].cnt);
			free(parts[q].fa[m].bits);
		}
		free(parts[q].fa);
	}
	for (int q = 0; q < SPLIT_PARTS; q++)
		free(parts[q].first);
	*done = ok && rc == 0;
	return rc;
}
