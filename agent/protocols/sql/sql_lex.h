/* SPDX-License-Identifier: MIT */
/*
 * SQL text as tokens, for the sanitiser and the summariser (sql.h). A lexer,
 * not a parser: it knows where literals, identifiers, comments and
 * punctuation begin and end in PostgreSQL's and MySQL's dialects, which is
 * what hiding literals needs. Comments and whitespace are skipped; a token
 * says whether any came before it. Pure code.
 */
#ifndef SONDE_SQL_LEX_H
#define SONDE_SQL_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "protocols/sql/sql.h"

enum sql_token_kind {
	SQL_TOK_END = 0,
	SQL_TOK_WORD,	   /* keyword or unquoted identifier: SELECT, orders, _utf8mb4 */
	SQL_TOK_QUOTED_ID, /* "Name" (both), `name` (MySQL), quotes included */
	SQL_TOK_STRING,	   /* '…', E'…', B'…', X'…', N'…', $tag$…$tag$, MySQL "…" */
	SQL_TOK_NUMBER,	   /* 42, 4.2e-1, .5, 0x1F, 0b101, 1_000 */
	SQL_TOK_PARAM,	   /* $1, ? */
	SQL_TOK_PUNCT,	   /* any other single byte: ( ) , ; . = - : @ … */
};

struct sql_token {
	enum sql_token_kind kind;
	size_t start, len; /* in the text */
	bool space_before; /* whitespace or a comment came between it and the last token */
	bool unterminated; /* a literal or quoted identifier the text ended inside */
};

struct sql_lexer {
	const char *q;
	size_t n, pos;
	enum sql_dialect dialect;
	bool in_exec_comment; /* inside a MySQL executable comment: its text is SQL */
};

void sql_lex_init(struct sql_lexer *lx, enum sql_dialect d, const char *q, size_t n);

/* The next token; SQL_TOK_END (and false) at the end of the text. */
bool sql_lex(struct sql_lexer *lx, struct sql_token *t);

/* Whether the token is the word w (ASCII, case-insensitive). */
bool sql_tok_is(const struct sql_lexer *lx, const struct sql_token *t, const char *w);

/* Whether the token is the punctuation byte c. */
static inline bool sql_tok_punct(const struct sql_lexer *lx, const struct sql_token *t, char c)
{
	return t->kind == SQL_TOK_PUNCT && lx->q[t->start] == c;
}

#endif /* SONDE_SQL_LEX_H */
