/**
 * Which variable names a pipeline may give its commands. Variables reach commands as environment variables,
 * so a name that changes how the shell, the dynamic loader or a language runtime behaves (`BASH_ENV`,
 * `LD_PRELOAD`, `NODE_OPTIONS`, `PATH`, …) would let whoever sets it run code of their choosing on a worker.
 * Such names are refused when a definition is saved and when an execution is triggered, and dropped by the
 * process runner whatever the workflow's input says (executions started before this rule, or by hand).
 * Safe to import from workflow code (no I/O).
 */

/** Environment variables of the worker that commands inherit; they are never overridden by variables. */
export const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'SHELL'] as const;

/** Names that make a shell, the loader or a runtime read code or settings from where the value points. */
const BEHAVIOUR_NAMES = new Set<string>([
  ...INHERITED_ENV,
  // POSIX shells and bash
  'ENV',
  'BASH_ENV',
  'IFS',
  'SHELLOPTS',
  'BASHOPTS',
  'CDPATH',
  'GLOBIGNORE',
  'PROMPT_COMMAND',
  'PS1',
  'PS2',
  'PS3',
  'PS4',
  'BASH_XTRACEFD',
  'HISTFILE',
  'INPUTRC',
  'POSIXLY_CORRECT',
  // the C library
  'GCONV_PATH',
  'LOCPATH',
  'NLSPATH',
  'HOSTALIASES',
  'RESOLV_HOST_CONF',
  'RES_OPTIONS',
  'LOCALDOMAIN',
  // language runtimes
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONSTARTUP',
  'PYTHONINSPECT',
  'PYTHONUSERBASE',
  'PERL5LIB',
  'PERL5OPT',
  'PERLLIB',
  'PERL5DB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'GOFLAGS',
  'LUA_INIT',
  'LUA_PATH',
  'LUA_CPATH',
  // programs that run other programs named by the environment
  'EDITOR',
  'VISUAL',
  'PAGER',
  'BROWSER',
  'LESSOPEN',
  'LESSCLOSE',
  'SSH_ASKPASS',
  'SUDO_ASKPASS',
  'OPENSSL_CONF',
  'OPENSSL_ENGINES',
]);

/**
 * Prefixes of such names: the dynamic loaders (`LD_`, `DYLD_`), bash's exported functions (`BASH_FUNC_`),
 * locale settings (`LC_`), git's and npm's configuration (`GIT_`, `npm_config_`, matched without case as npm
 * does), and `PASO_`, which Paso sets itself.
 */
const BEHAVIOUR_PREFIXES = ['LD_', 'DYLD_', 'BASH_FUNC_', 'LC_', 'GIT_', 'PASO_'];
const CASELESS_PREFIXES = ['npm_config_'];

/** Why a variable name may not be used, or null when it may. */
export function forbiddenVariableReason(name: string): string | null {
  if ((INHERITED_ENV as readonly string[]).includes(name)) {
    return `"${name}" is the worker's own (${INHERITED_ENV.join(' ')} are inherited and cannot be overridden)`;
  }
  if (name.startsWith('PASO_')) return `"${name}": PASO_* variables are set by Paso itself`;
  if (
    BEHAVIOUR_NAMES.has(name) ||
    BEHAVIOUR_PREFIXES.some((p) => name.startsWith(p)) ||
    CASELESS_PREFIXES.some((p) => name.toLowerCase().startsWith(p.toLowerCase()))
  ) {
    return `"${name}" changes how a shell, the dynamic loader or a runtime behaves, so it cannot be set by a pipeline`;
  }
  return null;
}

/** The variables whose names may reach a command, and the names that were dropped. */
export function allowedVariables(variables: Record<string, string>): {
  allowed: Record<string, string>;
  dropped: string[];
} {
  const allowed: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(variables)) {
    if (forbiddenVariableReason(name) === null) allowed[name] = value;
    else dropped.push(name);
  }
  return { allowed, dropped };
}
