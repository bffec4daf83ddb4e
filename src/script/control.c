/* control.c: the control statements of a running script: IF/ELSEIF/ELSE, FOR and FOR
 * EACH, DO/LOOP, SUB/CALL, SWITCH/CASE/DEFAULT and EXIT; blocks paired before anything runs. Each
 * is an executor in script_control_executors; reload.c runs them. */
#include "script/eval_int.h"
#include "script/script_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Skips from piece i (an IF or ELSEIF whose condition failed, or an ELSE branch taken)
 * to the matching ELSEIF/ELSE/END IF at depth 0. `to_end`: only END IF stops it. */
static int skip_if(struct stmt **st, int n, int i, bool to_end)
{
	int depth = 0;
	for (int k = i + 1; k < n; k++) {
		enum stmt_kind kd = st[k]->kind;
		if (kd == ST_IF)
			depth++;
		else if (kd == ST_END_IF && depth-- == 0)
			return k;
		else if (!to_end && depth == 0 && (kd == ST_ELSEIF || kd == ST_ELSE))
			return k;
	}
	return -1;
}

static const char *block_name(enum stmt_kind k)
{
	switch (k) {
	case ST_IF: return "IF";
	case ST_FOR:
	case ST_FOR_EACH: return "FOR";
	case ST_DO: return "DO";
	case ST_SUB: return "SUB";
	case ST_END_IF: return "END IF";
	case ST_NEXT: return "NEXT";
	case ST_LOOP: return "LOOP";
	case ST_END_SUB: return "END SUB";
	case ST_ELSE: return "ELSE";
	case ST_SWITCH: return "SWITCH";
	case ST_CASE: return "CASE";
	case ST_DEFAULT: return "DEFAULT";
	case ST_END_SWITCH: return "END SWITCH";
	default: return "ELSEIF";
	}
}

int script_pair_blocks(struct run *r, struct stmt **st, int n, int *pair)
{
	int stack[64], depth = 0;
	for (int i = 0; i < n; i++) {
		enum stmt_kind k = st[i]->kind, want;
		pair[i] = -1;
		if (k == ST_IF || k == ST_FOR || k == ST_FOR_EACH || k == ST_DO || k == ST_SUB ||
		    k == ST_SWITCH) {
			if (depth == 64)
				return script_err(
				    r, st[i], ERR_INVALID,
				    "blocks (IF, FOR, DO, SUB) nest more than 64 deep");
			stack[depth++] = i;
			continue;
		}
		if (k == ST_ELSEIF || k == ST_ELSE || k == ST_END_IF)
			want = ST_IF;
		else if (k == ST_NEXT)
			want = ST_FOR;
		else if (k == ST_LOOP)
			want = ST_DO;
		else if (k == ST_END_SUB)
			want = ST_SUB;
		else if (k == ST_CASE || k == ST_DEFAULT || k == ST_END_SWITCH)
			want = ST_SWITCH;
		else
			continue;
		enum stmt_kind top = depth ? st[stack[depth - 1]]->kind : ST_EMPTY;
		if (top == ST_FOR_EACH)
			top = ST_FOR;
		if (top != want)
			return script_err(r, st[i], ERR_INVALID, "%s without %s%s%s", block_name(k),
					  block_name(want), depth ? " (open here: " : "",
					  depth ? block_name(st[stack[depth - 1]]->kind) : "");
		if (k == ST_ELSEIF || k == ST_ELSE || k == ST_CASE || k == ST_DEFAULT)
			continue;
		pair[i] = stack[--depth];
		pair[stack[depth]] = i;
	}
	if (depth) {
		enum stmt_kind k = st[stack[depth - 1]]->kind;
		return script_err(r, st[stack[depth - 1]], ERR_INVALID, "%s without %s",
				  block_name(k),
				  k == ST_IF	   ? "END IF"
				  : k == ST_DO	   ? "LOOP"
				  : k == ST_SUB	   ? "END SUB"
				  : k == ST_SWITCH ? "END SWITCH"
						   : "NEXT (NEXT is missing)");
	}
	return 0;
}

