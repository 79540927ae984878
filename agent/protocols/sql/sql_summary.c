/* SPDX-License-Identifier: MIT */
/*
 * The summariser (sql.h): a walk over the tokens that notes each statement's
 * verb and the names in the places a table goes. Not a parser: it knows the
 * few keywords that introduce a table, and which parentheses hold a subquery
 * (their FROM names tables) rather than a function's arguments (EXTRACT(YEAR
 * FROM ts) names none).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "protocols/sql/sql_lex.h"
#include "util/utf8.h"

#define MAX_DEPTH 32
#define MAX_CTES  8

enum expect {
	EXPECT_NONE = 0,
	EXPECT_TABLE,	 /* a table, or a function (FROM f(x) names no table) */
	EXPECT_RELATION, /* a table even when '(' follows: INTO t (a, b) */
};

struct level {
	bool counts; /* a subquery, or the statement itself: its FROMs name tables */
	bool fresh;  /* no token seen inside yet */
	bool list;   /* in a FROM (or UPDATE, TABLE) list: ',' brings another table */
};

struct statement {
	char op[SPAN_DB_OPERATION_LEN];
	bool have_op;
	bool in_with; /* between WITH and the main statement's verb */
	bool index;   /* CREATE … INDEX: ON names the table */
	bool cte_name_next;
	struct {
		size_t start, len;
	} ctes[MAX_CTES];
	unsigned int nctes;
};

struct summarizer {
	struct sql_lexer lx;
	struct level levels[MAX_DEPTH];
	unsigned int depth; /* levels[depth] is the current one */
	enum expect expect;
	bool expect_list;
	struct statement st;
	struct sql_token prev; /* the token before the current one */
	/* Tables seen: the first, and whether another differed. */
	char table[SPAN_DB_COLLECTION_LEN];
	unsigned int ntables; /* 0, 1, or 2 for several */
	/* Statement verbs: all of them, and those other than transaction control. */
	char first_op[SPAN_DB_OPERATION_LEN], first_main_op[SPAN_DB_OPERATION_LEN];
	bool ops_differ, main_ops_differ;
	unsigned int statements, main_statements;
};

static bool in_list(const char *w, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(w, *words))
			return true;
	return false;
}

static bool is_any(const struct sql_lexer *lx, const struct sql_token *t, const char *const *words)
{
	for (; *words; words++)
		if (sql_tok_is(lx, t, *words))
			return true;
	return false;
}

/* Verbs that can follow a WITH clause. */
static const char *const main_verbs[] = { "SELECT", "INSERT", "UPDATE", "DELETE",
					  "MERGE",  "VALUES", "TABLE",	NULL };
/* Words between a table keyword and the name. */
static const char *const name_modifiers[] = {
	"ONLY",		"LATERAL",	 "IF",	    "NOT",    "EXISTS", "INTO", "TABLE",
	"LOW_PRIORITY", "HIGH_PRIORITY", "DELAYED", "IGNORE", "QUICK",	NULL
};
/* Words that end a list of tables, or cannot be a table's name. */
static const char *const clause_words[] = {
	"SELECT",  "WITH",	"VALUES",	 "SET",	  "WHERE",     "GROUP",	  "ORDER",
	"LIMIT",   "HAVING",	"WINDOW",	 "UNION", "INTERSECT", "EXCEPT",  "ON",
	"USING",   "RETURNING", "FOR",		 "JOIN",  "OFFSET",    "FETCH",	  "INNER",
	"LEFT",	   "RIGHT",	"FULL",		 "CROSS", "NATURAL",   "DEFAULT", "DO",
	"OUTFILE", "DUMPFILE",	"STRAIGHT_JOIN", NULL
};
/* Transaction control: left out of a multi-statement text's operation. */
static const char *const tx_verbs[] = { "BEGIN",     "START",	"COMMIT", "END", "ROLLBACK",
					"SAVEPOINT", "RELEASE", "ABORT",  NULL };

static struct level *level(struct summarizer *s)
{
	return &s->levels[s->depth];
}

static void set_op(struct summarizer *s, const struct sql_token *t)
{
	size_t n = t->len < sizeof(s->st.op) - 1 ? t->len : sizeof(s->st.op) - 1;

	s->st.have_op = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s->lx.q[t->start + i];

		/* A verb is an ASCII keyword; anything else is no verb at all. */
		if (c >= 0x80) {
			s->st.op[0] = '\0';
			return;
		}
		s->st.op[i] = (char)toupper(c);
	}
	s->st.op[n] = '\0';
}

/* One part of a name, its quotes removed ("a""b" is a"b). */
static void put_part(struct utf8_buf *u, const struct sql_lexer *lx, const struct sql_token *t)
{
	const char *p = lx->q + t->start;
	size_t n = t->len;
	char quote;

	if (t->kind != SQL_TOK_QUOTED_ID) {
		utf8_buf_put(u, p, n);
		return;
	}
	quote = p[0];
	p++;
	n = n > 1 && !t->unterminated ? n - 2 : n - 1;
	for (size_t i = 0; i < n; i++) {
		utf8_buf_put(u, p + i, 1);
		if (p[i] == quote && i + 1 < n && p[i + 1] == quote)
			i++;
	}
}

