#!/usr/bin/env bash
# Packaging: the Dockerfile, the systemd unit, the logrotate snippet, the man
# page, the container config and docker-compose.yml agree with the project
# and with each other. A check whose tool is missing prints "skip".
#   it_packaging.sh ANOMALYD SOURCE_DIR
set -u
bin=$(realpath "$1")
src=$(realpath "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/it_packaging.XXXXXX")
bgpids=()
cleanup() {
  local p
  for p in "${bgpids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

pass=0 failed=0 skipped=0
ok() { echo "ok $*"; pass=$((pass + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
skip() { echo "skip $*"; skipped=$((skipped + 1)); }
have() { command -v "$1" >/dev/null 2>&1; }
show() { sed 's/^/#   /' "$@" >&2; } # a file's lines, as diagnostics

dockerfile=$src/Dockerfile
unit=$src/systemd/anomalyd.service
logrotate_conf=$src/config/anomalyd.logrotate
manpage=$src/docs/anomalyd.1
container_yaml=$src/config/container.yaml
compose=$src/docker-compose.yml
packages=$src/tools/packages.txt

# ---- package lists ------------------------------------------------------------

# tools/packages.txt: the packages above the "# test-only" line (build) and
# below it (test-only), one per line, comments and blank lines left out.
packages_part() { # build|test
  awk -v part="$1" '
    /^[[:space:]]*#[[:space:]]*test-only/ { below = 1; next }
    /^[[:space:]]*(#|$)/ { next }
    (part == "build") == !below { print $1 }' "$packages"
}

# The logical lines (continuations joined, comment lines dropped) of stage N
# (1-based) of the Dockerfile.
dockerfile_stage() { # N
  awk -v want="$1" '
    /^[[:space:]]*#/ { next }
    /^FROM[[:space:]]/ && line == "" { stage++ }
    stage != want { next }
    { line = line " " $0
      if (sub(/\\[[:space:]]*$/, "", line)) next
      print line; line = "" }' "$dockerfile"
}

# The packages that stage N's "apt-get install" lines install, in order.
dockerfile_packages() { # N
  dockerfile_stage "$1" | grep -E 'apt-get( -[^ ]+)* install' | while read -r l; do
    set -f
    # shellcheck disable=SC2086 # split the instruction into words on purpose
    set -- $l
    set +f
    local in=0 w
    for w in "$@"; do
      if [ "$in" = 1 ]; then
        case "$w" in
          '&&' | ';' | '||' | '|') in=0 ;;
          -*) ;;
          *) echo "$w" ;;
        esac
      elif [ "$w" = install ]; then
        in=1
      fi
    done
  done
}

# Runtime counterpart of each build package (the shared library package a
# -dev package depends on); the build tools have none. A new -dev package in
# tools/packages.txt needs its line here and in the Dockerfile's runtime stage.
declare -A runtime_of=(
  [libuv1-dev]=libuv1
  [librdkafka-dev]=librdkafka1
  [libjansson-dev]=libjansson4
  [libcurl4-openssl-dev]=libcurl4
  [libyaml-dev]=libyaml-0-2
  [libhttp-parser-dev]=libhttp-parser2.9
    [liblmdb-dev]=liblmdb0
)
build_only=" build-essential cmake pkg-config "
runtime_extra=(ca-certificates) # TLS to Event Hubs and the remote detector

mapfile -t want_build < <(packages_part build)
mapfile -t test_only < <(packages_part test)
mapfile -t got_build < <(dockerfile_packages 1)
mapfile -t got_runtime < <(dockerfile_packages 2)

if [ ${#want_build[@]} -gt 0 ] && [ "${want_build[*]}" = "${got_build[*]}" ]; then
  ok "dockerfile-build-packages (${#got_build[@]} = tools/packages.txt less ${#test_only[@]} test-only: ${test_only[*]})"
else
  fail "dockerfile-build-packages: tools/packages.txt above '# test-only' gives [${want_build[*]}], the Dockerfile's build stage installs [${got_build[*]}]"
fi

# Every test-only package is one that building does not need.
bad_test_only=()
for p in "${test_only[@]}"; do
  case " ${got_build[*]} " in *" $p "*) bad_test_only+=("$p") ;; esac
done
if [ ${#bad_test_only[@]} -eq 0 ]; then
  ok "test-only-packages-not-in-image"
else
  fail "test-only-packages-not-in-image: ${bad_test_only[*]} both test-only and in the build stage"
fi

want_runtime=()
missing_map=()
for p in "${want_build[@]}"; do
  case "$build_only" in *" $p "*) continue ;; esac
  if [ -n "${runtime_of[$p]:-}" ]; then want_runtime+=("${runtime_of[$p]}"); else missing_map+=("$p"); fi
done
want_runtime+=("${runtime_extra[@]}")
if [ ${#missing_map[@]} -gt 0 ]; then
  fail "dockerfile-runtime-packages: no runtime counterpart known for ${missing_map[*]} (add it to runtime_of in $0)"
elif [ "${want_runtime[*]}" = "${got_runtime[*]}" ]; then
  ok "dockerfile-runtime-packages (${got_runtime[*]})"
else
  fail "dockerfile-runtime-packages: want [${want_runtime[*]}], the runtime stage installs [${got_runtime[*]}]"
fi

# The table above against Debian's own dependencies, when apt knows them
# (one apt-cache call: each takes seconds).
if have apt-cache && apt-cache depends "${!runtime_of[@]}" >"$work/deps.txt" 2>/dev/null &&
  [ -s "$work/deps.txt" ]; then
  bad=()
  for dev in "${!runtime_of[@]}"; do
    awk -v d="$dev" -v r="${runtime_of[$dev]}" '
      /^[^ ]/ { cur = $1 }
      cur == d && $1 == "Depends:" && $2 == r { found = 1 }
      END { exit !found }' "$work/deps.txt" || bad+=("$dev->${runtime_of[$dev]}")
  done
  if [ ${#bad[@]} -eq 0 ]; then ok "runtime-counterparts-per-apt"
  else fail "runtime-counterparts-per-apt: not a dependency: ${bad[*]}"; fi
else
  skip "runtime-counterparts-per-apt (no apt package lists)"
fi

# Every shared library the binary needs comes from a runtime-stage package
# (or from libc6/libgcc-s1, which debian:12-slim has).
if have readelf && have dpkg; then
  needed=()
  while read -r lib; do
    case "$lib" in libasan.* | libubsan.* | liblsan.* | libtsan.*) continue ;; esac
    needed+=("$lib")
  done < <(readelf -d "$bin" | awk '/\(NEEDED\)/ { gsub(/[][]/, "", $5); print $5 }')
  globs=()
  for lib in "${needed[@]}"; do globs+=("*/$lib"); done
  dpkg -S "${globs[@]}" >"$work/owners.txt" 2>/dev/null
  bad=()
  allowed=" ${got_runtime[*]} libc6 libgcc-s1 "
  for lib in "${needed[@]}"; do
    owners=$(awk -v l="$lib" '{ n = split($NF, p, "/") } p[n] == l { sub(/: .*/, ""); print }' \
      "$work/owners.txt" | tr ',' '\n' | sed 's/^ *//; s/:.*//' | sort -u | tr '\n' ' ')
    found=0
    for o in $owners; do
      case "$allowed" in *" $o "*) found=1 ;; esac
    done
    [ "$found" = 1 ] || bad+=("$lib(${owners:-unknown})")
  done
  if [ ${#needed[@]} -gt 0 ] && [ ${#bad[@]} -eq 0 ]; then
    ok "runtime-stage-covers-binary-libraries (${#needed[@]} libraries)"
  else
    fail "runtime-stage-covers-binary-libraries: not installed in the runtime stage: ${bad[*]}"
  fi
else
  skip "runtime-stage-covers-binary-libraries (no readelf/dpkg)"
fi

# ---- Dockerfile ------------------------------------------------------------------

dockerfile_has() { # NAME ERE: a logical line of the whole Dockerfile matches
  if { dockerfile_stage 1; dockerfile_stage 2; } | grep -qE -- "$2"; then ok "dockerfile-$1"
  else fail "dockerfile-$1: no line matches /$2/"; fi
}
dockerfile_has from-bookworm '^ *FROM debian:(12|bookworm)(-slim)? AS build'
dockerfile_has build-options 'tools/build\.sh .*-DAD_BUILD_TESTS=OFF.*-DAD_BUILD_BENCH=OFF'
dockerfile_has cmake-install 'cmake --install '
dockerfile_has stopsignal '^ *STOPSIGNAL SIGTERM *$'
dockerfile_has expose '^ *EXPOSE 9464 *$'
dockerfile_has healthcheck '^ *HEALTHCHECK .*CMD .*/healthz'
dockerfile_has entrypoint '^ *ENTRYPOINT \["anomalyd"\] *$'
dockerfile_has cmd '^ *CMD \["-c", "/etc/anomalyd/anomalyd.yaml"\] *$'
dockerfile_has config 'COPY config/container\.yaml /etc/anomalyd/anomalyd\.yaml'
user=$(dockerfile_stage 2 | awk '$1 == "USER" { u = $2 } END { print u }')
case "${user%%:*}" in
  "" | root | 0) fail "dockerfile-non-root: the runtime stage's USER is '${user:-unset}'" ;;
  *) ok "dockerfile-non-root (USER $user)" ;;
esac

# The build stage's COPY sources exist, and are enough to configure the
# build the way the image does (a new top-level directory the build needs
# must be copied too).
mkdir -p "$work/ctx"
copy_ok=1
while read -r srcs; do
  for s in $srcs; do
    if [ -e "$src/$s" ]; then cp -a "$src/$s" "$work/ctx/" 2>/dev/null || copy_ok=0
    else copy_ok=0; echo "# COPY source $s does not exist" >&2; fi
  done
done < <(dockerfile_stage 1 | awk '$1 == "COPY" && $2 !~ /^--/ { $1 = ""; $NF = ""; print }')
if [ "$copy_ok" = 1 ] &&
  cmake -S "$work/ctx" -B "$work/ctx-build" -DAD_BUILD_TESTS=OFF -DAD_BUILD_BENCH=OFF \
    >"$work/ctx.log" 2>&1; then
  ok "dockerfile-context-configures"
else
  fail "dockerfile-context-configures: the build stage's COPY set does not configure"
  show "$work/ctx.log"
fi

# ---- container config ----------------------------------------------------------

# With none of its variables set, as in `docker run` without -e.
plain_env=(env -u KAFKA_BROKERS -u ANOMALYD_TOPIC -u ANOMALYD_GROUP -u ANOMALYD_START
  -u ANOMALYD_ALERT_TOPIC -u ANOMALYD_ALERT_LOG -u ANOMALYD_LOG_LEVEL
  -u EVENT_HUBS_CONNECTION_STRING -u ANOMALY_DETECTOR_KEY)
"${plain_env[@]}" "$bin" -c "$container_yaml" --check-config >"$work/cc.out" 2>"$work/cc.err"
rc=$?
# --check-config checks the paths too: the image's directories may not exist
# on this host, which is then the only reason allowed for a 78.
if [ "$rc" = 78 ] && [ ! -d /var/log/anomalyd ] &&
  grep -q '^anomalyd: sinks.alert_log.path: .*/var/log/anomalyd' "$work/cc.err"; then
  rc=0
fi
if [ "$rc" = 0 ] && grep -q 'listen: "\?0\.0\.0\.0:9464' "$work/cc.out" &&
  grep -q 'dir: /var/lib/anomalyd' "$work/cc.out" &&
  grep -q 'path: /var/log/anomalyd/alerts.jsonl' "$work/cc.out"; then
  ok "container-config-check"
else
  fail "container-config-check: exit $rc"
  show "$work/cc.err" "$work/cc.out"
fi
KAFKA_BROKERS=b1:9092,b2:9092 ANOMALYD_TOPIC=t1 ANOMALY_DETECTOR_KEY=k \
  "$bin" -c "$container_yaml" --check-config >"$work/cc2.out" 2>&1
if grep -q 'brokers: "\?b1:9092,b2:9092' "$work/cc2.out" && grep -q 'topics: \[t1\]' "$work/cc2.out"; then
  ok "container-config-env-overrides"
else
  fail "container-config-env-overrides"
  show "$work/cc2.out"
fi

# ---- HEALTHCHECK against the real daemon -----------------------------------------

# The Dockerfile's probe, run by bash as Docker would (JSON form), on PORT.
probe_cmd=$(awk '/^HEALTHCHECK/ { h = 1 } h { line = line $0; if (!sub(/\\$/, "", line)) { print line; exit } }' \
  "$dockerfile" | sed -n 's/.*CMD \(\[.*\]\) *$/\1/p')
# /usr/bin/python3 as the other tests use (a python3 earlier on PATH may be a
# slow wrapper).
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
probe_args=
if [ -n "$py" ]; then
  probe_args=$("$py" -c 'import json, sys; a = json.loads(sys.argv[1]); print(a[2])' "$probe_cmd" 2>/dev/null)
fi
probe() { # PORT
  timeout 6 bash -c "${probe_args//9464/$1}" 2>/dev/null
}
free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
mock=$(dirname "$bin")/tests/ad_mockbroker
if [ -z "$probe_args" ]; then
  fail "healthcheck-probe: no HEALTHCHECK CMD [\"bash\", \"-c\", ...] in the Dockerfile (or no python3)"
elif [ ! -x "$mock" ]; then
  skip "healthcheck-probe (no $mock)"
else
  mkfifo "$work/mb.fifo"
  "$mock" --topic sensor-raw:1 --topic anomalies:1 --addr-file "$work/mb.addr" \
    <"$work/mb.fifo" >/dev/null 2>"$work/mb.log" &
  bgpids+=($!)
  exec 9>"$work/mb.fifo"
  for _ in $(seq 50); do [ -s "$work/mb.addr" ] && break; sleep 0.1; done
  port=$(free_port)
  mkdir -p "$work/state"
  KAFKA_BROKERS=$(cat "$work/mb.addr") "$bin" -c "$container_yaml" \
    --set http.listen="127.0.0.1:$port" --set state.dir="$work/state" \
    --set sinks.alert_log.path="$work/alerts.jsonl" 9>&- >/dev/null 2>"$work/d.log" &
  dpid=$!
  bgpids+=("$dpid")
  up=0
  for _ in $(seq 100); do
    if probe "$port"; then up=1; break; fi
    kill -0 "$dpid" 2>/dev/null || break
    sleep 0.15
  done
  other=$(free_port) # nothing listens there: the probe must fail
  if [ "$up" = 1 ] && ! probe "$other"; then
    ok "healthcheck-probe (GET /healthz on the running daemon)"
  else
    fail "healthcheck-probe: the Dockerfile's HEALTHCHECK did not see 200 from /healthz"
    show "$work/d.log"
  fi
  kill -TERM "$dpid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
  exec 9>&-
fi

# ---- systemd unit ----------------------------------------------------------------

unit_missing=()
while IFS= read -r d; do
  [ -n "$d" ] || continue
  grep -qxF -- "$d" "$unit" || unit_missing+=("$d")
done <<'EOF'
Type=notify
NotifyAccess=main
ExecStart=/usr/local/bin/anomalyd -c /etc/anomalyd/anomalyd.yaml
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartPreventExitStatus=78
RestartSec=2
WatchdogSec=30
TimeoutStopSec=15
DynamicUser=yes
StateDirectory=anomalyd
LogsDirectory=anomalyd
ConfigurationDirectory=anomalyd
EnvironmentFile=-/etc/default/anomalyd
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallFilter=@system-service
SystemCallArchitectures=native
CapabilityBoundingSet=
UMask=0027
LimitNOFILE=65536
WantedBy=multi-user.target
EOF
if [ ${#unit_missing[@]} -eq 0 ]; then ok "unit-directives"
else fail "unit-directives: missing: ${unit_missing[*]}"; fi

# The unit's directories are those of the default configuration.
"$bin" -c "$src/config/anomalyd.yaml" --check-config >"$work/def.out" 2>&1
state_dir=$(awk '/^state:/ { s = 1 } s && $1 == "dir:" { print $2; exit }' "$work/def.out")
alert_log=$(awk '/^  alert_log:/ { s = 1 } s && $1 == "path:" { print $2; exit }' "$work/def.out")
lr_path=$(awk '/^\/.*\{ *$/ { print $1; exit }' "$logrotate_conf")
unit_val() { sed -n "s/^$1=//p" "$unit" | tail -1; }
if [ "$state_dir" = "/var/lib/$(unit_val StateDirectory)" ] &&
  [ "$(dirname "$alert_log")" = "/var/log/$(unit_val LogsDirectory)" ] &&
  [ "$lr_path" = "$alert_log" ]; then
  ok "unit-logrotate-config-paths-agree ($state_dir, $alert_log)"
else
  fail "unit-logrotate-config-paths-agree: state.dir=$state_dir alert_log=$alert_log StateDirectory=$(unit_val StateDirectory) LogsDirectory=$(unit_val LogsDirectory) logrotate=$lr_path"
fi

if have systemd-analyze; then
  # ExecStart must name an executable: point it at the binary under test;
  # Documentation=man:anomalyd(1) is checked against docs/anomalyd.1.
  mkdir -p "$work/unit" "$work/man/man1"
  sed "s#/usr/local/bin/anomalyd#$bin#" "$unit" >"$work/unit/anomalyd.service"
  cp "$manpage" "$work/man/man1/anomalyd.1"
  if have man; then man_opt=--man=yes; else man_opt=--man=no; fi
  MANPATH=$work/man systemd-analyze verify "$man_opt" "$work/unit/anomalyd.service" \
    >"$work/verify.log" 2>&1
  rc=$?
  if [ "$rc" = 0 ] && ! grep -q 'anomalyd\.service' "$work/verify.log"; then
    ok "systemd-analyze-verify ($man_opt)"
  else
    fail "systemd-analyze-verify: exit $rc"
    show "$work/verify.log"
  fi
  if systemd-analyze security --offline=true "$work/unit/anomalyd.service" >"$work/sec.log" 2>&1; then
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$work/sec.log")
    if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
      ok "systemd-analyze-security (exposure $score)"
    else
      fail "systemd-analyze-security: exposure '${score:-?}' above 2.0"
      show "$work/sec.log"
    fi
  else
    skip "systemd-analyze-security (no --offline in this systemd)"
  fi
else
  skip "systemd-analyze-verify (no systemd-analyze)"
  skip "systemd-analyze-security (no systemd-analyze)"
fi

# ---- logrotate -------------------------------------------------------------------

if have logrotate; then
  logrotate -d -s "$work/lr.state" "$logrotate_conf" >"$work/lr-d.log" 2>&1
  rc=$?
  if [ "$rc" = 0 ] && ! grep -qi '^error' "$work/lr-d.log"; then
    ok "logrotate-debug"
  else
    fail "logrotate-debug: exit $rc"
    show "$work/lr-d.log"
  fi
  # A real rotation of a copy in $work: the log is renamed, a new one is
  # created 0640 with the old owner, and postrotate signals the unit (a
  # systemctl stand-in on PATH records its arguments).
  mkdir -p "$work/lr/log" "$work/lr/bin"
  printf '{"alert_id":"a"}\n' >"$work/lr/log/alerts.jsonl"
  chmod 0640 "$work/lr/log/alerts.jsonl"
  printf '#!/bin/sh\necho "$@" >>"%s"\n' "$work/lr/systemctl.args" >"$work/lr/bin/systemctl"
  chmod +x "$work/lr/bin/systemctl"
  sed "s#/var/log/anomalyd/alerts.jsonl#$work/lr/log/alerts.jsonl#" "$logrotate_conf" >"$work/lr/conf"
  chmod 0644 "$work/lr/conf"
  PATH="$work/lr/bin:$PATH" logrotate -f -s "$work/lr/state" "$work/lr/conf" >"$work/lr.log" 2>&1
  rc=$?
  if [ "$rc" = 0 ] && [ -s "$work/lr/log/alerts.jsonl.1" ] && [ -f "$work/lr/log/alerts.jsonl" ] &&
    [ ! -s "$work/lr/log/alerts.jsonl" ] &&
    [ "$(stat -c %a "$work/lr/log/alerts.jsonl")" = 640 ] &&
    grep -q 'kill --signal=HUP anomalyd.service' "$work/lr/systemctl.args" 2>/dev/null; then
    ok "logrotate-rotation (renamed, recreated 0640, SIGHUP sent)"
  else
    fail "logrotate-rotation: exit $rc"
    show "$work/lr.log"
    ls -l "$work/lr/log" >&2
  fi
else
  skip "logrotate-debug (no logrotate)"
  skip "logrotate-rotation (no logrotate)"
fi

# ---- man page --------------------------------------------------------------------

if have groff; then
  out=$(groff -man -Tutf8 -ww -z "$manpage" 2>&1)
  if [ -z "$out" ]; then ok "man-renders-without-warnings"
  else fail "man-renders-without-warnings: $out"; fi
else
  skip "man-renders-without-warnings (no groff)"
fi
# Every command and long option of --help is in the man page (rendered, one
# paragraph a line, no hyphenation), and the sections are there.
"$bin" --help >"$work/help.txt" 2>&1
missing=()
if have groff; then
  groff -man -Tascii -rLL=1000n -rHY=0 -P-cbou "$manpage" >"$work/man.txt" 2>/dev/null
else # roughly: the source without its escapes
  sed 's/\\-/-/g; s/\\f[BIRP]//g' "$manpage" >"$work/man.txt"
fi
while read -r o; do
  grep -qF -- "$o" "$work/man.txt" || missing+=("$o")
done < <(grep -oE -- '--[a-z][a-z-]+' "$work/help.txt" | sort -u)
while read -r c; do
  tr -s ' ' <"$work/man.txt" | grep -qF -- "anomalyd $c" || missing+=("anomalyd $c")
done < <(sed -n 's/^ *anomalyd \([a-z][a-z]*\( [a-z][a-z]*\)\{0,1\}\).*/\1/p' "$work/help.txt" | sort -u)
for s in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS CONFIGURATION SIGNALS 'EXIT STATUS' FILES \
  ENVIRONMENT EXAMPLES 'SEE ALSO'; do
  grep -qxE -- "\.SH \"?$s\"?" "$manpage" || missing+=(".SH $s")
done
for e in NOTIFY_SOCKET JOURNAL_STREAM KAFKA_BROKERS ANOMALY_DETECTOR_KEY EVENT_HUBS_CONNECTION_STRING; do
  grep -q -- "$e" "$manpage" || missing+=("$e")
done
if [ ${#missing[@]} -eq 0 ]; then ok "man-covers-help"
else fail "man-covers-help: missing ${missing[*]}"; fi

# ---- docker-compose.yml ----------------------------------------------------------

missing=()
for pat in '^ *build: \.$' './config/container.yaml:/etc/anomalyd/anomalyd.yaml' \
  'KAFKA_BROKERS: kafka:9092' 'simulate", "--brokers", "kafka:9092", "--topic", "sensor-raw"' \
  '"--rate", "1000", "--count", "0"' 'for t in sensor-raw anomalies' 'service_completed_successfully'; do
  grep -qE -- "$pat" "$compose" || missing+=("$pat")
done
if [ ${#missing[@]} -eq 0 ]; then ok "compose-services"
else fail "compose-services: no line matches ${missing[*]}"; fi
if have docker && docker compose version >/dev/null 2>&1; then
  compose_cmd=(docker compose)
elif have docker-compose; then
  compose_cmd=(docker-compose)
else
  compose_cmd=()
fi
if [ ${#compose_cmd[@]} -gt 0 ]; then
  if (cd "$src" && "${compose_cmd[@]}" -f "$compose" config -q) >"$work/compose.log" 2>&1; then
    ok "compose-config (${compose_cmd[*]} config)"
  else
    fail "compose-config"
    show "$work/compose.log"
  fi
else
  skip "compose-config (no docker compose)"
fi

echo "$pass passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
