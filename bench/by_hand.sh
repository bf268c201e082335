#!/usr/bin/env bash
# Frozen baseline for benchmark scenario 3: the Vertex AI setup guide's steps, done by hand, one
# project after the other. Do not optimise it: it is what people type.
#
#   bench/by_hand.sh PROJECT...
#
# Env: BILLING_ACCOUNT, VERTEX_ROOT (https://aiplatform.googleapis.com, or the emulator), and
# for the emulator the CLOUDSDK_* overrides set by bench/scenarios.py.
set -euo pipefail
ACCOUNT="${BILLING_ACCOUNT:?}"
ROOT="${VERTEX_ROOT:-https://aiplatform.googleapis.com}"
MODEL=gpt-oss-120b-maas
TOKEN="$(gcloud auth print-access-token)"
for PROJECT in "$@"; do
  gcloud billing projects link "$PROJECT" --billing-account "$ACCOUNT" >/dev/null
  gcloud services enable aiplatform.googleapis.com \
    cloudcommerceconsumerprocurement.googleapis.com --project "$PROJECT"
  curl -sS -f -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
    -d '{}' "$ROOT/v1beta1/projects/$PROJECT/publishers/openai/models/$MODEL:enableModel" >/dev/null
  until [ "$(curl -sS -o /dev/null -w '%{http_code}' -X POST \
      -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
      -d "{\"model\": \"openai/$MODEL\", \"messages\": [{\"role\": \"user\", \"content\": \"Say ok\"}]}" \
      "$ROOT/v1/projects/$PROJECT/locations/global/endpoints/openapi/chat/completions")" = 200 ]; do
    sleep 1
  done
done
