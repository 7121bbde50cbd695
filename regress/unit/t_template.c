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
 * Tests for the login pages (template.c): the built-in pages with Dex's
 * data, contextual escaping, the template language, Dex's own templates
 * (regress/data/templates/), parse errors and limits, and the assets.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "log.h"
#include "tap.h"
#include "template.h"

static const struct tmpl_funcs	funcs = {
	"Example <Corp>", NULL, NULL, "/dex/"
};

/* The page as a string, or NULL when the render fails. */
static char *
render(struct tmpl_set *set, const char *name, const char *data)
{
	struct evbuffer	*b;
	json_t		*d;
	json_error_t	 je;
	char		*s = NULL;
	size_t		 len;
	int		 rc;

	if ((d = json_loads(data, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je)) == NULL) {
		diag("bad test json: %s", je.text);
		return (NULL);
	}
	b = evbuffer_new();
	rc = tmpl_render(set, name, d, &funcs, b);
	len = evbuffer_get_length(b);
	if (rc == 0 && (s = malloc(len + 1)) != NULL) {
		evbuffer_remove(b, s, len);
		s[len] = '\0';
	} else if (rc == -1 && len != 0)
		diag("failed render left %zu bytes", len);
	evbuffer_free(b);
	json_decref(d);
	return (s);
}

/* Parse text as template "t.html" in set and render it. */
static char *
run(struct tmpl_set *set, const char *text, const char *data)
{
	char	 err[256];

	if (tmpl_set_add(set, "t.html", text, strlen(text), err,
	    sizeof(err)) == -1) {
		diag("parse: %s", err);
		return (NULL);
	}
	return (render(set, "t.html", data));
}

static int
has(const char *s, const char *sub)
{
	if (s != NULL && strstr(s, sub) != NULL)
		return (1);
	diag("missing: %s", sub);
	return (0);
}

static int
lacks(const char *s, const char *sub)
{
	return (s != NULL && strstr(s, sub) == NULL);
}

/* Output of text with data, compared exactly. */
static void
is_out(struct tmpl_set *set, const char *text, const char *data,
    const char *want, const char *what)
{
	char	*s = run(set, text, data);

	is_str(s, want, "%s", what);
	free(s);
}

/* text with data must fail to render, leaving nothing. */
static void
fails(struct tmpl_set *set, const char *text, const char *data,
    const char *what)
{
	char	*s = run(set, text, data);

	ok(s == NULL, "%s", what);
	free(s);
}

static void
parse_err(const char *text, const char *want, const char *what)
{
	struct tmpl_set	*set = tmpl_set_new();
	char		 err[256] = "";
	int		 rc;

	rc = tmpl_set_add(set, "bad.html", text, strlen(text), err,
	    sizeof(err));
	if (!ok(rc == -1 && strncmp(err, want, strlen(want)) == 0, "%s",
	    what))
		diag("rc %d, err \"%s\", want prefix \"%s\"", rc, err, want);
	tmpl_set_free(set);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*fp;
	char	*s;
	long	 n;

	if ((fp = fopen(path, "r")) == NULL)
		return (NULL);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	s = malloc(n + 1);
	*len = fread(s, 1, n, fp);
	s[*len] = '\0';
	fclose(fp);
	return (s);
}

