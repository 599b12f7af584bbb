#!/bin/sh
# Builds linkbff and the Junction emulator as static binaries into $1.
# The Dockerfile runs exactly this script, and so does .ci/run, so the image
# build is tested without a Docker engine.
#
# `linkbff --version` names LINKBFF_VERSION when set (the Dockerfile passes
# its build argument of that name), else what `git describe` says of this
# checkout, else what Go's own build stamp holds.
set -eu
out=${1:?usage: scripts/build-static.sh OUTDIR}
version=${LINKBFF_VERSION:-$(git describe --tags --always --dirty --abbrev=12 2>/dev/null || true)}
mkdir -p "$out"
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.stampedVersion=$version" -o "$out/linkbff" ./cmd/server
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/junction-emulator" ./cmd/junction-emulator
