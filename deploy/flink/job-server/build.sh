#!/usr/bin/env bash
# Build Beam's Flink job server from the sources Maven Central publishes (see
# pom.xml beside this script), once, into the cache.  Prints the jar's path.
#   bash deploy/flink/job-server/build.sh            # Beam version of requirements.txt
#   BEAM_VERSION=2.70.0 bash deploy/flink/job-server/build.sh
# Needs Java 17 and Maven; about 30 s and 250 MB of Maven downloads the first time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
version="${BEAM_VERSION:-$(sed -n 's/^apache-beam==//p' "$repo/requirements.txt")}"
flink_minor=1.19
cache="${XDG_CACHE_HOME:-$HOME/.cache}/highway-tagging/flink-job-server"
jar="$cache/beam-runners-flink-$flink_minor-job-server-$version.jar"
if [ -s "$jar" ]; then echo "$jar"; exit 0; fi
command -v mvn >/dev/null || { echo "build.sh: Maven (mvn) is needed to build the Flink job server" >&2; exit 1; }
mkdir -p "$cache"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/pom.xml" "$work/"
echo "building Beam's Flink $flink_minor job server $version from Maven Central sources (once)" >&2
started=$(date +%s)
for try in 1 2 3; do  # Maven Central hiccups are transient; a compile error is not, but costs little to repeat
  if (cd "$work" && mvn -B -q -Dbeam.version="$version" -Dflink.minor="$flink_minor" package \
        > "$work/mvn.log" 2>&1); then
    # never replace a jar under a running job server: write aside, then rename
    cp "$work/target/beam-runners-flink-job-server-$version.jar" "$jar.tmp.$$"
    mv "$jar.tmp.$$" "$jar"
    echo "built $jar ($(du -m "$jar" | cut -f1) MiB in $(( $(date +%s) - started )) s)" >&2
    echo "$jar"
    exit 0
  fi
  echo "job server build failed (try $try); last lines of Maven's log:" >&2
  tail -n 15 "$work/mvn.log" >&2
  sleep $(( try * 5 ))
done
exit 1
