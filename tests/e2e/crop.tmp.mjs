// Temporary helper (deleted after use): crops a tall PNG into viewable pieces.
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';
const [file, out, y, h] = process.argv.slice(2);
writeFileSync('/tmp/shots/wrap.html', `<html><body style="margin:0"><img src="file://${file}" style="display:block;margin-top:-${y}px"></body></html>`);
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless'] });
const p = await b.newPage({ viewport: { width: 1280, height: Number(h) } });
await p.goto('file:///tmp/shots/wrap.html');
await p.screenshot({ path: out });
await b.close();
