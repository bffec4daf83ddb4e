/* qix_select.c: selections: the one way a session's selection in a field changes
 * (qix_sel_syms: locks, history, selection mode), selecting by state, and the Field
 * methods. */
#include "qix/qix_int.h"

#include <stdlib.h>
#include <string.h>

int qix_sel_syms(struct qix_session *s, int f, const int64_t *syms, int n, bool toggle)
{
	if (qix_sess_field_locked(s, f))
		return QIX_SEL_LOCKED;
	qix_sess_remember(s);
	const struct assoc *a = s->data->a;
	int64_t ns = a->fields[f].n_sym;
	bool *want = calloc((size_t)ns + 1, 1);
	int64_t *list = calloc((size_t)ns + 1, sizeof(int64_t));
	if (!want || !list) {
		free(want);
		free(list);
		return ERR_NOMEM;
	}
	if (toggle && s->sel.selected[f])
		memcpy(want, s->sel.selected[f], (size_t)ns);
	for (int i = 0; i < n; i++)
		if (syms[i] >= 0 && syms[i] < ns)
			want[syms[i]] = toggle ? !want[syms[i]] : true;
	int k = 0;
	for (int64_t i = 0; i < ns; i++)
		if (want[i])
			list[k++] = i;
	int rc = model_assoc_select(a, &s->sel, f, list, k);
	free(want);
	free(list);
	qix_sess_selection_changed(s);
	for (int i = 0; i < s->n_h; i++)
		if (s->h[i].in_selections)
			s->h[i].made_selections = true;
	return rc;
}

int qix_sel_by_state(struct qix_session *s, int f, const char *which)
{
	const struct assoc_states *st;
	struct err e;
	err_init(&e);
	if (qix_sess_states(s, &st, &e) != 0)
		return e.code;
	int64_t ns = s->data->a->fields[f].n_sym;
	int64_t *list = calloc((size_t)ns + 1, sizeof(int64_t));
	if (!list)
		return ERR_NOMEM;
	int k = 0;
	for (int64_t i = 0; i < ns; i++) {
		int x = st->state[f][i];
		bool take = strcmp(which, "All") == 0 ||
			    (strcmp(which, "Possible") == 0 && (x == STATE_O || x == STATE_S)) ||
			    (strcmp(which, "Excluded") == 0 && (x == STATE_X || x == STATE_A)) ||
			    (strcmp(which, "Alternative") == 0 && x == STATE_A);
		if (take)
			list[k++] = i;
	}
	int rc = k ? qix_sel_syms(s, f, list, k, false) : 0;
	free(list);
	return rc;
}

int64_t *qix_elem_list(json_t *arr, int *n)
{
	*n = 0;
	int64_t *l = calloc(json_array_size(arr) + 1, sizeof(int64_t));
	size_t i;
	json_t *v;
	json_array_foreach (arr, i, v)
		if (l && json_is_integer(v))
			l[(*n)++] = json_integer_value(v);
	return l;
}

/* ---------------------------------------------------------------- Field */

static int field_answer(struct qix_call *c, int rc, bool done)
{
	if (rc == QIX_SEL_LOCKED) {
		c->out = json_pack("{s:b}", "qReturn", false);
		return 0;
	}
	if (rc) {
		c->msg = "the selection could not be made";
		return QIX_INTERNAL;
	}
	c->out = json_pack("{s:b}", "qReturn", done);
	return 0;
}

static bool toggle_mode(struct qix_call *c)
{
	return json_is_true(qix_param(c->params, 1, "qToggleMode"));
}

static int get_cardinal(struct qix_call *c)
{
	c->out = json_pack("{s:I}", "qReturn", (json_int_t)c->s->data->a->fields[c->field].n_sym);
	return 0;
}

static int field_clear(struct qix_call *c)
{
	return field_answer(c, qix_sel_syms(c->s, c->field, NULL, 0, false), true);
}

/* The symbol of one qFieldValue ({qText} or {qIsNumeric, qNumber}), or -1. */
static int64_t field_value_symbol(const struct assoc *a, int f, json_t *v)
{
	if (json_is_true(json_object_get(v, "qIsNumeric"))) {
		double num = json_number_value(json_object_get(v, "qNumber"));
		for (int64_t k = 0; k < a->fields[f].n_sym; k++)
			if (model_sym(&a->fields[f], k).has_num &&
			    model_sym(&a->fields[f], k).num == num)
				return k;
		return -1;
	}
	json_t *t = json_object_get(v, "qText");
	return json_is_string(t) ? model_assoc_find(a, f, json_string_value(t)) : -1;
}

static int select_values(struct qix_call *c)
{
	json_t *vals = qix_param(c->params, 0, "qFieldValues");
	int64_t *syms = calloc(json_array_size(vals) + 1, sizeof(int64_t));
	int n = 0;
	size_t i;
	json_t *v;
	json_array_foreach (vals, i, v) {
		int64_t sym = field_value_symbol(c->s->data->a, c->field, v);
		if (syms && sym >= 0)
			syms[n++] = sym;
	}
	int rc = syms ? qix_sel_syms(c->s, c->field, syms, n, toggle_mode(c)) : ERR_NOMEM;
	free(syms);
	return field_answer(c, rc, n > 0 || json_array_size(vals) == 0);
}

static int low_level_select(struct qix_call *c)
{
	int n;
	int64_t *syms = qix_elem_list(qix_param(c->params, 0, "qValues"), &n);
	int rc = syms ? qix_sel_syms(c->s, c->field, syms, n, toggle_mode(c)) : ERR_NOMEM;
	free(syms);
	return field_answer(c, rc, true);
}

static int field_select(struct qix_call *c)
{
	const char *match = json_string_value(qix_param(c->params, 0, "qMatch"));
	int64_t sym = match ? model_assoc_find(c->s->data->a, c->field, match) : -1;
	int rc = sym >= 0
		     ? qix_sel_syms(c->s, c->field, &sym, 1, strcmp(c->method, "ToggleSelect") == 0)
		     : 0;
	return field_answer(c, rc, sym >= 0);
}

/* SelectAll, SelectPossible, SelectExcluded, SelectAlternative */
static int field_select_state(struct qix_call *c)
{
	return field_answer(c, qix_sel_by_state(c->s, c->field, c->method + 6), true);
}

/* Lock and Unlock: the field's selection stays until it is unlocked. */
static int field_lock(struct qix_call *c)
{
	qix_sess_field_lock(c->s, c->field, strcmp(c->method, "Lock") == 0);
	qix_sess_selection_changed(c->s); /* layouts show qLocked */
	return field_answer(c, 0, true);
}

/* ---------------------------------------------------------------- the table */

const struct qix_method qix_field_methods[] = {
    {QIX_FIELD, "GetCardinal", get_cardinal, 0},
    {QIX_FIELD, "Clear", field_clear, 0},
    {QIX_FIELD, "SelectValues", select_values, 3},
    {QIX_FIELD, "LowLevelSelect", low_level_select, 3},
    {QIX_FIELD, "Select", field_select, 3},
    {QIX_FIELD, "ToggleSelect", field_select, 3},
    {QIX_FIELD, "SelectAll", field_select_state, 1},
    {QIX_FIELD, "SelectPossible", field_select_state, 1},
    {QIX_FIELD, "SelectExcluded", field_select_state, 1},
    {QIX_FIELD, "SelectAlternative", field_select_state, 1},
    {QIX_FIELD, "Lock", field_lock, 0},
    {QIX_FIELD, "Unlock", field_lock, 0},
    {0, NULL, NULL, 0},
};
