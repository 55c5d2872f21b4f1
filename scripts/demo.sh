#!/bin/sh
# demo.sh: the main job. Until the switch exists it runs the codec demo.
set -eu
cd "$(dirname "$0")/.."
exec build/bin/iso8583 demo
