/* SPDX-License-Identifier: MIT */
/* The sanitiser (sql.h): tokens copied, literals replaced, lists collapsed. */
#include <string.h>

#include "protocols/sql/sql_lex.h"
#include "util/utf8.h"

struct sanitizer {
	struct sql_lexer lx;
	struct utf8_buf out;
	bool operand_before; /* the last token ended an operand: a sign after it subtracts */
	/* Tokens from skip_from up to skip_to are left out (collapsed lists). */
	size_t skip_from, skip_to;
};

/* Keywords after which '-' or '+' can only be a sign. */
static const char *const sign_after[] = {
	"AND",	"OR",	  "NOT",   "WHERE",   "SELECT",	  "SET",      "VALUES",	  "THEN", "ELSE",
	"WHEN", "CASE",	  "IN",	   "IS",      "LIKE",	  "ILIKE",    "BETWEEN",  "ON",	  "HAVING",
	"BY",	"RETURN", "LIMIT", "OFFSET",  "INTERVAL", "DISTINCT", "AS",	  "ALL",  "ANY",
	"SOME", "EXISTS", "FROM",  "DEFAULT", "ESCAPE",	  "TO",	      "RETURNING"
};

static bool ends_operand(const struct sql_lexer *lx, const struct sql_token *t)
{
	switch (t->kind) {
	case SQL_TOK_WORD:
		for (size_t i = 0; i < sizeof(sign_after) / sizeof(sign_after[0]); i++)
			if (sql_tok_is(lx, t, sign_after[i]))
				return false;
		return true;
	case SQL_TOK_PUNCT:
		return sql_tok_punct(lx, t, ')') || sql_tok_punct(lx, t, ']');
	case SQL_TOK_END:
		return false;
	default:
		return true;
	}
}

static bool is_sign(const struct sql_lexer *lx, const struct sql_token *t)
{
	return sql_tok_punct(lx, t, '-') || sql_tok_punct(lx, t, '+');
}

/* One literal of a list (a sign and a number, a string, MySQL's '?'
 * placeholder: all are '?' in the output); its end at lx->pos. */
static bool list_literal(struct sql_lexer *lx)
{
	struct sql_token t;

	sql_lex(lx, &t);
	if (is_sign(lx, &t))
		sql_lex(lx, &t);
	if (t.unterminated)
		return false;
	return t.kind == SQL_TOK_NUMBER || t.kind == SQL_TOK_STRING ||
	       (t.kind == SQL_TOK_PARAM && lx->q[t.start] == '?');
}

/*
 * A parenthesised list of literals, the lexer just past its '('. Returns how
 * many, 0 when it is something else; *first_end is where the first ends and
 * *close where the ')' starts; the lexer is left past the ')'.
 */
static size_t literal_list(struct sql_lexer *lx, size_t *first_end, size_t *close)
{
	struct sql_token t;
	size_t count = 0;

	for (;;) {
		if (!list_literal(lx))
			return 0;
		if (!count++)
			*first_end = lx->pos;
		sql_lex(lx, &t);
		if (sql_tok_punct(lx, &t, ')')) {
			*close = t.start;
			return count;
		}
		if (!sql_tok_punct(lx, &t, ','))
			return 0;
	}
}

/* After IN: `(?, ?, ?)` is written `(?)`. */
static void collapse_in_list(struct sanitizer *s)
{
	struct sql_lexer look = s->lx;
	struct sql_token t;
	size_t first_end = 0, close = 0;

	sql_lex(&look, &t);
	if (!sql_tok_punct(&look, &t, '(') || literal_list(&look, &first_end, &close) < 2)
		return;
	s->skip_from = first_end;
	s->skip_to = close;
}

/* After VALUES: rows of literals like the first, (?, ?), (?, ?), are
 * written as the first alone. */
static void collapse_values_rows(struct sanitizer *s)
{
	struct sql_lexer look = s->lx;
	struct sql_token t;
	size_t first_end = 0, close = 0, width, row_end, last_end = 0;

	sql_lex(&look, &t);
	if (!sql_tok_punct(&look, &t, '(') || !(width = literal_list(&look, &first_end, &close)))
		return;
	row_end = look.pos;
	for (;;) {
		struct sql_lexer next = look;

		if (!sql_lex(&next, &t) || !sql_tok_punct(&next, &t, ','))
			break;
		if (!sql_lex(&next, &t) || !sql_tok_punct(&next, &t, '(') ||
		    literal_list(&next, &first_end, &close) != width)
			break;
		last_end = next.pos;
		look = next;
	}
	if (!last_end)
		return;
	s->skip_from = row_end;
	s->skip_to = last_end;
}

static void put(struct sanitizer *s, const struct sql_token *t, const char *text, size_t n)
{
	if (t->space_before && s->out.len)
		utf8_buf_put(&s->out, " ", 1);
	utf8_buf_put(&s->out, text, n);
}

/* A literal, with the sign lexed before it if any: '?'. */
static void put_literal(struct sanitizer *s, const struct sql_token *t)
{
	put(s, t, "?", 1);
	s->operand_before = true;
}

/* '-' or '+' before a number where it cannot subtract or add: the number's sign. */
static bool fold_sign(struct sanitizer *s, const struct sql_token *sign)
{
	struct sql_lexer look = s->lx;
	struct sql_token t;

	if (s->operand_before || !is_sign(&s->lx, sign) || !sql_lex(&look, &t) ||
	    t.kind != SQL_TOK_NUMBER)
		return false;
	s->lx = look;
	put_literal(s, sign);
	return true;
}

size_t sql_sanitize(enum sql_dialect d, const char *q, size_t n, char *out, size_t cap,
		    bool *truncated)
{
	struct sanitizer s = { 0 };
	struct sql_token t;

	if (truncated)
		*truncated = false;
	if (!cap)
		return 0;
	sql_lex_init(&s.lx, d, q, n);
	utf8_buf_init(&s.out, out, cap);
	while (!s.out.cut && sql_lex(&s.lx, &t)) {
		if (s.skip_to && t.start >= s.skip_from) {
			s.lx.pos = s.skip_to;
			s.skip_to = 0;
			continue;
		}
		if (t.kind == SQL_TOK_STRING || t.kind == SQL_TOK_NUMBER) {
			put_literal(&s, &t);
			/* Nothing of a literal the text ends inside is shown. */
			if (t.unterminated)
				break;
			continue;
		}
		if (fold_sign(&s, &t))
			continue;
		put(&s, &t, q + t.start, t.len);
		s.operand_before = ends_operand(&s.lx, &t);
		if (sql_tok_is(&s.lx, &t, "IN"))
			collapse_in_list(&s);
		else if (sql_tok_is(&s.lx, &t, "VALUES"))
			collapse_values_rows(&s);
	}
	if (truncated)
		*truncated = s.out.cut;
	return s.out.len;
}
