/*
 * Copyright (c) 2026 The oidcd authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * A template engine for the part of Go's html/template that Dex's login
 * pages use, so that a Dex theme (frontend.dir) renders unchanged:
 *
 *	text, comments (a C comment right inside the braces),
 *	trim markers {{- and -}},
 *	{{ pipeline }}, {{ $v := pipeline }}, {{ $v = pipeline }},
 *	{{ if }} {{ else if }} {{ else with }} {{ else }} {{ end }},
 *	{{ range [$i,] $v := pipeline }} with {{ else }}, {{ break }},
 *	{{ continue }}, {{ with }}, {{ template "name" [pipeline] }},
 *	{{ define "name" }}, {{ block "name" pipeline }},
 *	fields .A.B, $, $v.A, (pipeline).A, strings, numbers, true, false,
 *	nil, pipes "x | f", and the functions in functab[] below.
 *
 * Text is parsed into a tree once; tmpl_render() walks it.  The data is
 * jansson values: a field is an object member, a missing one is null.
 *
 * Escaping is contextual but decided while rendering, not ahead of time
 * as Go does: every byte written goes through a small HTML tokenizer
 * (struct hctx), so that each action knows whether it prints into text,
 * an attribute value (quoted or not, URL or not), a tag, a comment, or a
 * script or style, where the render fails rather than guess.
 */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "log.h"
#include "template.h"

#define ARENA_CHUNK	16384
#define BADURL		"#ZoidcdZ"	/* what a refused URL becomes */
#define BADNAME		"ZoidcdZ"	/* what a refused attr name becomes */

struct chunk {
	struct chunk	*c_next;
	size_t		 c_used;
	size_t		 c_size;
	/* Keeps c_data aligned for any object allocated from it. */
	max_align_t	 c_data[];
};

/* One tmpl_set_add(): the arena its tree lives in and its literals. */
struct unit {
	struct unit	*u_next;
	struct chunk	*u_chunks;
	json_t		*u_lits;
};

enum tok_type {
	T_IDENT, T_FIELD, T_DOT, T_VAR, T_STRING, T_NUMBER, T_LPAREN,
	T_RPAREN, T_PIPE, T_DECLARE, T_ASSIGN, T_COMMA, T_END
};

struct tok {
	enum tok_type	 type;
	int		 space;		/* white space before it */
	int		 line;
	const char	*s;
	size_t		 len;
	json_t		*lit;		/* T_STRING, T_NUMBER */
};

enum arg_type { A_DOT, A_FIELD, A_VAR, A_LIT, A_FUNC, A_PIPE };

struct pipe;

struct arg {
	enum arg_type	 type;
	const char	*name;		/* A_VAR: "$x"; A_FUNC */
	int		 func;		/* A_FUNC: index in functab */
	json_t		*lit;		/* A_LIT, borrowed from u_lits */
	struct pipe	*pipe;		/* A_PIPE */
	const char	**fields;	/* .A.B after it */
	int		 nfields;
};

struct cmd {
	struct arg	*args;
	int		 nargs;
};

struct pipe {
	const char	*decl[2];	/* variables it declares or sets */
	int		 ndecl;
	int		 assign;	/* "=" rather than ":=" */
	struct cmd	*cmds;
	int		 ncmds;
	int		 line;
};

enum node_type {
	N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH, N_TEMPLATE, N_BREAK,
	N_CONTINUE
};

struct node {
	enum node_type	 type;
	int		 line;
	struct node	*next;
	const char	*text;		/* N_TEXT; N_TEMPLATE: the name */
	size_t		 len;
	struct pipe	*pipe;
	struct node	*list;		/* if, range, with: the body */
	struct node	*elist;		/* and the else part */
};

struct tmpl {
	char		 t_name[TMPL_MAX_NAME];
	struct node	*t_root;
};

struct tmpl_set {
	struct tmpl	 ts_tmpl[TMPL_MAX_TEMPLATES];
	int		 ts_n;
	struct unit	*ts_units;
};

/* Keywords that end a list. */
enum { K_EOF, K_END, K_ELSE };

struct parser {
	struct unit	*u;
	const char	*name;
	const char	*p, *end;
	int		 line;
	char		*err;
	size_t		 errlen;
	int		 failed;
	int		 trimnext;	/* the last action ended with -}} */
	struct tok	 toks[TMPL_MAX_TOKENS + 1];
	int		 ntok, pos;
	int		 aline;		/* line of the current action */
	const char	*vars[TMPL_MAX_VARS];
	int		 nvars;
	int		 depth;
	int		 inrange;
	int		 nnodes;
	/* {{ define }}d templates found in this text */
	struct tmpl	 defs[TMPL_MAX_TEMPLATES];
	int		 ndefs;
};

/* HTML tokenizer states for contextual escaping. */
enum hstate {
	H_TEXT, H_RCDATA, H_RAWTEXT, H_COMMENT, H_DECL, H_TAGOPEN, H_TAGNAME,
	H_TAG, H_ATTRNAME, H_AFTERNAME, H_BEFOREVAL, H_VAL_DQ, H_VAL_SQ,
	H_VAL_UQ
};

enum akind { AK_PLAIN, AK_URL, AK_JS, AK_CSS };

struct hctx {
	enum hstate	 state;
	char		 tag[16];
	size_t		 taglen;
	int		 endtag;
	char		 attr[32];
	size_t		 attrlen;
	enum akind	 akind;
	int		 urlpart;	/* 0 start, 1 scheme?, 2 path, 3 query */
	size_t		 match;		/* of "</tag" in raw text, or "--" */
	int		 dashes;
};

struct var {
	const char	*name;
	json_t		*val;
};

struct render {
	const struct tmpl_set	*set;
	const struct tmpl_funcs	*funcs;
	const char		*tname;		/* for error messages */
	struct evbuffer		*buf;
	size_t			 outlen;
	struct hctx		 hc;
	struct var		 vars[TMPL_MAX_VARS];
	int			 nvars;
	int			 vbase;		/* first var of this call */
	int			 calls;
	long			 iter;
	int			 brk;		/* 1 break, 2 continue */
	char			 err[160];
	int			 failed;
};

typedef json_t	*(*func_fn)(struct render *, json_t **, int);

struct func {
	const char	*name;
	int		 minargs;
	int		 maxargs;
	func_fn		 fn;
};

static int	 parse_list(struct parser *, struct node **, int *);
static int	 parse_pipeline(struct parser *, int, int, struct pipe **);
static json_t	*eval_pipe(struct render *, const struct pipe *, json_t *);
static int	 exec_list(struct render *, const struct node *, json_t *);
static int	 emit(struct render *, const char *, size_t);

/*
 * Arena.
 */

static void *
arena_alloc(struct unit *u, size_t len)
{
	struct chunk	*c = u->u_chunks;
	size_t		 al = sizeof(max_align_t), sz;
	void		*p;

	len = (len + al - 1) / al * al;
	if (len == 0)
		len = al;
	if (c == NULL || c->c_size - c->c_used < len) {
		sz = len > ARENA_CHUNK ? len : ARENA_CHUNK;
		if ((c = calloc(1, sizeof(*c) + sz)) == NULL)
			return (NULL);
		c->c_size = sz;
		c->c_next = u->u_chunks;
		u->u_chunks = c;
	}
	p = (char *)c->c_data + c->c_used;
	c->c_used += len;
	return (p);
}

