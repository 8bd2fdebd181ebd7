// The original's front end runs on its own origin and calls the API on another one.
// Headless Chromium loads tests/browser/front/ from a second loopback origin (no
// request interception: the browser's own CORS checks decide) and runs every flow
// of that client against a real `gallery serve`: stats, validate-client, uploads
// (XMLHttpRequest, multipart), list with filters and pages, update, delete,
// bulk-delete, clients, delete-all; the images it shows must load from the answers'
// own URLs, as the original client uses them: on local storage under GALLERY_BASE_URL,
// and on a private bucket (s3rver) as presigned URLs. The same page from an origin
// that is not configured must fail and change nothing.
// Usage: GALLERY_BINARY=build/gallery ARTIFACTS=build/test-artifacts node cross_origin.test.mjs

import assert from 'node:assert/strict';
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {freePort, launchChromium, reportFailure, serveStatic, step, waitForHealth} from './support.mjs';

const binary = process.env.GALLERY_BINARY;
const artifacts = process.env.ARTIFACTS || path.join(os.tmpdir(), 'gallery-browser-artifacts');
assert.ok(binary, 'GALLERY_BINARY must name the gallery executable');
fs.mkdirSync(artifacts, {recursive: true});

const apiKey = 'cross-origin-test-key-0123456789';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gallery-cors-'));
const frontFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'front');
const s3rverFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 's3rver');

const front = await serveStatic(frontFolder);
const stranger = await serveStatic(frontFolder);
let server;
let serverLog = '';
let s3rver;

// A real S3 server on loopback that checks signatures, with bucket "gallery".
async function startS3rver() {
    const data = path.join(work, 's3rver');
    fs.mkdirSync(data, {recursive: true});
    const script = "require('@20minutes/s3rver/lib/cli').parseAsync(['node','s3rver',...process.argv.slice(1)])";
    const child = spawn('node', ['--openssl-legacy-provider', '-e', script, '--', '-d', data, '-a',
                                 '127.0.0.1', '-p', '0', '-s', '--configure-bucket', 'gallery'],
                        {cwd: s3rverFolder, stdio: ['ignore', 'pipe', 'pipe']});
    const port = await new Promise((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`s3rver did not start: ${text}`)), 15000);
        const read = (chunk) => {
            text += chunk;
            const match = /S3rver listening on 127\.0\.0\.1:(\d+)/.exec(text);
            if (match) {
                clearTimeout(timer);
                resolve(Number(match[1]));
            }
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
    });
    return {child, endpoint: `http://127.0.0.1:${port}`};
}

async function startGallery(label, storageEnv) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const folder = path.join(work, label);
    fs.mkdirSync(folder, {recursive: true});
    const env = {
        ...process.env,
        GALLERY_DB: path.join(folder, 'gallery.db'),
        GALLERY_MEDIA_ROOT: path.join(folder, 'media'),
        GALLERY_API_KEY: apiKey,
        GALLERY_CORS_ORIGINS: front.origin,
        ...storageEnv(base),
    };
    execFileSync(binary, ['migrate'], {env, stdio: 'ignore'});
    server = spawn(binary, ['serve', '--port', String(port)], {env, stdio: ['ignore', 'ignore', 'pipe']});
    serverLog = '';
    server.stderr.on('data', (chunk) => {
        serverLog += chunk;
    });
    await waitForHealth(base);
    return base;
}

async function imageCount(base) {
    const response = await fetch(`${base}/api/stats/`, {headers: {'X-API-Key': apiKey}});
    return (await response.json()).stats.total_images;
}

