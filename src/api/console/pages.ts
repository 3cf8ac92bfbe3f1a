/**
 * The console's pages as Preact components over the loaders' data (`data.ts`). Buttons appear only where the
 * person may use them now; otherwise the reason is shown. Every decision goes to the API (`/ui/api…`), which
 * checks again.
 */
import type { VNode } from 'preact';
import type { ActionView, ExecutionView } from '../../shared/execution-view.js';
import { EXECUTION_STATUSES } from '../../shared/execution-view.js';
import type { PipelineState } from '../../shared/pipeline-state.js';
import type { LockInfo } from '../schemas.js';
import type { ExecutionPage, PendingDecision, PipelinePage } from './data.js';
import { age, apiForm, badge, duration, html, tableHead, time } from './html.js';

const enc = encodeURIComponent;
const executionHref = (id: string) => `/ui/executions/${enc(id)}`;
const apiExecution = (id: string) => `/ui/api/executions/${enc(id)}`;

export function loginPage(props: { next: string; error: string | null }): VNode {
  return html`<section class="card narrow">
    <h1>Sign in to Paso</h1>
    <p>Paste your Paso API token. It is checked once; the browser then keeps a session for 12 hours.</p>
    ${props.error ? html`<p class="error" role="alert">${props.error}</p>` : null}
    <form method="post" action="/ui/login">
      <input type="hidden" name="next" value=${props.next} />
      <label for="token">Token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
      <button type="submit" class="primary">Sign in</button>
    </form>
  </section>`;
}

export function errorPage(status: number, detail: string): VNode {
  return html`<section class="card">
    <h1>${status === 404 ? 'Not found' : 'Something is wrong'}</h1>
    <p class="error" role="alert">${detail}</p>
    <p><a href="/ui">Back to what waits for you</a></p>
  </section>`;
}

const KIND_LABEL = { approval: 'Approval', resume: 'Pause', trap: 'Error trap' } as const;

export function waitingPage(props: { decisions: PendingDecision[]; now: number }): VNode {
  const { decisions, now } = props;
  return html`<h1>Waiting for me</h1>
    ${
      decisions.length === 0
        ? html`<p class="empty">Nothing waits for your decision.</p>`
        : html`<ul class="decisions">
            ${decisions.map(
              (d) =>
                html`<li class="card">
                  <p class="what">
                    <strong>${KIND_LABEL[d.kind]}</strong> ·
                    <a href=${executionHref(d.executionId)}>${d.executionId}</a> · ${d.stage}/${d.action}
                  </p>
                  ${d.message ? html`<p class="message">${d.message}</p>` : null}
                  <p class="meta">
                    waiting ${d.since ? age(now - Date.parse(d.since)) : '–'}
                    ${d.expiresAt ? html` · expires ${time(d.expiresAt)}` : null}
                    ${d.approvals ? html` · ${d.approvals.count} of ${d.approvals.required} approvals` : null}
                  </p>
                  ${decisionForms(d)}
                </li>`,
            )}
          </ul>`
    }`;
}

export function pipelinesPage(props: { pipelines: PipelineState[] }): VNode {
  return html`<h1>Pipelines</h1>
    ${props.pipelines.length === 0 ? html`<p class="empty">No pipelines yet.</p>` : null}
    ${props.pipelines.map(
      (p) =>
        html`<section class="card">
          <h2>
            <a href=${`/ui/pipelines/${enc(p.name)}`}>${p.name}</a> <small>${p.executionMode} · v${p.version}</small>
          </h2>
          ${stageRow(p, null)}
        </section>`,
    )}`;
}