static char *
arena_strndup(struct unit *u, const char *s, size_t len)
{
	char	*p;

	if ((p = arena_alloc(u, len + 1)) == NULL)
		return (NULL);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

static void
unit_free(struct unit *u)
{
	struct chunk	*c, *n;

	for (c = u->u_chunks; c != NULL; c = n) {
		n = c->c_next;
		free(c);
	}
	json_decref(u->u_lits);
	free(u);
}

/*
 * Lexer and parser.
 */

static int __attribute__((format(printf, 2, 3)))
perr(struct parser *P, const char *fmt, ...)
{
	char	 msg[128];
	va_list	 ap;

	if (P->failed)
		return (-1);
	P->failed = 1;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (P->err != NULL && P->errlen > 0)
		(void)snprintf(P->err, P->errlen, "%s:%d: %s", P->name,
		    P->aline, msg);
	return (-1);
}

static void *
palloc(struct parser *P, size_t len)
{
	void	*p;

	if ((p = arena_alloc(P->u, len)) == NULL)
		(void)perr(P, "out of memory");
	return (p);
}

static int
is_space(int c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

static int
is_identc(int c)
{
	return (isalnum((unsigned char)c) || c == '_');
}

/* Does the action end here: "}}", or " -}}" when space is set? */
static int
at_close(struct parser *P, const char *q, int space, int *trim)
{
	if (space && P->end - q >= 3 && q[0] == '-' && q[1] == '}' &&
	    q[2] == '}') {
		*trim = 1;
		return (3);
	}
	if (P->end - q >= 2 && q[0] == '}' && q[1] == '}') {
		*trim = 0;
		return (2);
	}
	return (0);
}

static void
advance(struct parser *P, const char *to)
{
	for (; P->p < to; P->p++)
		if (*P->p == '\n')
			P->line++;
}

static int
lex_string(struct parser *P, struct tok *t)
{
	const char	*q = P->p + 1;
	char		*buf, *o;
	int		 c;

	if (*P->p == '`') {
		while (q < P->end && *q != '`')
			q++;
		if (q >= P->end)
			return (perr(P, "unterminated raw quoted string"));
		if ((t->lit = json_stringn(P->p + 1, q - P->p - 1)) == NULL)
			return (perr(P, "string is not UTF-8"));
		advance(P, q + 1);
		return (0);
	}
	if ((buf = malloc(P->end - P->p)) == NULL)
		return (perr(P, "out of memory"));
	o = buf;
	while (q < P->end && *q != '"') {
		if (*q == '\n') {
			free(buf);
			return (perr(P, "unterminated quoted string"));
		}
		if (*q != '\\') {
			*o++ = *q++;
			continue;
		}
		if (++q >= P->end)
			break;
		switch ((c = *q++)) {
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case '\\':
		case '"':
		case '\'':
			*o++ = c;
			break;
		default:
			free(buf);
			return (perr(P, "unsupported escape \\%c in string",
			    isprint(c) ? c : '?'));
		}
	}
	if (q >= P->end) {
		free(buf);
		return (perr(P, "unterminated quoted string"));
	}
	t->lit = json_stringn(buf, o - buf);
	free(buf);
	if (t->lit == NULL)
		return (perr(P, "string is not UTF-8 or holds NUL"));
	advance(P, q + 1);
	return (0);
}

static int
lex_number(struct parser *P, struct tok *t)
{
	const char	*q = P->p;
	char		 buf[64];
	char		*ep;
	int		 isreal = 0;
	long long	 ll;
	double		 d;

	if (*q == '-' || *q == '+')
		q++;
	while (q < P->end && (isalnum((unsigned char)*q) || *q == '.' ||
	    ((*q == '-' || *q == '+') && (q[-1] == 'e' || q[-1] == 'E')))) {
		if (*q == '.' || *q == 'e' || *q == 'E')
			isreal = 1;
		q++;
	}
	if ((size_t)(q - P->p) >= sizeof(buf))
		return (perr(P, "number too long"));
	memcpy(buf, P->p, q - P->p);
	buf[q - P->p] = '\0';
	errno = 0;
	if (isreal) {
		d = strtod(buf, &ep);
		if (*ep != '\0' || errno != 0)
			return (perr(P, "bad number syntax: %s", buf));
		t->lit = json_real(d);
	} else {
		ll = strtoll(buf, &ep, 10);
		if (*ep != '\0' || errno != 0)
			return (perr(P, "bad number syntax: %s", buf));
		t->lit = json_integer(ll);
	}
	if (t->lit == NULL)
		return (perr(P, "out of memory"));
	advance(P, q);
	return (0);
}

/*
 * Split one action into P->toks, P->p just past "{{" and its trim
 * marker; on return P->p is past "}}".  Returns 1 for a comment.
 */
static int
lex_action(struct parser *P)
{
	struct tok	*t;
	const char	*q;
	int		 space = 1, trim, n;

	P->ntok = P->pos = 0;
	P->aline = P->line;
	while (P->p < P->end && is_space(*P->p))
		advance(P, P->p + 1);
	if (P->end - P->p >= 2 && P->p[0] == '/' && P->p[1] == '*') {
		for (q = P->p + 2; P->end - q >= 2; q++)
			if (q[0] == '*' && q[1] == '/')
				break;
		if (P->end - q < 2)
			return (perr(P, "unclosed comment"));
		advance(P, q + 2);
		space = 0;
		while (P->p < P->end && is_space(*P->p)) {
			advance(P, P->p + 1);
			space = 1;
		}
		if ((n = at_close(P, P->p, space, &trim)) == 0)
			return (perr(P, "comment ends before closing "
			    "delimiter"));
		P->p += n;
		P->trimnext = trim;
		return (1);
	}
	for (;;) {
		space = 0;
		while (P->p < P->end && is_space(*P->p)) {
			advance(P, P->p + 1);
			space = 1;
		}
		if (P->p >= P->end)
			return (perr(P, "unclosed action"));
		if ((n = at_close(P, P->p, space || P->ntok == 0, &trim)) !=
		    0) {
			P->p += n;
			P->trimnext = trim;
			break;
		}
		if (P->ntok >= TMPL_MAX_TOKENS)
			return (perr(P, "too many tokens in action"));
		t = &P->toks[P->ntok++];
		memset(t, 0, sizeof(*t));
		t->space = space;
		t->line = P->line;
		t->s = P->p;
		q = P->p;
		if (*q == '"' || *q == '`') {
			t->type = T_STRING;
			if (lex_string(P, t) == -1)
				return (-1);
		} else if (isdigit((unsigned char)*q) || ((*q == '-' ||
		    *q == '+') && P->end - q > 1 &&
		    isdigit((unsigned char)q[1]))) {
			t->type = T_NUMBER;
			if (lex_number(P, t) == -1)
				return (-1);
		} else if (*q == '.' && P->end - q > 1 && is_identc(q[1]) &&
		    !isdigit((unsigned char)q[1])) {
			t->type = T_FIELD;
			for (q++; q < P->end && is_identc(*q); q++)
				;
			t->s++;
			t->len = q - t->s;
			advance(P, q);
		} else if (*q == '.') {
			t->type = T_DOT;
			advance(P, q + 1);
		} else if (*q == '$') {
			t->type = T_VAR;
			for (q++; q < P->end && is_identc(*q); q++)
				;
			t->len = q - t->s;
			advance(P, q);
		} else if (isalpha((unsigned char)*q) || *q == '_') {
			t->type = T_IDENT;
			for (; q < P->end && is_identc(*q); q++)
				;
			t->len = q - t->s;
			advance(P, q);
		} else if (*q == ':' && P->end - q > 1 && q[1] == '=') {
			t->type = T_DECLARE;
			advance(P, q + 2);
		} else {
			switch (*q) {
			case '(':
				t->type = T_LPAREN;
				break;
			case ')':
				t->type = T_RPAREN;
				break;
			case '|':
				t->type = T_PIPE;
				break;
			case '=':
				t->type = T_ASSIGN;
				break;
			case ',':
				t->type = T_COMMA;
				break;
			default:
				return (perr(P, "unexpected %s in action",
				    isprint((unsigned char)*q) ?
				    "character" : "byte"));
			}
			advance(P, q + 1);
		}
		if (t->lit != NULL && json_array_append_new(P->u->u_lits,
		    t->lit) == -1)
			return (perr(P, "out of memory"));
	}
	t = &P->toks[P->ntok];
	memset(t, 0, sizeof(*t));
	t->type = T_END;
	t->line = P->line;
	return (0);
}

static struct tok *
peek(struct parser *P)
{
	return (&P->toks[P->pos]);
}

static int
tok_is(const struct tok *t, const char *word)
{
	return (t->type == T_IDENT && t->len == strlen(word) &&
	    memcmp(t->s, word, t->len) == 0);
}

static int
expect_end(struct parser *P, const char *what)
{
	if (peek(P)->type != T_END)
		return (perr(P, "unexpected token in %s", what));
	return (0);
}

static struct node *
new_node(struct parser *P, enum node_type type)
{
	struct node	*n;

	if (++P->nnodes > TMPL_MAX_NODES) {
		(void)perr(P, "template too complex");
		return (NULL);
	}
	if ((n = palloc(P, sizeof(*n))) == NULL)
		return (NULL);
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = P->aline;
	return (n);
}

static int
var_known(struct parser *P, const struct tok *t)
{
	int	 i;

	if (t->len == 1)
		return (1);	/* $ */
	for (i = P->nvars - 1; i >= 0; i--)
		if (strlen(P->vars[i]) == t->len &&
		    memcmp(P->vars[i], t->s, t->len) == 0)
			return (1);
	return (0);
}

static const struct func	functab[];
static const size_t		nfunctab;

static int
func_lookup(const struct tok *t)
{
	size_t	 i;

	for (i = 0; i < nfunctab; i++)
		if (strlen(functab[i].name) == t->len &&
		    memcmp(functab[i].name, t->s, t->len) == 0)
			return ((int)i);
	return (-1);
}

/*
 * Fields chained right after an operand with no space: $x.A.B.  For a
 * field operand (.A.B) the first one is the token just consumed.
 */
static int
parse_chain(struct parser *P, struct arg *a, int first)
{
	const char	*f[TMPL_MAX_TOKENS];
	int		 n = 0;

	if (first)
		P->pos--;
	while (peek(P)->type == T_FIELD && ((first && n == 0) ||
	    !peek(P)->space)) {
		if ((f[n] = arena_strndup(P->u, peek(P)->s, peek(P)->len)) ==
		    NULL)
			return (perr(P, "out of memory"));
		n++;
		P->pos++;
	}
	if (n == 0)
		return (0);
	if ((a->fields = palloc(P, n * sizeof(*a->fields))) == NULL)
		return (-1);
	memcpy(a->fields, f, n * sizeof(*a->fields));
	a->nfields = n;
	return (0);
}

static int
parse_operand(struct parser *P, struct arg *a)
{
	struct tok	*t = peek(P);

	memset(a, 0, sizeof(*a));
	switch (t->type) {
	case T_FIELD:
		a->type = A_FIELD;
		P->pos++;
		return (parse_chain(P, a, 1));
	case T_DOT:
		a->type = A_DOT;
		P->pos++;
		return (0);
	case T_VAR:
		if (!var_known(P, t))
			return (perr(P, "undefined variable \"%.*s\"",
			    (int)(t->len > 32 ? 32 : t->len), t->s));
		a->type = A_VAR;
		if ((a->name = arena_strndup(P->u, t->s, t->len)) == NULL)
			return (perr(P, "out of memory"));
		P->pos++;
		return (parse_chain(P, a, 0));
	case T_STRING:
	case T_NUMBER:
		a->type = A_LIT;
		a->lit = t->lit;
		P->pos++;
		return (0);
	case T_LPAREN:
		if (P->depth >= TMPL_MAX_NEST)
			return (perr(P, "nesting too deep"));
		P->pos++;
		a->type = A_PIPE;
		P->depth++;
		if (parse_pipeline(P, 0, T_RPAREN, &a->pipe) == -1)
			return (-1);
		P->depth--;
		P->pos++;	/* ) */
		return (parse_chain(P, a, 0));
	case T_IDENT:
		a->type = A_LIT;
		if (tok_is(t, "true"))
			a->lit = json_true();
		else if (tok_is(t, "false"))
			a->lit = json_false();
		else if (tok_is(t, "nil"))
			a->lit = json_null();
		else {
			a->type = A_FUNC;
			if ((a->func = func_lookup(t)) == -1)
				return (perr(P, "function \"%.*s\" not "
				    "defined", (int)(t->len > 32 ? 32 :
				    t->len), t->s));
			a->name = functab[a->func].name;
		}
		P->pos++;
		return (0);
	default:
		return (perr(P, "unexpected token in operand"));
	}
}

static int
parse_command(struct parser *P, int endtok, struct cmd *c)
{
	struct arg	 args[TMPL_MAX_ARGS + 1];
	int		 n = 0;
	struct tok	*t;

	for (;;) {
		t = peek(P);
		if (t->type == T_PIPE || t->type == (enum tok_type)endtok ||
		    t->type == T_END)
			break;
		if (n > TMPL_MAX_ARGS)
			return (perr(P, "too many arguments"));
		if (n > 0 && !t->space)
			return (perr(P, "missing space between operands"));
		if (parse_operand(P, &args[n]) == -1)
			return (-1);
		n++;
	}
	if (n == 0)
		return (perr(P, "missing value for command"));
	if (n > 1 && args[0].type != A_FUNC)
		return (perr(P, "can't give argument to non-function"));
	if ((c->args = palloc(P, n * sizeof(*c->args))) == NULL)
		return (-1);
	memcpy(c->args, args, n * sizeof(*c->args));
	c->nargs = n;
	return (0);
}

static int
declare(struct parser *P, const char *name)
{
	if (P->nvars >= TMPL_MAX_VARS)
		return (perr(P, "too many variables"));
	P->vars[P->nvars++] = name;
	return (0);
}

/*
 * pipeline := [decl] command { "|" command }, up to endtok (T_END or
 * T_RPAREN, which is left for the caller).
 */
static int
parse_pipeline(struct parser *P, int allowdecl, int endtok,
    struct pipe **out)
{
	struct pipe	*pp;
	struct cmd	 cmds[TMPL_MAX_ARGS];
	struct tok	*t = peek(P);
	int		 n = 0, i;

	if ((pp = palloc(P, sizeof(*pp))) == NULL)
		return (-1);
	memset(pp, 0, sizeof(*pp));
	pp->line = P->aline;
	if (allowdecl && t->type == T_VAR) {
		if (t[1].type == T_DECLARE || t[1].type == T_ASSIGN) {
			pp->ndecl = 1;
			pp->assign = t[1].type == T_ASSIGN;
		} else if (allowdecl == 2 && t[1].type == T_COMMA &&
		    t[2].type == T_VAR && t[3].type == T_DECLARE)
			pp->ndecl = 2;
		for (i = 0; i < pp->ndecl; i++) {
			if (t[2 * i].len == 1)
				return (perr(P, "cannot declare $"));
			if ((pp->decl[i] = arena_strndup(P->u, t[2 * i].s,
			    t[2 * i].len)) == NULL)
				return (perr(P, "out of memory"));
		}
		if (pp->assign && !var_known(P, t))
			return (perr(P, "undefined variable \"%.*s\"",
			    (int)(t->len > 32 ? 32 : t->len), t->s));
		P->pos += pp->ndecl * 2;
	}
	for (;;) {
		if (n >= TMPL_MAX_ARGS)
			return (perr(P, "pipeline too long"));
		if (parse_command(P, endtok, &cmds[n]) == -1)
			return (-1);
		n++;
		t = peek(P);
		if (t->type == T_PIPE) {
			P->pos++;
			continue;
		}
		if (t->type != (enum tok_type)endtok)
			return (perr(P, endtok == T_RPAREN ?
			    "unclosed left paren" : "unexpected token in "
			    "pipeline"));
		break;
	}
	if ((pp->cmds = palloc(P, n * sizeof(*pp->cmds))) == NULL)
		return (-1);
	memcpy(pp->cmds, cmds, n * sizeof(*pp->cmds));
	pp->ncmds = n;
	/* Declared after the pipeline: "$x := $x" sees the outer $x. */
	if (!pp->assign)
		for (i = 0; i < pp->ndecl; i++)
			if (declare(P, pp->decl[i]) == -1)
				return (-1);
	*out = pp;
	return (0);
}

static int
parse_name(struct parser *P, const char **name)
{
	struct tok	*t = peek(P);
	const char	*s;

	if (t->type != T_STRING)
		return (perr(P, "template name must be a string"));
	s = json_string_value(t->lit);
	if (s[0] == '\0' || strlen(s) >= TMPL_MAX_NAME ||
	    strlen(s) != json_string_length(t->lit))
		return (perr(P, "bad template name"));
	*name = s;
	P->pos++;
	return (0);
}

/* if, with and range after their keyword; else-if chains recurse. */
static int
parse_control(struct parser *P, enum node_type type, struct node **out)
{
	struct node	*n;
	int		 saved = P->nvars, kw, mark;

	if (P->depth >= TMPL_MAX_NEST)
		return (perr(P, "nesting too deep"));
	if ((n = new_node(P, type)) == NULL)
		return (-1);
	if (parse_pipeline(P, type == N_RANGE ? 2 : 1, T_END, &n->pipe) ==
	    -1)
		return (-1);
	P->depth++;
	if (type == N_RANGE)
		P->inrange++;
	mark = P->nvars;
	if (parse_list(P, &n->list, &kw) == -1)
		return (-1);
	if (type == N_RANGE)
		P->inrange--;
	P->nvars = mark;
	if (kw == K_ELSE) {
		if (type != N_RANGE && (tok_is(peek(P), "if") ||
		    tok_is(peek(P), "with"))) {
			enum node_type	 t2;

			t2 = tok_is(peek(P), "if") ? N_IF : N_WITH;
			P->pos++;
			/* The chained one consumes the shared {{ end }}. */
			if (parse_control(P, t2, &n->elist) == -1)
				return (-1);
			kw = K_END;
		} else {
			if (expect_end(P, "else") == -1)
				return (-1);
			if (parse_list(P, &n->elist, &kw) == -1)
				return (-1);
			if (kw != K_END)
				return (perr(P, kw == K_ELSE ?
				    "expected end; found {{else}}" :
				    "unexpected EOF"));
		}
	} else if (kw != K_END)
		return (perr(P, "unexpected EOF"));
	P->depth--;
	P->nvars = saved;
	*out = n;
	return (0);
}

static int
add_def(struct parser *P, const char *name, struct node *root)
{
	int	 i;

	for (i = 0; i < P->ndefs; i++)
		if (strcmp(P->defs[i].t_name, name) == 0)
			return (perr(P, "template: multiple definition of "
			    "template \"%s\"", name));
	if (P->ndefs >= TMPL_MAX_TEMPLATES)
		return (perr(P, "too many templates"));
	(void)strlcpy(P->defs[P->ndefs].t_name, name, TMPL_MAX_NAME);
	P->defs[P->ndefs].t_root = root;
	P->ndefs++;
	return (0);
}

/* {{ define "x" }} ... {{ end }}, or the body of {{ block }}. */
static int
parse_define(struct parser *P, const char *name)
{
	struct node	*root = NULL;
	const char	*saved[TMPL_MAX_VARS];
	int		 nsaved = P->nvars, kw, inrange = P->inrange;

	memcpy(saved, P->vars, sizeof(saved));
	P->nvars = 0;
	P->inrange = 0;
	P->depth++;
	if (parse_list(P, &root, &kw) == -1)
		return (-1);
	if (kw != K_END)
		return (perr(P, "unexpected %s in define",
		    kw == K_ELSE ? "{{else}}" : "EOF"));
	P->depth--;
	memcpy(P->vars, saved, sizeof(saved));
	P->nvars = nsaved;
	P->inrange = inrange;
	return (add_def(P, name, root));
}

/*
 * Parse text and actions up to {{ end }}, {{ else }} or the end of the
 * text; *kw says which.  For {{ else }} the tokens after "else" are
 * left in P->toks for the caller.
 */
static int
parse_list(struct parser *P, struct node **head, int *kw)
{
	struct node	**tail = head, *n;
	const char	*open, *text, *q;
	size_t		 len;
	int		 trimleft, r, textline;
	struct tok	*t;

	*head = NULL;
	for (;;) {
		/* Text up to the next "{{". */
		if (P->trimnext)
			while (P->p < P->end && is_space(*P->p))
				advance(P, P->p + 1);
		P->trimnext = 0;
		text = P->p;
		textline = P->line;
		open = memmem(P->p, P->end - P->p, "{{", 2);
		q = open != NULL ? open : P->end;
		len = q - text;
		trimleft = open != NULL && P->end - open >= 4 &&
		    open[2] == '-' && is_space(open[3]);
		if (trimleft)
			while (len > 0 && is_space(text[len - 1]))
				len--;
		if (len > 0) {
			P->aline = textline;
			if ((n = new_node(P, N_TEXT)) == NULL)
				return (-1);
			if ((n->text = arena_strndup(P->u, text, len)) ==
			    NULL)
				return (perr(P, "out of memory"));
			n->len = len;
			*tail = n;
			tail = &n->next;
		}
		advance(P, q);
		if (open == NULL) {
			*kw = K_EOF;
			return (0);
		}
		P->p += trimleft ? 3 : 2;
		if ((r = lex_action(P)) == -1)
			return (-1);
		if (r == 1)
			continue;	/* comment */
		t = peek(P);
		if (t->type == T_END)
			return (perr(P, "missing value for command"));
		n = NULL;
		if (tok_is(t, "end")) {
			P->pos++;
			if (expect_end(P, "end") == -1)
				return (-1);
			*kw = K_END;
			return (0);
		} else if (tok_is(t, "else")) {
			P->pos++;
			*kw = K_ELSE;
			return (0);
		} else if (tok_is(t, "if")) {
			P->pos++;
			if (parse_control(P, N_IF, &n) == -1)
				return (-1);
		} else if (tok_is(t, "with")) {
			P->pos++;
			if (parse_control(P, N_WITH, &n) == -1)
				return (-1);
		} else if (tok_is(t, "range")) {
			P->pos++;
			if (parse_control(P, N_RANGE, &n) == -1)
				return (-1);
		} else if (tok_is(t, "break") || tok_is(t, "continue")) {
			if (P->inrange == 0)
				return (perr(P, "{{%.*s}} outside {{range}}",
				    (int)t->len, t->s));
			if ((n = new_node(P, tok_is(t, "break") ? N_BREAK :
			    N_CONTINUE)) == NULL)
				return (-1);
			P->pos++;
			if (expect_end(P, "break or continue") == -1)
				return (-1);
		} else if (tok_is(t, "template") || tok_is(t, "block")) {
			int	 block = tok_is(t, "block");

			P->pos++;
			if ((n = new_node(P, N_TEMPLATE)) == NULL)
				return (-1);
			if (parse_name(P, &n->text) == -1)
				return (-1);
			if (peek(P)->type != T_END && parse_pipeline(P, 0,
			    T_END, &n->pipe) == -1)
				return (-1);
			if (block && n->pipe == NULL)
				return (perr(P, "block needs a pipeline"));
			if (block && parse_define(P, n->text) == -1)
				return (-1);
		} else if (tok_is(t, "define")) {
			const char	*name;

			if (P->depth > 0)
				return (perr(P, "unexpected {{define}}"));
			P->pos++;
			if (parse_name(P, &name) == -1 ||
			    expect_end(P, "define") == -1)
				return (-1);
			if (parse_define(P, name) == -1)
				return (-1);
			continue;
		} else {
			if ((n = new_node(P, N_ACTION)) == NULL)
				return (-1);
			if (parse_pipeline(P, 1, T_END, &n->pipe) == -1)
				return (-1);
		}
		*tail = n;
		tail = &n->next;
	}
}

static struct tmpl *
set_find(const struct tmpl_set *set, const char *name)
{
	int	 i;

	for (i = 0; i < set->ts_n; i++)
		if (strcmp(set->ts_tmpl[i].t_name, name) == 0)
			return ((struct tmpl *)&set->ts_tmpl[i]);
	return (NULL);
}

int
tmpl_set_add(struct tmpl_set *set, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct parser	*P;
	struct unit	*u;
	struct node	*root;
	int		 kw, i, nnew;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (strlen(name) == 0 || strlen(name) >= TMPL_MAX_NAME) {
		(void)snprintf(err, errlen, "bad template name");
		return (-1);
	}
	if (len > TMPL_MAX_SIZE) {
		(void)snprintf(err, errlen, "%s: template larger than %d "
		    "bytes", name, TMPL_MAX_SIZE);
		return (-1);
	}
	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->u_lits = json_array()) == NULL ||
	    (P = calloc(1, sizeof(*P))) == NULL) {
		if (u != NULL)
			unit_free(u);
		(void)snprintf(err, errlen, "%s: out of memory", name);
		return (-1);
	}
	P->u = u;
	P->name = name;
	P->p = text;
	P->end = text + len;
	P->line = P->aline = 1;
	P->err = err;
	P->errlen = errlen;

	if (memchr(text, '\0', len) != NULL)
		(void)perr(P, "NUL byte in template");
	else if (parse_list(P, &root, &kw) == 0 && kw != K_EOF)
		(void)perr(P, "unexpected {{%s}}", kw == K_END ? "end" :
		    "else");
	if (!P->failed)
		(void)add_def(P, name, root);
	/* Check the count before anything is replaced. */
	for (i = nnew = 0; !P->failed && i < P->ndefs; i++)
		if (set_find(set, P->defs[i].t_name) == NULL)
			nnew++;
	if (!P->failed && set->ts_n + nnew > TMPL_MAX_TEMPLATES)
		(void)perr(P, "too many templates");
	if (P->failed) {
		unit_free(u);
		free(P);
		return (-1);
	}
	for (i = 0; i < P->ndefs; i++) {
		struct tmpl	*t;

		/* A {{ define }} with no content keeps an existing one. */
		if ((t = set_find(set, P->defs[i].t_name)) == NULL)
			t = &set->ts_tmpl[set->ts_n++];
		else if (P->defs[i].t_root == NULL &&
		    strcmp(P->defs[i].t_name, name) != 0)
			continue;
		*t = P->defs[i];
	}
	u->u_next = set->ts_units;
	set->ts_units = u;
	free(P);
	return (0);
}

