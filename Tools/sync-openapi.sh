#!/usr/bin/env bash
# Embeds docs/openapi.yaml in the service (GET /openapi.yaml serves it). Run after editing the
# document; OpenAPITests fails while the two differ.
set -euo pipefail
cd "$(dirname "$0")/.."
out=Sources/LogbookServer/OpenAPIDocument.swift
{
    echo '// Generated from docs/openapi.yaml by Tools/sync-openapi.sh; do not edit.'
    echo 'enum OpenAPIDocument {'
    echo '    static let yaml = #"""'
    cat docs/openapi.yaml
    echo '"""#'
    echo '}'
} > "$out"
echo "wrote $out"