void script_loop_free(struct loop *lp)
{
	for (int k = 0; lp->texts && k < lp->n_items; k++)
		free(lp->texts[k]);
	free(lp->texts);
	lp->texts = NULL;
}

/* Leaves a CALL: the parameters' variables get their values from before it back. */
int script_call_return(struct run *r, struct call *c)
{
	int rc = 0;
	for (int k = 0; k < c->n_params; k++) {
		if (rc == 0)
			rc = script_var_set(r, c->param[k], c->saved[k] ? c->saved[k] : "");
		free(c->param[k]);
		free(c->saved[k]);
	}
	c->n_params = 0;
	return rc;
}

/* Enters the SUB that the CALL `s` at piece i names; *out gets the SUB's piece. */
static int do_call(struct run *r, struct stmt **st, int n, int i, const struct stmt *s,
		   struct call *c, struct arena *ea, int *out)
{
	int sub = -1;
	for (int k = 0; k < n && sub < 0; k++)
		if (st[k]->kind == ST_SUB && strcasecmp(st[k]->name, s->name) == 0)
			sub = k;
	if (sub < 0)
		return script_err(r, s, ERR_INVALID, "there is no SUB named %s", s->name);
	const struct stmt *d = st[sub];
	if (s->n_args > d->n_names || d->n_names > 16)
		return script_err(r, s, ERR_INVALID, "%s takes %d arguments, not %d", d->name,
				  d->n_names, s->n_args);
	/* the arguments first, then the parameters take them */
	char *vals[16] = {0};
	int rc = 0;
	for (int k = 0; rc == 0 && k < s->n_args; k++) {
		struct val v;
		char nb[64];
		rc = script_eval_free(r, s->args[k], ea, &v);
		if (rc == 0 && !(vals[k] = strdup(v.null ? "" : data_val_text(&v, nb, sizeof(nb)))))
			rc = err_set(r->e, ERR_NOMEM, "out of memory");
	}
	c->ret = i;
	c->n_params = 0;
	for (int k = 0; rc == 0 && k < d->n_names; k++) {
		const char *old = script_var_get(r, d->names[k]);
		c->param[k] = strdup(d->names[k]);
		c->saved[k] = old ? strdup(old) : NULL;
		c->n_params++;
		rc = script_var_set(r, d->names[k], vals[k] ? vals[k] : "");
	}
	for (int k = 0; k < 16; k++)
		free(vals[k]);
	*out = sub;
	return rc;
}

static int set_loop_var(struct run *r, struct loop *lp)
{
	char v[64];
	if (lp->texts)
		return script_var_set(r, lp->var, lp->texts[lp->at]);
	struct val nv = {.has_num = true, .num = lp->value};
	return script_var_set(r, lp->var, data_val_text(&nv, v, sizeof(v)));
}

/* ---------------------------------------------------------------- the executors */

/* IF and ELSEIF. An ELSEIF reached by running means a branch was taken: go to END IF. */
static int exec_if(struct prog *p, struct stmt *s)
{
	struct run *r = p->r;
	if (s->kind == ST_ELSEIF) {
		int k = skip_if(p->st, p->n, p->i, true);
		if (k < 0)
			return script_err(r, s, ERR_INVALID, "ELSEIF without END IF");
		p->i = k;
		return 0;
	}
	struct val v;
	int rc = script_eval_free(r, s->expr, p->ea, &v);
	while (rc == 0 && !script_val_true(&v)) {
		int k = skip_if(p->st, p->n, p->i, false);
		if (k < 0)
			return script_err(r, s, ERR_INVALID, "IF without END IF");
		p->i = k;
		if (p->st[k]->kind != ST_ELSEIF)
			break;
		rc = script_eval_free(r, p->st[k]->expr, p->ea, &v);
	}
	return rc;
}

/* ELSE reached by running: the branch before it was taken. */
static int exec_else(struct prog *p, struct stmt *s)
{
	int k = skip_if(p->st, p->n, p->i, true);
	if (k < 0)
		return script_err(p->r, s, ERR_INVALID, "ELSE without END IF");
	p->i = k;
	return 0;
}