static void
t_builtin(void)
{
	struct tmpl_set	*set = tmpl_set_new();
	char		 err[256];
	char		*s;

	ok(set != NULL, "built-in templates parse");
	ok(tmpl_set_check(set, err, sizeof(err)) == 0, "built-in set "
	    "complete and consistent");

	s = render(set, "login.html", "{\"ReqPath\":\"/dex/auth\","
	    "\"Connectors\":[{\"ID\":\"gh\",\"Name\":\"GitHub\","
	    "\"URL\":\"/dex/auth/gh?client_id=a&state=b\",\"Type\":"
	    "\"github\"},{\"ID\":\"local\",\"Name\":\"Email\","
	    "\"URL\":\"/dex/auth/local?client_id=a\",\"Type\":\"local\"}]}");
	ok(has(s, "href=\"/dex/auth/gh?client_id=a&amp;state=b\"") &&
	    has(s, "Log in with GitHub") &&
	    has(s, "href=\"/dex/auth/local?client_id=a\"") &&
	    has(s, "Log in with Email") &&
	    has(s, "dex-btn-icon--github"), "login: connectors as links");
	ok(has(s, "<title>Example &lt;Corp&gt;</title>") &&
	    has(s, "Log in to Example &lt;Corp&gt;"),
	    "login: issuer name, escaped");
	ok(has(s, "href=\"/dex/static/main.css\"") &&
	    has(s, "href=\"/dex/theme/styles.css\"") &&
	    has(s, "src=\"/dex/theme/logo.svg\""),
	    "login: assets under the issuer path, logo");
	ok(lacks(s, "<script") && lacks(s, "style=") && lacks(s, "{{"),
	    "login: no script, no inline style, no template left");
	free(s);

	s = render(set, "password.html", "{\"ReqPath\":\"/dex/auth/local\","
	    "\"PostURL\":\"/dex/auth/local/login?state=x\",\"BackLink\":"
	    "\"/dex/auth?a=1\",\"Username\":\"jane@example.com\","
	    "\"UsernamePrompt\":\"Email Address\",\"Invalid\":true,"
	    "\"CSRF\":\"c5rf-T0k\"}");
	ok(has(s, "<form method=\"post\" action=\"/dex/auth/local/login?"
	    "state=x\">") &&
	    has(s, "<input type=\"hidden\" name=\"csrf\" value=\"c5rf-T0k\">")
	    && has(s, "name=\"login\"") && has(s, "name=\"password\""),
	    "password: form posts to PostURL with the csrf input");
	ok(has(s, "value=\"jane@example.com\"") &&
	    has(s, "placeholder=\"email address\"") &&
	    has(s, "Invalid Email Address and password.") &&
	    has(s, "href=\"/dex/auth?a=1\""),
	    "password: username kept, prompt lowered, error, back link");
	free(s);
	s = render(set, "password.html", "{\"ReqPath\":\"/\",\"PostURL\":"
	    "\"/x\",\"UsernamePrompt\":\"Username\",\"CSRF\":\"t\"}");
	ok(lacks(s, "login-error") && lacks(s, "Select another") &&
	    has(s, "autofocus"), "password: no error, no back link");
	free(s);

	s = render(set, "approval.html", "{\"ReqPath\":\"/dex/approval\","
	    "\"User\":\"Jane\",\"Client\":\"My App\",\"AuthReqID\":\"req1\","
	    "\"Scopes\":[\"View basic profile information\",\"View your "
	    "email address\"],\"CSRF\":\"tok\"}");
	ok(has(s, "My App would like to:") &&
	    has(s, "<li>View basic profile information</li>") &&
	    has(s, "<li>View your email address</li>"),
	    "approval: client and scopes");
	ok(has(s, "name=\"req\" value=\"req1\"") &&
	    has(s, "name=\"approval\" value=\"approve\"") &&
	    has(s, "name=\"approval\" value=\"rejected\"") &&
	    strstr(strstr(s, "name=\"csrf\" value=\"tok\"") + 1,
	    "name=\"csrf\" value=\"tok\"") != NULL,
	    "approval: both forms carry req and csrf");
	free(s);
	s = render(set, "approval.html", "{\"ReqPath\":\"/\",\"Client\":"
	    "\"A\",\"Scopes\":[],\"CSRF\":\"t\"}");
	ok(has(s, "A has not requested any personal information"),
	    "approval: no scopes");
	free(s);

	s = render(set, "error.html", "{\"ReqPath\":\"/\",\"ErrType\":"
	    "\"Bad Request\",\"ErrMsg\":\"Unregistered redirect_uri "
	    "(\\\"<x>\\\").\"}");
	ok(has(s, "Bad Request") &&
	    has(s, "Unregistered redirect_uri (&#34;&lt;x&gt;&#34;)."),
	    "error: type and escaped message");
	free(s);

	s = render(set, "oob.html", "{\"ReqPath\":\"/\",\"Code\":\"abc123\"}");
	ok(has(s, "value=\"abc123\""), "oob: the code");
	free(s);
	s = render(set, "device.html", "{\"ReqPath\":\"/device\",\"PostURL\":"
	    "\"/device/auth/verify_code\",\"UserCode\":\"ABCD-EFGH\","
	    "\"Invalid\":true,\"CSRF\":\"dc\"}");
	ok(has(s, "action=\"/device/auth/verify_code\"") &&
	    has(s, "name=\"csrf\" value=\"dc\"") &&
	    has(s, "value=\"ABCD-EFGH\"") &&
	    has(s, "Invalid or Expired User Code"), "device: form and code");
	free(s);
	s = render(set, "device_success.html", "{\"ReqPath\":\"/\","
	    "\"ClientName\":\"TV\"}");
	ok(has(s, "Login Successful for TV"), "device_success");
	free(s);
	ok(render(set, "nosuch.html", "{}") == NULL, "unknown page fails");
	tmpl_set_free(set);
}

