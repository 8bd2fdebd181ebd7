// The admin's "Recently deleted" page in headless Chromium against a real
// `gallery serve` with a restore window of one hour: filter by client, search,
// restore selected and restore all of a client; the images and their files come back.
// Usage: GALLERY_BINARY=build/gallery ARTIFACTS=build/test-artifacts node recently_deleted.test.mjs

import assert from 'node:assert/strict';
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {clickAndLoad, freePort, launchChromium, reportFailure, step, uploadPng, waitForHealth} from './support.mjs';

const binary = process.env.GALLERY_BINARY;
const artifacts = process.env.ARTIFACTS || path.join(os.tmpdir(), 'gallery-admin-artifacts');
assert.ok(binary, 'GALLERY_BINARY must name the gallery executable');
fs.mkdirSync(artifacts, {recursive: true});

const apiKey = 'browser-restore-api-key-0123456789';
const password = 'browser-restore-password';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gallery-restore-'));
const mediaRoot = path.join(work, 'media');
async function api(base, method, url, body) {
    const init = {method, headers: {'X-API-Key': apiKey}};
    if (body instanceof FormData) {
        init.body = body;
    } else if (body) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    const response = await fetch(`${base}${url}`, init);
    const text = await response.text();
    assert.ok(response.ok, `${method} ${url}: ${response.status} ${text}`);
    return JSON.parse(text);
}

const upload = (base, clientId, name) => uploadPng(base, apiKey, clientId, name);

const env = {
    ...process.env,
    GALLERY_DB: path.join(work, 'gallery.db'),
    GALLERY_MEDIA_ROOT: mediaRoot,
    GALLERY_API_KEY: apiKey,
    GALLERY_ADMIN_PASSWORD: password,
    GALLERY_RESTORE_WINDOW: '1h'
};
execFileSync(binary, ['migrate'], {env, stdio: 'ignore'});
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server =
    spawn(binary, ['serve', '--port', String(port)], {env, stdio: ['ignore', 'ignore', 'pipe']});