/* Whether a CASE value equals the SWITCH value: as numbers when both are, else as texts. */
static bool same_value(const struct val *a, const struct val *b)
{
	double x, y;
	if (a->null || b->null)
		return false;
	if (script_val_number(a, &x) && script_val_number(b, &y))
		return x == y;
	char b1[64], b2[64];
	return strcmp(data_val_text(a, b1, sizeof(b1)), data_val_text(b, b2, sizeof(b2))) == 0;
}

/* SWITCH: runs the first CASE whose values hold the expression's, else DEFAULT, else
 * nothing (on to END SWITCH). Blocks were paired, so pair[] finds the END SWITCH. */
static int exec_switch(struct prog *p, struct stmt *s)
{
	struct val v, c;
	int rc = script_eval_free(p->r, s->expr, p->ea, &v), end = p->pair[p->i], dflt = -1;
	for (int k = p->i + 1, depth = 0; rc == 0 && k < end; k++) {
		enum stmt_kind kd = p->st[k]->kind;
		depth += kd == ST_SWITCH ? 1 : kd == ST_END_SWITCH ? -1 : 0;
		if (depth || (kd != ST_CASE && kd != ST_DEFAULT))
			continue;
		if (kd == ST_DEFAULT) {
			dflt = dflt < 0 ? k : dflt;
			continue;
		}
		for (int a = 0; rc == 0 && a < p->st[k]->n_args; a++) {
			rc = script_eval_free(p->r, p->st[k]->args[a], p->ea, &c);
			if (rc == 0 && same_value(&v, &c)) {
				p->i = k;
				return 0;
			}
		}
	}
	p->i = dflt >= 0 ? dflt : end;
	return rc;
}

/* CASE or DEFAULT reached by running: the branch before it was taken. */
static int exec_case(struct prog *p, struct stmt *s)
{
	for (int k = p->i + 1, depth = 0; k < p->n; k++) {
		enum stmt_kind kd = p->st[k]->kind;
		if (kd == ST_END_SWITCH && depth-- == 0) {
			p->i = k;
			return 0;
		}
		depth += kd == ST_SWITCH;
	}
	return script_err(p->r, s, ERR_INVALID, "CASE without END SWITCH");
}

static int exec_nothing(struct prog *p, struct stmt *s)
{
	(void)p;
	(void)s;
	return 0;
}

/* The bounds of FOR var = from TO to [STEP step]; *empty when the loop runs no time. */
static int for_bounds(struct prog *p, struct stmt *s, struct loop *lp, bool *empty)
{
	struct val f, t, stp = {.has_num = true, .num = 1};
	int rc = script_eval_free(p->r, s->expr, p->ea, &f);
	if (rc == 0)
		rc = script_eval_free(p->r, s->to, p->ea, &t);
	if (rc == 0 && s->step)
		rc = script_eval_free(p->r, s->step, p->ea, &stp);
	if (rc == 0 && (!script_val_number(&f, &lp->value) || !script_val_number(&t, &lp->to) ||
			!script_val_number(&stp, &lp->step) || lp->step == 0))
		rc = script_err(p->r, s, ERR_INVALID, "FOR needs numbers and a step other than 0");
	*empty = rc == 0 && (lp->step > 0 ? lp->value > lp->to : lp->value < lp->to);
	return rc;
}

/* Whether x is FileList(...) or DirList(...), which give a list of values. */
static bool lists_files(const struct expr *x)
{
	return x->kind == EX_CALL && x->fn &&
	       (strcasecmp(x->fn->name, "FileList") == 0 ||
		strcasecmp(x->fn->name, "DirList") == 0);
}

/* Appends one value to the loop's texts (taking `t`). */
static int add_item(struct prog *p, struct loop *lp, char *t)
{
	char **grown = t ? realloc(lp->texts, sizeof(char *) * (size_t)(lp->n_items + 2)) : NULL;
	if (!grown) {
		free(t);
		return err_set(p->r->e, ERR_NOMEM, "out of memory");
	}
	lp->texts = grown;
	lp->texts[lp->n_items++] = t;
	lp->texts[lp->n_items] = NULL;
	return 0;
}