static void
t_escaping(void)
{
	struct tmpl_set	*set = tmpl_set_new();
	const char	*xss = "{\"X\":\"<script>alert('x')</script>&\"}";

	is_out(set, "<p>{{ .X }}</p>", xss,
	    "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p>",
	    "text: script tags escaped");
	is_out(set, "<input value=\"{{ .X }}\">",
	    "{\"X\":\"\\\" onfocus=\\\"alert(1)\"}",
	    "<input value=\"&#34; onfocus=&#34;alert(1)\">",
	    "double-quoted attribute: quotes escaped");
	is_out(set, "<input value='{{ .X }}'>", "{\"X\":\"' x='\"}",
	    "<input value='&#39; x=&#39;'>",
	    "single-quoted attribute: quotes escaped");
	is_out(set, "<input value={{ .X }}>", "{\"X\":\"a b=c>\"}",
	    "<input value=a&#32;b&#61;c&gt;>",
	    "unquoted attribute: space, = and > escaped");
	is_out(set, "<a href=\"{{ .X }}\">", "{\"X\":\"javascript:alert(1)\"}",
	    "<a href=\"#ZoidcdZ\">", "javascript: URL refused");
	is_out(set, "<a href=\"{{ .X }}\">", "{\"X\":\"JaVaScRiPt:x\"}",
	    "<a href=\"#ZoidcdZ\">", "JavaScript: in any case refused");
	is_out(set, "<a href=\"{{ .X }}\">", "{\"X\":\" javascript:x\"}",
	    "<a href=\"#ZoidcdZ\">", "leading space does not hide a scheme");
	is_out(set, "<img src=\"{{ .X }}\">",
	    "{\"X\":\"data:text/html,<b>\"}", "<img src=\"#ZoidcdZ\">",
	    "data: URL refused in src");
	is_out(set, "<form action=\"{{ .X }}\">", "{\"X\":\"vbscript:x\"}",
	    "<form action=\"#ZoidcdZ\">", "other schemes refused in action");
	is_out(set, "<a href=\"java{{ .X }}\">",
	    "{\"X\":\"script:alert(1)\"}", "<a href=\"java#ZoidcdZ\">",
	    "a scheme completed by an action refused");
	is_out(set, "<a href=\"java{{ .X }}\">", "{\"X\":\"https://x\"}",
	    "<a href=\"java#ZoidcdZ\">", "no scheme completed, even http");
	is_out(set, "<a href=\"{{ .X }}\">",
	    "{\"X\":\"HTTPS://idp.example/a b?c=\\\"d\\\"\"}",
	    "<a href=\"HTTPS://idp.example/a%20b?c=%22d%22\">",
	    "https URL kept, normalized");
	is_out(set, "<a href=\"{{ .X }}\">", "{\"X\":\"/auth/x?a=1&b=2\"}",
	    "<a href=\"/auth/x?a=1&amp;b=2\">", "relative URL kept");
	is_out(set, "<a href=\"/x?s={{ .X }}\">", "{\"X\":\"a&b c/d\"}",
	    "<a href=\"/x?s=a%26b%20c%2Fd\">",
	    "action in the query: percent-encoded");
	is_out(set, "<a class=\"{{ .X }}\" href=\"/{{ .X }}\">",
	    "{\"X\":\"j:x\"}", "<a class=\"j:x\" href=\"/j:x\">",
	    "colon after a path is not a scheme");
	fails(set, "<script>var x = {{ .X }};</script>", xss,
	    "action in <script> fails");
	fails(set, "<style>p { color: {{ .X }} }</style>", "{\"X\":\"red\"}",
	    "action in <style> fails");
	fails(set, "<a onclick=\"f({{ .X }})\">", "{\"X\":\"1\"}",
	    "action in an event handler fails");
	fails(set, "<p style=\"color: {{ .X }}\">", "{\"X\":\"red\"}",
	    "action in a style attribute fails");
	is_out(set, "<script>if (a</b) x()</script><p>{{ .X }}</p>",
	    "{\"X\":\"<i>\"}", "<script>if (a</b) x()</script><p>&lt;i&gt;</p>",
	    "text after </script> is text again");
	is_out(set, "<title>{{ .X }}</title>", "{\"X\":\"</title><b>\"}",
	    "<title>&lt;/title&gt;&lt;b&gt;</title>", "title escaped");
	is_out(set, "<textarea>{{ .X }}</textarea><i>{{ .X }}</i>",
	    "{\"X\":\"<\"}", "<textarea>&lt;</textarea><i>&lt;</i>",
	    "textarea escaped, text after it too");
	is_out(set, "<input {{ .X }}>", "{\"X\":\"onclick=alert(1)\"}",
	    "<input ZoidcdZ>", "attribute name: anything odd refused");
	is_out(set, "<input {{ .X }}>", "{\"X\":\"disabled\"}",
	    "<input disabled>", "attribute name: a plain word kept");
	is_out(set, "<input {{ .X }}=\"1\">", "{\"X\":\"href\"}",
	    "<input ZoidcdZ=\"1\">", "attribute name: URL attribute refused");
	is_out(set, "<!-- {{ .X }} --><p>{{ .X }}</p>", "{\"X\":\"s\"}",
	    "<!--  --><p>s</p>", "nothing printed inside a comment");
	is_out(set, "<p title=\"{{ .X }}\">", "{\"X\":\"a\\u0000b\"}",
	    "<p title=\"a\xef\xbf\xbd" "b\">", "NUL replaced");
	fails(set, "<{{ .X }}>", "{\"X\":\"script\"}",
	    "action as a tag name fails");
	is_out(set, "<a href=\"{{ url .ReqPath .X }}\">",
	    "{\"ReqPath\":\"/dex/auth\",\"X\":\"javascript:alert(1)\"}",
	    "<a href=\"#ZoidcdZ\">", "url function output still filtered");
	tmpl_set_free(set);
}

