// Headless Chromium driver for Centralino's e2e tests (browser_test.go).
//
//   node driver.js [fake-mic.wav]      (or CENTRALINO_FAKE_WAV=fake-mic.wav)
//
// Launches Debian's chromium (CHROMIUM overrides /usr/bin/chromium) through
// playwright-core with fake media devices, then reads one JSON command per
// line on stdin and writes one JSON reply per line on stdout:
//   {"id":1,"cmd":"goto","page":"alice","url":"http://127.0.0.1:8080/"}
//   {"id":1,"ok":true,"value":null}  or  {"id":1,"ok":false,"error":"..."}
// Commands for one page run in order, different pages concurrently; replies
// carry the command's id. Once the browser is up the driver sends
// {"id":0,"ok":true,"value":{"version":"...","wav":"..."}}. Every command
// takes an optional "timeout" in ms (default 10000).
// Each named page lives in its own browser context (own cookies, storage).
// Page console messages and errors go to stderr as "[page] ...".
// The driver exits when stdin closes or on "quit", closing the browser.
'use strict';
const { chromium } = require('playwright-core');
const readline = require('readline');

const wav = process.argv[2] || process.env.CENTRALINO_FAKE_WAV || '';
const args = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--no-first-run', '--no-default-browser-check', '--disable-quic',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-domain-reliability', '--metrics-recording-only',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  // Chromium leaves lo out of ICE without this; with it, it gathers 127.0.0.1/::1.
  '--allow-loopback-in-peer-connection',
  // Real host addresses in candidates, never mDNS names (whose resolution
  // would multicast to 224.0.0.251).
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];
if (wav) args.push('--use-file-for-fake-audio-capture=' + wav);

const log = s => process.stderr.write(s.replace(/\n+$/, '') + '\n');
const send = r => process.stdout.write(JSON.stringify(r) + '\n');
const pages = new Map(); // name -> {context, page}
let browser;

function get(name) {
  const p = pages.get(name);
  if (!p) throw new Error(`no page ${JSON.stringify(name)}`);
  return p.page;
}

// js is an expression ("document.title") or an async function body
// ("const r = await fetch('/x'); return r.status").
function wrap(js) {
  const AsyncFunction = (async () => {}).constructor;
  try {
    new AsyncFunction('return (' + js + '\n)');
    return '(async () => (' + js + '\n))()';
  } catch (e) {
    return '(async () => {' + js + '\n})()';
  }
}

const commands = {
  async newPage(c) {
    if (pages.has(c.page)) throw new Error(`page ${JSON.stringify(c.page)} exists`);
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(c.timeout);
    page.on('console', m => log(`[${c.page}] console.${m.type()}: ${m.text()}`));
    page.on('pageerror', e => log(`[${c.page}] pageerror: ${e.stack || e}`));
    page.on('crash', () => log(`[${c.page}] page crashed`));
    pages.set(c.page, { context, page });
  },
  async goto(c) { const r = await get(c.page).goto(c.url, { timeout: c.timeout }); return r && r.status(); },
  async reload(c) { const r = await get(c.page).reload({ timeout: c.timeout }); return r && r.status(); },
  async click(c) { await get(c.page).click(c.selector, { timeout: c.timeout }); },
  async fill(c) { await get(c.page).fill(c.selector, c.value, { timeout: c.timeout }); },
  async select(c) { return get(c.page).selectOption(c.selector, c.value, { timeout: c.timeout }); },
  async waitFor(c) { await get(c.page).waitForSelector(c.selector, { state: c.state || 'visible', timeout: c.timeout }); },
  async text(c) { return get(c.page).textContent(c.selector, { timeout: c.timeout }); },
  async eval(c) { return get(c.page).evaluate(wrap(c.js)); },
  async closePage(c) {
    const p = pages.get(c.page);
    if (!p) throw new Error(`no page ${JSON.stringify(c.page)}`);
    pages.delete(c.page);
    await p.context.close();
  },
  async quit() { setImmediate(shutdown); },
};

async function run(c) {
  const fn = Object.prototype.hasOwnProperty.call(commands, c.cmd) && commands[c.cmd];
  if (!fn) throw new Error(`unknown command ${JSON.stringify(c.cmd)}`);
  c.timeout = c.timeout > 0 ? c.timeout : 10000;
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${c.cmd}: no result after ${c.timeout} ms`)), c.timeout + 1000);
  });
  try {
    return await Promise.race([fn(c), expired]);
  } finally {
    clearTimeout(timer);
  }
}

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  try { if (browser) await browser.close(); } catch (e) { log('close: ' + e); }
  process.stdout.write('', () => process.exit(0));
}

(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: false, // we pass --headless=new ourselves
    args,
    timeout: 60000,
  });
  browser.on('disconnected', () => { if (!closing) { log('browser disconnected'); process.exit(3); } });
  send({ id: 0, ok: true, value: { version: browser.version(), wav } });
  const rl = readline.createInterface({ input: process.stdin });
  const queues = new Map(); // page name -> tail of its command chain
  rl.on('line', line => {
    if (!line.trim()) return;
    let c;
    try { c = JSON.parse(line); } catch (e) { send({ id: -1, ok: false, error: 'bad JSON: ' + e.message }); return; }
    const key = String(c.page);
    const next = (queues.get(key) || Promise.resolve()).then(async () => {
      try {
        const value = await run(c);
        send({ id: c.id, ok: true, value: value === undefined ? null : value });
      } catch (e) {
        send({ id: c.id, ok: false, error: String((e && e.message) || e).replace(/\x1b\[[0-9;]*m/g, '') });
      }
    });
    queues.set(key, next);
    next.then(() => { if (queues.get(key) === next) queues.delete(key); });
  });
  rl.on('close', shutdown);
})().catch(e => { log('driver: ' + (e.stack || e)); process.exit(2); });