struct tmpl_set *
tmpl_set_new(void)
{
	struct tmpl_set	*set;
	char		 err[256];
	size_t		 i;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return (NULL);
	for (i = 0; i < web_nfiles; i++) {
		if (strncmp(web_files[i].wa_path, "templates/", 10) != 0)
			continue;
		if (tmpl_set_add(set, web_files[i].wa_path + 10,
		    (const char *)web_files[i].wa_data, web_files[i].wa_len,
		    err, sizeof(err)) == -1) {
			log_warnx("built-in template %s", err);
			tmpl_set_free(set);
			return (NULL);
		}
	}
	return (set);
}

void
tmpl_set_free(struct tmpl_set *set)
{
	struct unit	*u, *n;

	if (set == NULL)
		return;
	for (u = set->ts_units; u != NULL; u = n) {
		n = u->u_next;
		unit_free(u);
	}
	free(set);
}

static int
check_list(const struct tmpl_set *set, const char *tname,
    const struct node *n, char *err, size_t errlen)
{
	for (; n != NULL; n = n->next) {
		if (n->type == N_TEMPLATE && set_find(set, n->text) == NULL) {
			(void)snprintf(err, errlen, "%s:%d: no such template "
			    "\"%s\"", tname, n->line, n->text);
			return (-1);
		}
		if (check_list(set, tname, n->list, err, errlen) == -1 ||
		    check_list(set, tname, n->elist, err, errlen) == -1)
			return (-1);
	}
	return (0);
}

