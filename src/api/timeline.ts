/** One time-ordered story of an execution: its own events (from the view) and people's annotations. */
import type { ExecutionView } from '../shared/execution-view.js';
import type { Annotation } from '../annotations.js';

export interface TimelineEntry {
  at: string;
  type: string;
  stage?: string;
  action?: string;
  by?: string;
  text?: string;
  annotationId?: string;
}

export function timeline(
  view: ExecutionView,
  annotations: Annotation[],
  fileUrl: (a: Annotation) => string,
): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    { at: view.trigger.at, type: 'triggered', by: view.trigger.by, text: view.trigger.type },
  ];
  for (const stage of view.stages) {
    if (stage.startedAt) entries.push({ at: stage.startedAt, type: 'stage-started', stage: stage.name });
    if (stage.endedAt)
      entries.push({ at: stage.endedAt, type: `stage-${stage.status?.toLowerCase()}`, stage: stage.name });
    for (const a of stage.actions) {
      const where = { stage: stage.name, action: a.name };
      if (a.startedAt) entries.push({ at: a.startedAt, type: 'action-started', ...where });
      if (a.endedAt) {
        entries.push({
          at: a.endedAt,
          type: `action-${a.status?.toLowerCase()}`,
          ...where,
          ...(a.error ? { text: a.error } : {}),
        });
      }
      for (const loss of a.workerLosses) {
        const then = loss.rerun ? 'the command runs again on another worker' : 'the action fails';
        entries.push({ at: loss.at, type: 'worker-lost', ...where, text: `${loss.error}; ${then}` });
      }
      for (const d of a.approvals) entries.push({ at: d.at, type: d.decision, by: d.by, text: d.comment, ...where });
      for (const d of a.decisions) entries.push({ at: d.at, type: d.decision, by: d.by, text: d.comment, ...where });
    }
  }
  if (view.stop) {
    entries.push({
      at: view.stop.at,
      type: view.stop.abandon && !view.stop.abandonAt ? 'stop-abandon' : 'stop-wait',
      by: view.stop.by,
      text: view.stop.reason ?? '',
    });
    // A stop and wait that abandoned what still ran when its time was up.
    if (view.stop.abandon && view.stop.abandonAt) {
      entries.push({ at: view.stop.abandonAt, type: 'stop-abandon', text: 'abandonAfterSeconds passed' });
    }
  }
  for (const p of view.windowPasses ?? []) {
    entries.push({ at: p.at, type: 'window-pass', stage: p.stage, by: p.by, text: p.reason });
  }
  for (const w of view.workspaces) {
    const text = `commands run in the workspace on ${w.worker}${w.note ? ` (fresh: ${w.note})` : ''}`;
    entries.push({ at: w.since, type: 'workspace', text });
  }
  for (const c of view.channels) entries.push({ at: c.at, type: 'channel-bound', by: c.by, text: `#${c.name}` });
  for (const t of view.talkback) {
    entries.push({ at: t.startedAt, type: 'talkback-started', by: t.by, text: `${t.name} (${t.id})` });
    if (t.endedAt) {
      const how = t.exitCode !== null ? `exit code ${t.exitCode}` : (t.error ?? '');
      entries.push({ at: t.endedAt, type: `talkback-${t.status.toLowerCase()}`, text: `${t.name} (${t.id}): ${how}` });
    }
  }
  for (const step of view.rollback?.steps ?? []) {
    entries.push({ at: step.startedAt, type: 'rollback-started', stage: step.stage, action: step.action });
    if (step.endedAt)
      entries.push({
        at: step.endedAt,
        type: `rollback-${step.status.toLowerCase()}`,
        stage: step.stage,
        action: step.action,
      });
  }
  if (view.endedAt) entries.push({ at: view.endedAt, type: `execution-${view.status.toLowerCase()}` });
  for (const a of annotations) {
    entries.push({
      at: a.at,
      type: `annotation-${a.kind}`,
      by: a.by,
      annotationId: a.id,
      text: a.file ? `${a.file.name} (${fileUrl(a)})${a.text ? `: ${a.text}` : ''}` : (a.text ?? ''),
    });
  }
  // Stable: same-instant entries keep the order above (a stage starts before its first action).
  return entries
    .map((e, i) => ({ e, i }))
    .sort((x, y) => Date.parse(x.e.at) - Date.parse(y.e.at) || x.i - y.i)
    .map(({ e }) => e);
}