// Every flow of the front end against `base`; each image URL must satisfy `urlIsRight`.
async function runFlows(browser, base, label, urlIsRight) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const query = `?api=${encodeURIComponent(base)}&key=${encodeURIComponent(apiKey)}`;
    step(`${label}: the front end on ${front.origin} runs every flow against ${base}`);
    await page.goto(`${front.origin}/index.html${query}`);
    const seen = await page.evaluate(() => window.runFlows());
    assert.equal(seen.statsBefore.status, 200);
    assert.equal(seen.statsBefore.body.stats.total_images, 0);
    assert.deepEqual(
        seen.validate.body, {success: true, valid: true, message: 'Client ID is valid'});
    assert.equal(seen.validateBlank.status, 400);
    assert.equal(seen.validateBlank.body.valid, false);
    assert.equal(seen.uploads.length, 5);
    for (const upload of seen.uploads) {
        assert.equal(upload.status, 201, JSON.stringify(upload.body));
        assert.equal(upload.body.success, true);
        assert.equal(upload.body.description, '');
    }
    assert.equal(seen.uploads[0].body.name, '');
    const ids = seen.uploads.map((u) => u.body.id);
    assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'ids grow with each upload');

    assert.equal(seen.listFiltered.body.pagination.total_count, 2);
    assert.deepEqual(seen.listFiltered.body.images.map((i) => i.id), [ids[1], ids[0]]);
    assert.deepEqual(
        seen.listFiltered.body.filters, {client_id: 'SHOP-1', search: '', sort_by: '-uploaded_at'});
    assert.equal(seen.listPage2.body.pagination.page, 2);
    assert.equal(seen.listPage2.body.pagination.has_previous, true);
    assert.equal(seen.listPage2.body.images.length, 2);
    assert.deepEqual(seen.listSearch.body.images.map((i) => i.id), [ids[3]]);
    assert.equal(seen.listAll.body.images.length, 5);

    step(`${label}: the dashboard shows every image from its answer's URL and each one loads`);
    assert.equal(seen.rendered.length, 5);
    for (const image of seen.listAll.body.images)
        assert.ok(urlIsRight(image.url), `${label}: unexpected image URL ${image.url}`);
    for (const shown of seen.rendered)
        assert.equal(shown.loaded, true, `image ${shown.id} did not load`);
    assert.equal(await page.locator('#images img').count(), 5);
    await page.screenshot(
        {path: path.join(artifacts, `cross-origin-dashboard-${label}.png`), fullPage: true});

    step(`${label}: update, delete, bulk-delete, clients and delete-all answer as the original`);
    assert.equal(seen.update.status, 200);
    assert.equal(seen.update.body.name, 'renamed');
    assert.equal(seen.update.body.description, 'now described');
    assert.equal(seen.deleteOne.status, 200);
    assert.equal(seen.deleteOne.body.message, `Image ${ids[1]} deleted successfully.`);
    assert.equal(seen.deleteStale.status, 404);
    assert.equal(seen.bulkDelete.status, 200);
    assert.equal(seen.bulkDelete.body.deleted_count, 2);
    assert.deepEqual(seen.bulkDelete.body.not_found_ids, [999999]);
    assert.deepEqual(
        seen.clients.body.clients.map((c) => [c.client_id, c.image_count]),
        [['shop-1', 1], ['shop-3', 1]]);
    assert.deepEqual(seen.clients.body.filters, {search: '', sort_by: 'client_id'});
    assert.equal(seen.deleteAll.status, 200);
    assert.equal(seen.deleteAll.body.deleted_count, 1);
    assert.equal(seen.cleanupStats.body.stats.total_pending, 4);
    assert.equal(seen.statsAfter.body.stats.total_images, 1);
    assert.equal(seen.unauthorised.status, 401);
    assert.equal(
        seen.unauthorised.body.error, 'API key is required. Please provide X-API-Key header.');

    await context.close();
}

async function strangerIsRefused(browser, base) {
    const query = `?api=${encodeURIComponent(base)}&key=${encodeURIComponent(apiKey)}`;
    step(`the same page on ${stranger.origin} (not configured) is refused by the browser`);
    const before = await imageCount(base);
    const strangerPage = await (await browser.newContext()).newPage();
    await strangerPage.goto(`${stranger.origin}/index.html${query}`);
    const refused = await strangerPage.evaluate(() => window.tryOneCall());
    assert.equal(refused.threw, true, JSON.stringify(refused));
    const refusedUpload = await strangerPage.evaluate(() => window.tryUpload());
    assert.equal(refusedUpload.threw, true, JSON.stringify(refusedUpload));
    assert.equal(await imageCount(base), before);
}

let browser;
try {
    browser = await launchChromium();
    const local = await startGallery('local', (base) => ({GALLERY_BASE_URL: base}));
    await runFlows(browser, local, 'local storage',
                   (url) => url.startsWith(`${local}/media/images/`));
    await strangerIsRefused(browser, local);
    server.kill('SIGTERM');

    s3rver = await startS3rver();
    const bucket = s3rver.endpoint;
    const privateBucket = await startGallery('s3', () => ({
        GALLERY_STORAGE: 's3', GALLERY_S3_ENDPOINT: bucket, GALLERY_S3_BUCKET: 'gallery',
        GALLERY_S3_REGION: 'us-east-1', GALLERY_S3_ACCESS_KEY: 'S3RVER',
        GALLERY_S3_SECRET_KEY: 'S3RVER',
    }));
    await runFlows(browser, privateBucket, 'private bucket',
                   (url) => url.startsWith(`${bucket}/gallery/images/`) &&
                       url.includes('X-Amz-Signature=') && url.includes('X-Amz-Expires=3600'));
    console.log('cross-origin front end: all checks passed');
} catch (error) {
    reportFailure(error, serverLog);
    throw error;
} finally {
    if (browser) await browser.close();
    if (server) server.kill('SIGTERM');
    if (s3rver) s3rver.child.kill('SIGTERM');
    await front.close();
    await stranger.close();
    fs.rmSync(work, {recursive: true, force: true});
}