static bool is_cte(const struct summarizer *s, const struct sql_token *t)
{
	for (unsigned int i = 0; i < s->st.nctes; i++)
		if (s->st.ctes[i].len == t->len &&
		    !strncasecmp(s->lx.q + s->st.ctes[i].start, s->lx.q + t->start, t->len))
			return true;
	return false;
}

static void add_table(struct summarizer *s, const char *name)
{
	if (!name[0])
		return;
	if (!s->ntables) {
		snprintf(s->table, sizeof(s->table), "%s", name);
		s->ntables = 1;
	} else if (strcasecmp(s->table, name)) {
		s->ntables = 2;
	}
}

/*
 * The name at t, where a table goes: a possibly qualified name, then (for
 * EXPECT_TABLE) no '(' after it, which would make it a function. The lexer
 * is left past the name.
 */
static void take_name(struct summarizer *s, const struct sql_token *t)
{
	struct sql_lexer look = s->lx, after;
	struct sql_token dot, part;
	char name[SPAN_DB_COLLECTION_LEN];
	struct utf8_buf u;
	bool qualified = false;

	utf8_buf_init(&u, name, sizeof(name));
	put_part(&u, &s->lx, t);
	for (;;) {
		after = look;
		if (!sql_lex(&after, &dot) || !sql_tok_punct(&after, &dot, '.') ||
		    !sql_lex(&after, &part) ||
		    (part.kind != SQL_TOK_WORD && part.kind != SQL_TOK_QUOTED_ID))
			break;
		utf8_buf_put(&u, ".", 1);
		put_part(&u, &s->lx, &part);
		qualified = true;
		look = after;
	}
	after = look;
	if (s->expect == EXPECT_TABLE && sql_lex(&after, &dot) && sql_tok_punct(&after, &dot, '('))
		return; /* a function: FROM generate_series(1, 3) */
	s->lx = look;
	if (!qualified && t->kind == SQL_TOK_WORD && is_cte(s, t))
		return;
	add_table(s, name);
}

static void expect(struct summarizer *s, enum expect e, bool list)
{
	s->expect = e;
	s->expect_list = list;
}

/* A word where a table may go; returns whether it was consumed as such. */
static bool table_word(struct summarizer *s, const struct sql_token *t)
{
	if (!s->expect)
		return false;
	if (t->kind != SQL_TOK_WORD && t->kind != SQL_TOK_QUOTED_ID) {
		expect(s, EXPECT_NONE, false); /* INTO @var, INTO 'file' */
		return false;
	}
	if (t->kind == SQL_TOK_WORD && is_any(&s->lx, t, name_modifiers))
		return false; /* still expecting */
	if (t->kind == SQL_TOK_WORD && is_any(&s->lx, t, clause_words)) {
		expect(s, EXPECT_NONE, false);
		return false;
	}
	take_name(s, t);
	level(s)->list = s->expect_list;
	expect(s, EXPECT_NONE, false);
	return true;
}

/* The statement's verb (its first word, or the one after WITH …). */
static void verb(struct summarizer *s, const struct sql_token *t)
{
	set_op(s, t);
	if (sql_tok_is(&s->lx, t, "WITH")) {
		s->st.in_with = true;
		s->st.cte_name_next = true;
	} else if (sql_tok_is(&s->lx, t, "UPDATE") || sql_tok_is(&s->lx, t, "TRUNCATE")) {
		expect(s, sql_tok_is(&s->lx, t, "UPDATE") ? EXPECT_TABLE : EXPECT_RELATION, true);
	} else if (sql_tok_is(&s->lx, t, "TABLE")) {
		expect(s, EXPECT_RELATION, true);
	} else if (sql_tok_is(&s->lx, t, "INSERT") || sql_tok_is(&s->lx, t, "REPLACE") ||
		   sql_tok_is(&s->lx, t, "COPY")) {
		expect(s, EXPECT_RELATION, false);
	}
}

/* Keywords that introduce a table. */
static void table_keyword(struct summarizer *s, const struct sql_token *t)
{
	const struct sql_lexer *lx = &s->lx;
	const char *op = s->st.op;

	if (!level(s)->counts || !strcmp(op, "SHOW"))
		return;
	if (sql_tok_is(lx, t, "FROM")) {
		/* IS DISTINCT FROM compares; COPY … FROM names a file. */
		if (!sql_tok_is(lx, &s->prev, "DISTINCT") &&
		    !(s->depth == 0 && !strcmp(op, "COPY")))
			expect(s, EXPECT_TABLE, true);
	} else if (sql_tok_is(lx, t, "JOIN") || sql_tok_is(lx, t, "STRAIGHT_JOIN")) {
		expect(s, EXPECT_TABLE, false);
	} else if (sql_tok_is(lx, t, "INTO")) {
		expect(s, EXPECT_RELATION, false);
	} else if (sql_tok_is(lx, t, "TABLE")) {
		expect(s, EXPECT_RELATION, true);
	} else if (sql_tok_is(lx, t, "USING") && (!strcmp(op, "DELETE") || !strcmp(op, "MERGE"))) {
		expect(s, EXPECT_TABLE, false);
	} else if (sql_tok_is(lx, t, "INDEX") && !strcmp(op, "CREATE")) {
		s->st.index = true;
	} else if (sql_tok_is(lx, t, "ON") && s->st.index) {
		expect(s, EXPECT_RELATION, false);
		s->st.index = false;
	}
}

