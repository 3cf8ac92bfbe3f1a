// Paso's console in the browser: sends the pages' forms to the API with the CSRF token, shows refusals, keeps
// the page current through server-sent events, and follows a running command's log. No framework.
'use strict';

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content ?? '';
const main = () => document.getElementById('main');

function notice(text, withReload) {
  const box = document.getElementById('notice');
  box.replaceChildren(document.createTextNode(text));
  if (withReload) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Show the changes';
    button.addEventListener('click', () => refresh(true));
    box.append(' ', button);
  }
  box.hidden = false;
}

/** Whether the person is typing in the page: a live update then waits for them. */
function busy() {
  const fields = main().querySelectorAll('input:not([type="hidden"]), textarea');
  return [...fields].some((f) => f === document.activeElement || (f.type === 'file' ? f.files.length : f.value));
}

async function refresh(force) {
  if (!force && busy()) return notice('This page changed.', true);
  const res = await fetch(location.href, { headers: { 'X-Paso-Partial': '1' }, credentials: 'same-origin' });
  if (res.redirected || !res.ok) return void location.reload();
  main().innerHTML = await res.text();
  document.getElementById('notice').hidden = true;
}

function body(form, submitter) {
  if (form.dataset.api === 'multipart') return new FormData(form);
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.value === '' || el.type === 'submit') continue;
    out[el.name] = el.dataset.type === 'boolean' ? el.value === 'true' : el.value;
  }
  if (submitter?.name) out[submitter.name] = submitter.value;
  return JSON.stringify(out);
}

function describe(problem, status) {
  if (!problem || typeof problem !== 'object') return `The request failed (${status}).`;
  const errors = Array.isArray(problem.errors) ? problem.errors.map((e) => ` ${e.path ?? ''}: ${e.message ?? ''}`) : [];
  return `${problem.detail ?? problem.title ?? `The request failed (${status})`}${errors.join(';')}`;
}

document.addEventListener('submit', async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.api) return;
  event.preventDefault();
  if (form.dataset.confirm && !confirm(form.dataset.confirm)) return;
  const error = form.querySelector('.error');
  const button = event.submitter ?? form.querySelector('button[type="submit"]');
  error.hidden = true;
  button.disabled = true;
  try {
    const payload = body(form, button);
    const headers = { 'X-CSRF-Token': csrf(), Accept: 'application/json' };
    if (typeof payload === 'string') headers['Content-Type'] = 'application/json';
    // getAttribute: a field named `action` (a step's action) shadows the form's own property.
    const res = await fetch(form.getAttribute('action'), {
      method: form.dataset.method || 'POST',
      headers,
      body: payload,
      credentials: 'same-origin',
    });
    if (!res.ok) {
      error.textContent = describe(await res.json().catch(() => null), res.status);
      error.hidden = false;
      return;
    }
    notice(`${button.textContent.trim()}: done.`, false);
    await refresh(true);
  } catch {
    error.textContent = 'Paso could not be reached. Try again.';
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
});

function live() {
  if (document.body.dataset.live !== 'true') return;
  const page = location.pathname + location.search;
  const events = new EventSource(`/ui/events?page=${encodeURIComponent(page)}`);
  events.addEventListener('change', () => void refresh(false));
}

async function followLog() {
  const pre = document.getElementById('log');
  if (!pre?.dataset.follow) return;
  const state = document.getElementById('log-state');
  const res = await fetch(pre.dataset.follow, { credentials: 'same-origin' });
  if (!res.ok) {
    state.textContent = describe(await res.json().catch(() => null), res.status);
    return;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(decoder.decode(value, { stream: true }));
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }
  state.textContent = 'The action has ended; this is its whole log.';
}

live();
void followLog().catch(() => {
  document.getElementById('log-state').textContent = 'The log could not be followed. Reload to try again.';
});
