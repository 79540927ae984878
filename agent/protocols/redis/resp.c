/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "protocols/redis/resp.h"

enum {
	ST_START = 0, /* a type byte: the start of an item */
	ST_HEADER,    /* a length, count or integer line */
	ST_TEXT,      /* a text line: simple string, error, double, big number, boolean, null */
	ST_BULK,      /* a bulk value and its CRLF */
	ST_INLINE,    /* an inline command */
};

/* Bounds that tell garbage from RESP: Redis refuses longer values and lines. */
#define MAX_BULK       (1ull << 40)
#define MAX_COUNT      0x7fffffffll
#define MAX_TEXT_LINE  (1u << 20)
#define MAX_INLINE     (64u * 1024)
#define INLINE_ESCAPE  0x80 /* with quote '"': the previous byte was a backslash */
#define AGGREGATE(t)   ((t) == '*' || (t) == '%' || (t) == '~' || (t) == '>' || (t) == '|')
#define LENGTH_LINE(t) ((t) == '$' || (t) == '!' || (t) == '=')
#define KNOWN_TEXT(t) \
	((t) == '+' || (t) == '-' || (t) == ',' || (t) == '(' || (t) == '#' || (t) == '_')

void resp_parser_init(struct resp_parser *p, bool commands)
{
	memset(p, 0, sizeof(*p));
	p->commands = commands;
}

void resp_parser_reset(struct resp_parser *p)
{
	resp_parser_init(p, p->commands);
}

bool resp_at_frame_start(const struct resp_parser *p)
{
	return p->state == ST_START && !p->top_left && !p->nested_left && !p->top;
}

/* The frame's description of the item being read, or NULL (a nested item,
 * or a top-level one past RESP_ITEMS). */
static struct resp_item *described(struct resp_parser *p)
{
	if (p->top)
		return &p->frame.item[0];
	return p->depth1 && p->index < RESP_ITEMS ? &p->frame.item[p->index] : NULL;
}

/* A top-level item of an aggregate or an inline command begins. */
static void begin_depth1(struct resp_parser *p)
{
	p->top = false;
	p->depth1 = true;
	p->index = p->frame.items < RESP_ITEMS ? (uint32_t)p->frame.items : RESP_ITEMS;
	p->keep = p->index == 0 || (p->index < RESP_ITEMS && (p->capture & (1u << p->index)));
}

static void describe(struct resp_parser *p, char type)
{
	struct resp_item *it = described(p);

	if (it) {
		memset(it, 0, sizeof(*it));
		it->type = type;
		it->cut = !p->keep;
	}
}

/* A new item starts with its type byte: where does it sit? */
static void begin_item(struct resp_parser *p, char type)
{
	if (!p->top_left && !p->nested_left) {
		memset(&p->frame, 0, sizeof(p->frame));
		p->frame.type = type;
		p->top = true;
		p->depth1 = false;
		p->keep = true;
	} else if (p->nested_left) {
		p->nested_left--;
		p->top = p->depth1 = p->keep = false;
	} else {
		p->top_left--;
		begin_depth1(p);
	}
	p->type = type;
	p->left = 0;
	p->line_len = 0;
	describe(p, type);
}

/* The current item is complete (a scalar, or an aggregate's last item). */
static enum resp_result item_done(struct resp_parser *p)
{
	p->state = ST_START;
	if (p->top) {
		p->top = false;
		return RESP_FRAME;
	}
	if (p->nested_left)
		return RESP_MORE;
	if (p->attr1) {
		/* A top-level attribute's pairs are read: the item it describes follows. */
		p->attr1 = false;
		return RESP_MORE;
	}
	p->frame.items++;
	p->depth1 = false;
	if (!p->top_left)
		return RESP_FRAME;
	return p->frame.items == 1 && p->commands ? RESP_FIRST : RESP_MORE;
}

