// The account page: change one's password, create and revoke API tokens, sign out
// everywhere.

import {api, el, flash, setCSRF} from './common.js';

const passwordForm = document.getElementById('password-form');
passwordForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(passwordForm);
  if (f.get('new_password') !== f.get('confirm')) {
    flash('The two new passwords differ.', 'error');
    return;
  }
  try {
    const res = await api('PUT', '/api/v1/me/password', {current_password: f.get('current_password'), new_password: f.get('new_password')});
    if (res.csrf_token) setCSRF(res.csrf_token);
    passwordForm.reset();
    flash('Password changed. Your other sessions have ended.');
    if (document.getElementById('choose-password')) setTimeout(() => location.assign('/'), 800);
  } catch (err) {
    flash(`Password not changed: ${err.message}`, 'error');
  }
});

const tokenForm = document.getElementById('token-form');
if (tokenForm) {
  tokenForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = new FormData(tokenForm).get('name').trim();
    try {
      const t = await api('POST', '/api/v1/me/tokens', {name});
      document.getElementById('new-token-value').textContent = t.token;
      document.getElementById('new-token').hidden = false;
      const body = document.querySelector('#tokens tbody');
      body.querySelector('tr.empty')?.remove();
      body.append(el('tr', {dataset: {tokenId: t.id}},
        el('td', {text: t.name || '(unnamed)'}),
        el('td', {text: t.created_at.slice(0, 16).replace('T', ' ')}),
        el('td', {text: 'never'}),
        el('td', {}, el('button', {type: 'button', class: 'danger token-revoke', text: 'Revoke'}))));
      tokenForm.reset();
    } catch (err) {
      flash(`No token created: ${err.message}`, 'error');
    }
  });
  document.getElementById('tokens').addEventListener('click', async (e) => {
    if (!e.target.classList.contains('token-revoke')) return;
    const row = e.target.closest('tr');
    if (!confirm('Revoke this token? Scripts using it stop working at once.')) return;
    try {
      await api('DELETE', `/api/v1/me/tokens/${row.dataset.tokenId}`);
      row.classList.add('revoked');
      e.target.replaceWith(document.createTextNode('revoked just now'));
      flash('Token revoked.');
    } catch (err) {
      flash(`Token not revoked: ${err.message}`, 'error');
    }
  });
}

document.getElementById('sign-out-everywhere').addEventListener('click', async () => {
  if (!confirm('End every session of yours, this one too?')) return;
  try {
    const res = await api('DELETE', '/api/v1/me/sessions');
    location.assign(`/login?signed-out=${res.ended}`);
  } catch (err) {
    flash(`Not signed out: ${err.message}`, 'error');
  }
});