static void
t_language(void)
{
	struct tmpl_set	*set = tmpl_set_new();
	json_t		*extra;
	struct tmpl_funcs f = funcs;
	struct evbuffer	*b;
	char		 err[256];
	const char	*t;

	is_out(set, "{{ if .A }}a{{ else if .B }}b{{ else }}c{{ end }}",
	    "{\"A\":false,\"B\":1}", "b", "if / else if / else");
	is_out(set, "{{ if .A }}a{{ else }}c{{ end }}", "{\"A\":\"\"}", "c",
	    "empty string is false");
	is_out(set, "{{ if .A }}a{{ end }}", "{\"A\":[0]}", "a",
	    "non-empty array is true");
	is_out(set, "{{ range $i, $v := .L }}{{ $i }}={{ $v }};{{ end }}",
	    "{\"L\":[\"x\",\"y\"]}", "0=x;1=y;", "range with index");
	is_out(set, "{{ range .L }}{{ . }}{{ else }}none{{ end }}",
	    "{\"L\":[]}", "none", "range else");
	is_out(set, "{{ range $k, $v := .M }}{{ $k }}{{ $v }}{{ end }}",
	    "{\"M\":{\"b\":2,\"a\":1}}", "a1b2", "range over a map, sorted");
	is_out(set, "{{ range .L }}{{ if eq . 2 }}{{ continue }}{{ end }}"
	    "{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}",
	    "{\"L\":[1,2,3,4,5]}", "13", "break and continue");
	is_out(set, "{{ range .L }}{{ $.T }}{{ .N }}{{ end }}",
	    "{\"T\":\"t\",\"L\":[{\"N\":1},{\"N\":2}]}", "t1t2",
	    "$ inside range");
	is_out(set, "{{ with .U }}{{ .Name }}{{ else }}anon{{ end }}",
	    "{\"U\":{\"Name\":\"jo\"}}", "jo", "with");
	is_out(set, "{{ $x := .A }}{{ $x = lower $x }}{{ $x }}",
	    "{\"A\":\"HeLLo\"}", "hello", "variables, := and =");
	is_out(set, "{{ .A.B.C }}|{{ .Missing.X }}|{{ .Missing }}|",
	    "{\"A\":{\"B\":{\"C\":\"deep\"}}}", "deep|||",
	    "field chains; missing is empty");
	is_out(set, "{{ .A | lower | printf \"%s!\" }}", "{\"A\":\"ABC\"}",
	    "abc!", "pipes");
	is_out(set, "{{ if( .A )}}yes{{ end }}{{ (index .L 1).N }}",
	    "{\"A\":1,\"L\":[{},{\"N\":\"n\"}]}", "yesn",
	    "parenthesized pipelines, as Dex's device.html");
	is_out(set, "{{ len .L }} {{ len .S }} {{ not .F }} "
	    "{{ and 1 0 }} {{ or 0 \"x\" }} {{ ne 1 2 }} {{ lt 1 2 }} "
	    "{{ ge \"b\" \"a\" }} {{ eq .S \"no\" \"abc\" }}",
	    "{\"L\":[1,2,3],\"S\":\"abc\",\"F\":false}",
	    "3 3 true 0 x true true true true", "builtin functions");
	is_out(set, "{{ upper .S }} {{ title .S }} {{ trim \"  t \" }} "
	    "{{ default \"d\" .E }} {{ join \",\" .L }} "
	    "{{ contains \"b\" .S }} {{ hasPrefix \"ab\" .S }} "
	    "{{ urlquery \"a b&\" }}",
	    "{\"S\":\"abc def\",\"E\":\"\",\"L\":[1,2]}",
	    "ABC DEF Abc Def t d 1,2 true true a+b%26", "sprig functions");
	is_out(set, "a  {{- /* comment */ -}}  b {{- \" c\" }}\n", "{}",
	    "ab c\n", "comments and trim markers");
	is_out(set, "{{ define \"x\" }}[{{ . }}]{{ end }}"
	    "{{ template \"x\" .A }}{{ template \"x\" \"lit\" }}",
	    "{\"A\":1}", "[1][lit]", "define and template");
	is_out(set, "{{ block \"blk\" .A }}[{{ . }}]{{ end }}", "{\"A\":\"<\"}",
	    "[&lt;]", "block");
	is_out(set, "{{\n  if\n  .A\n  }}multi{{\n end\n }}", "{\"A\":1}",
	    "multi", "newlines inside actions");
	is_out(set, "{{ issuer }}|{{ logo }}|{{ extra \"k\" }}|"
	    "{{ url \"/x\" \"https://cdn.example/l.png\" }}|"
	    "{{ static \"a.css\" }}|{{ theme \"b.png\" }}",
	    "{}", "Example &lt;Corp&gt;|theme/logo.svg||"
	    "https://cdn.example/l.png|/dex/static/a.css|/dex/theme/b.png",
	    "Dex's functions");

	/* extra and the defaults of tmpl_funcs */
	t = "{{ extra \"tagline\" }}|{{ issuer }}|{{ url \"/\" \"a\" }}";
	ok(tmpl_set_add(set, "e.html", t, strlen(t), err, sizeof(err)) == 0,
	    "extra template parses");
	extra = json_pack("{s:s}", "tagline", "<hi>");
	f.tf_extra = extra;
	b = evbuffer_new();
	ok(tmpl_render(set, "e.html", NULL, &f, b) == 0, "render with extra");
	evbuffer_add(b, "", 1);
	is_str((char *)evbuffer_pullup(b, -1), "&lt;hi&gt;|Example "
	    "&lt;Corp&gt;|/dex/a", "extra value, escaped");
	evbuffer_drain(b, evbuffer_get_length(b));
	ok(tmpl_render(set, "e.html", NULL, NULL, b) == 0, "render with no "
	    "funcs");
	evbuffer_add(b, "", 1);
	is_str((char *)evbuffer_pullup(b, -1), "|dex|/a", "Dex's defaults");
	evbuffer_free(b);
	json_decref(extra);
	tmpl_set_free(set);
}

