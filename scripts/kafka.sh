#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, combined broker+controller) for dev and CI,
# without Docker: the jars come from Maven Central through Maven and are cached outside the repo.
#
#   scripts/kafka.sh bootstrap   download Kafka and its runtime jars into the cache (once)
#   scripts/kafka.sh start       format storage if needed, start, wait until the broker serves (idempotent)
#   scripts/kafka.sh stop        SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT seconds
#   scripts/kafka.sh kill9       SIGKILL at once (fault tests); `start` afterwards reuses the data dir
#   scripts/kafka.sh status      exit 0 if the broker runs and listens
#   scripts/kafka.sh clean       stop and delete the data dir
#   scripts/kafka.sh logs        print the tail of the broker log
#
# Environment:
#   KAFKA_PORT (19092)            PLAINTEXT listener on 127.0.0.1
#   KAFKA_CONTROLLER_PORT (PORT+1) KRaft controller listener on 127.0.0.1
#   KAFKA_DATA_DIR (<repo>/.kafka) config, pid file, log and the log.dirs of this instance
#   KAFKA_VERSION (4.4.0)          org.apache.kafka:kafka_2.13 version from Maven Central
#   CHARGEBRIDGE_CACHE (~/.cache/chargebridge)  jar cache root (jars live in $CHARGEBRIDGE_CACHE/kafka)
#   KAFKA_MVN_ARGS                 extra Maven arguments, e.g. -Dmaven.repo.local=/path
#   KAFKA_HEAP_OPTS (-Xms128m -Xmx512m), KAFKA_START_TIMEOUT (120 s), KAFKA_STOP_TIMEOUT (30 s)
#
# Optional, to try the clients' TLS and SASL settings against a real broker (see docs/security.md):
#   KAFKA_SASL_SSL_PORT            adds a SASL_SSL listener on 127.0.0.1 (PLAIN, SCRAM-SHA-256/512)
#   KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE  its PEM certificate and unencrypted PKCS#8 key
#   KAFKA_SASL_USERS               accounts as user:password,user2:password2 ([A-Za-z0-9_-] only);
#                                  SCRAM accounts are created when the storage is first formatted
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
# log4j-slf4j-impl binds Kafka's slf4j 1.7 API to log4j2; without it every server log line is dropped.
LOG4J_VERSION="${LOG4J_VERSION:-2.25.5}"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
CACHE_DIR="${CHARGEBRIDGE_CACHE:-$HOME/.cache/chargebridge}/kafka"
LIB_DIR="$CACHE_DIR/$KAFKA_VERSION/libs"
PORT="${KAFKA_PORT:-19092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
# Absolute, because the pid check matches the config path in the broker's command line.
DATA_DIR="$(realpath -m "${KAFKA_DATA_DIR:-$ROOT/.kafka}")"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-}"
SASL_USERS="${KAFKA_SASL_USERS:-}"

PID_FILE="$DATA_DIR/kafka.pid"
LOG_FILE="$DATA_DIR/kafka.log"
PROPS="$DATA_DIR/server.properties"
KEYSTORE="$DATA_DIR/keystore.pem"
LOG4J_CONF="$DATA_DIR/log4j2.properties"
LOG_DIRS="$DATA_DIR/data"

say() { echo "kafka.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH; $2"
}

# --- jars -----------------------------------------------------------------------------------

bootstrap() {
  [[ -f "$LIB_DIR/.complete" ]] && return 0
  need java "install a JDK 17+ (Debian: apt-get install -y openjdk-17-jre-headless)"
  need mvn "install Maven (Debian: apt-get install -y maven); it fetches Kafka from Maven Central"
  need flock "install util-linux"
  mkdir -p "$CACHE_DIR"
  # Two test processes may bootstrap at once; one downloads, the other waits and reuses.
  exec 8>"$CACHE_DIR/.bootstrap.lock"
  flock -w 900 8 || die "timed out waiting for another bootstrap ($CACHE_DIR/.bootstrap.lock)"
  if [[ -f "$LIB_DIR/.complete" ]]; then exec 8>&-; return 0; fi

  local work="$CACHE_DIR/$KAFKA_VERSION"
  mkdir -p "$work"
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.chargebridge</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  say "downloading Kafka $KAFKA_VERSION and its runtime jars with Maven (first run only)..."
  local started=$SECONDS
  rm -rf "$LIB_DIR.tmp"
  # shellcheck disable=SC2086
  if ! mvn -B -q ${KAFKA_MVN_ARGS:-} -f "$work/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$LIB_DIR.tmp" >"$work/mvn.log" 2>&1; then
    tail -n 40 "$work/mvn.log" >&2
    die "Maven could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (log: $work/mvn.log)"
  fi
  ls "$LIB_DIR.tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "Maven finished but kafka_2.13 jar is missing"
  rm -rf "$LIB_DIR"
  mv "$LIB_DIR.tmp" "$LIB_DIR"
  touch "$LIB_DIR/.complete"
  say "Kafka $KAFKA_VERSION ready in $LIB_DIR ($((SECONDS - started)) s)"
  exec 8>&-
}