/*
 * After the templates of frontend.dir are added: every {{ template }}
 * names one that exists, and Dex's required pages are there.
 */
int
tmpl_set_check(const struct tmpl_set *set, char *err, size_t errlen)
{
	static const char	*required[] = {
		"login.html", "password.html", "approval.html", "error.html",
		"oob.html", "device.html", "device_success.html"
	};
	size_t			 i;
	int			 j;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (set_find(set, required[i]) == NULL) {
			(void)snprintf(err, errlen, "missing template %s",
			    required[i]);
			return (-1);
		}
	for (j = 0; j < set->ts_n; j++)
		if (check_list(set, set->ts_tmpl[j].t_name,
		    set->ts_tmpl[j].t_root, err, errlen) == -1)
			return (-1);
	return (0);
}

/*
 * Values.
 */

struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	int	 fail;
};

static int
sb_add(struct sbuf *sb, const char *s, size_t len)
{
	char	*n;
	size_t	 cap;

	if (sb->fail)
		return (-1);
	if (len > TMPL_MAX_STRING - sb->len) {
		sb->fail = 1;
		return (-1);
	}
	if (sb->len + len + 1 > sb->cap) {
		cap = sb->cap == 0 ? 64 : sb->cap;
		while (cap < sb->len + len + 1)
			cap *= 2;
		if ((n = realloc(sb->s, cap)) == NULL) {
			sb->fail = 1;
			return (-1);
		}
		sb->s = n;
		sb->cap = cap;
	}
	memcpy(sb->s + sb->len, s, len);
	sb->len += len;
	sb->s[sb->len] = '\0';
	return (0);
}

static int
sb_str(struct sbuf *sb, const char *s)
{
	return (sb_add(sb, s, strlen(s)));
}

static int __attribute__((format(printf, 2, 3)))
rerr(struct render *r, const char *fmt, ...)
{
	char	 msg[128];
	va_list	 ap;

	if (r->failed)
		return (-1);
	r->failed = 1;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(r->err, sizeof(r->err), "%s: %s", r->tname, msg);
	return (-1);
}

/* The result of a function: a new string, or NULL with the error set. */
static json_t *
sb_result(struct render *r, struct sbuf *sb)
{
	json_t	*v;

	if (sb->fail) {
		free(sb->s);
		(void)rerr(r, "string longer than %d bytes", TMPL_MAX_STRING);
		return (NULL);
	}
	v = json_stringn_nocheck(sb->s != NULL ? sb->s : "", sb->len);
	free(sb->s);
	if (v == NULL)
		(void)rerr(r, "out of memory");
	return (v);
}

static int
truth(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return (json_string_length(v) > 0);
	case JSON_INTEGER:
		return (json_integer_value(v) != 0);
	case JSON_REAL:
		return (json_real_value(v) != 0.0);
	case JSON_TRUE:
		return (1);
	case JSON_ARRAY:
		return (json_array_size(v) > 0);
	case JSON_OBJECT:
		return (json_object_size(v) > 0);
	default:
		return (0);
	}
}

/* As Go's fmt prints a value: strings as is, nil as nothing. */
static int
val_print(struct sbuf *sb, const json_t *v, int depth)
{
	char		 buf[64];
	const char	*k;
	json_t		*e;
	size_t		 i, n;

	if (depth > TMPL_MAX_NEST)
		return (sb_str(sb, "..."));
	switch (json_typeof(v)) {
	case JSON_STRING:
		return (sb_add(sb, json_string_value(v),
		    json_string_length(v)));
	case JSON_INTEGER:
		(void)snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return (sb_str(sb, buf));
	case JSON_REAL:
		(void)snprintf(buf, sizeof(buf), "%g", json_real_value(v));
		return (sb_str(sb, buf));
	case JSON_TRUE:
		return (sb_str(sb, "true"));
	case JSON_FALSE:
		return (sb_str(sb, "false"));
	case JSON_ARRAY:
		(void)sb_str(sb, "[");
		json_array_foreach(v, i, e) {
			if (i > 0)
				(void)sb_str(sb, " ");
			(void)val_print(sb, e, depth + 1);
		}
		return (sb_str(sb, "]"));
	case JSON_OBJECT:
		(void)sb_str(sb, "map[");
		n = 0;
		json_object_foreach((json_t *)v, k, e) {
			if (n++ > 0)
				(void)sb_str(sb, " ");
			(void)sb_str(sb, k);
			(void)sb_str(sb, ":");
			(void)val_print(sb, e, depth + 1);
		}
		return (sb_str(sb, "]"));
	default:
		return (0);
	}
}

