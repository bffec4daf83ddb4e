/* reload.c: running a load script (script.h): the script is split into pieces, blocks
 * are paired, and each statement is run by the executor its kind names: the control
 * statements' in control.c, the others' below (LOAD in load.c, JOIN and KEEP in join.c,
 * STORE, DROP and RENAME in statements.c). A regular statement is dollar-expanded with the
 * variables of the moment and then parsed, when it is reached. */
#include "script/eval_int.h"
#include "script/script_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LOOP_STEPS 1000000

/* ---------------------------------------------------------------- the regular statements */

static int exec_empty(struct prog *p, struct stmt *s)
{
	(void)p;
	(void)s;
	return 0;
}

/* SET's value is its text as written, but a value that is one quoted string is the string
 * ('M/D/YYYY' is M/D/YYYY; 'It''s' is It's), as in a new app's header. */
static int exec_set(struct prog *p, struct stmt *s)
{
	const char *raw = s->raw;
	size_t n = strlen(raw);
	char q = n >= 2 ? raw[0] : '\0';
	size_t i = 1;
	for (; (q == '\'' || q == '"') && i < n; i++) {
		if (raw[i] == q && (i + 1 == n || raw[i + 1] != q))
			break;
		i += raw[i] == q; /* a doubled quote */
	}
	if ((q != '\'' && q != '"') || i != n - 1)
		return script_var_set(p->r, s->name, raw);
	char *v = malloc(n);
	if (!v)
		return err_set(p->r->e, ERR_NOMEM, "out of memory");
	size_t k = 0;
	for (size_t j = 1; j < n - 1; j++) {
		v[k++] = raw[j];
		j += raw[j] == q; /* '' is one quote */
	}
	v[k] = '\0';
	int rc = script_var_set(p->r, s->name, v);
	free(v);
	return rc;
}

static int exec_let(struct prog *p, struct stmt *s)
{
	if (!s->expr)
		return script_var_set(p->r, s->name, "");
	struct val v;
	char nb[64];
	int rc = script_eval_free(p->r, s->expr, p->ea, &v);
	if (rc == 0)
		rc = script_var_set(p->r, s->name, v.null ? "" : data_val_text(&v, nb, sizeof(nb)));
	return rc;
}

static int exec_trace(struct prog *p, struct stmt *s)
{
	script_log(p->r, "%s", s->raw);
	return 0;
}

