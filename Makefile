# oidcd: top-level GNU Makefile.
#
#	make		build oidcd/oidcd and oidcctl/oidcctl
#	make run	build and start oidcd in the foreground on etc/oidcd.yaml
#	make test	build and run the whole test suite
#	make fuzz	build the libFuzzer targets (clang)
#	make install	PREFIX=/usr/local DESTDIR=

PREFIX?=	/usr/local
SBINDIR?=	$(PREFIX)/sbin
MANDIR?=	$(PREFIX)/share/man
SYSCONFDIR?=	/etc
UNITDIR?=	/lib/systemd/system
SYSUSERSDIR?=	/usr/lib/sysusers.d
TMPFILESDIR?=	/usr/lib/tmpfiles.d

PKGS=		libevent libtls jansson yaml-0.1 lmdb libseccomp libcrypto \
		libbsd-overlay

CC?=		cc
CFLAGS?=	-O2 -g
WARNINGS=	-Wall -Wextra -Werror -Wstrict-prototypes \
		-Wmissing-prototypes -Wmissing-declarations -Wshadow \
		-Wpointer-arith -Wsign-compare -Wno-unused-parameter \
		-Wno-missing-field-initializers
HARDEN=		-D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
XCFLAGS=	$(WARNINGS) $(HARDEN) -std=gnu11
XCPPFLAGS=	-D_GNU_SOURCE -Ioidcd $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
XLDFLAGS=	-pie -Wl,-z,relro,-z,now
LDLIBS=		$(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrypt

# Every oidcd/*.c but the one holding main() goes into the library that
# the daemon, oidcctl, the unit testers and the fuzz targets link with.
LIB_SRCS=	$(filter-out oidcd/oidcd.c, $(wildcard oidcd/*.c))
LIB_OBJS=	$(patsubst oidcd/%.c, obj/%.o, $(LIB_SRCS)) obj/webdata.o
CTL_SRCS=	$(wildcard oidcctl/*.c)
CTL_OBJS=	$(patsubst oidcctl/%.c, obj/ctl-%.o, $(CTL_SRCS))
HDRS=		$(wildcard oidcd/*.h oidcctl/*.h)

# The test build: same sources, AddressSanitizer and UBSan.
SAN=		-fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=undefined
TLIB_OBJS=	$(patsubst oidcd/%.c, obj/test/%.o, $(LIB_SRCS)) \
		obj/test/webdata.o
UNIT_SRCS=	$(wildcard regress/unit/t_*.c)
UNIT_BINS=	$(patsubst regress/unit/%.c, obj/test/%, $(UNIT_SRCS))

FUZZ_SRCS=	$(wildcard regress/fuzz/fuzz_*.c)
FUZZ_BINS=	$(patsubst regress/fuzz/%.c, obj/fuzz/%, $(FUZZ_SRCS))
FUZZ_OBJS=	$(patsubst oidcd/%.c, obj/fuzz/%.o, $(LIB_SRCS)) \
		obj/fuzz/webdata.o
FUZZFLAGS=	-fsanitize=fuzzer-no-link,address,undefined -g -O1

all: deps-check oidcd/oidcd oidcctl/oidcctl

obj obj/test obj/fuzz:
	@mkdir -p $@

obj/%.o: oidcd/%.c $(HDRS) | obj
	$(CC) $(CFLAGS) $(XCFLAGS) $(XCPPFLAGS) $(CPPFLAGS) -c -o $@ $<

obj/ctl-%.o: oidcctl/%.c $(HDRS) | obj
	$(CC) $(CFLAGS) $(XCFLAGS) $(XCPPFLAGS) -Ioidcctl $(CPPFLAGS) -c -o $@ $<

# The login pages' templates and assets, web/, compiled in (template.h).
WEB_FILES=	$(shell find web -type f 2>/dev/null)

obj/webdata.c: scripts/embed.sh $(WEB_FILES) | obj
	sh scripts/embed.sh web >$@.tmp && mv $@.tmp $@

obj/webdata.o: obj/webdata.c oidcd/template.h
	$(CC) $(CFLAGS) $(XCFLAGS) $(XCPPFLAGS) $(CPPFLAGS) -c -o $@ obj/webdata.c

obj/test/webdata.o: obj/webdata.c oidcd/template.h | obj/test
	$(CC) -O1 -g $(SAN) $(XCFLAGS) $(XCPPFLAGS) -c -o $@ obj/webdata.c

obj/fuzz/webdata.o: obj/webdata.c oidcd/template.h | obj/fuzz
	clang $(FUZZFLAGS) $(XCPPFLAGS) -c -o $@ obj/webdata.c

obj/liboidcd.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

oidcd/oidcd: obj/oidcd.o obj/liboidcd.a
	$(CC) $(XLDFLAGS) $(LDFLAGS) -o $@ obj/oidcd.o obj/liboidcd.a $(LDLIBS)

oidcctl/oidcctl: $(CTL_OBJS) obj/liboidcd.a
	$(CC) $(XLDFLAGS) $(LDFLAGS) -o $@ $(CTL_OBJS) obj/liboidcd.a $(LDLIBS)

obj/test/%.o: oidcd/%.c $(HDRS) | obj/test
	$(CC) -O1 -g $(SAN) $(XCFLAGS) $(XCPPFLAGS) -c -o $@ $<

obj/test/liboidcd.a: $(TLIB_OBJS)
	rm -f $@ && ar rcs $@ $^

obj/test/t_%: regress/unit/t_%.c regress/unit/tap.h obj/test/liboidcd.a
	$(CC) -O1 -g $(SAN) $(XCFLAGS) $(XCPPFLAGS) -Iregress/unit -o $@ $< \
	    obj/test/liboidcd.a $(LDLIBS)

# t_sandbox confines this probe, built without sanitizers so that the
# policy under test is exactly the daemon's.
obj/test/sandbox_probe: regress/unit/sandbox_probe.c obj/liboidcd.a | obj/test
	$(CC) $(CFLAGS) $(XCFLAGS) $(XCPPFLAGS) -Iregress/unit $(XLDFLAGS) \
	    -o $@ $< obj/liboidcd.a $(LDLIBS)

unit: $(UNIT_BINS) obj/test/sandbox_probe

obj/fuzz/%.o: oidcd/%.c $(HDRS) | obj/fuzz
	clang $(FUZZFLAGS) $(XCPPFLAGS) -c -o $@ $<

obj/fuzz/liboidcd.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

obj/fuzz/fuzz_%: regress/fuzz/fuzz_%.c obj/fuzz/liboidcd.a
	clang $(FUZZFLAGS) -fsanitize=fuzzer $(XCPPFLAGS) -o $@ $< \
	    obj/fuzz/liboidcd.a $(LDLIBS)

fuzz: $(FUZZ_BINS)

# A long fuzzing campaign; CI only runs the short smoke run in make test.
fuzz-long: fuzz
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} sh regress/fuzz/run.sh $(FUZZ_BINS)

deps:
	@sh scripts/deps.sh install

deps-check:
	@sh scripts/deps.sh check

run: all
	sh scripts/run.sh

# Serial on purpose: the packages must be there before anything builds.
.NOTPARALLEL: test
test: deps-test
	$(MAKE) all unit fuzz
	sh regress/run.sh

deps-test:
	@sh scripts/deps.sh install-test

bench: all
	sh bench/run.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(PREFIX)/share/examples/oidcd
	install -m 0555 oidcd/oidcd oidcctl/oidcctl $(DESTDIR)$(SBINDIR)
	install -m 0444 man/oidcd.8 man/oidcctl.8 $(DESTDIR)$(MANDIR)/man8
	install -m 0444 man/oidcd.yaml.5 $(DESTDIR)$(MANDIR)/man5
	install -m 0444 etc/oidcd.yaml etc/dex-config.yaml \
	    $(DESTDIR)$(PREFIX)/share/examples/oidcd
	install -m 0444 etc/init.d/oidcd \
	    $(DESTDIR)$(PREFIX)/share/examples/oidcd/init.d-oidcd
	install -m 0444 etc/rc.d/oidcd \
	    $(DESTDIR)$(PREFIX)/share/examples/oidcd/rc.d-oidcd
	sed 's#/usr/local/sbin#$(SBINDIR)#g' etc/oidcd.service \
	    >$(DESTDIR)$(UNITDIR)/oidcd.service
	chmod 0444 $(DESTDIR)$(UNITDIR)/oidcd.service
	install -m 0444 etc/oidcd.sysusers $(DESTDIR)$(SYSUSERSDIR)/oidcd.conf
	install -m 0444 etc/oidcd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/oidcd.conf
	if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/oidcd.conf; \
	elif [ -z "$(DESTDIR)" ]; then sh scripts/users.sh; fi

lint:
	mandoc -Tlint -Wwarning man/*.[58]

clean:
	rm -rf obj oidcd/oidcd oidcctl/oidcctl

.PHONY: all run test unit fuzz fuzz-long deps deps-check deps-test bench \
	install lint clean