static const char *
str_arg(struct render *r, json_t *v, const char *fname)
{
	if (!json_is_string(v)) {
		(void)rerr(r, "%s: wrong type for value; expected string",
		    fname);
		return (NULL);
	}
	return (json_string_value(v));
}

/*
 * Functions.  Each gets its evaluated arguments (borrowed) and returns a
 * new reference, or NULL with the error set.
 */

static json_t *
f_issuer(struct render *r, json_t **a, int n)
{
	return (json_string_nocheck(r->funcs->tf_issuer != NULL ?
	    r->funcs->tf_issuer : "dex"));
}

static json_t *
f_logo(struct render *r, json_t **a, int n)
{
	return (json_string_nocheck(r->funcs->tf_logo != NULL ?
	    r->funcs->tf_logo : "theme/logo.svg"));
}

static json_t *
f_extra(struct render *r, json_t **a, int n)
{
	const char	*k;
	json_t		*v;

	if ((k = str_arg(r, a[0], "extra")) == NULL)
		return (NULL);
	if (r->funcs->tf_extra == NULL || (v = json_object_get(
	    r->funcs->tf_extra, k)) == NULL || !json_is_string(v))
		return (json_string(""));
	return (json_incref(v));
}

/* An absolute URL or path is kept; else it is under the issuer's path. */
static json_t *
asset_url(struct render *r, const char *dir, const char *asset)
{
	struct sbuf	 sb = { 0 };
	const char	*prefix = r->funcs->tf_prefix, *q;

	for (q = asset; isalnum((unsigned char)*q) || *q == '+' ||
	    *q == '-' || *q == '.'; q++)
		;
	if (asset[0] == '/' || (q > asset && *q == ':'))
		return (json_string_nocheck(asset));
	if (prefix == NULL || prefix[0] == '\0')
		prefix = "/";
	(void)sb_str(&sb, prefix);
	if (prefix[strlen(prefix) - 1] != '/')
		(void)sb_str(&sb, "/");
	(void)sb_str(&sb, dir);
	(void)sb_str(&sb, asset);
	return (sb_result(r, &sb));
}

/*
 * Dex makes the asset's path relative to ReqPath; an absolute path
 * under the issuer's path reaches the same file from any page, with no
 * way to get the number of "../" wrong.
 */
static json_t *
f_url(struct render *r, json_t **a, int n)
{
	const char	*asset;

	/* a[0], Dex's ReqPath, is not needed. */
	if ((asset = str_arg(r, a[1], "url")) == NULL)
		return (NULL);
	return (asset_url(r, "", asset));
}

static json_t *
f_static(struct render *r, json_t **a, int n)
{
	const char	*asset;

	if ((asset = str_arg(r, a[0], "static")) == NULL)
		return (NULL);
	return (asset_url(r, "static/", asset));
}

static json_t *
f_theme(struct render *r, json_t **a, int n)
{
	const char	*asset;

	if ((asset = str_arg(r, a[0], "theme")) == NULL)
		return (NULL);
	return (asset_url(r, "theme/", asset));
}

static json_t *
f_and(struct render *r, json_t **a, int n)
{
	int	 i;

	for (i = 0; i < n - 1; i++)
		if (!truth(a[i]))
			break;
	return (json_incref(a[i]));
}

static json_t *
f_or(struct render *r, json_t **a, int n)
{
	int	 i;

	for (i = 0; i < n - 1; i++)
		if (truth(a[i]))
			break;
	return (json_incref(a[i]));
}

static json_t *
f_not(struct render *r, json_t **a, int n)
{
	return (json_boolean(!truth(a[0])));
}

/* -2: not comparable; else <0, 0, >0 */
static int
val_cmp(const json_t *a, const json_t *b)
{
	double	 x, y;
	size_t	 la, lb;
	int	 c;

	if (json_is_integer(a) && json_is_integer(b))
		return (json_integer_value(a) < json_integer_value(b) ? -1 :
		    json_integer_value(a) > json_integer_value(b));
	if (json_is_number(a) && json_is_number(b)) {
		x = json_number_value(a);
		y = json_number_value(b);
		return (x < y ? -1 : x > y);
	}
	if (json_is_string(a) && json_is_string(b)) {
		la = json_string_length(a);
		lb = json_string_length(b);
		c = memcmp(json_string_value(a), json_string_value(b),
		    la < lb ? la : lb);
		if (c != 0)
			return (c < 0 ? -1 : 1);
		return (la < lb ? -1 : la > lb);
	}
	return (-2);
}

static int
val_eq(const json_t *a, const json_t *b)
{
	if (json_is_boolean(a) && json_is_boolean(b))
		return (json_typeof(a) == json_typeof(b));
	if (json_is_null(a) || json_is_null(b))
		return (json_is_null(a) && json_is_null(b));
	return (val_cmp(a, b) == 0);
}

static json_t *
f_eq(struct render *r, json_t **a, int n)
{
	int	 i;

	for (i = 1; i < n; i++)
		if (val_eq(a[0], a[i]))
			return (json_true());
	return (json_false());
}

static json_t *
f_ne(struct render *r, json_t **a, int n)
{
	return (json_boolean(!val_eq(a[0], a[1])));
}

static json_t *
ordered(struct render *r, json_t **a, const char *fname)
{
	int	 c;

	if ((c = val_cmp(a[0], a[1])) == -2) {
		(void)rerr(r, "%s: incompatible types for comparison", fname);
		return (NULL);
	}
	switch (fname[0] == 'l' ? (fname[1] == 't' ? 0 : 1) :
	    (fname[1] == 't' ? 2 : 3)) {
	case 0:
		return (json_boolean(c < 0));
	case 1:
		return (json_boolean(c <= 0));
	case 2:
		return (json_boolean(c > 0));
	default:
		return (json_boolean(c >= 0));
	}
}

static json_t *
f_lt(struct render *r, json_t **a, int n)
{
	return (ordered(r, a, "lt"));
}

static json_t *
f_le(struct render *r, json_t **a, int n)
{
	return (ordered(r, a, "le"));
}

static json_t *
f_gt(struct render *r, json_t **a, int n)
{
	return (ordered(r, a, "gt"));
}

static json_t *
f_ge(struct render *r, json_t **a, int n)
{
	return (ordered(r, a, "ge"));
}

static json_t *
f_len(struct render *r, json_t **a, int n)
{
	switch (json_typeof(a[0])) {
	case JSON_STRING:
		return (json_integer(json_string_length(a[0])));
	case JSON_ARRAY:
		return (json_integer(json_array_size(a[0])));
	case JSON_OBJECT:
		return (json_integer(json_object_size(a[0])));
	case JSON_NULL:
		return (json_integer(0));
	default:
		(void)rerr(r, "len of a number or boolean");
		return (NULL);
	}
}

static json_t *
f_index(struct render *r, json_t **a, int n)
{
	json_t		*v = a[0];
	json_int_t	 i;
	int		 k;

	for (k = 1; k < n; k++) {
		if (json_is_object(v) && json_is_string(a[k])) {
			v = json_object_get(v, json_string_value(a[k]));
		} else if (json_is_array(v) && json_is_integer(a[k])) {
			i = json_integer_value(a[k]);
			if (i < 0 || (size_t)i >= json_array_size(v)) {
				(void)rerr(r, "index out of range");
				return (NULL);
			}
			v = json_array_get(v, i);
		} else if (json_is_null(v)) {
			v = NULL;
		} else {
			(void)rerr(r, "can't index item");
			return (NULL);
		}
		if (v == NULL)
			return (json_null());
	}
	return (json_incref(v));
}

static json_t *
f_print(struct render *r, json_t **a, int n)
{
	struct sbuf	 sb = { 0 };
	int		 i;

	for (i = 0; i < n; i++) {
		/* Go puts a space between operands when neither is a string */
		if (i > 0 && !json_is_string(a[i]) && !json_is_string(a[i - 1]))
			(void)sb_str(&sb, " ");
		(void)val_print(&sb, a[i], 0);
	}
	return (sb_result(r, &sb));
}

static json_t *
f_println(struct render *r, json_t **a, int n)
{
	struct sbuf	 sb = { 0 };
	int		 i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			(void)sb_str(&sb, " ");
		(void)val_print(&sb, a[i], 0);
	}
	(void)sb_str(&sb, "\n");
	return (sb_result(r, &sb));
}

/* %s %v %d %q and %%; anything else is an error, not a guess. */
static json_t *
f_printf(struct render *r, json_t **a, int n)
{
	struct sbuf	 sb = { 0 };
	const char	*f, *p;
	int		 k = 1;

	if ((f = str_arg(r, a[0], "printf")) == NULL)
		return (NULL);
	for (p = f; *p != '\0'; p++) {
		if (*p != '%') {
			(void)sb_add(&sb, p, 1);
			continue;
		}
		if (*++p == '%') {
			(void)sb_str(&sb, "%");
			continue;
		}
		if (*p != 's' && *p != 'v' && *p != 'd' && *p != 'q') {
			free(sb.s);
			(void)rerr(r, "printf: unsupported verb");
			return (NULL);
		}
		if (k >= n) {
			(void)sb_str(&sb, "%!");
			(void)sb_add(&sb, p, 1);
			(void)sb_str(&sb, "(MISSING)");
			continue;
		}
		if (*p == 'q')
			(void)sb_str(&sb, "\"");
		(void)val_print(&sb, a[k++], 0);
		if (*p == 'q')
			(void)sb_str(&sb, "\"");
	}
	return (sb_result(r, &sb));
}

static json_t *
f_urlquery(struct render *r, json_t **a, int n)
{
	struct sbuf	 in = { 0 }, sb = { 0 };
	char		 hex[4];
	size_t		 i;
	int		 k;
	unsigned char	 c;

	for (k = 0; k < n; k++)
		(void)val_print(&in, a[k], 0);
	for (i = 0; i < in.len; i++) {
		c = in.s[i];
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			(void)sb_add(&sb, (char *)&c, 1);
		else if (c == ' ')
			(void)sb_str(&sb, "+");
		else {
			(void)snprintf(hex, sizeof(hex), "%%%02X", c);
			(void)sb_str(&sb, hex);
		}
	}
	if (in.fail)
		sb.fail = 1;
	free(in.s);
	return (sb_result(r, &sb));
}

