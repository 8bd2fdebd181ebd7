// The original React client's calls, from another origin: fetch for JSON (as its
// API module), XMLHttpRequest for uploads (as axios does).
// The page's URL names the API (?api=http://host:port&key=...). window.runFlows()
// runs every flow and returns what each one saw; a failed call throws.

const params = new URLSearchParams(location.search);
const apiBase = params.get('api');
const apiKey = params.get('key');

async function call(method, path, body) {
    const init = {method, headers: {'X-API-Key': apiKey}, credentials: 'include'};
    if (body !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    const response = await fetch(`${apiBase}/api${path}`, init);
    return {status: response.status, body: await response.json()};
}

function uploadWithXhr(file, fields) {
    return new Promise((resolve, reject) => {
        const form = new FormData();
        form.append('image', file, file.name);
        for (const [name, value] of Object.entries(fields)) form.append(name, value);
        const xhr = new XMLHttpRequest();
        xhr.open('POST', `${apiBase}/api/upload/`);
        xhr.setRequestHeader('X-API-Key', apiKey);
        xhr.withCredentials = true;
        xhr.onload = () => resolve({status: xhr.status, body: JSON.parse(xhr.responseText)});
        xhr.onerror = () => reject(new TypeError('XMLHttpRequest failed (CORS or network)'));
        xhr.send(form);
    });
}

// A 2x2 PNG drawn on a canvas: real image bytes, made in the page.
async function pngFile(name, colour) {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 2;
    const context = canvas.getContext('2d');
    context.fillStyle = colour;
    context.fillRect(0, 0, 2, 2);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    return new File([blob], name, {type: 'image/png'});
}

// The dashboard: shows the images of the list answer; resolves when each has loaded.
async function render(images) {
    const list = document.getElementById('images');
    list.replaceChildren();
    const loads = images.map((image) => new Promise((resolve) => {
        const item = document.createElement('li');
        const img = document.createElement('img');
        img.alt = image.name || image.original_filename;
        img.onload = () => resolve({id: image.id, loaded: img.naturalWidth > 0});
        img.onerror = () => resolve({id: image.id, loaded: false});
        // As the original's React client: the answer's url as it is (relative to this
        // page's own origin when it is relative).
        img.src = image.url;
        img.dataset.url = image.url;
        item.append(img, ` ${image.client_id}`);
        list.append(item);
    }));
    return Promise.all(loads);
}

window.runFlows = async function () {
    const seen = {};
    seen.statsBefore = await call('GET', '/stats/');
    seen.validate = await call('POST', '/validate-client/', {client_id: 'shop-1'});
    seen.validateBlank = await call('POST', '/validate-client/', {client_id: ''});
    seen.uploads = [];
    for (const [i, client] of ['shop-1', 'shop-1', 'shop-2', 'shop-2', 'shop-3'].entries()) {
        const file = await pngFile(`photo-${i}.png`, ['red', 'green', 'blue', 'black', 'white'][i]);
        seen.uploads.push(await uploadWithXhr(file, {client_id: client, name: i === 0 ? '' : `photo ${i}`,
                                                     description: ''}));
    }
    seen.listFiltered = await call('GET', '/list/?client_id=SHOP-1&sort_by=-uploaded_at&page=1&page_size=20');
    seen.listPage2 = await call('GET', '/list/?page=2&page_size=2&sort_by=name');
    seen.listSearch = await call('GET', '/list/?search=photo%203');
    seen.listAll = await call('GET', '/list/?page_size=100');
    seen.rendered = await render(seen.listAll.body.images);
    const [first, second, third, fourth] = seen.uploads.map((u) => u.body.id);
    seen.update = await call('PUT', `/update/${first}/`, {name: 'renamed', description: 'now described'});
    seen.deleteOne = await call('DELETE', `/delete/${second}/`);
    seen.deleteStale = await call('DELETE', `/delete/${second}/`);
    seen.bulkDelete = await call('POST', '/bulk-delete/', {image_ids: [third, String(fourth), 999999]});
    seen.clients = await call('GET', '/clients/?sort_by=client_id');
    seen.deleteAll = await call('DELETE', '/clients/SHOP-3/delete-all/');
    seen.cleanupStats = await call('GET', '/cleanup/stats/');
    seen.statsAfter = await call('GET', '/stats/');
    seen.unauthorised = await fetch(`${apiBase}/api/list/`).then(async (r) => ({status: r.status, body: await r.json()}));
    document.getElementById('status').textContent = 'done';
    return seen;
};

// The first call only: from an origin the API does not allow, it must throw.
window.tryOneCall = async function () {
    try {
        const answer = await call('GET', '/stats/');
        return {threw: false, status: answer.status};
    } catch (error) {
        return {threw: true, message: String(error)};
    }
};

window.tryUpload = async function () {
    try {
        const answer = await uploadWithXhr(await pngFile('x.png', 'red'), {client_id: 'intruder'});
        return {threw: false, status: answer.status};
    } catch (error) {
        return {threw: true, message: String(error)};
    }
};
