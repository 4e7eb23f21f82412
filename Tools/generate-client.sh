#!/usr/bin/env bash
# Regenerates the typed client (Sources/LogbookClient/Generated) from docs/openapi.yaml with
# swift-openapi-generator, built apart in Tools/ClientGenerator so that building Logbook never
# builds the generator. Run it after every change to docs/openapi.yaml (after Tools/sync-openapi.sh);
# ClientTests fails until the generated code matches the document (openapi.sha256).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --package-path Tools/ClientGenerator --product swift-openapi-generator -c release
generator=Tools/ClientGenerator/.build/release/swift-openapi-generator
out=Sources/LogbookClient/Generated
rm -rf "$out"
mkdir -p "$out"
"$generator" generate docs/openapi.yaml --config Sources/LogbookClient/openapi-generator-config.yaml --output-directory "$out"
# The generator writes `public import`; files that use nothing of a module publicly then warn that
# the import is unused. A plain `import` is public too in Swift 6 (without InternalImportsByDefault)
# and does not warn: the same program, no warnings.
sed -i 's/\bpublic import /import /' "$out"/*.swift
sha256sum docs/openapi.yaml | cut -d' ' -f1 > "$out/openapi.sha256"
echo "wrote $out from docs/openapi.yaml ($(cat "$out/openapi.sha256"))"