/* html/template escapes by context; an explicit "html" would double it. */
static json_t *
f_html(struct render *r, json_t **a, int n)
{
	return (f_print(r, a, n));
}

static json_t *
f_case(struct render *r, json_t **a, int mode)
{
	struct sbuf	 sb = { 0 };
	size_t		 i;
	int		 start = 1;

	(void)val_print(&sb, a[0], 0);
	for (i = 0; i < sb.len; i++) {
		if (mode == 0)
			sb.s[i] = tolower((unsigned char)sb.s[i]);
		else if (mode == 1)
			sb.s[i] = toupper((unsigned char)sb.s[i]);
		else {
			if (start)
				sb.s[i] = toupper((unsigned char)sb.s[i]);
			start = is_space(sb.s[i]);
		}
	}
	return (sb_result(r, &sb));
}

static json_t *
f_lower(struct render *r, json_t **a, int n)
{
	return (f_case(r, a, 0));
}

static json_t *
f_upper(struct render *r, json_t **a, int n)
{
	return (f_case(r, a, 1));
}

static json_t *
f_title(struct render *r, json_t **a, int n)
{
	return (f_case(r, a, 2));
}

static json_t *
f_trim(struct render *r, json_t **a, int n)
{
	struct sbuf	 sb = { 0 };
	size_t		 s = 0, e;

	(void)val_print(&sb, a[0], 0);
	e = sb.len;
	while (s < e && is_space(sb.s[s]))
		s++;
	while (e > s && is_space(sb.s[e - 1]))
		e--;
	if (!sb.fail && s > 0)
		memmove(sb.s, sb.s + s, e - s);
	sb.len = e - s;
	return (sb_result(r, &sb));
}

/* sprig: default "x" .V is .V, or "x" when .V is empty. */
static json_t *
f_default(struct render *r, json_t **a, int n)
{
	if (n > 1 && truth(a[1]))
		return (json_incref(a[1]));
	return (json_incref(a[0]));
}

static json_t *
f_contains(struct render *r, json_t **a, int n)
{
	const char	*sub, *s;

	if ((sub = str_arg(r, a[0], "contains")) == NULL ||
	    (s = str_arg(r, a[1], "contains")) == NULL)
		return (NULL);
	return (json_boolean(strstr(s, sub) != NULL));
}

static json_t *
f_hasprefix(struct render *r, json_t **a, int n)
{
	const char	*pre, *s;

	if ((pre = str_arg(r, a[0], "hasPrefix")) == NULL ||
	    (s = str_arg(r, a[1], "hasPrefix")) == NULL)
		return (NULL);
	return (json_boolean(strncmp(s, pre, strlen(pre)) == 0));
}

static json_t *
f_hassuffix(struct render *r, json_t **a, int n)
{
	const char	*suf, *s;
	size_t		 ls, lsuf;

	if ((suf = str_arg(r, a[0], "hasSuffix")) == NULL ||
	    (s = str_arg(r, a[1], "hasSuffix")) == NULL)
		return (NULL);
	ls = strlen(s);
	lsuf = strlen(suf);
	return (json_boolean(ls >= lsuf && strcmp(s + ls - lsuf, suf) == 0));
}

static json_t *
f_join(struct render *r, json_t **a, int n)
{
	struct sbuf	 sb = { 0 };
	const char	*sep;
	json_t		*e;
	size_t		 i;

	if ((sep = str_arg(r, a[0], "join")) == NULL)
		return (NULL);
	if (json_is_array(a[1])) {
		json_array_foreach(a[1], i, e) {
			if (i > 0)
				(void)sb_str(&sb, sep);
			(void)val_print(&sb, e, 0);
		}
	} else
		(void)val_print(&sb, a[1], 0);
	return (sb_result(r, &sb));
}

#define VARARGS	TMPL_MAX_ARGS

static const struct func	functab[] = {
	/* Dex's */
	{ "issuer",	0, 0,		f_issuer },
	{ "logo",	0, 0,		f_logo },
	{ "extra",	1, 1,		f_extra },
	{ "url",	2, 2,		f_url },
	{ "static",	1, 1,		f_static },
	{ "theme",	1, 1,		f_theme },
	/* Go's */
	{ "and",	1, VARARGS,	f_and },
	{ "or",		1, VARARGS,	f_or },
	{ "not",	1, 1,		f_not },
	{ "eq",		2, VARARGS,	f_eq },
	{ "ne",		2, 2,		f_ne },
	{ "lt",		2, 2,		f_lt },
	{ "le",		2, 2,		f_le },
	{ "gt",		2, 2,		f_gt },
	{ "ge",		2, 2,		f_ge },
	{ "len",	1, 1,		f_len },
	{ "index",	1, VARARGS,	f_index },
	{ "print",	0, VARARGS,	f_print },
	{ "println",	0, VARARGS,	f_println },
	{ "printf",	1, VARARGS,	f_printf },
	{ "urlquery",	0, VARARGS,	f_urlquery },
	{ "html",	0, VARARGS,	f_html },
	/* sprig's that themes use */
	{ "lower",	1, 1,		f_lower },
	{ "upper",	1, 1,		f_upper },
	{ "title",	1, 1,		f_title },
	{ "trim",	1, 1,		f_trim },
	{ "default",	1, 2,		f_default },
	{ "contains",	2, 2,		f_contains },
	{ "hasPrefix",	2, 2,		f_hasprefix },
	{ "hasSuffix",	2, 2,		f_hassuffix },
	{ "join",	2, 2,		f_join },
};
static const size_t	nfunctab = sizeof(functab) / sizeof(functab[0]);

/*
 * Evaluation.
 */

static json_t *
var_get(struct render *r, const char *name)
{
	int	 i;

	for (i = r->nvars - 1; i >= r->vbase; i--)
		if (strcmp(r->vars[i].name, name) == 0)
			return (r->vars[i].val);
	return (NULL);
}

static int
var_push(struct render *r, const char *name, json_t *v)
{
	if (r->nvars >= TMPL_MAX_VARS)
		return (rerr(r, "too many variables"));
	r->vars[r->nvars].name = name;
	r->vars[r->nvars].val = json_incref(v);
	r->nvars++;
	return (0);
}

static void
var_pop(struct render *r, int to)
{
	while (r->nvars > to)
		json_decref(r->vars[--r->nvars].val);
}

static json_t *
walk_fields(const struct arg *a, json_t *v)
{
	json_t	*n;
	int	 i;

	for (i = 0; i < a->nfields; i++) {
		if (!json_is_object(v) ||
		    (n = json_object_get(v, a->fields[i])) == NULL) {
			json_decref(v);
			return (json_null());
		}
		json_incref(n);
		json_decref(v);
		v = n;
	}
	return (v);
}

static json_t	*call_func(struct render *, int, const struct arg *, int,
		    json_t *, json_t *);

static json_t *
eval_arg(struct render *r, const struct arg *a, json_t *dot)
{
	json_t	*v;

	switch (a->type) {
	case A_DOT:
		return (json_incref(dot));
	case A_FIELD:
		return (walk_fields(a, json_incref(dot)));
	case A_VAR:
		if ((v = var_get(r, a->name)) == NULL) {
			/* Declared in the text, not yet run: Go's zero. */
			v = json_null();
		}
		return (walk_fields(a, json_incref(v)));
	case A_LIT:
		return (json_incref(a->lit));
	case A_FUNC:
		return (call_func(r, a->func, NULL, 0, NULL, dot));
	case A_PIPE:
		if ((v = eval_pipe(r, a->pipe, dot)) == NULL)
			return (NULL);
		return (walk_fields(a, v));
	}
	return (NULL);
}

static json_t *
call_func(struct render *r, int fi, const struct arg *args, int nargs,
    json_t *piped, json_t *dot)
{
	const struct func	*f = &functab[fi];
	json_t			*av[TMPL_MAX_ARGS + 2], *v = NULL;
	int			 n = 0, i;

	for (i = 0; i < nargs; i++) {
		if ((av[n] = eval_arg(r, &args[i], dot)) == NULL)
			goto done;
		n++;
	}
	if (piped != NULL)
		av[n++] = json_incref(piped);
	if (n < f->minargs || n > f->maxargs) {
		(void)rerr(r, "wrong number of args for %s: got %d", f->name,
		    n);
		goto done;
	}
	v = f->fn(r, av, n);
	if (v == NULL && !r->failed)
		(void)rerr(r, "out of memory");
 done:
	for (i = 0; i < n; i++)
		json_decref(av[i]);
	return (v);
}

/* Declarations are bound when bind is set (range binds its own). */
static json_t *
eval_pipe_bind(struct render *r, const struct pipe *p, json_t *dot,
    int bind)
{
	const struct cmd	*c;
	json_t			*v = NULL, *nv;
	int			 i, j;

	for (i = 0; i < p->ncmds; i++) {
		c = &p->cmds[i];
		if (c->args[0].type == A_FUNC)
			nv = call_func(r, c->args[0].func, c->args + 1,
			    c->nargs - 1, v, dot);
		else if (v != NULL) {
			(void)rerr(r, "line %d: can't pipe into a value",
			    p->line);
			nv = NULL;
		} else
			nv = eval_arg(r, &c->args[0], dot);
		json_decref(v);
		if ((v = nv) == NULL)
			return (NULL);
	}
	if (bind && p->ndecl == 1) {
		if (p->assign) {
			for (j = r->nvars - 1; j >= r->vbase; j--)
				if (strcmp(r->vars[j].name, p->decl[0]) == 0)
					break;
			if (j < r->vbase) {
				json_decref(v);
				(void)rerr(r, "undefined variable");
				return (NULL);
			}
			json_decref(r->vars[j].val);
			r->vars[j].val = json_incref(v);
		} else if (var_push(r, p->decl[0], v) == -1) {
			json_decref(v);
			return (NULL);
		}
	}
	return (v);
}