/* SLEEP n: waits n milliseconds, 0 to 3,600,000 as Qlik allows */
static int exec_sleep(struct prog *p, struct stmt *s)
{
	struct val v;
	double ms = 0;
	int rc = script_eval_free(p->r, s->expr, p->ea, &v);
	if (rc)
		return rc;
	if (!script_val_number(&v, &ms) || !(ms >= 0 && ms <= 3600000))
		return script_err(p->r, s, ERR_INVALID, "SLEEP takes 0 to 3600000 milliseconds");
	struct timespec ts = {(time_t)(ms / 1000), (long)((ms - floor(ms / 1000) * 1000) * 1e6)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
	return 0;
}

/* A LOAD with a source, and the preceding loads that wait for it: the source load, then
 * each preceding load on the one below it; the outermost goes where its own label and
 * prefixes say. */
static int run_preceding(struct prog *p, struct stmt *s)
{
	struct tbl *tmp = NULL;
	int rc = script_load(p->r, s, NULL, &tmp);
	for (int k = p->n_pending - 1; rc == 0 && k > 0; k--) {
		struct tbl *next = NULL;
		rc = script_load(p->r, p->pending[k], tmp, &next);
		data_tbl_free(tmp);
		tmp = next;
	}
	if (rc == 0)
		rc = script_load(p->r, p->pending[0], tmp, NULL);
	data_tbl_free(tmp);
	p->n_pending = 0;
	return rc;
}

static int load_now(struct prog *p, struct stmt *s)
{
	return p->n_pending ? run_preceding(p, s) : script_load(p->r, s, NULL, NULL);
}

/* FROM with * or ? in the file's name: the LOAD (and its preceding loads) once per file
 * that matches, in the order of their names, as Qlik runs it (an aggregation is per
 * file; the rows go to one table as the fields match). No file is an error. */
static int load_each_file(struct prog *p, struct stmt *s)
{
	char full[4200], **files = NULL;
	int n = 0,
	    rc = script_match_files(p->r->env, script_path(p->r, s->load.path, full, sizeof(full)),
				    false, &files, &n, p->r->e);
	if (rc == 0 && n == 0)
		rc = script_err(p->r, s, ERR_NOT_FOUND, "no file matches %s", s->load.path);
	struct stmt *pending[MAX_PRECEDING];
	int n_pending = p->n_pending;
	memcpy(pending, p->pending, sizeof(pending));
	for (int i = 0; rc == 0 && i < n; i++) {
		struct stmt one = *s;
		one.load.path = files[i];
		memcpy(p->pending, pending, sizeof(pending));
		p->n_pending = n_pending;
		rc = load_now(p, &one);
	}
	p->n_pending = 0;
	for (int i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return rc;
}

static int exec_load(struct prog *p, struct stmt *s)
{
	if (s->load.source == SRC_FILE && strpbrk(s->load.path, "*?"))
		return load_each_file(p, s);
	if (s->load.source != SRC_PRECEDING)
		return load_now(p, s);
	/* runs with the next LOAD that has a source, on its output */
	if (p->n_pending == MAX_PRECEDING)
		return script_err(p->r, s, ERR_INVALID, "more than %d preceding loads",
				  MAX_PRECEDING);
	p->pending[p->n_pending++] = s;
	return 0;
}

static int exec_store(struct prog *p, struct stmt *s)
{
	return script_store(p->r, s);
}

static int exec_drop(struct prog *p, struct stmt *s)
{
	return script_drop(p->r, s);
}

static int exec_rename(struct prog *p, struct stmt *s)
{
	return script_rename(p->r, s);
}

static int exec_qualify(struct prog *p, struct stmt *s)
{
	return script_qualify(p->r, s);
}

static int exec_declare(struct prog *p, struct stmt *s)
{
	return script_declare(p->r, s);
}

static int exec_derive(struct prog *p, struct stmt *s)
{
	return script_derive(p->r, s);
}

static int exec_tag(struct prog *p, struct stmt *s)
{
	return script_tag(p->r, s);
}

/* LIB CONNECT TO and its kin: folder connections need no connect; a SQL statement after it
 * is refused where it stands. */
static int exec_connect(struct prog *p, struct stmt *s)
{
	script_log(p->r, "line %d: %s: nothing to connect (data connections are folders)", s->line,
		   s->raw);
	return script_connect(p->r, s);
}

static int exec_alias(struct prog *p, struct stmt *s)
{
	return script_alias(p->r, s);
}

static int exec_map(struct prog *p, struct stmt *s)
{
	return script_map(p->r, s);
}

static int exec_nullas(struct prog *p, struct stmt *s)
{
	return script_nullas(p->r, s);
}

static int exec_directory(struct prog *p, struct stmt *s)
{
	return script_directory(p->r, s);
}

static int exec_binary(struct prog *p, struct stmt *s)
{
	return script_binary(p->r, s);
}

/* SECTION ACCESS and SECTION APPLICATION: where the next tables go. */
static int exec_section(struct prog *p, struct stmt *s)
{
	p->r->access_section = s->until;
	script_log(p->r, "line %d: SECTION %s: %s", s->line, s->until ? "ACCESS" : "APPLICATION",
		   s->until ? "the next tables say who may see what (not part of the data model)"
			    : "the next tables are the app's data");
	return 0;
}

/* A statement that changes nothing here: the log says so. */
static int exec_noted(struct prog *p, struct stmt *s)
{
	script_log(p->r, "line %d: %s: no effect here", s->line, s->raw);
	return 0;
}

static const script_exec_fn regular_executors[ST_N_KINDS] = {
    [ST_EMPTY] = exec_empty,
    [ST_SET] = exec_set,
    [ST_LET] = exec_let,
    [ST_TRACE] = exec_trace,
    [ST_SLEEP] = exec_sleep,
    [ST_LOAD] = exec_load,
    [ST_STORE] = exec_store,
    [ST_DROP_TABLES] = exec_drop,
    [ST_DROP_FIELDS] = exec_drop,
    [ST_RENAME_TABLE] = exec_rename,
    [ST_RENAME_FIELD] = exec_rename,
    [ST_QUALIFY] = exec_qualify,
    [ST_UNQUALIFY] = exec_qualify,
    [ST_DECLARE] = exec_declare,
    [ST_DERIVE] = exec_derive,
    [ST_TAG] = exec_tag,
    [ST_CONNECT] = exec_connect,
    [ST_ALIAS] = exec_alias,
    [ST_MAP] = exec_map,
    [ST_NULLAS] = exec_nullas,
    [ST_DIRECTORY] = exec_directory,
    [ST_BINARY] = exec_binary,
    [ST_SECTION] = exec_section,
    [ST_NOTED] = exec_noted,
};

/* ---------------------------------------------------------------- the driver */

/* A control statement parsed up front (its expressions are evaluated when reached), or a
 * placeholder for another. */
static int placeholder(struct prog *p, const struct script_piece *pc, struct arena *a,
		       struct stmt **out)
{
	if (pc->control)
		return script_parse(pc->text, pc->line, pc->col, true, a, out, p->r->e);
	*out = arena_alloc(a, sizeof(struct stmt));
	(*out)->kind = ST_EMPTY;
	(*out)->line = pc->line;
	(*out)->col = pc->col;
	return 0;
}

/* Splits the script; parses the control statements up front (their expressions are
 * evaluated when reached) with placeholders for the others; pairs the blocks. */
static int prepare(struct prog *p, const char *script, struct arena *a)
{
	int rc = script_split(script, a, &p->pc, &p->n, p->r->e);
	if (rc)
		return rc;
	p->st = arena_alloc(a, sizeof(*p->st) * (size_t)(p->n + 1));
	p->pair = arena_alloc(a, sizeof(int) * (size_t)(p->n + 1));
	for (int i = 0; rc == 0 && i < p->n; i++)
		rc = placeholder(p, &p->pc[i], a, &p->st[i]);
	return rc ? rc : script_pair_blocks(p->r, p->st, p->n, p->pair);
}

/* The statement of piece i as it runs now: a control statement parsed up front (read
 * again when it holds a $( ), whose expansion must not change its kind), or a regular one
 * expanded and parsed. */
static int statement(struct prog *p, int i, struct arena *a, struct stmt **out)
{
	const struct script_piece *pc = &p->pc[i];
	*out = p->st[i];
	if (pc->control && !strstr(pc->text, "$("))
		return 0;
	char *text = NULL;
	int rc = script_expand(p->r, pc->text, pc->line, pc->col, a, 0, &text);
	if (rc == 0)
		rc = script_parse(text, pc->line, pc->col, pc->control, a, out, p->r->e);
	if (rc == 0 && pc->control && (*out)->kind != p->st[i]->kind)
		rc = script_err(p->r, *out, ERR_INVALID,
				"a $( ) expansion changed what this statement is");
	return rc;
}

#define MAX_INCLUDES 1000

/* The path of a piece that is only $(Include=path) or $(Must_Include=path), else NULL. */
static char *include_path(const char *text, struct arena *a, bool *must)
{
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	size_t n = strlen(text);
	while (n && strchr(" \t\r\n", text[n - 1]))
		n--;
	*must = strncasecmp(text, "$(Must_Include=", 15) == 0;
	size_t head = *must ? 15 : strncasecmp(text, "$(Include=", 10) == 0 ? 10 : 0;
	if (!head || n <= head || text[n - 1] != ')')
		return NULL;
	char *path = arena_strndup(a, text + head, n - head - 1);
	while (*path == ' ')
		path++;
	size_t pl = strlen(path);
	while (pl && path[pl - 1] == ' ')
		path[--pl] = '\0';
	return path;
}

/* The statements of `text` take the place of piece i (their blocks paired with the rest
 * again), and the run goes on with the first of them. */
static int splice(struct prog *p, int i, const char *text, struct arena *a)
{
	struct script_piece *pc = NULL;
	int n = 0;
	int rc = script_split(text, a, &pc, &n, p->r->e);
	if (rc)
		return rc;
	int total = p->n - 1 + n;
	struct script_piece *npc = arena_alloc(a, sizeof(*npc) * (size_t)(total + 1));
	struct stmt **nst = arena_alloc(a, sizeof(*nst) * (size_t)(total + 1));
	int *npair = arena_alloc(a, sizeof(int) * (size_t)(total + 1));
	memcpy(npc, p->pc, sizeof(*npc) * (size_t)i);
	memcpy(npc + i, pc, sizeof(*npc) * (size_t)n);
	memcpy(npc + i + n, p->pc + i + 1, sizeof(*npc) * (size_t)(p->n - i - 1));
	memcpy(nst, p->st, sizeof(*nst) * (size_t)i);
	memcpy(nst + i + n, p->st + i + 1, sizeof(*nst) * (size_t)(p->n - i - 1));
	for (int k = 0; rc == 0 && k < n; k++)
		rc = placeholder(p, &npc[i + k], a, &nst[i + k]);
	if (rc == 0)
		rc = script_pair_blocks(p->r, nst, total, npair);
	if (rc)
		return rc;
	p->pc = npc;
	p->st = nst;
	p->pair = npair;
	p->n = total;
	p->i = i - 1; /* the first spliced piece runs next */
	return 0;
}

/* Piece i is only $( ): an include, or a variable whose value holds statements. Their
 * statements take its place (*done); a file that cannot be read is an error for
 * Must_Include and nothing for Include, as in Qlik. */
static int splice_expansion(struct prog *p, int i, struct arena *a, bool *done)
{
	bool must;
	const struct script_piece *pc = &p->pc[i];
	char *raw = include_path(pc->text, a, &must), *path = NULL, *text = NULL;
	*done = false;
	const struct stmt *at = p->st[i];
	if (!raw) {
		/* $(vStatements): a variable that holds more than one statement */
		const char *t = pc->text + strspn(pc->text, " \t\r\n");
		size_t n = strlen(t);
		if (strncmp(t, "$(", 2) != 0 || n < 4 || t[n - 1] != ')' || strchr(t + 2, '$') ||
		    strchr(t, '(') != strrchr(t, '('))
			return 0;
		int rc = script_expand(p->r, pc->text, pc->line, pc->col, a, 0, &text);
		if (rc || !strchr(text, ';'))
			return rc;
		*done = true;
		return ++p->n_includes > MAX_INCLUDES
			   ? script_err(p->r, at, ERR_INVALID,
					"more than %d expansions into statements", MAX_INCLUDES)
			   : splice(p, i, text, a);
	}
	*done = true;
	if (++p->n_includes > MAX_INCLUDES)
		return script_err(p->r, at, ERR_INVALID, "more than %d $(Include=) in one reload",
				  MAX_INCLUDES);
	int rc = script_expand(p->r, raw, pc->line, pc->col, a, 0, &path);
	for (char *c = path; rc == 0 && strncasecmp(path, "lib://", 6) == 0 && *c; c++)
		*c = *c == '\\' ? '/' : *c; /* lib://Scripts\\x.qvs as Qlik reads it */
	if (rc == 0)
		rc = script_read_text(p->r, at, path, a, &text);
	if (rc && !must) {
		script_log(p->r, "line %d: Include of %s: nothing read (%s)", at->line,
			   path ? path : raw, p->r->e->message);
		err_init(p->r->e);
		p->i = i; /* the piece is done: go on after it */
		return 0;
	}
	if (rc == 0)
		script_log(p->r, "line %d: included %s", at->line, path);
	return rc ? rc : splice(p, i, text, a);
}

static int run_pieces(struct prog *p, struct arena *a)
{
	int rc = 0;
	long steps = 0;
	for (p->i = 0; rc == 0 && p->i < p->n; p->i++) {
		if (++steps > MAX_LOOP_STEPS)
			return script_err(p->r, p->st[p->i], ERR_INVALID,
					  "the script ran %d statements: a loop that does not end?",
					  MAX_LOOP_STEPS);
		bool included = false;
		if (!p->pc[p->i].control &&
		    ((rc = splice_expansion(p, p->i, a, &included)) || included))
			continue;
		struct stmt *s;
		if ((rc = statement(p, p->i, a, &s)))
			break;
		bool control = p->pc[p->i].control;
		script_exec_fn fn =
		    (control ? script_control_executors : regular_executors)[s->kind];
		p->ea = arena_new();
		bool run = true;
		if (s->when) { /* WHEN or UNLESS: the statement runs when its condition says */
			struct val c;
			rc = script_eval_free(p->r, s->when, p->ea, &c);
			run = rc == 0 && script_val_true(&c) != s->unless;
		}
		if (rc == 0 && run)
			rc = fn ? fn(p, s)
				: script_err(p->r, s, ERR_INVALID,
					     "this %sstatement is not supported yet",
					     control ? "control " : "");
		if (rc == 0 && run && !control && p->r->access_section)
			rc = script_access_upper(p->r);
		arena_free(p->ea);
		p->ea = NULL;
		if (rc == ERR_NOMEM && !p->r->e->code)
			err_set(p->r->e, ERR_NOMEM, "out of memory");
	}
	return rc;
}

/* What is left open when the script ends. */
static int finish(struct prog *p, int rc)
{
	for (int k = 0; k < p->n_loops; k++)
		script_loop_free(&p->loops[k]);
	while (p->n_calls > 0)
		(void)script_call_return(p->r, &p->calls[--p->n_calls]);
	if (rc == 0 && p->n_loops)
		rc = err_set(p->r->e, ERR_INVALID, "the script ends inside a loop");
	if (rc == 0 && p->n_pending)
		rc = script_err(p->r, p->pending[p->n_pending - 1], ERR_INVALID,
				"a preceding LOAD needs a LOAD with FROM, INLINE, RESIDENT or "
				"AUTOGENERATE after it");
	return rc;
}

/* TAG FIELD's tags (less UNTAG's) go with the fields that have them when the script ends:
 * the engine shows them in qTags. The tags the engine works out itself are not kept. */
static int keep_tags(struct run *r)
{
	for (int i = 0; i < r->n_tags; i++) {
		if (data_tag_computed(r->tags[i].tag) || strchr(r->tags[i].tag, '\n'))
			continue;
		for (int t = 0; t < r->m->n_tables; t++) {
			int f = data_tbl_field(r->m->tables[t], r->tags[i].field, false);
			if (f >= 0 && !data_field_tag(&r->m->tables[t]->fields[f], r->tags[i].tag))
				return err_set(r->e, ERR_NOMEM, "out of memory");
		}
	}
	return 0;
}

/* The variables as the script left them go with its tables (the app keeps them). */
static int keep_vars(struct run *r)
{
	struct data_set *m = r->m;
	m->var_names = calloc((size_t)r->n_vars + 1, sizeof(char *));
	m->var_values = calloc((size_t)r->n_vars + 1, sizeof(char *));
	if (!m->var_names || !m->var_values)
		return err_set(r->e, ERR_NOMEM, "out of memory");
	for (int i = 0; i < r->n_vars; i++) {
		m->var_names[m->n_vars] = strdup(r->vars[i].name);
		m->var_values[m->n_vars] = strdup(r->vars[i].value ? r->vars[i].value : "");
		if (!m->var_names[m->n_vars] || !m->var_values[m->n_vars++])
			return err_set(r->e, ERR_NOMEM, "out of memory");
	}
	return 0;
}

int script_run(const char *script, const struct reload_env *env, struct data_set **out,
	       struct err *e)
{
	*out = NULL;
	struct arena *a = arena_new();
	struct run r = {.env = env, .e = e};
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	r.started = script_local_serial(now.tv_sec, now.tv_nsec / 1000000);
	struct prog *p = calloc(1, sizeof(*p));
	r.m = calloc(1, sizeof(*r.m));
	int rc = r.m && p ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	if (rc == 0) {
		p->r = &r;
		rc = prepare(p, script, a);
	}
	if (rc == 0)
		rc = run_pieces(p, a);
	if (p)
		rc = finish(p, rc);
	if (rc == 0)
		rc = keep_tags(&r);
	if (rc == 0)
		rc = keep_vars(&r);
	free(p);
	script_run_release(&r);
	arena_free(a);
	if (rc) {
		if (!e->code)
			err_set(e, rc, "%s", err_str(rc));
		data_set_free(r.m);
		return e->code;
	}
	*out = r.m;
	return 0;
}