/* Inside WITH, before the main verb: names the CTEs, finds the verb.
 * Returns whether the token was the verb. */
static bool with_clause(struct summarizer *s, const struct sql_token *t)
{
	if (s->depth)
		return false;
	if (t->kind == SQL_TOK_WORD && is_any(&s->lx, t, main_verbs)) {
		s->st.in_with = false;
		verb(s, t);
		return true;
	}
	if (sql_tok_punct(&s->lx, t, ',')) {
		s->st.cte_name_next = true;
		return false;
	}
	if (s->st.cte_name_next && (t->kind == SQL_TOK_WORD || t->kind == SQL_TOK_QUOTED_ID) &&
	    !sql_tok_is(&s->lx, t, "RECURSIVE")) {
		if (s->st.nctes < MAX_CTES) {
			s->st.ctes[s->st.nctes].start = t->start;
			s->st.ctes[s->st.nctes].len = t->len;
			s->st.nctes++;
		}
		s->st.cte_name_next = false;
	}
	return false;
}

static void end_statement(struct summarizer *s)
{
	const char *op = s->st.op;

	if (s->st.have_op) {
		bool tx = in_list(op, tx_verbs);

		if (!s->statements++)
			snprintf(s->first_op, sizeof(s->first_op), "%s", op);
		else if (strcmp(s->first_op, op))
			s->ops_differ = true;
		if (!tx && !s->main_statements++)
			snprintf(s->first_main_op, sizeof(s->first_main_op), "%s", op);
		else if (!tx && strcmp(s->first_main_op, op))
			s->main_ops_differ = true;
	}
	memset(&s->st, 0, sizeof(s->st));
	s->depth = 0;
	s->levels[0] = (struct level){ .counts = true };
	expect(s, EXPECT_NONE, false);
}

static void open_paren(struct summarizer *s)
{
	/* FROM (a JOIN b): tables inside parentheses where one goes. */
	bool counts = s->expect && level(s)->counts;

	if (s->depth + 1 >= MAX_DEPTH)
		return;
	s->depth++;
	*level(s) = (struct level){ .counts = counts, .fresh = true };
	if (s->expect == EXPECT_RELATION)
		expect(s, EXPECT_NONE, false); /* INTO t (a, b): columns */
}

static void close_paren(struct summarizer *s)
{
	if (s->depth)
		s->depth--;
	expect(s, EXPECT_NONE, false);
}

static void token(struct summarizer *s, const struct sql_token *t)
{
	struct level *l = level(s);

	if (l->fresh && (sql_tok_is(&s->lx, t, "SELECT") || sql_tok_is(&s->lx, t, "WITH") ||
			 sql_tok_is(&s->lx, t, "VALUES")))
		l->counts = true;
	l->fresh = false;
	if (sql_tok_punct(&s->lx, t, '(')) {
		open_paren(s);
		return;
	}
	if (sql_tok_punct(&s->lx, t, ')')) {
		close_paren(s);
		return;
	}
	if (!s->st.have_op) {
		if (t->kind == SQL_TOK_WORD)
			verb(s, t);
		return;
	}
	if (s->st.in_with && with_clause(s, t))
		return;
	if (table_word(s, t))
		return;
	if (sql_tok_punct(&s->lx, t, ',') && l->list) {
		expect(s, EXPECT_TABLE, true);
		return;
	}
	if (t->kind == SQL_TOK_WORD && is_any(&s->lx, t, clause_words))
		l->list = false;
	if (t->kind == SQL_TOK_WORD)
		table_keyword(s, t);
}

void sql_summarize(enum sql_dialect d, const char *q, size_t n, struct sql_summary *out)
{
	struct summarizer s = { 0 };
	struct sql_token t;

	memset(out, 0, sizeof(*out));
	sql_lex_init(&s.lx, d, q, n);
	end_statement(&s);
	while (sql_lex(&s.lx, &t)) {
		if (s.depth == 0 && sql_tok_punct(&s.lx, &t, ';'))
			end_statement(&s);
		else
			token(&s, &t);
		s.prev = t;
	}
	end_statement(&s);
	out->statements = s.statements;
	if (s.statements == 1 || (!s.ops_differ && s.statements))
		snprintf(out->operation, sizeof(out->operation), "%s", s.first_op);
	else if (s.main_statements && !s.main_ops_differ)
		snprintf(out->operation, sizeof(out->operation), "%s", s.first_main_op);
	else if (s.statements)
		snprintf(out->operation, sizeof(out->operation), "BATCH");
	if (s.ntables == 1)
		snprintf(out->collection, sizeof(out->collection), "%s", s.table);
}