/* A user's copy of Dex's own templates renders with oidcd's data. */
static void
t_dex_templates(void)
{
	static const char	*names[] = {
		"header.html", "footer.html", "login.html", "password.html",
		"device.html"
	};
	struct tmpl_set		*set = tmpl_set_new();
	char			 path[256], err[256];
	char			*text, *s;
	size_t			 i, len;
	int			 good = 1;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void)snprintf(path, sizeof(path), "regress/data/templates/%s",
		    names[i]);
		if ((text = slurp(path, &len)) == NULL ||
		    tmpl_set_add(set, names[i], text, len, err,
		    sizeof(err)) == -1) {
			diag("%s: %s", path, text == NULL ? "unreadable" : err);
			good = 0;
		}
		free(text);
	}
	ok(good, "Dex's templates parse");
	ok(tmpl_set_check(set, err, sizeof(err)) == 0, "set still complete");

	s = render(set, "login.html", "{\"ReqPath\":\"/dex/auth\","
	    "\"Connectors\":[{\"ID\":\"gh\",\"Name\":\"GitHub\","
	    "\"URL\":\"/dex/auth/gh?state=s\",\"Type\":\"github\"}]}");
	ok(has(s, "<a href=\"/dex/auth/gh?state=s\" target=\"_self\">") &&
	    has(s, "Log in with GitHub") &&
	    has(s, "dex-btn-icon--github") &&
	    has(s, "<title>Example &lt;Corp&gt;</title>") &&
	    has(s, "src=\"/dex/theme/logo.svg\"") &&
	    has(s, "X-UA-Compatible"), "Dex's login.html and header.html");
	free(s);
	s = render(set, "password.html", "{\"ReqPath\":\"/dex/auth/local\","
	    "\"PostURL\":\"/dex/auth/local/login\",\"BackLink\":\"/dex/auth\","
	    "\"Username\":\"a&b\",\"UsernamePrompt\":\"Email Address\","
	    "\"Invalid\":true,\"CSRF\":\"t\"}");
	ok(has(s, "action=\"/dex/auth/local/login\"") &&
	    has(s, "placeholder=\"email address\"") &&
	    has(s, " value=\"a&amp;b\" ") &&
	    has(s, "Invalid Email Address and password.") &&
	    has(s, "href=\"/dex/auth\""), "Dex's password.html");
	free(s);
	s = render(set, "device.html", "{\"ReqPath\":\"/dex/device\","
	    "\"PostURL\":\"/dex/device/auth/verify_code\",\"UserCode\":"
	    "\"ABCD-EFGH\",\"Invalid\":false}");
	ok(has(s, "value=\"ABCD-EFGH\"") && lacks(s, "Invalid or Expired"),
	    "Dex's device.html, with if( .UserCode )");
	free(s);
	/* Replacing a built-in page leaves the others built-in. */
	s = render(set, "error.html", "{\"ReqPath\":\"/\",\"ErrType\":\"E\","
	    "\"ErrMsg\":\"m\"}");
	ok(has(s, "X-UA-Compatible") && has(s, "dex-error-box"),
	    "built-in error.html with Dex's header");
	free(s);
	tmpl_set_free(set);
}

