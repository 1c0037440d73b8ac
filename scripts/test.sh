#!/usr/bin/env bash
# The project's test command (README, .ci/run): formatting, vet, staticcheck, then every test.
# Tests that need a tool (mke2fs, mkfs.xfs, qemu-img, ...) skip when it is missing, unless
# SNAPWATCH_REQUIRE_TOOLS=1 (CI), where a missing tool fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin:$(go env GOPATH)/bin"

unformatted=$(gofmt -l cmd internal)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go test -timeout 20m "$@" ./...
