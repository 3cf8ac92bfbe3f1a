/**
 * The console's HTML: Preact components written with `htm` tagged templates (no build step) and rendered to
 * strings on the server. Every interpolated value is escaped by Preact; nothing is set as raw HTML.
 */
import type { ComponentChildren, VNode } from 'preact';
import { html } from 'htm/preact';
import { render } from 'preact-render-to-string';

export { html };
export type Children = ComponentChildren;

export interface PageShell {
  title: string;
  /** The signed-in person; null on the sign-in page. */
  user: { name: string; roles: readonly string[] } | null;
  csrfToken: string | null;
  /** Which top-level page this is, for the navigation. */
  section: 'waiting' | 'pipelines' | 'locks' | 'execution' | 'login' | 'log';
  /** Whether the page follows changes (server-sent events) and re-renders its `<main>`. */
  live: boolean;
  body: VNode;
}

/** A whole document. `partial` renders only what goes inside `<main>`, for live updates. */
export function renderPage(page: PageShell, partial = false): string {
  if (partial) return render(page.body);
  const nav = page.user
    ? html`<nav aria-label="Main">
        <a href="/ui" aria-current=${page.section === 'waiting' ? 'page' : undefined}>Waiting for me</a>
        <a href="/ui/pipelines" aria-current=${page.section === 'pipelines' ? 'page' : undefined}>Pipelines</a>
        <a href="/ui/locks" aria-current=${page.section === 'locks' ? 'page' : undefined}>Locks</a>
        <span class="who">${page.user.name} <small>(${page.user.roles.join(', ')})</small></span>
        <form method="post" action="/ui/logout" class="inline">
          <input type="hidden" name="csrf" value=${page.csrfToken ?? ''} />
          <button type="submit" class="link">Sign out</button>
        </form>
      </nav>`
    : null;
  const doc = html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      ${page.csrfToken ? html`<meta name="csrf-token" content=${page.csrfToken} />` : null}
      <title>${page.title} · Paso</title>
      <link rel="stylesheet" href="/ui/assets/console.css" />
      <script src="/ui/assets/console.js" defer></script>
    </head>
    <body data-live=${page.live ? 'true' : undefined}>
      <header><a class="brand" href="/ui">Paso</a>${nav}</header>
      <div id="notice" role="status" aria-live="polite" hidden></div>
      <main id="main">${page.body}</main>
    </body>
  </html>`;
  return `<!doctype html>${render(doc)}`;
}

/** A table's head row. */
export function tableHead(columns: string[]): VNode {
  return html`<thead>
    <tr>
      ${columns.map((c) => html`<th scope="col">${c}</th>`)}
    </tr>
  </thead>`;
}

/** A status as a coloured badge with its name (never colour alone). */
export function badge(status: string | null | undefined): VNode {
  const s = status ?? 'NotStarted';
  return html`<span class=${`badge s-${s}`}>${s}</span>`;
}

/** A timestamp shown in UTC, with the machine-readable time for scripts and screen readers. */
export function time(iso: string | null | undefined): VNode | string {
  if (!iso) return '–';
  return html`<time datetime=${iso} title=${iso}>${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

/** How long between two instants (or until now), as people say it. */
export function duration(fromIso: string | null, toIso: string | null, now = Date.now()): string {
  if (!fromIso) return '–';
  const ms = (toIso ? Date.parse(toIso) : now) - Date.parse(fromIso);
  return age(ms);
}

export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/**
 * A form the console's script sends to the API (`/ui/api…`) as JSON, with the CSRF token; the API's answer
 * (or its problem, shown in the form's alert) decides what the person sees. `fields` are the hidden values.
 */
export function apiForm(props: {
  action: string;
  /** The API's method; forms themselves can only POST. */
  method?: 'POST' | 'PUT';
  label: string;
  fields?: Record<string, string | boolean>;
  children?: Children;
  kind?: 'primary' | 'danger' | 'plain';
  /** Several submit buttons sharing the form's fields, each sending its own `name=value` (e.g. a decision). */
  choices?: { label: string; name: string; value: string; kind?: 'primary' | 'danger' | 'plain' }[];
  multipart?: boolean;
  confirm?: string;
}): VNode {
  const hidden = Object.entries(props.fields ?? {}).map(
    ([name, value]) =>
      html`<input
        type="hidden"
        name=${name}
        value=${String(value)}
        data-type=${typeof value === 'boolean' ? 'boolean' : undefined}
      />`,
  );
  return html`<form
    class="api"
    method="post"
    action=${props.action}
    data-api=${props.multipart ? 'multipart' : 'json'}
    data-method=${props.method ?? 'POST'}
    data-confirm=${props.confirm}
    enctype=${props.multipart ? 'multipart/form-data' : undefined}
  >
    ${hidden}${props.children}
    ${
      props.choices
        ? props.choices.map(
            (c) =>
              html`<button type="submit" name=${c.name} value=${c.value} class=${c.kind ?? 'plain'}>
                ${c.label}
              </button>`,
          )
        : html`<button type="submit" class=${props.kind ?? 'plain'}>${props.label}</button>`
    }
    <p class="error" role="alert" hidden></p>
  </form>`;
}
