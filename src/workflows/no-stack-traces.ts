/**
 * Preloaded into a worker's workflow thread (the bundle's `preloadModules`) unless the worker runs with
 * `PASO_WORKFLOW_STACK_TRACES=on`: workflow code there takes no stack traces.
 *
 * Why: for every promise a workflow creates, Temporal's SDK takes a stack trace and maps each frame through
 * the bundle's source map, to answer the `__stack_trace` query (the Temporal UI's "Stack Trace" tab). An
 * execution creates about 170 promises for one command, and this was the largest part of the workflow
 * thread's time: a third of it in a PARALLEL burst, a quarter of a hand-off's workflow tasks (README, "Tests
 * and figures"; sdk-typescript#1587). With the limit at 0 the SDK still runs its hook, but captures and maps
 * nothing.
 *
 * What it costs: that query answers with no frames, and an error thrown in workflow code carries its message
 * but no stack (in the history and the worker's log). Paso's own views say where an execution waits; to see
 * a stack, run a worker with `PASO_WORKFLOW_STACK_TRACES=on`, or replay the history with one.
 *
 * Deterministic either way: nothing in the workflows or the SDK reads a stack to decide anything, and the
 * stacks recorded in failures are not compared on replay.
 */
Error.stackTraceLimit = 0;

export {};
