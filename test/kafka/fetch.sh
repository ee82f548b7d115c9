#!/usr/bin/env bash
# Downloads the Apache Kafka broker jars (see pom.xml) into test/kafka/lib/ (gitignored).
# Idempotent: does nothing when lib/ already holds the jars for the current pom.xml.
# Maven's local repository stays the default (~/.m2), so a second clone on the same machine is fast.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lib="$here/lib"
marker="$lib/.pom.sha256"
want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ] && ls "$lib"/kafka_2.13-*.jar >/dev/null 2>&1; then
  echo "kafka jars: up to date in $lib"
  exit 0
fi

command -v mvn >/dev/null || { echo "kafka jars: mvn not found (apt-get install maven)" >&2; exit 1; }
echo "kafka jars: fetching into $lib"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for attempt in 1 2 3; do
  if mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$tmp/mvn.log" 2>&1; then
    break
  fi
  if [ "$attempt" = 3 ]; then
    cat "$tmp/mvn.log" >&2
    echo "kafka jars: mvn failed 3 times" >&2
    exit 1
  fi
  echo "kafka jars: mvn failed, retrying ($attempt)" >&2
  sleep $((attempt * 5))
done
ls "$tmp"/lib/kafka_2.13-*.jar "$tmp"/lib/log4j-slf4j-impl-*.jar >/dev/null
echo "$want" >"$tmp/lib/.pom.sha256"
rm -rf "$lib"
mv "$tmp/lib" "$lib"
echo "kafka jars: $(ls "$lib"/*.jar | wc -l) jars in $lib"