/** The named locks shared across pipelines: who holds each, who waits in which order, the last token. */
export function locksPage(props: { locks: LockInfo[] }): VNode {
  const who = (id: string, stage: string) => html`<a href=${executionHref(id)}>${id}</a> <small>${stage}</small>`;
  return html`<h1>Locks</h1>
    <p>Named locks shared across pipelines: a stage that names one waits until it can take all of its locks.</p>
    ${props.locks.length === 0 ? html`<p class="empty">No named lock is declared or in use.</p>` : null}
    ${
      props.locks.length > 0
        ? html`<table>
            ${tableHead(['Lock', 'Order', 'Held by', 'Waiting, in order', 'Last token'])}
            <tbody>
              ${props.locks.map(
                (l) =>
                  html`<tr>
                    <td>
                      <strong>${l.name}</strong>${l.description ? html`<br /><small>${l.description}</small>` : null}
                    </td>
                    <td data-label="Order">${l.order}</td>
                    <td data-label="Held by">
                      ${
                        l.holders.length
                          ? l.holders.map(
                              (h) =>
                                html`<div>
                                  ${who(h.executionId, h.stage)}${h.mode === 'shared' ? ' (shared)' : ''}${' since '}${time(h.since)}
                                </div>`,
                            )
                          : html`<span class="empty">free</span>`
                      }
                    </td>
                    <td data-label="Waiting">
                      ${
                        l.waiters.length
                          ? html`<ol>
                              ${l.waiters.map(
                                (w) =>
                                  html`<li>
                                    ${who(w.executionId, w.stage)}${w.mode === 'shared' ? ' (shared)' : ''}
                                    ${w.with.length ? html`<small> with ${w.with.join(', ')}</small>` : null}
                                  </li>`,
                              )}
                            </ol>`
                          : '–'
                      }
                    </td>
                    <td data-label="Last token">${l.token}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : null
    }`;
}

/** The pipeline as its row of stages, like CodePipeline's console; with `mayToggle`, transition switches. */
function stageRow(p: PipelineState, toggle: { mayToggle: string | null } | null): VNode {
  return html`<ol class="stages">
    ${p.stages.map(
      (s, i) =>
        html`<li class="stage">
          ${i > 0 ? transition(p, s, toggle) : null}
          <div class="box">
            <h3>${s.name}</h3>
            <p>
              ${
                s.latestExecution
                  ? html`<a href=${executionHref(s.latestExecution.executionId)}>${s.latestExecution.executionId}</a>
                      ${badge(s.latestExecution.status)}`
                  : html`<span class="empty">no execution yet</span>`
              }
            </p>
            <p>
              ${s.concurrency > 1 ? `Slots (${s.holders.length} of ${s.concurrency}): ` : 'Lock: '}
              ${s.holders.length ? s.holders.map((h) => html`<a href=${executionHref(h)}>${h}</a> `) : 'free'}
            </p>
            ${
              s.window
                ? html`<p class="refusal">
                    Shut: ${s.window.reason}${s.window.opensAt ? html`; opens ${time(s.window.opensAt)}` : null}
                  </p>`
                : null
            }
            ${
              s.inbound.length
                ? html`<p>
                    Waiting in front:
                    ${s.inbound.map(
                      (w) => html`<a href=${executionHref(w.executionId)}>${w.executionId}</a> (${w.waitingFor}) `,
                    )}
                  </p>`
                : null
            }
          </div>
        </li>`,
    )}
  </ol>`;
}

function transition(p: PipelineState, s: PipelineState['stages'][number], toggle: { mayToggle: string | null } | null) {
  const t = s.transition;
  const state = t.enabled
    ? html`<span class="arrow" title="transition enabled">→</span>`
    : html`<span class="arrow disabled" title=${`disabled by ${t.by ?? '?'}: ${t.reason ?? ''}`}
        >⏸ disabled${t.reason ? `: ${t.reason}` : ''}</span
      >`;
  if (!toggle) return html`<div class="transition">${state}</div>`;
  if (toggle.mayToggle) return html`<div class="transition">${state}<small>${toggle.mayToggle}</small></div>`;
  const action = `/ui/api/pipelines/${enc(p.name)}/transitions/${enc(s.name)}`;
  return html`<div class="transition">
    ${state}
    ${
      t.enabled
        ? apiForm({
            action,
            method: 'PUT',
            label: `Disable transition into ${s.name}`,
            fields: { enabled: false },
            children: html`<label
              >Reason <input name="reason" required minlength="1" maxlength="1000" autocomplete="off"
            /></label>`,
          })
        : apiForm({ action, method: 'PUT', label: `Enable transition into ${s.name}`, fields: { enabled: true } })
    }
  </div>`;
}

export function pipelinePage(props: PipelinePage): VNode {
  const { state, executions, nextCursor, status } = props;
  const base = `/ui/pipelines/${enc(state.name)}`;
  return html`<h1>${state.name} <small>${state.executionMode} · v${state.version}</small></h1>
    ${stageRow(state, { mayToggle: props.mayToggle })}
    <h2>Executions</h2>
    <form method="get" action=${base} class="filter">
      <label for="status">Status</label>
      <select id="status" name="status">
        <option value="">any</option>
        ${EXECUTION_STATUSES.map((s) => html`<option value=${s} selected=${s === status}>${s}</option>`)}
      </select>
      <button type="submit">Filter</button>
    </form>
    <table>
      ${tableHead(['Execution', 'Status', 'Stage', 'Started', 'Took'])}
      <tbody>
        ${executions.map(
          (e) =>
            html`<tr>
              <td><a href=${executionHref(e.executionId)}>${e.executionId}</a></td>
              <td>${badge(e.status)}</td>
              <td>${e.stage ?? '–'}</td>
              <td>${time(e.startedAt)}</td>
              <td>${duration(e.startedAt, e.endedAt)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${executions.length === 0 ? html`<p class="empty">No executions${status ? ` with status ${status}` : ''}.</p>` : null}
    ${
      nextCursor
        ? html`<p>
            <a
              rel="next"
              href=${`${base}?${new URLSearchParams({ ...(status ? { status } : {}), cursor: nextCursor }).toString()}`}
              >Older executions</a
            >
          </p>`
        : null
    }`;
}

export function executionPage(props: ExecutionPage): VNode {
  const { view, rights } = props;
  const open = rights.decisions;
  return html`<h1>${view.executionId} ${badge(view.status)}</h1>
    <p class="meta">
      <a href=${`/ui/pipelines/${enc(view.pipeline)}`}>${view.pipeline}</a> v${view.pipelineVersion} ·
      ${view.executionMode} · triggered by ${view.trigger.by} (${view.trigger.type}) ${time(view.trigger.at)} ·
      ${duration(view.startedAt, view.endedAt)}
      ${props.temporalUrl ? html` · <a href=${props.temporalUrl}>Workflow in the Temporal UI</a>` : null}
    </p>
    ${view.error ? html`<p class="error">${view.error}</p>` : null} ${waitingLine(view)}
    ${
      open.length
        ? html`<section class="card attention" aria-labelledby="decide">
            <h2 id="decide">Waiting for a decision</h2>
            ${open.map(
              (d) =>
                html`<div class="decision">
                  <p>
                    <strong>${KIND_LABEL[d.kind]}</strong> · ${d.stage}/${d.action}
                    ${d.approvals ? html` · ${d.approvals.count} of ${d.approvals.required} approvals` : null}
                    ${d.expiresAt ? html` · expires ${time(d.expiresAt)}` : null}
                  </p>
                  ${d.message ? html`<p class="message">${d.message}</p>` : null}
                  ${d.url ? html`<p><a href=${d.url}>${d.url}</a></p>` : null} ${decisionForms(d)}
                </div>`,
            )}
          </section>`
        : null
    }
    <section aria-labelledby="stages">
      <h2 id="stages">Stages</h2>
      ${view.stages.map(
        (s) =>
          html`<div class="card stage-detail">
            <h3>${s.name} ${badge(s.status)} <small>${duration(s.startedAt, s.endedAt)}</small></h3>
            <table>
              ${tableHead(['Action', 'Status', 'Attempt', 'Took', 'Details'])}
              <tbody>
                ${s.actions.map((a) => actionRow(view, s.name, a))}
              </tbody>
            </table>
          </div>`,
      )}
    </section>
    ${
      view.rollback
        ? html`<section class="card" aria-labelledby="rollback">
            <h2 id="rollback">Rollback ${badge(view.rollback.status)}</h2>
            <ol>
              ${view.rollback.steps.map(
                (r) =>
                  html`<li>
                    ${r.stage}/${r.action} ${badge(r.status)}
                    ${r.error ? html`<span class="error">${r.error}</span>` : null}
                    <a href=${`${executionHref(view.executionId)}/logs/${enc(r.stage)}/${enc(`${r.action}.rollback`)}`}
                      >log</a
                    >
                  </li>`,
              )}
            </ol>
          </section>`
        : null
    }
    ${operatorControls(props)} ${timelineSection(props)}`;
}

function waitingLine(view: ExecutionView) {
  if (!view.waiting) return null;
  const { stage, opensAt, lock, heldBy } = view.waiting;
  const holders = heldBy?.length ? `, held by ${heldBy.join(', ')}` : heldBy ? ', behind another waiter' : '';
  const why = {
    STAGE_LOCK: 'for the stage lock',
    TRANSITION: 'for the transition to be enabled',
    WINDOW: 'for its deployment window',
    LOCK: `for the lock ${lock ?? ''}${holders}`,
  }[view.waiting.for];
  return html`<p class="card attention">
    Waiting to enter <strong>${stage}</strong> ${why}${opensAt ? html`, which opens ${time(opensAt)}` : null}.
  </p>`;
}

function actionRow(view: ExecutionView, stage: string, a: ActionView) {
  const logHref = `${executionHref(view.executionId)}/logs/${enc(stage)}/${enc(a.name)}`;
  const details = [
    a.waitingFor ? html`<span>waiting for ${a.waitingFor}</span>` : null,
    a.error ? html`<span class="error">${a.error}</span>` : null,
    a.exitCode !== null ? html`<span>exit code ${a.exitCode}</span>` : null,
    a.worker ? html`<span>on ${a.worker}</span>` : null,
    a.type === 'command' && a.status
      ? html`<a href=${logHref}>${a.status === 'InProgress' ? 'Follow log' : 'Log'}</a>`
      : null,
    ...a.approvals.map((x) => html`<span>${x.decision}d by ${x.by}${x.comment ? `: “${x.comment}”` : ''}</span>`),
    ...a.decisions.map((x) => html`<span>${x.decision} by ${x.by}${x.comment ? `: “${x.comment}”` : ''}</span>`),
  ].filter(Boolean);
  return html`<tr>
    <td data-label="Action">${a.name} <small>${a.type}</small></td>
    <td data-label="Status">${badge(a.status)}</td>
    <td data-label="Attempt">${a.attempt || '–'}</td>
    <td data-label="Took">${duration(a.startedAt, a.endedAt)}</td>
    <td data-label="Details" class="details">${details}</td>
  </tr>`;
}

/** The decisions of approvals and traps: the API route, and each button (label, decision, style). */
const DECISIONS = {
  approval: {
    path: 'approvals',
    choices: [
      ['Approve', 'approve', 'primary'],
      ['Reject', 'reject', 'danger'],
    ],
  },
  trap: {
    path: 'trap',
    choices: [
      ['Retry', 'retry', 'primary'],
      ['Skip', 'skip', 'plain'],
      ['Abort', 'abort', 'danger'],
    ],
  },
} as const;

/** The buttons for one waiting manual step, or why this person has none. */
function decisionForms(d: PendingDecision) {
  if (d.refusal) return html`<p class="refusal">${d.refusal}.</p>`;
  const ref = { stage: d.stage, action: d.action };
  const comment = html`<label>Comment <input name="comment" maxlength="4000" autocomplete="off" /></label>`;
  const base = apiExecution(d.executionId);
  if (d.kind === 'resume') {
    return apiForm({ action: `${base}/resume`, label: 'Resume', kind: 'primary', fields: ref, children: comment });
  }
  const { path, choices } = DECISIONS[d.kind];
  return apiForm({
    action: `${base}/${path}`,
    label: 'Decide',
    fields: ref,
    children: comment,
    choices: choices.map(([label, value, kind]) => ({ label, name: 'decision', value, kind })),
  });
}

function operatorControls({ view, rights }: ExecutionPage) {
  const base = apiExecution(view.executionId);
  const reason = html`<label>Reason <input name="reason" maxlength="1000" autocomplete="off" /></label>`;
  const stop = rights.stop
    ? html`<p class="refusal">Stop: ${rights.stop}.</p>`
    : html`<div class="buttons">
        ${apiForm({ action: `${base}/stop`, label: 'Stop and wait', fields: { abandon: false }, children: reason })}
        ${apiForm({
          action: `${base}/stop`,
          label: 'Stop and abandon',
          kind: 'danger',
          fields: { abandon: true },
          children: reason,
          confirm: 'Abandon the running actions? Their commands are killed.',
        })}
      </div>`;
  const retry = rights.retry
    ? html`<p class="refusal">Retry: ${rights.retry}.</p>`
    : html`<div class="buttons">
        ${apiForm({ action: `${base}/retry`, label: `Retry failed actions of ${view.retryableStage}`, kind: 'primary', fields: { stage: view.retryableStage!, mode: 'FAILED_ACTIONS' } })}
        ${apiForm({ action: `${base}/retry`, label: `Retry all actions of ${view.retryableStage}`, fields: { stage: view.retryableStage!, mode: 'ALL_ACTIONS' } })}
        ${view.retryableUntil ? html`<small>until ${time(view.retryableUntil)}</small>` : null}
      </div>`;
  return html`<section class="card" aria-labelledby="controls">
    <h2 id="controls">Stop and retry</h2>
    ${stop}${retry}
  </section>`;
}

function timelineSection({ view, timeline, rights }: ExecutionPage) {
  const base = apiExecution(view.executionId);
  return html`<section class="card" aria-labelledby="timeline">
    <h2 id="timeline">Timeline</h2>
    <ol class="timeline">
      ${timeline.map(
        (e) =>
          html`<li>
            ${time(e.at)} <strong>${e.type}</strong>
            ${e.stage ? ` ${e.stage}${e.action ? `/${e.action}` : ''}` : ''} ${e.by ? html` · ${e.by}` : null}
            ${e.text ? html` · <span class="text">${e.text}</span>` : null}
          </li>`,
      )}
    </ol>
    ${
      rights.annotate
        ? html`<p class="refusal">Annotating: ${rights.annotate}.</p>`
        : html`<div class="buttons">
            ${apiForm({
              action: `${base}/annotations`,
              label: 'Add comment',
              fields: { kind: 'comment' },
              children: html`<label
                >Comment <textarea name="text" required maxlength="65536" rows="2"></textarea>
              </label>`,
            })}
            ${apiForm({
              action: `${base}/annotations`,
              label: 'Attach file',
              multipart: true,
              children: html`<label>File <input type="file" name="file" required /></label>
                <label>Note <input name="text" maxlength="65536" autocomplete="off" /></label>`,
            })}
          </div>`
    }
  </section>`;
}

export function logPage(props: { executionId: string; stage: string; action: string }): VNode {
  const { executionId, stage, action } = props;
  const src = `${apiExecution(executionId)}/logs/${enc(stage)}/${enc(action)}?follow=true`;
  return html`<h1><a href=${executionHref(executionId)}>${executionId}</a> · ${stage}/${action}</h1>
    <p class="meta" id="log-state" role="status">Following the log…</p>
    <pre id="log" data-follow=${src} tabindex="0" aria-label="Log"></pre>`;
}
