// The users page (administrators): add accounts, change roles, disable, reset passwords.

import {api, el, flash} from './common.js';

const table = document.getElementById('users');

function showPassword(name, password) {
  document.getElementById('new-password-for').textContent = `One-time password for ${name} (shown once; they choose their own at first sign-in):`;
  document.getElementById('new-password-value').textContent = password;
  document.getElementById('new-password').hidden = false;
}

function stateOf(u) {
  if (u.disabled) return 'disabled';
  return u.must_change_password ? 'must choose a password' : 'active';
}

function renderRow(row, u) {
  row.querySelector('.user-state').textContent = stateOf(u);
  row.querySelector('.user-role').value = u.role;
  const toggle = row.querySelector('.user-disable, .user-enable');
  toggle.className = u.disabled ? 'user-enable' : 'danger user-disable';
  toggle.textContent = u.disabled ? 'Enable' : 'Disable';
}

async function change(row, body, done) {
  try {
    const res = await api('PATCH', `/api/v1/users/${row.dataset.userId}`, body);
    renderRow(row, res.user);
    if (res.password) showPassword(res.user.name, res.password);
    flash(done);
  } catch (err) {
    flash(`Not changed: ${err.message}`, 'error');
    location.reload();
  }
}

table.addEventListener('change', (e) => {
  if (!e.target.classList.contains('user-role')) return;
  const row = e.target.closest('tr');
  change(row, {role: e.target.value}, `${row.dataset.userName} is now ${e.target.value}.`);
});

table.addEventListener('click', (e) => {
  const row = e.target.closest('tr');
  if (!row) return;
  const name = row.dataset.userName;
  if (e.target.classList.contains('user-disable')) {
    if (confirm(`Disable ${name}? Their sessions end and their API tokens stop working.`)) change(row, {disabled: true}, `${name} is disabled.`);
  } else if (e.target.classList.contains('user-enable')) {
    change(row, {disabled: false}, `${name} is enabled.`);
  } else if (e.target.classList.contains('user-reset')) {
    if (confirm(`Reset ${name}'s password? Their sessions end; you get a one-time password to give them.`)) change(row, {reset_password: true}, `${name}'s password was reset.`);
  }
});

const form = document.getElementById('user-form');
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(form);
  try {
    const res = await api('POST', '/api/v1/users', {name: f.get('name').trim(), role: f.get('role')});
    const u = res.user;
    const row = el('tr', {dataset: {userId: u.id, userName: u.name}},
      el('td', {class: 'user-name', text: u.name}),
      el('td', {}, el('select', {class: 'user-role', 'aria-label': `Role of ${u.name}`},
        ...['viewer', 'analyst', 'admin'].map((r) => el('option', {value: r, text: r, selected: r === u.role})))),
      el('td', {class: 'user-state', text: stateOf(u)}),
      el('td', {text: u.created_at.slice(0, 10)}),
      el('td', {class: 'actions'}, el('button', {type: 'button', class: 'user-reset', text: 'Reset password'}), ' ',
        el('button', {type: 'button', class: 'danger user-disable', text: 'Disable'})));
    table.querySelector('tbody').append(row);
    showPassword(u.name, res.password);
    form.reset();
  } catch (err) {
    flash(`User not added: ${err.message}`, 'error');
  }
});
