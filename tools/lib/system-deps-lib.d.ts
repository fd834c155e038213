/** Types of system-deps-lib.js, so that the TypeScript tests can import it type-safely. */

/** One command a suite runs, the Debian package that installs it, and who needs it. */
export interface SystemTool {
  readonly command: string;
  readonly debianPackage: string;
  readonly usedBy: string;
}

/** What `npm test` does about missing tools. */
export type InstallPlan =
  | { readonly action: 'none' }
  | { readonly action: 'install'; readonly packages: string[] }
  | { readonly action: 'stop'; readonly line: string };

/** The system tools the test suites drive. */
export const SYSTEM_TOOLS: readonly SystemTool[];

/** The absolute path of `command` on `searchPath` (a PATH value), or undefined. */
export function findOnPath(command: string, searchPath: string): string | undefined;

/** The tools of `tools` that are not on `searchPath`. */
export function findMissing(tools: readonly SystemTool[], searchPath: string): SystemTool[];

/** The Debian packages that bring `missing`, each once, in order. */
export function debianPackages(missing: readonly SystemTool[]): string[];

/** The exact command that installs `missing`, as a person would type it. */
export function installCommand(missing: readonly SystemTool[], isRoot: boolean): string;

/** What to do about `missing`: nothing, install them, or stop with the command that would. */
export function planInstall(
  missing: readonly SystemTool[],
  machine: { readonly isRoot: boolean; readonly hasAptGet: boolean; readonly mayInstall: boolean },
): InstallPlan;
