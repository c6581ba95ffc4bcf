// The sites page: every site with its images and dates, and a new site from an image's
// footprint (drawing one is on the map page).

import {api, can, el, flash, plural} from './common.js';
import {dateSpan} from './sitemodel.js';

async function start() {
  const body = document.querySelector('#site-list tbody');
  try {
    const sites = await api('GET', '/api/v1/sites');
    body.replaceChildren(...sites.map((s) => el('tr', {dataset: {siteId: s.id}},
      el('td', {}, el('a', {href: `/sites/${encodeURIComponent(s.id)}`, text: s.name})),
      el('td', {text: plural(s.images.length, 'image', 'images')}),
      el('td', {text: dateSpan(s.images)}))));
    document.getElementById('sites-empty').hidden = sites.length > 0;
    document.querySelector('.sites-page').dataset.ready = 'true';
  } catch (err) {
    flash(`Could not load the sites: ${err.message}`, 'error');
  }
  const form = document.getElementById('new-site-form');
  if (!form || !can('analyst')) return;
  const select = document.getElementById('new-site-image');
  const fp = await fetch('/api/v1/footprints.geojson').then((r) => r.json());
  select.replaceChildren(...fp.features.map((f) => el('option', {value: f.id, text: f.properties.title})));
  if (fp.features.length === 0) {
    select.replaceChildren(el('option', {value: '', text: 'no image is georeferenced yet'}));
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const site = await api('POST', '/api/v1/sites', {
        name: document.getElementById('new-site-name').value,
        from_image: select.value,
        notes: document.getElementById('new-site-notes').value,
      });
      location.assign(`/sites/${encodeURIComponent(site.id)}`);
    } catch (err) {
      flash(`Could not create the site: ${err.message}`, 'error');
    }
  });
}

start();
