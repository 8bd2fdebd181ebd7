// Shared by the browser tests: free loopback ports, waiting for `gallery serve`,
// Debian's Chromium started the way this machine needs (no background networking:
// the network is closed), and a static file server for pages of another origin.

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import {chromium} from 'playwright-core';

export function step(text) { console.log(`- ${text}`); }

// Clicks what `selector` names and waits for the page that click loads. Playwright's
// click does not wait for a navigation it starts, so a count or an evaluate right after
// it could read the page being left, or lose its context halfway.
export async function clickAndLoad(page, selector) {
    await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

// Prints why a test failed before the end of the server's log: CI keeps the start and
// the end of a long output, so the reason must not sit in its middle.
export function reportFailure(error, serverLog) {
    const lines = serverLog.trimEnd().split('\n');
    console.error(`failed: ${error.stack || error}`);
    console.error(`server log (last ${Math.min(lines.length, 40)} of ${lines.length} lines):`);
    console.error(lines.slice(-40).join('\n'));
}

export async function freePort() {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.listen(0, '127.0.0.1', () => {
            const {port} = server.address();
            server.close(() => resolve(port));
        });
    });
}

export async function waitForHealth(base) {
    for (let i = 0; i < 100; i++) {
        try {
            if ((await fetch(`${base}/healthz`)).ok) return;
        } catch { /* not listening yet */
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('gallery serve did not answer /healthz');
}

export function launchChromium() {
    return chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: [
            '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync'
        ],
    });
}

// A 1x1 PNG: real image bytes for uploads and thumbnails.
export const onePixelPng = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64');

// POST /api/upload/ of onePixelPng as <name>.png, named <name>; the created image.
export async function uploadPng(base, apiKey, clientId, name) {
    const form = new FormData();
    form.append('image', new Blob([onePixelPng], {type: 'image/png'}), `${name}.png`);
    form.append('client_id', clientId);
    form.append('name', name);
    const response = await fetch(
        `${base}/api/upload/`, {method: 'POST', headers: {'X-API-Key': apiKey}, body: form});
    const text = await response.text();
    if (response.status !== 201) throw new Error(`upload of ${name}: ${response.status} ${text}`);
    return JSON.parse(text);
}

const k_types = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8'
};

// Serves the files of `folder` on 127.0.0.1:<port>: a page of its own origin.
export async function serveStatic(folder) {
    const port = await freePort();
    const server = http.createServer((request, response) => {
        const name = new URL(request.url, 'http://x').pathname.replace(/^\/+/, '') || 'index.html';
        const file = path.join(folder, path.basename(name));
        if (!fs.existsSync(file)) {
            response.writeHead(404).end();
            return;
        }
        response.writeHead(
            200, {'Content-Type': k_types[path.extname(file)] || 'application/octet-stream'});
        response.end(fs.readFileSync(file));
    });
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
    return {origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r))};
}