static json_t *
eval_pipe(struct render *r, const struct pipe *p, json_t *dot)
{
	return (eval_pipe_bind(r, p, dot, 1));
}

/*
 * The HTML tokenizer that gives each action its context.
 */

static int
ci_eq(const char *a, size_t alen, const char *b)
{
	return (alen == strlen(b) && strncasecmp(a, b, alen) == 0);
}

static enum akind
attr_kind(const char *name, size_t len)
{
	static const char	*urls[] = {
		"href", "src", "action", "formaction", "cite", "background",
		"poster", "icon", "manifest", "longdesc", "codebase", "data",
		"usemap", "srcset", "ping", "profile", "classid", "archive"
	};
	const char		*c;
	char			 low[32];
	size_t			 i;

	if ((c = memchr(name, ':', len)) != NULL) {
		len -= c + 1 - name;
		name = c + 1;
	}
	if (len > 5 && strncasecmp(name, "data-", 5) == 0) {
		name += 5;
		len -= 5;
	}
	if (len >= sizeof(low))
		len = sizeof(low) - 1;
	for (i = 0; i < len; i++)
		low[i] = tolower((unsigned char)name[i]);
	low[len] = '\0';
	if (strncmp(low, "on", 2) == 0)
		return (AK_JS);
	if (strcmp(low, "style") == 0)
		return (AK_CSS);
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		if (strcmp(low, urls[i]) == 0)
			return (AK_URL);
	if (strstr(low, "src") != NULL || strstr(low, "uri") != NULL ||
	    strstr(low, "url") != NULL)
		return (AK_URL);
	return (AK_PLAIN);
}

static void
hc_tagend(struct hctx *h)
{
	h->state = H_TEXT;
	if (h->endtag)
		return;
	if (ci_eq(h->tag, h->taglen, "script") ||
	    ci_eq(h->tag, h->taglen, "style"))
		h->state = H_RAWTEXT;
	else if (ci_eq(h->tag, h->taglen, "textarea") ||
	    ci_eq(h->tag, h->taglen, "title"))
		h->state = H_RCDATA;
	h->match = 0;
}

static void
hc_valstart(struct hctx *h, enum hstate st)
{
	h->state = st;
	h->akind = attr_kind(h->attr, h->attrlen);
	h->urlpart = 0;
}

static void
hc_valchar(struct hctx *h, int c)
{
	if (h->akind != AK_URL || h->urlpart == 3)
		return;
	if (c == '?' || c == '#')
		h->urlpart = 3;
	else if (h->urlpart <= 1 && (isalnum((unsigned char)c) || c == '+' ||
	    c == '-' || c == '.'))
		h->urlpart = 1;
	else
		h->urlpart = 2;
}

static void
hc_attrname(struct hctx *h, int c)
{
	h->state = H_ATTRNAME;
	h->attrlen = 0;
	h->attr[h->attrlen++] = c;
}

static void
hc_feed1(struct hctx *h, int c)
{
	size_t	 want;

	switch (h->state) {
	case H_TEXT:
		if (c == '<')
			h->state = H_TAGOPEN;
		h->taglen = 0;
		h->endtag = 0;
		break;
	case H_RCDATA:
	case H_RAWTEXT:
		/* Only "</tag" followed by a space, / or > ends it. */
		want = 2 + h->taglen;
		if (h->match == want) {
			h->match = 0;
			if (is_space(c) || c == '/' || c == '>') {
				h->endtag = 1;
				h->state = H_TAG;
				if (c == '>')
					h->state = H_TEXT;
				break;
			}
		}
		if ((h->match == 0 && c == '<') || (h->match == 1 &&
		    c == '/') || (h->match >= 2 && h->match < want &&
		    tolower(c) == tolower((unsigned char)
		    h->tag[h->match - 2])))
			h->match++;
		else
			h->match = c == '<';
		break;
	case H_COMMENT:
		if (c == '>' && h->dashes >= 2)
			h->state = H_TEXT;
		else if (c == '-')
			h->dashes++;
		else
			h->dashes = 0;
		break;
	case H_DECL:
		if (c == '-' && h->match < 2 && h->dashes == (int)h->match) {
			h->dashes++;
			if (h->dashes == 2) {
				h->state = H_COMMENT;
				h->dashes = 0;
			}
		} else if (c == '>')
			h->state = H_TEXT;
		h->match++;
		break;
	case H_TAGOPEN:
		if (isalpha(c)) {
			h->state = H_TAGNAME;
			h->tag[h->taglen++] = c;
		} else if (c == '/' && !h->endtag)
			h->endtag = 1;
		else if (c == '!' && !h->endtag) {
			h->state = H_DECL;
			h->match = 0;
			h->dashes = 0;
		} else if (c == '?')
			h->state = H_DECL;
		else
			h->state = c == '<' ? H_TAGOPEN : H_TEXT;
		break;
	case H_TAGNAME:
		if (is_space(c) || c == '/')
			h->state = H_TAG;
		else if (c == '>')
			hc_tagend(h);
		else if (h->taglen < sizeof(h->tag))
			h->tag[h->taglen++] = c;
		break;
	case H_TAG:
		if (c == '>')
			hc_tagend(h);
		else if (!is_space(c) && c != '/')
			hc_attrname(h, c);
		break;
	case H_ATTRNAME:
		if (is_space(c))
			h->state = H_AFTERNAME;
		else if (c == '=')
			h->state = H_BEFOREVAL;
		else if (c == '>')
			hc_tagend(h);
		else if (c == '/')
			h->state = H_TAG;
		else if (h->attrlen < sizeof(h->attr))
			h->attr[h->attrlen++] = c;
		break;
	case H_AFTERNAME:
		if (c == '=')
			h->state = H_BEFOREVAL;
		else if (c == '>')
			hc_tagend(h);
		else if (c == '/')
			h->state = H_TAG;
		else if (!is_space(c))
			hc_attrname(h, c);
		break;
	case H_BEFOREVAL:
		if (c == '"')
			hc_valstart(h, H_VAL_DQ);
		else if (c == '\'')
			hc_valstart(h, H_VAL_SQ);
		else if (c == '>')
			hc_tagend(h);
		else if (!is_space(c)) {
			hc_valstart(h, H_VAL_UQ);
			hc_valchar(h, c);
		}
		break;
	case H_VAL_DQ:
	case H_VAL_SQ:
		if (c == (h->state == H_VAL_DQ ? '"' : '\''))
			h->state = H_TAG;
		else
			hc_valchar(h, c);
		break;
	case H_VAL_UQ:
		if (is_space(c))
			h->state = H_TAG;
		else if (c == '>')
			hc_tagend(h);
		else
			hc_valchar(h, c);
		break;
	}
}

static int
emit(struct render *r, const char *s, size_t len)
{
	size_t	 i;

	if (len > TMPL_MAX_OUTPUT - r->outlen)
		return (rerr(r, "page larger than %d bytes", TMPL_MAX_OUTPUT));
	if (evbuffer_add(r->buf, s, len) == -1)
		return (rerr(r, "out of memory"));
	r->outlen += len;
	for (i = 0; i < len; i++)
		hc_feed1(&r->hc, (unsigned char)s[i]);
	return (0);
}

/* Escaped output goes through this small buffer on its way to emit(). */
struct obuf {
	struct render	*r;
	char		 b[512];
	size_t		 n;
};

static void
ob_flush(struct obuf *o)
{
	if (o->n > 0)
		(void)emit(o->r, o->b, o->n);
	o->n = 0;
}

static void
ob_add(struct obuf *o, const char *s, size_t len)
{
	if (len > sizeof(o->b) - o->n)
		ob_flush(o);
	memcpy(o->b + o->n, s, len);
	o->n += len;
}

static void
esc_html(struct obuf *o, const char *s, size_t len, int unquoted)
{
	char		 ent[8];
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < len; i++) {
		c = s[i];
		switch (c) {
		case '&':
			ob_add(o, "&amp;", 5);
			break;
		case '<':
			ob_add(o, "&lt;", 4);
			break;
		case '>':
			ob_add(o, "&gt;", 4);
			break;
		case '"':
			ob_add(o, "&#34;", 5);
			break;
		case '\'':
			ob_add(o, "&#39;", 5);
			break;
		case '\0':
			ob_add(o, "\xef\xbf\xbd", 3);
			break;
		default:
			/* An unquoted value ends at space; = and ` confuse. */
			if (unquoted && c < 0x80 && !isalnum(c) &&
			    strchr("-_.,:;/?#%@!~*()[]{}$^|", c) == NULL) {
				(void)snprintf(ent, sizeof(ent), "&#%u;", c);
				ob_add(o, ent, strlen(ent));
			} else
				ob_add(o, (char *)&c, 1);
		}
	}
}

/* May s begin a URL attribute?  Only relative, http and https URLs. */
static int
url_ok(const char *s, size_t len, int part)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] == '/' || s[i] == '?' || s[i] == '#')
			return (1);
		if (s[i] == ':') {
			/* After trusted text that could be a scheme: no. */
			if (part == 1)
				return (0);
			return (ci_eq(s, i, "http") || ci_eq(s, i, "https"));
		}
	}
	return (1);
}

/*
 * Percent-encode what may not stand in a URL; in the query or fragment,
 * everything but the unreserved characters.
 */
static size_t
url_escape(struct sbuf *sb, const char *s, size_t len, int query)
{
	char		 hex[4];
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (isalnum(c) || strchr("-._~", c) != NULL ||
		    (!query && c != '\0' &&
		    strchr(":/?#[]@!$&'()*+,;=", c) != NULL) ||
		    (!query && c == '%' && i + 2 < len + 0 &&
		    isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])))
			(void)sb_add(sb, (char *)&c, 1);
		else {
			(void)snprintf(hex, sizeof(hex), "%%%02X", c);
			(void)sb_str(sb, hex);
		}
	}
	return (sb->len);
}

/* Is s fit to be (part of) an attribute name? */
static int
name_ok(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return (0);
	return (attr_kind(s, len) == AK_PLAIN);
}

