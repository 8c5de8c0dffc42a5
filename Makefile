# orders: PGXS build of the extension, its install script, the gateway and
# every test suite.  The two commands a newcomer needs:
#   make run    build, install, start a local cluster with a demo, serve the API
#   make test   build with warnings as errors, install, run every suite

EXTENSION = orders
MODULE_big = orders
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
# PGXS tracks no header dependencies here: rebuild every object when a
# header changes (a struct changed in one header otherwise leaves objects
# compiled against the old layout).
$(OBJS): $(wildcard src/*.h)

# Versions (docs/releases.md).  default_version in orders.control is the
# newest version, whose install script is built from schema/.  Every released
# script is committed at the top level (orders--X.Y.sql, orders--A--B.sql),
# never edited again, its checksum kept in released-scripts.sha256.  Until
# the newest version is frozen, its install script is a build product.
EXTVERSION := $(shell sed -n "s/^default_version = '\([^']*\)'$$/\1/p" orders.control)
SCHEMA_PARTS = $(sort $(wildcard schema/*.sql schema/*.sql.in))
BUILT_SCRIPT = build/orders--$(EXTVERSION).sql
UPGRADE_SCRIPTS = $(wildcard orders--*--*.sql)
FROZEN_SCRIPTS = $(filter-out $(UPGRADE_SCRIPTS),$(wildcard orders--*.sql))
DATA = $(FROZEN_SCRIPTS) $(UPGRADE_SCRIPTS)
# The router of the sharded layout (router/, docs/scale-out.md): a second,
# SQL-only extension installed beside orders.
DATA += router/orders_router.control $(wildcard router/orders_router--*.sql)
ifeq ($(filter orders--$(EXTVERSION).sql,$(FROZEN_SCRIPTS)),)
DATA_built = $(BUILT_SCRIPT)
endif
EXTRA_CLEAN += build

PG_CFLAGS = -Wall -Wextra $(if $(WERROR),-Werror)
# Server headers as system headers: -Wextra is for our code, not theirs.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server)
# OpenSSL's libcrypto (which the server links too): the vault's AES-256-GCM
# and HMAC, and the HMAC and constant-time comparison of API credentials.
SHLIB_LINK += -lcrypto

# pg_regress suites in sql/ and expected/ (the PGXS defaults).
# Every sql/*.sql, in name order; each file sets up its own fixtures.
REGRESS = $(basename $(notdir $(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=pgcrypto --load-extension=orders

# Isolation specs (pg_isolation_regress).
ISOLATION = $(basename $(notdir $(sort $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=pgcrypto --load-extension=orders

# TAP tests (PostgreSQL::Test::Cluster); scripts/test.sh runs them as the
# postgres user, since initdb refuses root.
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

all: $(BUILT_SCRIPT)
$(BUILT_SCRIPT): scripts/build-install-script.sh $(SCHEMA_PARTS) orders.control
	@mkdir -p build
	scripts/build-install-script.sh schema > $@.tmp && mv $@.tmp $@

.PHONY: run test test-harness mutation fuzz docs bench bench-smoke deb deb-test
run:
	scripts/run.sh

test:
	scripts/test.sh

# A test of scripts/test.sh: a failing install, suite or TAP bail-out each
# fail the run with a non-zero failed count (test/harness/selftest.sh).
test-harness:
	test/harness/selftest.sh

# Deliberate breaks of the invariants that matter, one at a time, each
# against the suites that should catch it (test/mutation/run.sh).
# MUTATIONS="name ..." runs some of them.
mutation:
	test/mutation/run.sh $(MUTATIONS)

fuzz:  # SECONDS_TO_RUN=60 by default
	test/fuzz/run.sh

docs:  # labels first: they generate a part of schema/
	scripts/render-labels.sh
	$(MAKE) all
	scripts/render-docs.sh

# Debian packages (debian/, docs/releases.md): postgresql-15-orders and
# orders-gateway in build/deb/, and their test (installs them: root only).
deb:
	scripts/build-deb.sh

deb-test:
	test/deb/run.sh

# The REST gateway (gateway/, docs/gateway.md): a program of its own,
# built with its own flags (PGXS's are for the server module) and
# installed beside the PostgreSQL programs (pg_config --bindir).
GATEWAY = gateway/orders-gateway
GATEWAY_SRCS = $(sort $(filter-out gateway/openapi_json.c,$(wildcard gateway/*.c))) gateway/openapi_json.c
GATEWAY_CFLAGS = -O2 -g -Wall -Wextra $(if $(WERROR),-Werror) -pthread \
	-DGATEWAY_VERSION='"$(EXTVERSION)"' $(shell pkg-config --cflags libmicrohttpd libpq gnutls)
GATEWAY_LIBS = -pthread $(shell pkg-config --libs libmicrohttpd libpq gnutls) -lm
EXTRA_CLEAN += $(GATEWAY) gateway/*.o gateway/openapi_json.c

all: $(GATEWAY)

$(GATEWAY): $(GATEWAY_SRCS:.c=.o)
	$(CC) -o $@ $^ $(GATEWAY_LIBS)

gateway/%.o: gateway/%.c $(wildcard gateway/*.h) orders.control
	$(CC) $(GATEWAY_CFLAGS) -c -o $@ $<

# The API document, served by the gateway, embedded as JSON.
gateway/openapi_json.c: docs/openapi.yaml gateway/embed-openapi.py
	gateway/embed-openapi.py $< $@

install: install-gateway
.PHONY: install-gateway
install-gateway: $(GATEWAY)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(GATEWAY) '$(DESTDIR)$(bindir)/orders-gateway'

# The webhook delivery daemon (webhookd/, docs/webhookd.md): a program of
# its own like the gateway (libcurl and libpq), outside the database backend
# so that nothing in its HTTP code can take the server down.
WEBHOOKD = webhookd/orders-webhookd
WEBHOOKD_CFLAGS = -O2 -g -Wall -Wextra $(if $(WERROR),-Werror) \
	-D_GNU_SOURCE -DWEBHOOKD_VERSION='"$(EXTVERSION)"' $(shell pkg-config --cflags libcurl libpq)
WEBHOOKD_LIBS = $(shell pkg-config --libs libcurl libpq)
EXTRA_CLEAN += $(WEBHOOKD) webhookd/*.o

all: $(WEBHOOKD)

$(WEBHOOKD): $(patsubst %.c,%.o,$(sort $(wildcard webhookd/*.c)))
	$(CC) -o $@ $^ $(WEBHOOKD_LIBS)

webhookd/%.o: webhookd/%.c $(wildcard webhookd/*.h) orders.control
	$(CC) $(WEBHOOKD_CFLAGS) -c -o $@ $<

install: install-webhookd
.PHONY: install-webhookd
install-webhookd: $(WEBHOOKD)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(WEBHOOKD) '$(DESTDIR)$(bindir)/orders-webhookd'

# Benchmarks (bench/, docs/benchmarks.md): the engine against two PL/pgSQL
# references (feature-complete, lean) and the machine's limits, in a durable
# cluster of their own.
bench:  # the full run (~25 min): bench/results/<date>.md and .svg
	bench/run.sh

bench-smoke:  # every workload once on tiny data: checks the harness, not timings
	bench/run.sh --smoke
