# Thin wrapper around meson: `make demo` and `make check` set up a fresh
# Debian machine themselves.
BUILD ?= build
BUILD_ASAN ?= build-asan
PREFIX ?= /usr/local

BUILD_DEPS = meson ninja-build pkg-config gcc python3 libjson-c-dev libseccomp-dev nettle-dev libarchive-dev \
	libcurl4-openssl-dev libsqlite3-dev libzstd-dev zlib1g-dev
RUN_DEPS = busybox-static jq
TEST_DEPS = bats jq iproute2 runc crun podman containerd umoci skopeo hyperfine util-linux docker-registry
# dockerd, for bench/engine's side-by-side figures only
BENCH_DEPS = docker.io

.PHONY: all deps test-deps demo check bench install clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(BUILD_ASAN)/build.ninja:
	meson setup $(BUILD_ASAN) -Dstatic=false -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

deps:
	@scripts/install-deps $(BUILD_DEPS) $(RUN_DEPS)

test-deps:
	@scripts/install-deps $(BUILD_DEPS) $(RUN_DEPS) $(TEST_DEPS)

demo: deps all
	@scripts/demo $(BUILD)/src/cmd/berth/berth

check: test-deps all $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN)
	tests/run $(BUILD) $(BUILD_ASAN)

bench: test-deps all
	@scripts/install-deps $(BENCH_DEPS)
	bench/run $(BUILD)/berth-runtime
	bench/unpack
	bench/images $(BUILD)/src/cmd/berth/berth
	bench/engine $(BUILD)/src/cmd/berth/berth

install: all
	install -D -m 0755 $(BUILD)/berth-runtime $(DESTDIR)$(PREFIX)/bin/berth-runtime
	install -D -m 0755 $(BUILD)/src/cmd/berth/berth $(DESTDIR)$(PREFIX)/bin/berth
	install -D -m 0755 $(BUILD)/src/monitor/berth-monitor $(DESTDIR)$(PREFIX)/libexec/berth/berth-monitor
	install -D -m 0755 $(BUILD)/src/init/berth-init $(DESTDIR)$(PREFIX)/libexec/berth/berth-init

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