static int
emit_value(struct render *r, const json_t *v)
{
	struct sbuf	 sb = { 0 }, u = { 0 };
	struct obuf	 o;
	struct hctx	*h = &r->hc;
	const char	*s;
	size_t		 len;
	int		 uq;

	if (val_print(&sb, v, 0) == -1 && sb.fail) {
		free(sb.s);
		return (rerr(r, "value longer than %d bytes",
		    TMPL_MAX_STRING));
	}
	s = sb.s != NULL ? sb.s : "";
	len = sb.len;
	o.r = r;
	o.n = 0;
	switch (h->state) {
	case H_TEXT:
	case H_RCDATA:
		esc_html(&o, s, len, 0);
		break;
	case H_COMMENT:
		/* html/template drops comments; their actions print nothing */
		break;
	case H_RAWTEXT:
		free(sb.s);
		return (rerr(r, "action inside <script> or <style>"));
	case H_DECL:
	case H_TAGOPEN:
	case H_TAGNAME:
		free(sb.s);
		return (rerr(r, "action inside a tag name"));
	case H_TAG:
	case H_ATTRNAME:
	case H_AFTERNAME:
		if (name_ok(s, len))
			ob_add(&o, s, len);
		else
			ob_add(&o, BADNAME, strlen(BADNAME));
		break;
	case H_BEFOREVAL:
		hc_valstart(h, H_VAL_UQ);
		/* FALLTHROUGH */
	case H_VAL_DQ:
	case H_VAL_SQ:
	case H_VAL_UQ:
		uq = h->state == H_VAL_UQ;
		if (h->akind == AK_JS || h->akind == AK_CSS) {
			free(sb.s);
			return (rerr(r, "action inside an event handler or "
			    "style attribute"));
		}
		if (h->akind != AK_URL) {
			esc_html(&o, s, len, uq);
			break;
		}
		if (h->urlpart <= 1 && !url_ok(s, len, h->urlpart)) {
			ob_add(&o, BADURL, strlen(BADURL));
			break;
		}
		(void)url_escape(&u, s, len, h->urlpart == 3);
		if (u.fail) {
			free(u.s);
			free(sb.s);
			return (rerr(r, "URL longer than %d bytes",
			    TMPL_MAX_STRING));
		}
		esc_html(&o, u.s != NULL ? u.s : "", u.len, uq);
		free(u.s);
		break;
	}
	ob_flush(&o);
	free(sb.s);
	return (r->failed ? -1 : 0);
}

/*
 * The tree walk.
 */

static int
strcmp_ptr(const void *a, const void *b)
{
	return (strcmp(*(const char * const *)a, *(const char * const *)b));
}

static int
exec_range(struct render *r, const struct node *n, json_t *v)
{
	const struct pipe	*p = n->pipe;
	const char		**keys = NULL, *k;
	json_t			*e, *idx;
	size_t			 i, cnt;
	int			 mark = r->nvars, rc = 0;

	if (json_is_array(v))
		cnt = json_array_size(v);
	else if (json_is_object(v))
		cnt = json_object_size(v);
	else if (json_is_null(v) || json_is_false(v))
		cnt = 0;
	else
		return (rerr(r, "line %d: range can't iterate over a %s",
		    n->line, json_is_string(v) ? "string" : "number"));
	if (cnt == 0)
		return (exec_list(r, n->elist, v));
	if (json_is_object(v)) {
		/* Go ranges over a map's keys in order. */
		if ((keys = calloc(cnt, sizeof(*keys))) == NULL)
			return (rerr(r, "out of memory"));
		i = 0;
		json_object_foreach(v, k, e)
			keys[i++] = k;
		qsort(keys, cnt, sizeof(*keys), strcmp_ptr);
	}
	for (i = 0; i < cnt && rc == 0; i++) {
		if (++r->iter > TMPL_MAX_ITER) {
			rc = rerr(r, "more than %d range iterations",
			    TMPL_MAX_ITER);
			break;
		}
		if (keys != NULL) {
			e = json_object_get(v, keys[i]);
			idx = json_string_nocheck(keys[i]);
		} else {
			e = json_array_get(v, i);
			idx = json_integer(i);
		}
		if (idx == NULL) {
			rc = rerr(r, "out of memory");
			break;
		}
		if (p->ndecl == 1)
			rc = var_push(r, p->decl[0], e);
		else if (p->ndecl == 2 && (rc = var_push(r, p->decl[0],
		    idx)) == 0)
			rc = var_push(r, p->decl[1], e);
		json_decref(idx);
		if (rc == 0)
			rc = exec_list(r, n->list, e);
		var_pop(r, mark);
		if (r->brk == 1) {
			r->brk = 0;
			break;
		}
		r->brk = 0;
	}
	free(keys);
	return (rc);
}

static int
exec_template(struct render *r, const struct node *n, json_t *dot)
{
	const struct tmpl	*t;
	const char		*saved = r->tname;
	json_t			*v;
	int			 base = r->vbase, mark = r->nvars, rc;

	if ((t = set_find(r->set, n->text)) == NULL)
		return (rerr(r, "line %d: no such template \"%s\"", n->line,
		    n->text));
	if (r->calls >= TMPL_MAX_CALLS)
		return (rerr(r, "line %d: templates nested deeper than %d",
		    n->line, TMPL_MAX_CALLS));
	if (n->pipe != NULL) {
		if ((v = eval_pipe_bind(r, n->pipe, dot, 0)) == NULL)
			return (-1);
	} else
		v = json_null();
	r->vbase = r->nvars;
	if ((rc = var_push(r, "$", v)) == 0) {
		r->calls++;
		r->tname = t->t_name;
		rc = exec_list(r, t->t_root, v);
		r->tname = saved;
		r->calls--;
	}
	var_pop(r, mark);
	r->vbase = base;
	json_decref(v);
	return (rc);
}

static int
exec_list(struct render *r, const struct node *n, json_t *dot)
{
	json_t	*v;
	int	 mark, rc = 0;

	for (; n != NULL && rc == 0 && r->brk == 0; n = n->next) {
		switch (n->type) {
		case N_TEXT:
			rc = emit(r, n->text, n->len);
			break;
		case N_ACTION:
			if ((v = eval_pipe(r, n->pipe, dot)) == NULL)
				return (-1);
			/* A declaration prints nothing. */
			if (n->pipe->ndecl == 0)
				rc = emit_value(r, v);
			json_decref(v);
			break;
		case N_IF:
		case N_WITH:
			mark = r->nvars;
			if ((v = eval_pipe(r, n->pipe, dot)) == NULL)
				return (-1);
			if (truth(v))
				rc = exec_list(r, n->list,
				    n->type == N_WITH ? v : dot);
			else
				rc = exec_list(r, n->elist, dot);
			var_pop(r, mark);
			json_decref(v);
			break;
		case N_RANGE:
			if ((v = eval_pipe_bind(r, n->pipe, dot, 0)) == NULL)
				return (-1);
			rc = exec_range(r, n, v);
			json_decref(v);
			break;
		case N_TEMPLATE:
			rc = exec_template(r, n, dot);
			break;
		case N_BREAK:
			r->brk = 1;
			break;
		case N_CONTINUE:
			r->brk = 2;
			break;
		}
	}
	return (rc);
}

int
tmpl_render(const struct tmpl_set *set, const char *name, const json_t *data,
    const struct tmpl_funcs *funcs, struct evbuffer *out)
{
	static const struct tmpl_funcs	 nofuncs;
	struct render			*r;
	const struct tmpl		*t;
	json_t				*dot;
	int				 rc = -1;

	if ((t = set_find(set, name)) == NULL) {
		log_warnx("template %s: not found", name);
		return (-1);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (-1);
	if ((r->buf = evbuffer_new()) == NULL) {
		free(r);
		return (-1);
	}
	r->set = set;
	r->funcs = funcs != NULL ? funcs : &nofuncs;
	r->tname = t->t_name;
	dot = data != NULL ? (json_t *)data : json_null();
	if (var_push(r, "$", dot) == 0 && exec_list(r, t->t_root, dot) == 0 &&
	    !r->failed) {
		/* All or nothing: never half a page. */
		if (evbuffer_add_buffer(out, r->buf) == 0)
			rc = 0;
	}
	if (rc == -1)
		log_warnx("template %s", r->failed ? r->err :
		    "render failed");
	var_pop(r, 0);
	evbuffer_free(r->buf);
	free(r);
	return (rc);
}

/*
 * Static assets.
 */

static char	web_theme[16] = "light";

/* Dex's themes; coreos and tectonic are old names of light. */
int
web_set_theme(const char *theme)
{
	if (theme == NULL || theme[0] == '\0' ||
	    strcmp(theme, "coreos") == 0 || strcmp(theme, "tectonic") == 0)
		theme = "light";
	if (strcmp(theme, "light") != 0 && strcmp(theme, "dark") != 0)
		return (-1);
	(void)strlcpy(web_theme, theme, sizeof(web_theme));
	return (0);
}

static const struct web_asset *
file_find(const char *path)
{
	size_t	 lo = 0, hi = web_nfiles, mid;
	int	 c;

	/* embed.sh sorts the table with LC_ALL=C. */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(path, web_files[mid].wa_path)) == 0)
			return (&web_files[mid]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (NULL);
}

/*
 * What Dex serves beside the pages: static/..., theme/... (from the
 * configured theme's directory) and robots.txt.  Never the templates.
 */
const struct web_asset *
web_asset_find(const char *path)
{
	char	 buf[256];

	if (strstr(path, "..") != NULL || strlen(path) >= 200)
		return (NULL);
	if (strcmp(path, "robots.txt") == 0 ||
	    (strncmp(path, "static/", 7) == 0 && path[7] != '\0'))
		return (file_find(path));
	if (strncmp(path, "theme/", 6) == 0 && path[6] != '\0') {
		(void)snprintf(buf, sizeof(buf), "themes/%s/%s", web_theme,
		    path + 6);
		return (file_find(buf));
	}
	return (NULL);
}
