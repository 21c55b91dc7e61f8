#!/usr/bin/env bash
# Vendor the NHS.UK frontend (CSS, JS, images) into static/.
# Idempotent: re-running replaces the vendored files with the pinned version.
# Usage: scripts/vendor-frontend.sh   (from anywhere; needs npm and tar)
set -euo pipefail

PKG="nhsuk-frontend"
VERSION="10.6.1"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATIC="$REPO_ROOT/static"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

(
  cd "$TMP"
  npm pack --silent "${PKG}@${VERSION}" >/dev/null
  tar xzf "${PKG}-${VERSION}.tgz"
)

SRC="$TMP/package"
DIST="$SRC/dist/nhsuk"

actual_version="$(node -p "require('$SRC/package.json').version" 2>/dev/null \
  || sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$SRC/package.json" | head -n1)"
if [[ "$actual_version" != "$VERSION" ]]; then
  echo "vendor-frontend: expected ${PKG} ${VERSION}, got ${actual_version}" >&2
  exit 1
fi

mkdir -p "$STATIC/css" "$STATIC/js" "$STATIC/assets"

install -m 0644 "$DIST/nhsuk-frontend.min.css" "$STATIC/css/nhsuk-frontend.min.css"
install -m 0644 "$DIST/nhsuk-frontend.min.js"  "$STATIC/js/nhsuk-frontend.min.js"

# Replace the images directory wholesale so removed upstream files do not linger.
rm -rf "$STATIC/assets/images"
cp -R "$DIST/assets/images" "$STATIC/assets/images"
install -m 0644 "$DIST/assets/manifest.json" "$STATIC/assets/manifest.json"

LICENCE_SRC=""
for f in LICENSE LICENSE.md LICENSE.txt LICENCE LICENCE.md; do
  if [[ -f "$SRC/$f" ]]; then LICENCE_SRC="$SRC/$f"; break; fi
done
if [[ -n "$LICENCE_SRC" ]]; then
  install -m 0644 "$LICENCE_SRC" "$STATIC/NHSUK-FRONTEND-LICENCE.txt"
else
  # The npm tarball (10.6.1) has no LICENSE file, only "license": "MIT" in package.json and
  # a "Licence" section in README.md. MIT requires the notice to travel with the code, so
  # write the text of the LICENSE file from the nhsuk/nhsuk-frontend repository, followed
  # by the README's licence paragraph.
  {
    cat <<'LICENCE'
MIT License

Copyright (c) 2019 NHS.UK

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.

LICENCE
    echo "---"
    echo
    echo "From the README.md of ${PKG} ${VERSION} (package.json \"license\": \"$(node -p "require('$SRC/package.json').license")\"):"
    echo
    sed -n '/^## Licence/,/^## /{/^## [^L]/d;p}' "$SRC/README.md"
  } > "$STATIC/NHSUK-FRONTEND-LICENCE.txt"
  chmod 0644 "$STATIC/NHSUK-FRONTEND-LICENCE.txt"
fi

# Dates: when this version was published, and when it was first vendored here (kept on
# re-runs of the same version, so re-running the script leaves static/ unchanged).
VENDORED_ON=""
if [[ -f "$STATIC/VENDOR.md" ]] && grep -q "^| Version | ${VERSION}\b" "$STATIC/VENDOR.md"; then
  VENDORED_ON="$(sed -n 's/^| Vendored on | \([0-9-]*\) |$/\1/p' "$STATIC/VENDOR.md" | head -n1)"
fi
VENDORED_ON="${VENDORED_ON:-$(date -u +%Y-%m-%d)}"

PUBLISHED_ON="$(npm view --silent "${PKG}@${VERSION}" time --json 2>/dev/null \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const t=JSON.parse(s);process.stdout.write((t["'"$VERSION"'"]||"").slice(0,10))}catch(e){}})' || true)"

cat > "$STATIC/VENDOR.md" <<MD
# Vendored front-end code

| | |
| --- | --- |
| Package | \`${PKG}\` on npm (NHS.UK frontend) |
| Version | ${VERSION} |
| Published | ${PUBLISHED_ON:-unknown} |
| Vendored on | ${VENDORED_ON} |
| Licence | MIT for the code (see \`NHSUK-FRONTEND-LICENCE.txt\`); documentation under the Open Government Licence v3.0 |
| Vendored by | \`scripts/vendor-frontend.sh\` (re-run it to refresh; change \`VERSION\` in it to upgrade) |

Files taken from \`dist/nhsuk/\` in the npm tarball:

| From | To | Served at |
| --- | --- | --- |
| \`nhsuk-frontend.min.css\` | \`static/css/nhsuk-frontend.min.css\` | \`/static/css/nhsuk-frontend.min.css\` |
| \`nhsuk-frontend.min.js\` (ES module, exports \`initAll\`) | \`static/js/nhsuk-frontend.min.js\` | \`/static/js/nhsuk-frontend.min.js\` |
| \`assets/images/*\` | \`static/assets/images/\` | \`/assets/images/\` |
| \`assets/manifest.json\` | \`static/assets/manifest.json\` | \`/assets/manifest.json\` |
| MIT licence notice (*) | \`static/NHSUK-FRONTEND-LICENCE.txt\` | |

(*) The ${VERSION} tarball has no LICENSE file (only \`"license": "MIT"\` in package.json and a
Licence section in README.md), so the script writes the MIT text of the nhsuk-frontend source
repository's LICENSE ("Copyright (c) 2019 NHS.UK") followed by the README's Licence section.
If a later version ships a LICENSE file, the script copies that instead.

Not vendored: the source maps. The minified CSS and JS end with a \`sourceMappingURL\` comment,
so browser developer tools request \`*.min.css.map\` / \`*.min.js.map\` and get a 404. Harmless.

Do not edit these files by hand; our own styles and scripts live in \`static/css/app.css\`,
\`static/js/body-class.js\` and \`static/js/app.mjs\`.

## Paths

The CSS refers to icons by absolute URL (\`url(/assets/images/...)\`), so the service must
serve \`static/assets/\` at \`/assets/\` as well as \`static/\` at \`/static/\`.
The only such references in ${VERSION} are \`/assets/images/nhsuk-icon-arrow-down.svg\`,
\`-arrow-up-down.svg\`, \`-arrow-up.svg\` and \`-cross.svg\`; the favicons and
\`manifest.json\` are linked from \`templates/base.html\`.

## Fonts

The package ships no fonts. The CSS's \`@font-face\` rules load "Frutiger W01" from the NHS
font CDN (\`https://assets.nhs.uk/fonts/...\`). Our Content-Security-Policy does not allow that
host in \`font-src\`, so the browser blocks those requests and the page falls back to the rest
of the stack, \`arial, sans-serif\` (Arial is the NHS secondary typeface). This is expected.
Frutiger is under a commercial licence: **do not self-host or vendor the Frutiger font files.**
If we later want Frutiger, allow the NHS font host in the CSP's \`font-src\` instead.
MD

echo "vendor-frontend: ${PKG} ${VERSION} vendored into ${STATIC}"