static bool parse_int(const char *s, size_t n, int64_t *out)
{
	bool neg = n && s[0] == '-';
	int64_t v = 0;
	size_t i = neg;

	if (i == n || n > 20)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

/* An aggregate's header: where do its elements go? */
static enum resp_result aggregate(struct resp_parser *p, int64_t n)
{
	struct resp_item *it = described(p);
	uint64_t elems = (uint64_t)(n < 0 ? 0 : n) * (p->type == '%' || p->type == '|' ? 2 : 1);

	if (it) {
		it->num = n;
		it->null = n < 0;
	}
	if (p->top) {
		p->frame.count = n;
		if (!elems)
			return item_done(p);
		p->top = false;
		p->top_left = elems;
		p->state = ST_START;
		return RESP_MORE;
	}
	if (p->type == '|') {
		/* An attribute is not an item: it comes before the one it describes. */
		if (p->depth1) {
			p->top_left++;
			p->attr1 = elems > 0;
		} else {
			p->nested_left++;
		}
		p->nested_left += elems;
		p->depth1 = false;
		p->state = ST_START;
		return RESP_MORE;
	}
	if (!elems)
		return item_done(p);
	p->nested_left += elems;
	p->state = ST_START;
	return RESP_MORE;
}

/* A complete length/count/integer line (CR stripped). */
static enum resp_result header_line(struct resp_parser *p)
{
	struct resp_item *it = described(p);
	int64_t n;

	if (!parse_int(p->line, p->line_len, &n))
		return RESP_BAD;
	if (p->type == ':') {
		if (it)
			it->num = n;
		return item_done(p);
	}
	if (AGGREGATE(p->type)) {
		if (n > MAX_COUNT || (n < 0 && (n != -1 || p->type != '*')))
			return RESP_BAD;
		/* A command is an array of bulk strings: no nesting. */
		if (p->commands && !p->top)
			return RESP_BAD;
		return aggregate(p, n);
	}
	/* $ ! = : a length-prefixed value. */
	if ((uint64_t)n > MAX_BULK && !(n == -1 && p->type == '$'))
		return RESP_BAD;
	if (n < 0) {
		if (it)
			it->null = true;
		return item_done(p);
	}
	if (it) {
		it->num = n;
		it->cut = !p->keep || n > RESP_KEEP;
	}
	p->left = (uint64_t)n + 2;
	p->state = ST_BULK;
	return RESP_MORE;
}

/* A complete text line (+ - , ( # _): what is kept of it was copied as it came. */
static enum resp_result text_line(struct resp_parser *p)
{
	struct resp_item *it = described(p);
	uint64_t content = p->left - 1; /* without the CR */

	if (p->type == '_' && content)
		return RESP_BAD;
	if (p->type == '#' && content != 1)
		return RESP_BAD;
	if (it) {
		it->null = p->type == '_';
		if (it->len > content)
			it->len = (uint8_t)content;
		it->cut = !p->keep || content > RESP_KEEP;
	}
	return item_done(p);
}

static void keep_bytes(struct resp_parser *p, const uint8_t *b, size_t n)
{
	struct resp_item *it = described(p);
	size_t room;

	if (!it || !p->keep || !n)
		return;
	room = RESP_KEEP - it->len;
	if (n > room) {
		n = room;
		it->cut = true;
	}
	memcpy(it->text + it->len, b, n);
	it->len += (uint8_t)n;
}

static enum resp_result inline_byte(struct resp_parser *p, uint8_t c);

/* The type byte of a new item. */
static enum resp_result start_item(struct resp_parser *p, uint8_t c)
{
	bool frame_start = !p->top_left && !p->nested_left;

	if (p->commands) {
		if (frame_start && c != '*') {
			if (c < 0x20 && c != '\r' && c != '\n' && c != '\t')
				return RESP_BAD;
			if (c >= 0x7f)
				return RESP_BAD;
			begin_item(p, RESP_INLINE);
			p->top = false; /* its words are described as top-level items */
			p->state = ST_INLINE;
			p->quote = 0;
			return inline_byte(p, c);
		}
		if (!frame_start && c != '$')
			return RESP_BAD;
	} else if (!AGGREGATE(c) && !LENGTH_LINE(c) && !KNOWN_TEXT(c) && c != ':') {
		return RESP_BAD;
	}
	begin_item(p, (char)c);
	p->state = AGGREGATE(c) || LENGTH_LINE(c) || c == ':' ? ST_HEADER : ST_TEXT;
	return RESP_MORE;
}

/* Inline command: words separated by blanks, with "quoted" and 'quoted' words. */
static void inline_word_end(struct resp_parser *p)
{
	p->line_len = 0; /* not in a word */
	p->depth1 = false;
	p->frame.items++;
}

static enum resp_result inline_byte(struct resp_parser *p, uint8_t c)
{
	bool blank = c == ' ' || c == '\t' || c == '\r' || c == '\n';

	if (++p->left > MAX_INLINE || (c < 0x20 && !blank) || c == 0x7f)
		return RESP_BAD;
	if (p->quote) {
		if (c == '\n')
			return RESP_BAD; /* Redis refuses unbalanced quotes */
		if (p->quote & INLINE_ESCAPE) {
			p->quote &= (uint8_t)~INLINE_ESCAPE;
			keep_bytes(p, &c, 1);
		} else if (c == '\\' && p->quote == '"') {
			p->quote |= INLINE_ESCAPE;
		} else if (c == p->quote) {
			p->quote = 0; /* the word ends at the next blank */
		} else {
			keep_bytes(p, &c, 1);
		}
		return RESP_MORE;
	}
	if (blank) {
		bool in_word = p->line_len;

		if (in_word)
			inline_word_end(p);
		if (c == '\n') {
			p->frame.count = (int64_t)p->frame.items;
			p->state = ST_START;
			return RESP_FRAME;
		}
		return in_word && p->frame.items == 1 ? RESP_FIRST : RESP_MORE;
	}
	if (!p->line_len) {
		/* A word begins. */
		p->line_len = 1;
		begin_depth1(p);
		describe(p, '$');
		if (c == '"' || c == '\'') {
			p->quote = c;
			return RESP_MORE;
		}
	}
	keep_bytes(p, &c, 1);
	return RESP_MORE;
}

static enum resp_result bulk_bytes(struct resp_parser *p, const uint8_t *data, size_t len,
				   size_t *i)
{
	while (*i < len) {
		if (p->left > 2) {
			size_t n = len - *i;

			if (n > p->left - 2)
				n = (size_t)(p->left - 2);
			keep_bytes(p, data + *i, n);
			*i += n;
			p->left -= n;
			continue;
		}
		if (data[*i] != (p->left == 2 ? '\r' : '\n'))
			return RESP_BAD;
		(*i)++;
		if (--p->left == 0)
			return item_done(p);
	}
	return RESP_MORE;
}

enum resp_result resp_parse(struct resp_parser *p, const uint8_t *data, size_t len, size_t *used)
{
	enum resp_result r = RESP_MORE;
	size_t i = 0;

	while (i < len && r == RESP_MORE) {
		uint8_t c = data[i];

		switch (p->state) {
		case ST_START:
			i++;
			r = start_item(p, c);
			break;
		case ST_HEADER:
			i++;
			if (c == '\n') {
				if (!p->line_len || p->line[p->line_len - 1] != '\r')
					r = RESP_BAD;
				else
					p->line_len--, r = header_line(p);
			} else if (p->line_len == sizeof(p->line)) {
				r = RESP_BAD;
			} else {
				p->line[p->line_len++] = (char)c;
			}
			break;
		case ST_TEXT: {
			const uint8_t *nl = memchr(data + i, '\n', len - i);
			size_t n = nl ? (size_t)(nl - (data + i)) : len - i;

			keep_bytes(p, data + i, n);
			if (n)
				p->line_len = data[i + n - 1] == '\r';
			p->left += n;
			i += n;
			if (p->left > MAX_TEXT_LINE)
				r = RESP_BAD;
			else if (nl) {
				i++;
				r = p->line_len && p->left ? text_line(p) : RESP_BAD;
			}
			break;
		}
		case ST_BULK:
			r = bulk_bytes(p, data, len, &i);
			break;
		case ST_INLINE:
			i++;
			r = inline_byte(p, c);
			break;
		default:
			r = RESP_BAD;
		}
	}
	*used = i;
	return r;
}

enum resp_result resp_skip(struct resp_parser *p, uint64_t n)
{
	if (!n)
		return RESP_MORE;
	if (p->state != ST_BULK || p->left < n)
		return RESP_BAD;
	p->left -= n;
	return p->left ? RESP_MORE : item_done(p);
}