# --- process ----------------------------------------------------------------------------------

# The pid from the pid file, if that process is alive and is this instance's broker (a stale pid
# may have been reused by an unrelated process after a reboot or a SIGKILL).
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "kafka.Kafka $PROPS" || return 1
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/${1:-$PORT}") 2>/dev/null
}

# Kafka binds its port before the broker is ready; the "started" line is logged once it serves.
started_in_log() {
  grep -q "Kafka Server started" "$LOG_FILE" 2>/dev/null
}

# The optional SASL_SSL listener's settings, appended to the broker config.
sasl_ssl_config() {
  [[ -f "${KAFKA_SSL_CERT_FILE:-}" && -f "${KAFKA_SSL_KEY_FILE:-}" ]] ||
    die "KAFKA_SASL_SSL_PORT needs KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE (PEM files)"
  [[ "$SASL_USERS" =~ ^[A-Za-z0-9_-]+:[A-Za-z0-9_-]+(,[A-Za-z0-9_-]+:[A-Za-z0-9_-]+)*$ ]] ||
    die "KAFKA_SASL_SSL_PORT needs KAFKA_SASL_USERS as user:password[,user:password...]"
  # Kafka reads a PEM key store as one file: the private key, then the certificate chain.
  cat "$KAFKA_SSL_KEY_FILE" "$KAFKA_SSL_CERT_FILE" >"$KEYSTORE"
  chmod 600 "$KEYSTORE"
  local plain_users="" pair
  for pair in ${SASL_USERS//,/ }; do plain_users+=" user_${pair%%:*}=\"${pair#*:}\""; done
  cat <<EOF

# SASL_SSL listener for clients (TLS + PLAIN or SCRAM); brokers and the controller stay on PLAINTEXT.
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
ssl.keystore.type=PEM
ssl.keystore.location=$KEYSTORE
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain_users;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
}

write_config() {
  mkdir -p "$DATA_DIR" "$LOG_DIRS"
  local listeners="PLAINTEXT://127.0.0.1:$PORT" protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [[ -n "$SASL_SSL_PORT" ]]; then
    listeners+=",SASL_SSL://127.0.0.1:$SASL_SSL_PORT"
    protocols+=",SASL_SSL:SASL_SSL"
  fi
  cat >"$PROPS" <<EOF
# Generated by scripts/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=$listeners,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
log.dirs=$LOG_DIRS

# One node: every internal topic has one replica, and one in-sync replica is enough for acks=all.
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=true
# Tests create groups all the time; do not wait 3 s for more members before the first rebalance.
group.initial.rebalance.delay.ms=0
# After a SIGKILL the restarted broker cannot register until the controller expires its previous
# session (default 9 s); with broker and controller in one process that wait is pure delay.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=1000

# Sized for a 2-core dev/CI machine.
num.network.threads=2
num.io.threads=4
background.threads=4
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
num.recovery.threads.per.data.dir=1
log.retention.hours=24
EOF
  if [[ -n "$SASL_SSL_PORT" ]]; then sasl_ssl_config >>"$PROPS"; fi
  # Console only: the script sends stdout and stderr to one log file, so JVM crashes land there too.
  cat >"$LOG4J_CONF" <<'EOF'
status = error
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
# Keep the lines that say the broker started and stopped.
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
logger.kafka.name = kafka.Kafka$
logger.kafka.level = INFO
EOF
}

check_java() {
  local major
  major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)"
  [[ "$major" =~ ^[0-9]+$ && "$major" -ge 17 ]] || die "Kafka $KAFKA_VERSION needs Java 17+, found: $(java -version 2>&1 | head -n 1)"
}

# An array, so that the class path wildcard reaches java unexpanded and paths may hold spaces.
java_cmd() {
  local heap
  read -r -a heap <<<"$HEAP_OPTS"
  JAVA_CMD=(java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true "-Dlog4j2.configurationFile=$LOG4J_CONF" "-Dkafka.logs.dir=$DATA_DIR"
    -cp "$LIB_DIR/*")
}

