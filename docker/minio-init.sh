#!/bin/sh
# One-shot: create the private media bucket in MinIO. Safe to re-run on every
# `docker compose up` (existing bucket is kept, its policy is reset to private).
set -eu

: "${MINIO_ENDPOINT:=http://minio:9000}"
: "${MINIO_BUCKET:=innspill-media}"

mc alias set innspill "$MINIO_ENDPOINT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "innspill/$MINIO_BUCKET"
# Media is only handed out through the app (signed URLs or proxying), never anonymously.
mc anonymous set none "innspill/$MINIO_BUCKET"
echo "Bucket $MINIO_BUCKET ready (private)."