static void
t_errors(void)
{
	struct tmpl_set	*set;
	char		 err[256];
	const char	*t;

	parse_err("a\nb\n{{ nosuch .X }}", "bad.html:3: function \"nosuch\" "
	    "not defined", "unknown function, with name and line");
	parse_err("<p>\n{{ if .A }}\n", "bad.html:2: unexpected EOF",
	    "unterminated if");
	parse_err("x {{ .A ", "bad.html:1: unclosed action", "unclosed action");
	parse_err("\n\n\n{{ end }}", "bad.html:4: unexpected {{end}}",
	    "stray end");
	parse_err("{{ $y }}", "bad.html:1: undefined variable \"$y\"",
	    "undefined variable");
	parse_err("{{ if 1 }}{{ $v := 1 }}{{ end }}{{ $v }}",
	    "bad.html:1: undefined variable", "variable scoped to its block");
	parse_err("{{ .A .B }}", "bad.html:1: can't give argument to "
	    "non-function", "argument to a field");
	parse_err("{{/* x }}", "bad.html:1: unclosed comment",
	    "unclosed comment");
	parse_err("{{ \"abc }}", "bad.html:1: unterminated quoted string",
	    "unterminated string");
	parse_err("{{ break }}", "bad.html:1: {{break}} outside {{range}}",
	    "break outside range");
	parse_err("{{ if 1 }}{{ define \"x\" }}{{ end }}{{ end }}",
	    "bad.html:1: unexpected {{define}}", "nested define");
	parse_err("{{ template .X }}", "bad.html:1: template name must be",
	    "template name not a string");
	parse_err("{{ range .L }}{{ else }}{{ else }}{{ end }}",
	    "bad.html:1: expected end", "two elses");
	set = tmpl_set_new();
	ok(tmpl_set_add(set, "bad.html", "a\n\0b", 4, err, sizeof(err)) ==
	    -1 && strstr(err, "NUL byte") != NULL, "NUL in template");
	tmpl_set_free(set);

	set = tmpl_set_new();
	t = "{{ template \"nosuch.html\" . }}";
	ok(tmpl_set_add(set, "login.html", t, strlen(t), err,
	    sizeof(err)) == 0 && tmpl_set_check(set, err, sizeof(err)) == -1 &&
	    strcmp(err, "login.html:1: no such template \"nosuch.html\"") == 0,
	    "check: a call to a missing template");
	ok(render(set, "login.html", "{}") == NULL,
	    "render: a call to a missing template fails");
	tmpl_set_free(set);
	/* A failed add leaves the set as it was. */
	set = tmpl_set_new();
	t = "{{ define \"header.html\" }}X{{ end }}{{ nosuch }}";
	ok(tmpl_set_add(set, "x.html", t, strlen(t), err, sizeof(err)) == -1,
	    "bad text rejected");
	t = render(set, "oob.html", "{\"Code\":\"c\"}");
	ok(t != NULL && strstr(t, "<!DOCTYPE html>") != NULL,
	    "failed add replaced nothing");
	free((char *)t);
	tmpl_set_free(set);
}