let serverLog = '';
server.stderr.on('data', (chunk) => {
    serverLog += chunk;
});
let browser;
try {
    await waitForHealth(base);
    const images = {};
    for (const [client, name] of [
             ['acme', 'anvil'], ['acme', 'rocket'], ['globex', 'globe'], ['globex', 'hammock'],
             ['initech', 'stapler']]) {
        images[name] = await upload(base, client, name);
    }
    const fileOf = (image) => path.join(mediaRoot, 'images', image.filename);
    // Two thumbnails made while their images are live; the page shows those two.
    for (const name of ['anvil', 'globe']) {
        const made = await fetch(`${base}${images[name].thumbnail_url}`);
        assert.equal(made.status, 200);
    }
    await api(base, 'DELETE', '/api/clients/acme/delete-all/');
    await api(
        base, 'POST', '/api/bulk-delete/',
        {image_ids: [images.globe.id, images.hammock.id, images.stapler.id]});

    browser = await launchChromium();
    const context = await browser.newContext({viewport: {width: 1280, height: 900}});
    const page = await context.newPage();
    const shot = (name) =>
        page.screenshot({path: path.join(artifacts, `${name}.png`), fullPage: true});
    const flash = () => page.locator('p.flash').innerText();
    const listedNames = async () =>
        (await page.locator('tbody tr td:first-child label').allInnerTexts())
            .map((text) => text.split(/\s#/)[0].trim())
            .sort();

    step('sign in; the dashboard counts the restorable images');
    await page.goto(`${base}/admin/`);
    await page.fill('input[name=password]', password);
    await clickAndLoad(page, 'button[type=submit]');
    const cards = await page.locator('.card').allInnerTexts();
    assert.ok(
        cards.some((text) => text.startsWith('5\n') && text.includes('restorable')),
        cards.join(' | '));

    step('Recently deleted lists the five with the time each stays restorable');
    await clickAndLoad(page, 'nav >> text=Recently deleted');
    assert.deepEqual(await listedNames(), ['anvil', 'globe', 'hammock', 'rocket', 'stapler']);
    const left = await page.locator('tbody tr td:last-child').allInnerTexts();
    assert.ok(left.every((text) => /^(59 min|1 h 0 min)$/.test(text)), left.join(' | '));
    await page.waitForFunction(() => [...document.querySelectorAll('tbody img')].every((i) => i.complete));
    const shown = (await page.locator('tbody tr').evaluateAll((rows) => rows.map((row) => {
        const image = row.querySelector('img');
        return image.naturalWidth > 0 ? row.querySelector('label').innerText.split(/\s#/)[0].trim() : null;
    }))).filter(Boolean).sort();
    assert.deepEqual(shown, ['anvil', 'globe']);
    await shot('recently-deleted');

    step('search narrows the list');
    await page.fill('input[name=q]', 'ham');
    await clickAndLoad(page, 'button:has-text("Filter")');
    assert.deepEqual(await listedNames(), ['hammock']);

    step('restore selected: the checked image comes back with its file');
    await page.locator('tbody input[name=id]').check();
    await clickAndLoad(page, 'button:has-text("Restore selected")');
    assert.equal(await flash(), 'Restored 1 image(s).');
    assert.deepEqual(await listedNames(), ['anvil', 'globe', 'rocket', 'stapler']);

    step('filter by client, then restore all of that client');
    await page.fill('input[name=client_id]', 'ACME');
    await clickAndLoad(page, 'button:has-text("Filter")');
    assert.deepEqual(await listedNames(), ['anvil', 'rocket']);
    await clickAndLoad(page, 'button:has-text("Restore all of ACME")');
    assert.equal(await flash(), 'Restored 2 image(s) of \'ACME\'.');
    assert.deepEqual(await listedNames(), ['globe', 'stapler']);

    step('the restored images are live again, with their files; the others are not');
    const live = await api(base, 'GET', '/api/list/?page_size=100');
    assert.deepEqual(live.images.map((image) => image.name).sort(), ['anvil', 'hammock', 'rocket']);
    for (const name of ['anvil', 'hammock', 'rocket']) {
        const restored = live.images.find((image) => image.name === name);
        assert.equal(restored.id, images[name].id);
        assert.equal(restored.client_id, images[name].client_id);
        assert.equal(restored.uploaded_at, images[name].uploaded_at);
        assert.ok(fs.existsSync(fileOf(images[name])));
        const media = await fetch(`${base}${restored.url}`);
        assert.equal(media.status, 200);
    }
    assert.equal((await fetch(`${base}${images.globe.url}`)).status, 404);

    step('delete permanently now, after confirming: not restorable, its file goes at the next cleanup');
    await clickAndLoad(page, 'nav >> text=Recently deleted');
    await page.locator('tbody tr', {hasText: 'globe'}).locator('input[name=id]').check();
    page.once('dialog', (dialog) => dialog.accept());
    await clickAndLoad(page, 'button:has-text("Delete permanently now")');
    assert.equal(
        await flash(), 'Deleted 1 image(s) permanently: the next cleanup deletes their files.');
    assert.deepEqual(await listedNames(), ['stapler']);
    await shot('recently-deleted-purged');
    assert.ok(fs.existsSync(fileOf(images.globe)));
    execFileSync(binary, ['cleanup'], {env, stdio: 'ignore'});
    assert.ok(!fs.existsSync(fileOf(images.globe)));
    assert.ok(fs.existsSync(fileOf(images.stapler)), 'a restorable image keeps its file');
    await clickAndLoad(page, 'nav >> text=Images');
    assert.equal(await page.locator('.tile').count(), 3);
    console.log(`recently deleted: all checks passed (screenshots in ${artifacts})`);
} catch (error) {
    reportFailure(error, serverLog);
    throw error;
} finally {
    if (browser) await browser.close();
    server.kill('SIGTERM');
    fs.rmSync(work, {recursive: true, force: true});
}
