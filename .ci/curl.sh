#!/usr/bin/env bash
# The examples in skills/session-mesh/SKILL.md use curl, and a test runs them: install it where it is missing (CI runs as root).
set -euo pipefail
if ! command -v curl >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && apt-get install -y -qq curl >/dev/null
fi
