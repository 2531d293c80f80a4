#!/usr/bin/env bats
# Health checks: the monitor probes the container every interval through
# exec; State.Health, ps's status and filter, retries, timeout, the start
# period, the image's HEALTHCHECK and --no-healthcheck.

load berth_helpers

# image_with_healthcheck TAG HEALTHCHECK-JSON: busybox with that config
image_with_healthcheck() {
	local dir="$BATS_TEST_TMPDIR/image"
	mkdir -p "$dir"
	berth save -o "$dir/in.tar" busybox
	tar -xf "$dir/in.tar" -C "$dir"
	python3 - "$dir" "$1" "$2" <<'PY'
import hashlib, json, os, sys
d, tag, check = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
manifest = json.load(open(os.path.join(d, "manifest.json")))
config = json.load(open(os.path.join(d, manifest[0]["Config"])))
config["config"]["Healthcheck"] = check
data = json.dumps(config).encode()
name = hashlib.sha256(data).hexdigest() + ".json"
open(os.path.join(d, name), "wb").write(data)
os.remove(os.path.join(d, manifest[0]["Config"]))
os.remove(os.path.join(d, "repositories"))
manifest[0]["Config"], manifest[0]["RepoTags"] = name, [tag]
json.dump(manifest, open(os.path.join(d, "manifest.json"), "w"))
PY
	rm "$dir/in.tar"
	tar -cf "$dir/out.tar" -C "$dir" .
	berth load -i "$dir/out.tar" >/dev/null
}

health() { berth inspect -f '{{json .State.Health}}' "$1"; }

# wait_health NAME STATUS: up to 10 s
wait_health() {
	for _ in $(seq 100); do
		[[ "$(health "$1" | jq -r .Status)" == "$2" ]] && return 0
		sleep 0.1
	done
	fail "$1 never became $2: $(health "$1")"
}

@test "health: starting, unhealthy after the retries, healthy once the probe passes; ps shows it" {
	run -0 berth run -d --name box --health-cmd 'test -f /tmp/ok && echo fine' \
		--health-interval 200ms --health-retries 3 busybox sleep 1000
	# before the first probe (one interval after the start)
	run -0 berth ps --format '{{.Status}}'
	[[ "$output" == *"(health: starting)" ]] || fail "unexpected: $output"
	assert_eq "$(health box | jq -r .Status)" starting
	wait_health box unhealthy
	run -0 health box
	(($(jq .FailingStreak <<<"$output") >= 3)) || fail "streak: $output"
	assert_eq "$(jq -r '.Log[-1].ExitCode' <<<"$output")" 1
	run -0 berth ps --format '{{.Status}}'
	[[ "$output" == *"(unhealthy)" ]] || fail "unexpected: $output"
	berth exec box touch /tmp/ok
	wait_health box healthy
	run -0 health box
	assert_eq "$(jq .FailingStreak <<<"$output")" 0
	assert_eq "$(jq -r '.Log[-1].Output' <<<"$output")" "fine"
	# docker keeps the last five results
	sleep 1.5
	assert_eq "$(health box | jq '.Log | length')" 5
	run -0 berth ps --filter health=healthy --format '{{.Names}}'
	assert_eq "$output" box
	run -0 berth ps --filter health=unhealthy --format '{{.Names}}'
	assert_eq "$output" ""
	run -0 berth run -d --name plain busybox sleep 1000
	run -0 berth ps --filter health=none --format '{{.Names}}'
	assert_eq "$output" plain
	# health events on each change of status
	run -0 berth events --until "$(date +%s)" --filter event=health_status --format '{{.Action}}'
	assert_has_line "$output" "health_status: unhealthy"
	assert_has_line "$output" "health_status: healthy"
}

@test "health: a probe over its timeout is killed and fails; the start period forgives failures" {
	run -0 berth run -d --name slow --health-cmd 'sleep 5' --health-interval 300ms \
		--health-timeout 200ms --health-retries 1 busybox sleep 1000
	wait_health slow unhealthy
	assert_eq "$(health slow | jq -r '.Log[0].Output')" "Health check exceeded timeout (200ms)"
	assert_eq "$(health slow | jq '.Log[0].ExitCode')" -1
	# timed-out probes are killed, with what they started: after several
	# timeouts at most the current probe runs
	sleep 1.5
	run -0 berth exec slow ps -o args
	(($(grep -c '^sleep 5$' <<<"$output") <= 1)) || fail "timed-out probes are still running: $output"
	# failures inside the start period do not count
	run -0 berth run -d --name patient --health-cmd false --health-interval 200ms --health-retries 1 \
		--health-start-period 1h busybox sleep 1000
	sleep 1
	run -0 health patient
	assert_eq "$(jq -r .Status <<<"$output")" starting
	assert_eq "$(jq .FailingStreak <<<"$output")" 0
	(($(jq '.Log | length' <<<"$output") >= 2)) || fail "no probe ran: $output"
}

@test "health: a stopped container is not probed; a restart starts over; the image's check and --no-healthcheck" {
	run -0 berth run -d --name box --health-cmd true --health-interval 200ms busybox sleep 1000
	wait_health box healthy
	berth stop -t 0 box
	local before
	before="$(health box | jq '.Log | length')"
	sleep 0.6
	assert_eq "$(health box | jq '.Log | length')" "$before"
	# monitors gone with the container: no probe process left behind
	! pgrep -f "container healthcheck $(berth inspect -f '{{.Id}}' box)" || fail "a probe outlived the container"
	berth start box
	assert_eq "$(health box | jq -r .Status)" starting
	wait_health box healthy
	# an image's HEALTHCHECK, its interval overridden by the flag
	image_with_healthcheck checked:1 '{"Test": ["CMD", "echo", "from-image"], "Interval": 3600000000000}'
	run -0 berth run -d --name inherits --health-interval 200ms checked:1 sleep 1000
	wait_health inherits healthy
	assert_eq "$(health inherits | jq -r '.Log[0].Output')" from-image
	run -0 berth run -d --name none --no-healthcheck checked:1 sleep 1000
	assert_eq "$(health none)" null
}

@test "health: bad flags" {
	run -125 berth run --rm --no-healthcheck --health-cmd true busybox true
	assert_has_line "$output" "berth: --no-healthcheck conflicts with --health-* options"
	run -125 berth run --rm --health-cmd true --health-retries -1 busybox true
	assert_has_line "$output" "berth: --health-retries cannot be negative"
	run -125 berth run --rm --health-cmd true --health-interval 10us busybox true
	assert_has_line "$output" "berth: Interval in Healthcheck cannot be less than 1ms"
	run -125 berth run --rm --health-interval xs busybox true
	run -0 berth ps -aq
	assert_eq "$output" ""
}