/* The values of FOR EACH var IN list, as texts; FileList and DirList give one per file. */
static int for_each_items(struct prog *p, struct stmt *s, struct loop *lp)
{
	lp->n_items = 0;
	lp->texts = calloc(1, sizeof(char *));
	if (!lp->texts)
		return err_set(p->r->e, ERR_NOMEM, "out of memory");
	int rc = 0;
	for (int k = 0; rc == 0 && k < s->n_args; k++) {
		if (lists_files(s->args[k])) {
			char **files = NULL;
			int n = 0;
			rc = script_list_free(p->r, s->args[k], p->ea, &files, &n);
			for (int i = 0; i < n; i++)
				rc = rc ? (free(files[i]), rc) : add_item(p, lp, files[i]);
			free(files);
			continue;
		}
		char nb[64];
		struct val v;
		rc = script_eval_free(p->r, s->args[k], p->ea, &v);
		if (rc == 0)
			rc = add_item(p, lp, strdup(data_val_text(&v, nb, sizeof(nb))));
	}
	return rc;
}

/* FOR and FOR EACH: a loop opens, or (no values) the script goes on after its NEXT. */
static int exec_for(struct prog *p, struct stmt *s)
{
	if (p->n_loops == MAX_LOOPS)
		return script_err(p->r, s, ERR_INVALID, "FOR loops nest more than %d deep",
				  MAX_LOOPS);
	struct loop *lp = &p->loops[p->n_loops];
	memset(lp, 0, sizeof(*lp));
	lp->opener = p->i;
	lp->start = p->i + 1;
	lp->var = s->name;
	bool empty = s->n_args == 0;
	int rc = s->kind == ST_FOR ? for_bounds(p, s, lp, &empty) : for_each_items(p, s, lp);
	if (s->kind != ST_FOR)
		empty = lp->n_items == 0; /* a FileList that found nothing */
	if (rc == 0 && empty) {
		script_loop_free(lp);
		p->i = p->pair[p->i];
	} else if (rc == 0) {
		p->n_loops++;
		rc = set_loop_var(p->r, lp);
	} else {
		script_loop_free(lp);
	}
	return rc;
}

static int exec_next(struct prog *p, struct stmt *s)
{
	if (p->n_loops == 0 || p->loops[p->n_loops - 1].opener != p->pair[p->i])
		return script_err(p->r, s, ERR_INVALID, "NEXT without FOR");
	struct loop *lp = &p->loops[p->n_loops - 1];
	bool again;
	if (lp->texts) {
		again = ++lp->at < lp->n_items;
	} else {
		lp->value += lp->step;
		again = lp->step > 0 ? lp->value <= lp->to : lp->value >= lp->to;
	}
	if (!again) {
		script_loop_free(lp);
		p->n_loops--;
		return 0;
	}
	p->i = lp->start - 1;
	return set_loop_var(p->r, lp);
}

static int exec_do(struct prog *p, struct stmt *s)
{
	bool enter = true;
	struct val v;
	int rc = 0;
	if (s->expr && (rc = script_eval_free(p->r, s->expr, p->ea, &v)) == 0)
		enter = script_val_true(&v) != s->until;
	if (rc)
		return rc;
	if (!enter) {
		p->i = p->pair[p->i];
		return 0;
	}
	if (p->n_loops == MAX_LOOPS)
		return script_err(p->r, s, ERR_INVALID, "loops nest more than %d deep", MAX_LOOPS);
	p->loops[p->n_loops++] = (struct loop){.is_do = true, .opener = p->i, .start = p->i + 1};
	return 0;
}

static int exec_loop(struct prog *p, struct stmt *s)
{
	if (p->n_loops == 0 || p->loops[p->n_loops - 1].opener != p->pair[p->i])
		return script_err(p->r, s, ERR_INVALID, "LOOP without DO");
	struct loop *lp = &p->loops[p->n_loops - 1];
	bool again = true;
	struct val v;
	int rc = 0;
	if (s->expr && (rc = script_eval_free(p->r, s->expr, p->ea, &v)) == 0)
		again = script_val_true(&v) != s->until;
	const struct stmt *d = p->st[lp->opener];
	if (rc == 0 && again && d->expr && (rc = script_eval_free(p->r, d->expr, p->ea, &v)) == 0)
		again = script_val_true(&v) != d->until;
	if (rc == 0 && again)
		p->i = lp->start - 1;
	else if (rc == 0)
		p->n_loops--;
	return rc;
}