static void
t_limits(void)
{
	struct tmpl_set	*set = tmpl_set_new();
	char		 err[256];
	char		*big, *s;
	size_t		 i, n;
	int		 rc;

	big = malloc(TMPL_MAX_SIZE + 2);
	memset(big, 'a', TMPL_MAX_SIZE + 1);
	big[TMPL_MAX_SIZE + 1] = '\0';
	ok(tmpl_set_add(set, "big.html", big, TMPL_MAX_SIZE + 1, err,
	    sizeof(err)) == -1 && strstr(err, "larger") != NULL,
	    "template size limit");
	ok(tmpl_set_add(set, "big.html", big, TMPL_MAX_SIZE, err,
	    sizeof(err)) == 0, "template at the size limit");
	free(big);

	n = TMPL_MAX_NEST + 1;
	big = calloc(n * 20 + 1, 1);
	for (i = 0; i < n; i++)
		strcat(big, "{{ if 1 }}");
	for (i = 0; i < n; i++)
		strcat(big, "{{ end }}");
	ok(tmpl_set_add(set, "deep.html", big, strlen(big), err,
	    sizeof(err)) == -1 && strstr(err, "nesting") != NULL,
	    "nesting limit");
	free(big);
	big = calloc(n * 4 + 16, 1);
	strcpy(big, "{{ ");
	for (i = 0; i < n; i++)
		strcat(big, "(");
	strcat(big, "1");
	for (i = 0; i < n; i++)
		strcat(big, ")");
	strcat(big, " }}");
	ok(tmpl_set_add(set, "paren.html", big, strlen(big), err,
	    sizeof(err)) == -1, "paren nesting limit");
	free(big);

	/* 101 * 101 iterations are more than TMPL_MAX_ITER. */
	big = malloc(2 * 1024);
	strcpy(big, "{\"L\":[0");
	for (i = 1; i < 101; i++)
		strcat(big, ",0");
	strcat(big, "]}");
	fails(set, "{{ range .L }}{{ range $.L }}{{ end }}{{ end }}", big,
	    "range iteration limit");
	s = run(set, "{{ range .L }}{{ end }}", big);
	ok(s != NULL, "range within the limit");
	free(s);
	free(big);

	fails(set, "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}"
	    "{{ template \"r\" . }}", "{}", "template recursion limit");

	/* 2^5 * 2^5 * 64 KiB of output */
	fails(set, "{{ $s := printf \"%s%s%s%s\" .A .A .A .A }}"
	    "{{ range .L }}{{ range $.L }}{{ $s }}{{ end }}{{ end }}",
	    "{\"A\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxx\",\"L\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,"
	    "15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,"
	    "36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,"
	    "57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,"
	    "78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,"
	    "99]}", "output size limit");

	/* Too many templates: the set holds TMPL_MAX_TEMPLATES. */
	rc = 0;
	for (i = 0; i < TMPL_MAX_TEMPLATES + 1 && rc == 0; i++) {
		char	 name[32];

		(void)snprintf(name, sizeof(name), "n%zu.html", i);
		rc = tmpl_set_add(set, name, "x", 1, err, sizeof(err));
	}
	ok(rc == -1 && strstr(err, "too many templates") != NULL,
	    "template count limit");
	tmpl_set_free(set);
}

