#!/usr/bin/env bash
# Lints the SAM template the way AWS will read it: cfn-lint and `sam validate --lint`, both pinned,
# from PyPI into a venv under .venv/ (reused while the pins match). Neither needs AWS: no
# credentials, a placeholder region, telemetry off, and no call leaves the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

CFN_LINT_VERSION=1.58.0
SAM_CLI_VERSION=1.170.0
VENV=.venv/lambda-tools
STAMP="$VENV/.pins-cfn-lint-$CFN_LINT_VERSION-sam-$SAM_CLI_VERSION"

if [ ! -e "$STAMP" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "cfn-lint==$CFN_LINT_VERSION" "aws-sam-cli==$SAM_CLI_VERSION"
  touch "$STAMP"
fi

export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true
export SAM_CLI_TELEMETRY=0

echo "cfn-lint $("$VENV/bin/cfn-lint" --version | awk '{print $2}'), $("$VENV/bin/sam" --version)"
"$VENV/bin/cfn-lint" template.yaml
"$VENV/bin/sam" validate --lint --template-file template.yaml