/* SUB: a definition, run when called. */
static int exec_sub(struct prog *p, struct stmt *s)
{
	(void)s;
	p->i = p->pair[p->i];
	return 0;
}

static int exec_call(struct prog *p, struct stmt *s)
{
	if (p->n_calls == MAX_CALL_DEPTH)
		return script_err(p->r, s, ERR_INVALID, "CALLs nest more than %d deep",
				  MAX_CALL_DEPTH);
	struct call *c = &p->calls[p->n_calls];
	c->n_loops = p->n_loops;
	c->n_params = 0;
	int sub = -1;
	int rc = do_call(p->r, p->st, p->n, p->i, s, c, p->ea, &sub);
	p->n_calls++;
	if (rc == 0)
		p->i = sub;
	return rc;
}

/* Leaves the innermost CALL, closing the loops opened in it. */
static int leave_call(struct prog *p)
{
	p->n_calls--;
	while (p->n_loops > p->calls[p->n_calls].n_loops)
		script_loop_free(&p->loops[--p->n_loops]);
	p->i = p->calls[p->n_calls].ret;
	return script_call_return(p->r, &p->calls[p->n_calls]);
}

static int exec_end_sub(struct prog *p, struct stmt *s)
{
	if (p->n_calls == 0)
		return script_err(p->r, s, ERR_INVALID, "END SUB outside a CALL");
	p->n_calls--;
	p->i = p->calls[p->n_calls].ret;
	return script_call_return(p->r, &p->calls[p->n_calls]);
}

/* EXIT FOR or EXIT DO: after the innermost such loop of the current CALL. */
static int exit_loop(struct prog *p, struct stmt *s, bool is_do)
{
	int floor_ = p->n_calls ? p->calls[p->n_calls - 1].n_loops : 0, k;
	for (k = p->n_loops - 1; k >= floor_ && p->loops[k].is_do != is_do; k--)
		;
	if (k < floor_)
		return script_err(p->r, s, ERR_INVALID, "EXIT %s outside a %s", s->name,
				  is_do ? "DO loop" : "FOR loop");
	p->i = p->pair[p->loops[k].opener]; /* the LOOP or NEXT: go on after it */
	while (p->n_loops > k)
		script_loop_free(&p->loops[--p->n_loops]);
	return 0;
}

/* EXIT SCRIPT, SUB, FOR or DO [WHEN|UNLESS cond] */
static int exec_exit(struct prog *p, struct stmt *s)
{
	if (s->expr) {
		struct val v;
		int rc = script_eval_free(p->r, s->expr, p->ea, &v);
		if (rc || script_val_true(&v) == s->until)
			return rc;
	}
	if (strcasecmp(s->name, "SCRIPT") == 0) {
		p->i = p->n; /* the end */
		return 0;
	}
	if (strcasecmp(s->name, "SUB") == 0) {
		if (p->n_calls == 0)
			return script_err(p->r, s, ERR_INVALID, "EXIT SUB outside a SUB");
		return leave_call(p);
	}
	return exit_loop(p, s, strcasecmp(s->name, "DO") == 0);
}

const script_exec_fn script_control_executors[ST_N_KINDS] = {
    [ST_IF] = exec_if,
    [ST_ELSEIF] = exec_if,
    [ST_ELSE] = exec_else,
    [ST_END_IF] = exec_nothing,
    [ST_FOR] = exec_for,
    [ST_FOR_EACH] = exec_for,
    [ST_NEXT] = exec_next,
    [ST_DO] = exec_do,
    [ST_LOOP] = exec_loop,
    [ST_SUB] = exec_sub,
    [ST_CALL] = exec_call,
    [ST_END_SUB] = exec_end_sub,
    [ST_EXIT] = exec_exit,
    [ST_SWITCH] = exec_switch,
    [ST_CASE] = exec_case,
    [ST_DEFAULT] = exec_case,
    [ST_END_SWITCH] = exec_nothing,
};
