/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <strings.h>

#include "protocols/sql/sql_lex.h"

void sql_lex_init(struct sql_lexer *lx, enum sql_dialect d, const char *q, size_t n)
{
	*lx = (struct sql_lexer){ .q = q, .n = q ? n : 0, .dialect = d };
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Bytes of a non-ASCII character count as letters in identifiers, in both. */
static bool word_start(unsigned char c)
{
	return is_alpha(c) || c == '_' || c >= 0x80;
}

static bool word_char(unsigned char c)
{
	return word_start(c) || is_digit(c) || c == '$';
}

/* Whitespace, and control bytes (NUL among them), which are never SQL. */
static bool is_space(unsigned char c)
{
	return c <= ' ' || c == 0x7f;
}

static unsigned char at(const struct sql_lexer *lx, size_t i)
{
	return i < lx->n ? (unsigned char)lx->q[i] : 0;
}

/* Past a comment starting at pos; returns false when none starts there. */
static bool skip_comment(struct sql_lexer *lx)
{
	size_t i = lx->pos, depth;
	unsigned char c = at(lx, i), c1 = at(lx, i + 1);

	if ((c == '-' && c1 == '-' &&
	     (lx->dialect != SQL_MYSQL || i + 2 >= lx->n || is_space(at(lx, i + 2)))) ||
	    (c == '#' && lx->dialect == SQL_MYSQL)) {
		while (i < lx->n && lx->q[i] != '\n')
			i++;
		lx->pos = i;
		return true;
	}
	if (c == '*' && c1 == '/' && lx->in_exec_comment) {
		lx->in_exec_comment = false;
		lx->pos = i + 2;
		return true;
	}
	if (c != '/' || c1 != '*')
		return false;
	/* MySQL's executable comment (slash-star-bang, with an optional
	 * version): its text is SQL the server runs, so it is lexed as such. */
	if (lx->dialect == SQL_MYSQL && at(lx, i + 2) == '!' && !lx->in_exec_comment) {
		i += 3;
		while (is_digit(at(lx, i)))
			i++;
		lx->in_exec_comment = true;
		lx->pos = i;
		return true;
	}
	/* PostgreSQL's block comments nest; MySQL's do not. */
	i += 2;
	depth = 1;
	while (i < lx->n && depth) {
		if (lx->q[i] == '*' && at(lx, i + 1) == '/') {
			depth--;
			i += 2;
		} else if (lx->dialect == SQL_POSTGRESQL && lx->q[i] == '/' &&
			   at(lx, i + 1) == '*') {
			depth++;
			i += 2;
		} else {
			i++;
		}
	}
	lx->pos = i;
	return true;
}

/* A quoted run from the opening quote at pos: doubled quotes stand for one,
 * and with backslashes a backslash escapes the next byte. */
static void quoted(struct sql_lexer *lx, struct sql_token *t, char quote, bool backslashes)
{
	size_t i = lx->pos + 1;

	for (;;) {
		if (i >= lx->n) {
			t->unterminated = true;
			break;
		}
		if (backslashes && lx->q[i] == '\\') {
			i += 2;
			continue;
		}
		if (lx->q[i] == quote) {
			if (at(lx, i + 1) == (unsigned char)quote) {
				i += 2;
				continue;
			}
			i++;
			break;
		}
		i++;
	}
	lx->pos = i < lx->n ? i : lx->n;
}

/* A PostgreSQL dollar-quote opener at pos: $$ or $tag$ (a tag is an
 * identifier without '$'). Returns its length, 0 when there is none. */
static size_t dollar_tag(const struct sql_lexer *lx)
{
	size_t i = lx->pos + 1;

	if (at(lx, i) != '$' && !word_start(at(lx, i)))
		return 0;
	while (i < lx->n && lx->q[i] != '$') {
		if (!word_start(at(lx, i)) && !is_digit(at(lx, i)))
			return 0;
		i++;
	}
	return i < lx->n ? i + 1 - lx->pos : 0;
}

static void dollar_quoted(struct sql_lexer *lx, struct sql_token *t, size_t tag)
{
	const char *tq = lx->q + lx->pos;
	size_t i = lx->pos + tag;

	for (; i + tag <= lx->n; i++)
		if (lx->q[i] == '$' && !memcmp(lx->q + i, tq, tag)) {
			lx->pos = i + tag;
			return;
		}
	t->unterminated = true;
	lx->pos = lx->n;
}

/* A number from pos: digits, a point, an exponent with its sign, and the
 * letters and underscores of 0x1F, 0b101, 1_000 (and of MySQL identifiers
 * that start with a digit, which are taken for numbers: better hidden). */
static void number(struct sql_lexer *lx)
{
	size_t i = lx->pos;
	bool hex = at(lx, i) == '0' && (at(lx, i + 1) == 'x' || at(lx, i + 1) == 'X');

	while (i < lx->n) {
		unsigned char c = at(lx, i);

		if (is_digit(c) || is_alpha(c) || c == '_' || c == '.') {
			i++;
			continue;
		}
		if ((c == '+' || c == '-') && !hex && (at(lx, i - 1) | 0x20) == 'e' &&
		    is_digit(at(lx, i + 1))) {
			i++;
			continue;
		}
		break;
	}
	lx->pos = i;
}

/* One-letter prefixes that make the string after them a literal of their
 * own kind: E'…' (escapes), B'…' and X'…' (bits, bytes), N'…' (national). */
static bool string_prefix(unsigned char c)
{
	c |= 0x20;
	return c == 'e' || c == 'b' || c == 'x' || c == 'n';
}

static void word_or_string(struct sql_lexer *lx, struct sql_token *t)
{
	size_t i = lx->pos;
	unsigned char c = at(lx, i);

	if (string_prefix(c) && at(lx, i + 1) == '\'') {
		bool escapes = lx->dialect == SQL_MYSQL || (c | 0x20) == 'e';

		t->kind = SQL_TOK_STRING;
		lx->pos = i + 1;
		quoted(lx, t, '\'', escapes);
		return;
	}
	while (i < lx->n && word_char(at(lx, i)))
		i++;
	t->kind = SQL_TOK_WORD;
	lx->pos = i;
}

bool sql_lex(struct sql_lexer *lx, struct sql_token *t)
{
	unsigned char c;
	size_t tag;

	*t = (struct sql_token){ .kind = SQL_TOK_END };
	for (;;) {
		if (lx->pos >= lx->n) {
			t->start = lx->n;
			return false;
		}
		if (is_space(at(lx, lx->pos))) {
			lx->pos++;
			t->space_before = true;
		} else if (skip_comment(lx)) {
			t->space_before = true;
		} else {
			break;
		}
	}
	t->start = lx->pos;
	c = at(lx, lx->pos);
	if (word_start(c)) {
		word_or_string(lx, t);
	} else if (is_digit(c) || (c == '.' && is_digit(at(lx, lx->pos + 1)))) {
		t->kind = SQL_TOK_NUMBER;
		number(lx);
	} else if (c == '\'') {
		t->kind = SQL_TOK_STRING;
		quoted(lx, t, '\'', lx->dialect == SQL_MYSQL);
	} else if (c == '"') {
		t->kind = lx->dialect == SQL_MYSQL ? SQL_TOK_STRING : SQL_TOK_QUOTED_ID;
		quoted(lx, t, '"', lx->dialect == SQL_MYSQL);
	} else if (c == '`' && lx->dialect == SQL_MYSQL) {
		t->kind = SQL_TOK_QUOTED_ID;
		quoted(lx, t, '`', false);
	} else if (c == '$' && is_digit(at(lx, lx->pos + 1))) {
		t->kind = SQL_TOK_PARAM;
		lx->pos++;
		while (is_digit(at(lx, lx->pos)))
			lx->pos++;
	} else if (c == '$' && lx->dialect == SQL_POSTGRESQL && (tag = dollar_tag(lx)) != 0) {
		t->kind = SQL_TOK_STRING;
		dollar_quoted(lx, t, tag);
	} else if (c == '?') {
		t->kind = SQL_TOK_PARAM;
		lx->pos++;
	} else {
		t->kind = SQL_TOK_PUNCT;
		lx->pos++;
	}
	t->len = lx->pos - t->start;
	return true;
}

bool sql_tok_is(const struct sql_lexer *lx, const struct sql_token *t, const char *w)
{
	size_t n = strlen(w);

	return t->kind == SQL_TOK_WORD && t->len == n && !strncasecmp(lx->q + t->start, w, n);
}
