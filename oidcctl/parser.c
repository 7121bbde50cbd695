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
 * The oidcctl command grammar, as relayctl's parser.c: each table lists
 * the words that may come next; a keyword either names an action or
 * leads to the next table, and ENDTOKEN says the command may stop here.
 * Keywords may be shortened to any unambiguous prefix.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oidcd.h"
#include "parser.h"

enum token_type {
	NOTOKEN,
	ENDTOKEN,
	KEYWORD,
	SIGNTYPE,
	FILENAME,
	ARGUMENT
};

struct token {
	enum token_type		 type;
	const char		*keyword;
	int			 value;
	const struct token	*next;
};

static const struct token t_main[];
static const struct token t_show[];
static const struct token t_key[];
static const struct token t_reload[];
static const struct token t_log[];
static const struct token t_token[];
static const struct token t_sign[];
static const struct token t_claims[];
static const struct token t_revoke[];
static const struct token t_arg[];
static const struct token t_optuser[];

static const struct token t_end[] = {
	{ ENDTOKEN,	"",		NONE,		NULL },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static const struct token t_main[] = {
	{ KEYWORD,	"show",		NONE,		t_show },
	{ KEYWORD,	"key",		NONE,		t_key },
	{ KEYWORD,	"reload",	RELOAD,		t_reload },
	{ KEYWORD,	"log",		NONE,		t_log },
	{ KEYWORD,	"gc",		GC,		t_end },
	{ KEYWORD,	"token",	NONE,		t_token },
	{ KEYWORD,	"revoke",	NONE,		t_revoke },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static const struct token t_revoke[] = {
	{ KEYWORD,	"user",		REVOKE_USER,	t_arg },
	{ KEYWORD,	"token",	REVOKE_TOKEN,	t_arg },
	{ KEYWORD,	"session",	REVOKE_FAMILY,	t_arg },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static const struct token t_arg[] = {
	{ ARGUMENT,	"",		NONE,		t_end },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static const struct token t_optuser[] = {
	{ ENDTOKEN,	"",		NONE,		NULL },
	{ ARGUMENT,	"",		NONE,		t_end },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static const struct token t_show[] = {
	{ KEYWORD,	"status",	SHOW_STATUS,	t_end },
	{ KEYWORD,	"keys",		SHOW_KEYS,	t_end },
	{ KEYWORD,	"clients",	SHOW_CLIENTS,	t_end },
	{ KEYWORD,	"sessions",	SHOW_SESSIONS,	t_optuser },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static const struct token t_key[] = {
	{ KEYWORD,	"rotate",	KEY_ROTATE,	t_end },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static const struct token t_reload[] = {
	{ ENDTOKEN,	"",		NONE,		NULL },
	{ FILENAME,	"",		NONE,		t_end },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static const struct token t_log[] = {
	{ KEYWORD,	"verbose",	LOG_VERBOSE,	t_end },
	{ KEYWORD,	"brief",	LOG_BRIEF,	t_end },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static const struct token t_token[] = {
	{ KEYWORD,	"sign",		TOKEN_SIGN,	t_sign },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static const struct token t_sign[] = {
	{ SIGNTYPE,	"id",		SIGN_TOKEN_ID,	t_claims },
	{ SIGNTYPE,	"access",	SIGN_TOKEN_ACCESS, t_claims },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static const struct token t_claims[] = {
	{ FILENAME,	"",		NONE,		t_end },
	{ NOTOKEN,	"",		NONE,		NULL }
};

static struct parse_result	 res;

static const struct token *match_token(const char *, const struct token *,
		    struct parse_result *);
static void	 show_valid_args(const struct token *);

struct parse_result *
parse(int argc, char *argv[])
{
	const struct token	*table = t_main;
	const struct token	*match;
	const char		*word;

	memset(&res, 0, sizeof(res));
	res.action = NONE;

	for (;;) {
		word = argc > 0 ? argv[0] : NULL;
		if ((match = match_token(word, table, &res)) == NULL)
			break;
		if (match->type == ENDTOKEN)
			return (&res);
		argc--;
		argv++;
		table = match->next;
	}

	show_valid_args(table);
	return (NULL);
}

static const struct token *
match_token(const char *word, const struct token *table,
    struct parse_result *r)
{
	const struct token	*t, *match = NULL;
	size_t			 len;
	int			 i, nmatch = 0;

	if (word == NULL) {
		for (i = 0; table[i].type != NOTOKEN; i++)
			if (table[i].type == ENDTOKEN)
				return (&table[i]);
		fprintf(stderr, "oidcctl: missing argument\n");
		return (NULL);
	}

	len = strlen(word);
	for (i = 0; table[i].type != NOTOKEN; i++) {
		t = &table[i];
		switch (t->type) {
		case KEYWORD:
		case SIGNTYPE:
			if (len == 0 || strncmp(word, t->keyword, len) != 0)
				break;
			if (strlen(t->keyword) == len) {
				/* An exact match beats any prefix match. */
				match = t;
				nmatch = 1;
				goto found;
			}
			match = t;
			nmatch++;
			break;
		case FILENAME:
		case ARGUMENT:
			if (match == NULL && len > 0) {
				match = t;
				nmatch = 1;
			}
			break;
		default:
			break;
		}
	}
 found:
	if (nmatch == 0) {
		fprintf(stderr, "oidcctl: unknown argument: %s\n", word);
		return (NULL);
	}
	if (nmatch > 1) {
		fprintf(stderr, "oidcctl: ambiguous argument: %s\n", word);
		return (NULL);
	}

	switch (match->type) {
	case KEYWORD:
		if (match->value != NONE)
			r->action = match->value;
		break;
	case SIGNTYPE:
		r->token_type = match->value;
		break;
	case FILENAME:
		r->path = word;
		break;
	case ARGUMENT:
		r->arg = word;
		break;
	default:
		break;
	}
	return (match);
}

static void
show_valid_args(const struct token *table)
{
	int	 i;

	fprintf(stderr, "valid commands/args:\n");
	for (i = 0; table[i].type != NOTOKEN; i++) {
		switch (table[i].type) {
		case ENDTOKEN:
			fprintf(stderr, "  <cr>\n");
			break;
		case KEYWORD:
		case SIGNTYPE:
			fprintf(stderr, "  %s\n", table[i].keyword);
			break;
		case FILENAME:
			fprintf(stderr, "  <file>\n");
			break;
		case ARGUMENT:
			fprintf(stderr, "  <argument>\n");
			break;
		default:
			break;
		}
	}
}
