// The admin pages in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) against a real `gallery serve` on loopback with seeded data.
// Usage: GALLERY_BINARY=build/gallery ARTIFACTS=build/test-artifacts node admin.test.mjs
// Screenshots of every page land in $ARTIFACTS. Exits non-zero on the first failure.

import assert from 'node:assert/strict';
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {clickAndLoad, freePort, launchChromium, onePixelPng, reportFailure, step, uploadPng, waitForHealth} from './support.mjs';

const binary = process.env.GALLERY_BINARY;
const artifacts = process.env.ARTIFACTS || path.join(os.tmpdir(), 'gallery-admin-artifacts');
assert.ok(binary, 'GALLERY_BINARY must name the gallery executable');
fs.mkdirSync(artifacts, {recursive: true});

const apiKey = 'browser-test-api-key-0123456789';
const password = 'browser-test-password';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gallery-admin-'));
const mediaRoot = path.join(work, 'media');
const upload = (base, clientId, name) => uploadPng(base, apiKey, clientId, name);

const env = {
    ...process.env,
    GALLERY_DB: path.join(work, 'gallery.db'),
    GALLERY_MEDIA_ROOT: mediaRoot,
    GALLERY_API_KEY: apiKey,
    GALLERY_ADMIN_PASSWORD: password,
    GALLERY_MAX_ATTEMPTS: '1'
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
    const uploaded = [];
    for (const [client, name] of [
             ['acme', 'first'], ['acme', 'second'], ['globex', 'third'], ['globex', 'fourth']]) {
        uploaded.push(await upload(base, client, name));
    }
    const fileOf = (image) => path.join(mediaRoot, 'images', image.filename);

    step('an action without a session is refused');
    let response = await fetch(`${base}/admin/queue/run`, {
        method: 'POST',
        headers: {'Content-Type': 'application/x-www-form-urlencoded'},
        body: 'csrf=guess'
    });
    assert.equal(response.status, 403);
    assert.equal(uploaded.every((image) => fs.existsSync(fileOf(image))), true);

    browser = await launchChromium();
    const context = await browser.newContext({viewport: {width: 1280, height: 900}});
    const page = await context.newPage();
    const shot = (name) =>
        page.screenshot({path: path.join(artifacts, `${name}.png`), fullPage: true});
    const flash = () => page.locator('p.flash').innerText();

    step('a page without a session leads to the sign-in form');
    await page.goto(`${base}/admin/queue`);
    assert.equal(new URL(page.url()).pathname, '/admin/login');

    step('a wrong password is refused with a message');
    await page.fill('input[name=password]', 'not-the-password');
    const started = Date.now();
    await clickAndLoad(page, 'button[type=submit]');
    assert.ok(Date.now() - started >= 900, 'a wrong password should be answered after a delay');
    assert.equal(await page.locator('p.error').innerText(), 'Wrong password.');
    await shot('login-wrong-password');

    step('sign in; the dashboard shows the totals');
    await page.fill('input[name=password]', password);
    await clickAndLoad(page, 'button[type=submit]');
    assert.equal(new URL(page.url()).pathname, '/admin/');
    const cookie = (await context.cookies()).find((c) => c.name === 'gallery_admin');
    assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict' && cookie.expires > 0);
    const cards = await page.locator('.card').allInnerTexts();
    assert.ok(
        cards.some((text) => text.startsWith('4\n') && text.includes('images')), cards.join(' | '));
    await shot('dashboard');

    step('the images page shows the four images; delete two');
    await clickAndLoad(page, 'nav >> text=Images');
    assert.equal(await page.locator('.tile').count(), 4);
    const names = await page.locator('.tile img').evaluateAll((images) => images.map((i) => i.alt));
    assert.deepEqual(names, ['fourth', 'third', 'second', 'first']);
    // The grid shows thumbnails, made on the browser's first request for each.
    const sources = await page.locator('.tile img').evaluateAll((images) => images.map((i) => i.getAttribute('src')));
    assert.deepEqual(sources, [...uploaded].reverse().map((image) => `/media/variants/thumb/images/${image.filename}.jpg`));
    await page.waitForFunction(() => [...document.querySelectorAll('.tile img')].every((i) => i.complete && i.naturalWidth > 0));
    assert.equal(uploaded.every((image) => fs.existsSync(path.join(mediaRoot, 'variants', 'thumb', 'images', `${image.filename}.jpg`))), true);
    await shot('images');
    await page.locator('.tile input[name=id]').nth(0).check();
    await page.locator('.tile input[name=id]').nth(1).check();
    page.once('dialog', (dialog) => dialog.accept());
    await clickAndLoad(page, 'button:has-text("Delete selected")');
    assert.equal(await flash(), 'Deleted 2 image(s); their files are queued for cleanup.');
    assert.equal(await page.locator('.tile').count(), 2);
    const [first, second, third, fourth] = uploaded;
    // Deleting is instant: the files wait in the queue.
    assert.ok(fs.existsSync(fileOf(third)) && fs.existsSync(fileOf(fourth)));

    step('the deleted images are in the queue');
    await clickAndLoad(page, 'nav >> text=Deletion queue');
    const keys = await page.locator('td.key').allInnerTexts();
    assert.deepEqual(keys.sort(), [`images/${third.filename}`, `images/${fourth.filename}`].sort());
    assert.deepEqual(
        await page.locator('td.state-pending').allInnerTexts(), ['pending', 'pending']);
    await shot('queue-pending');

    step('run cleanup: the queue empties and the files are gone from disk');
    await clickAndLoad(page, 'button:has-text("Run one cleanup batch now")');
    assert.match(await flash(), /processed 2, deleted 2, failed 0, dead 0, 0 still pending/);
    assert.equal(await page.locator('text=No queued items match.').count(), 1);
    assert.ok(!fs.existsSync(fileOf(third)) && !fs.existsSync(fileOf(fourth)));
    assert.ok(fs.existsSync(fileOf(first)) && fs.existsSync(fileOf(second)));

    step('a storage failure makes an item dead; it is retried');
    // A directory where the file should be: unlink fails (EISDIR) and, with one
    // attempt allowed, the item is dead.
    fs.rmSync(fileOf(second));
    fs.mkdirSync(path.join(fileOf(second), 'blocker'), {recursive: true});
    await clickAndLoad(page, 'nav >> text=Images');
    await page.locator('.tile', {hasText: 'second.png'}).locator('input[name=id]').check();
    page.once('dialog', (dialog) => dialog.accept());
    await clickAndLoad(page, 'button:has-text("Delete selected")');
    await clickAndLoad(page, 'nav >> text=Deletion queue');
    await clickAndLoad(page, 'button:has-text("Run one cleanup batch now")');
    assert.match(await flash(), /processed 1, deleted 0, failed 1, dead 1/);
    await page.selectOption('select[name=state]', 'dead');
    await clickAndLoad(page, 'button:has-text("Filter")');
    assert.deepEqual(await page.locator('td.state-dead').allInnerTexts(), ['dead']);
    assert.ok(
        (await page.locator('tbody tr').innerText()).includes('delete'), 'the last error is shown');
    await shot('queue-dead');
    fs.rmSync(fileOf(second), {recursive: true});
    fs.writeFileSync(fileOf(second), onePixelPng);
    await page.locator('tbody input[name=id]').check();
    await clickAndLoad(page, 'button:has-text("Retry selected")');
    assert.equal(
        await flash(), 'Requeued 1 dead item(s); they will be deleted by the next cleanup.');
    await clickAndLoad(page, 'button:has-text("Run one cleanup batch now")');
    assert.match(await flash(), /processed 1, deleted 1, failed 0, dead 0, 0 still pending/);
    assert.ok(!fs.existsSync(fileOf(second)));

    step('clients: delete-all needs the client id typed exactly');
    await clickAndLoad(page, 'nav >> text=Clients');
    await shot('clients');
    const acmeRow = page.locator('tr', {hasText: 'acme'});
    await acmeRow.locator('input[name=confirm_client_id]').fill('acm');
    await Promise.all([page.waitForNavigation(), acmeRow.locator('button').click()]);
    assert.equal(await flash(), 'The typed client id did not match \'acme\'; nothing was deleted.');
    assert.ok(fs.existsSync(fileOf(first)));
    await page.locator('tr', {hasText: 'acme'})
        .locator('input[name=confirm_client_id]')
        .fill('acme');
    await Promise.all([
        page.waitForNavigation(), page.locator('tr', {hasText: 'acme'}).locator('button').click()
    ]);
    assert.equal(
        await flash(), 'Deleted 1 image(s) of \'acme\'; their files are queued for cleanup.');

    step('the dashboard lists the cleanup runs, by admin');
    await clickAndLoad(page, 'nav >> text=Dashboard');
    assert.equal(await page.locator('tbody tr', {hasText: 'admin'}).count(), 3);

    step('on a phone-sized screen the queue page fits without sideways scrolling');
    await page.setViewportSize({width: 390, height: 844});
    await clickAndLoad(page, 'nav >> text=Deletion queue');
    const overflow =
        await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await shot('queue-phone');

    step('a forged form (wrong CSRF token) is refused, even with the session cookie');
    const forged = await page.evaluate(async () => {
        const r = await fetch('/admin/queue/run', {
            method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'},
            body: 'csrf=forged'
        });
        return r.status;
    });
    assert.equal(forged, 403);

    step('sign out: the session is gone');
    await clickAndLoad(page, 'button:has-text("Sign out")');
    assert.equal(new URL(page.url()).pathname, '/admin/login');
    response = await fetch(
        `${base}/admin/queue`,
        {redirect: 'manual', headers: {Cookie: `gallery_admin=${cookie.value}`}});
    assert.equal(response.status, 303);
    console.log(`admin pages: all checks passed (screenshots in ${artifacts})`);
} catch (error) {
    reportFailure(error, serverLog);
    throw error;
} finally {
    if (browser) await browser.close();
    server.kill('SIGTERM');
    fs.rmSync(work, {recursive: true, force: true});
}