static void
t_assets(void)
{
	const struct web_asset	*a, *l = NULL;

	a = web_asset_find("static/main.css");
	ok(a != NULL && strcmp(a->wa_type, "text/css; charset=utf-8") == 0 &&
	    a->wa_len > 100 && a->wa_etag[0] == '"' &&
	    a->wa_etag[strlen(a->wa_etag) - 1] == '"' &&
	    memmem(a->wa_data, a->wa_len, ".theme-panel", 12) != NULL,
	    "static/main.css");
	ok(web_set_theme("light") == 0 &&
	    (l = web_asset_find("theme/styles.css")) != NULL &&
	    memmem(l->wa_data, l->wa_len, "prefers-color-scheme", 20) != NULL,
	    "light theme follows prefers-color-scheme");
	ok(web_set_theme("dark") == 0 &&
	    (a = web_asset_find("theme/styles.css")) != NULL && a != l &&
	    memmem(a->wa_data, a->wa_len, "color-scheme: dark", 18) != NULL,
	    "dark theme forces dark");
	a = web_asset_find("theme/logo.svg");
	ok(a != NULL && strcmp(a->wa_type, "image/svg+xml") == 0,
	    "theme/logo.svg");
	a = web_asset_find("theme/logo.png");
	ok(a != NULL && strcmp(a->wa_type, "image/png") == 0 &&
	    a->wa_len > 8 && memcmp(a->wa_data, "\x89PNG", 4) == 0,
	    "theme/logo.png, as Dex's default logoURL");
	ok(web_asset_find("theme/favicon.png") != NULL, "favicon");
	ok(web_set_theme("coreos") == 0 &&
	    web_asset_find("theme/styles.css") == l, "coreos is light");
	ok(web_set_theme("bogus") == -1, "unknown theme refused");
	a = web_asset_find("robots.txt");
	ok(a != NULL && strncmp((const char *)a->wa_data,
	    "User-agent: *\nDisallow: /\n", a->wa_len) == 0, "robots.txt");
	ok(web_asset_find("templates/login.html") == NULL &&
	    web_asset_find("static/../templates/login.html") == NULL &&
	    web_asset_find("theme/../../templates/login.html") == NULL &&
	    web_asset_find("static/") == NULL &&
	    web_asset_find("static/nosuch.css") == NULL,
	    "templates and unknown paths not served");
	(void)web_set_theme("light");
}

int
main(void)
{
	log_init(1, 0);
	t_builtin();
	t_escaping();
	t_language();
	t_dex_templates();
	t_errors();
	t_limits();
	t_assets();
	return (tap_done());
}
