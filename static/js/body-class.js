// Load as the first element of <body> with a classic (non-module) <script src>.
// Same as the NHS.UK frontend's inline snippet, which our CSP (no 'unsafe-inline') forbids:
// it lets the CSS know that JavaScript runs and whether ES modules are supported.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' nhsuk-frontend-supported' : '');
