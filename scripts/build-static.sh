#!/bin/sh
# Builds linkbff and the Junction emulator as static binaries into $1.
# The Dockerfile runs exactly this script, and so does .ci/run, so the image
# build is tested without a Docker engine.
set -eu
out=${1:?usage: scripts/build-static.sh OUTDIR}
mkdir -p "$out"
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/linkbff" ./cmd/server
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/junction-emulator" ./cmd/junction-emulator