format_storage() {
  [[ -f "$LOG_DIRS/meta.properties" ]] && return 0
  # A KRaft cluster id is 16 random bytes in URL-safe base64 without padding (22 characters).
  local cluster_id
  # Not starting with "-", as Kafka's own Uuid.randomUuid() ensures: StorageTool would read such an
  # id after -t as an option ("expected one argument") and formatting would fail at random.
  cluster_id="-"
  while [[ "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  done
  say "formatting $LOG_DIRS (cluster id $cluster_id)"
  local scram=() pair mechanism
  if [[ -n "$SASL_SSL_PORT" ]]; then
    for pair in ${SASL_USERS//,/ }; do
      for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
        scram+=(--add-scram "$mechanism=[name=${pair%%:*},password=${pair#*:}]")
      done
    done
  fi
  java_cmd
  if ! "${JAVA_CMD[@]}" kafka.tools.StorageTool format --ignore-formatted \
      -t "$cluster_id" -c "$PROPS" "${scram[@]}" >>"$LOG_FILE" 2>&1; then
    tail -n 30 "$LOG_FILE" >&2
    die "formatting storage failed (log: $LOG_FILE)"
  fi
}

start() {
  need java "install a JDK 17+ (Debian: apt-get install -y openjdk-17-jre-headless)"
  need flock "install util-linux"
  bootstrap
  mkdir -p "$DATA_DIR"
  # Serialise starts of one instance: parallel test files may all call `start`.
  exec 9>"$DATA_DIR/.start.lock"
  flock -w "$((START_TIMEOUT + 30))" 9 || die "timed out waiting for another start of $DATA_DIR"

  local pid
  if pid="$(running_pid)"; then
    if started_in_log && port_open; then
      say "already running (pid $pid) on 127.0.0.1:$PORT"
      return 0
    fi
  else
    if port_open "$PORT" || port_open "$CONTROLLER_PORT" || { [[ -n "$SASL_SSL_PORT" ]] && port_open "$SASL_SSL_PORT"; }; then
      die "port $PORT or $CONTROLLER_PORT is taken by another process; set KAFKA_PORT (and KAFKA_CONTROLLER_PORT) or stop it"
    fi
    check_java
    # Keep the previous run's log for post-mortems of fault tests; the marker check reads this run only.
    [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.prev"
    write_config
    format_storage
    # setsid: the broker outlives the calling shell and is not hit by signals sent to its group.
    java_cmd
    # 9>&-: the broker must not inherit (and so hold forever) the start lock.
    setsid nohup "${JAVA_CMD[@]}" kafka.Kafka "$PROPS" </dev/null >>"$LOG_FILE" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PID_FILE"
    say "starting Kafka $KAFKA_VERSION (pid $pid) on 127.0.0.1:$PORT, data in $DATA_DIR"
  fi

  local began=$SECONDS deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! alive "$pid"; then
      tail -n 40 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"
      die "Kafka exited during startup (log: $LOG_FILE)"
    fi
    if started_in_log && port_open; then
      say "ready on 127.0.0.1:$PORT after $((SECONDS - began)) s"
      return 0
    fi
    sleep 0.2
  done
  tail -n 40 "$LOG_FILE" >&2 || true
  die "Kafka did not become ready within ${START_TIMEOUT}s (log: $LOG_FILE); it is left running, see 'stop'"
}

# A killed process lingers as a zombie until its parent (init, after setsid) reaps it; it is gone.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != "Z" ]]
}

wait_gone() {
  local pid="$1" timeout="$2"
  local deadline=$((SECONDS + timeout))
  while alive "$pid"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
    say "still running after ${STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || die "pid $pid survived SIGKILL"
  fi
  rm -f "$PID_FILE"
  say "stopped (pid $pid)"
}

kill9() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || die "pid $pid survived SIGKILL"
  rm -f "$PID_FILE"
  say "killed (pid $pid)"
}

status() {
  local pid
  if pid="$(running_pid)" && port_open; then
    echo "running pid=$pid port=$PORT data=$DATA_DIR version=$KAFKA_VERSION"
    return 0
  fi
  echo "not running (port=$PORT data=$DATA_DIR)"
  return 1
}

case "${1:-}" in
  bootstrap) bootstrap ;;
  start) start ;;
  stop) stop ;;
  kill9) kill9 ;;
  status) status ;;
  clean)
    stop
    # Only ever delete a directory this script set up.
    if [[ -f "$DATA_DIR/server.properties" || -f "$DATA_DIR/.start.lock" ]]; then
      rm -rf "$DATA_DIR"
      say "removed $DATA_DIR"
    elif [[ -e "$DATA_DIR" ]]; then
      die "$DATA_DIR does not look like a kafka.sh data dir; not deleting it"
    fi
    ;;
  logs) tail -n "${2:-100}" "$LOG_FILE" ;;
  *)
    echo "usage: $0 start|stop|status|kill9|bootstrap|clean|logs" >&2
    exit 2
    ;;
esac
