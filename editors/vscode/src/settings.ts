// The `micros` settings as the server reads them (lsp/src/server/settings.rs):
// the section `micros` with the paths `source`, `nixpkgs` and `options`, each
// a path or absent, the flag `eval`, `diagnostics.generic`,
// `formatting.command` and `inlayHints.bindingEndMinLines`. Pure, so that it
// is tested without VS Code.

import * as os from "node:os";
import * as path from "node:path";

/** The path keys of the `micros` section the server reads. */
export const PATH_KEYS = ["source", "nixpkgs", "options"] as const;
export type PathKey = (typeof PATH_KEYS)[number];

/** The boolean keys of the `micros` section; all default to false. */
export const FLAG_KEYS = ["eval"] as const;
export type FlagKey = (typeof FLAG_KEYS)[number];

/**
 * Nested keys: `diagnostics.generic` (false leaves syntax, name and nil's
 * lints to another Nix server running beside; default true) and
 * `formatting.command` (a formatter and its arguments instead of the
 * built-in alejandra style) and `inlayHints.bindingEndMinLines` (a binding's
 * name after its `;` from this many lines on; 0 turns these hints off).
 */
export const NESTED_KEYS = ["diagnostics.generic", "formatting.command", "inlayHints.bindingEndMinLines"] as const;
export type NestedKey = (typeof NESTED_KEYS)[number];

/** Every key of the `micros` section the server reads. */
export const SERVER_KEYS = [...PATH_KEYS, ...FLAG_KEYS, ...NESTED_KEYS] as const;
export type ServerKey = PathKey | FlagKey | NestedKey;

export type ServerSettings = Partial<
  Record<PathKey, string> &
    Record<FlagKey, boolean> & { genericDiagnostics: boolean; formattingCommand: string[]; bindingEndMinLines: number }
>;

/** What is sent: every key, so that the server forgets what was cleared. */
export type ServerSection = Record<PathKey, string | null> &
  Record<FlagKey, boolean> & {
    diagnostics: { generic: boolean };
    formatting: { command: string[] | null };
    inlayHints: { bindingEndMinLines: number | null };
  };

/** Where `~` and `${workspaceFolder}` point. */
export interface Context {
  home: string;
  workspaceFolder?: string;
}

/**
 * Expand `~` and `${workspaceFolder}`/`${userHome}` (VS Code does not do
 * it for settings). A relative result is left relative: the server reads it
 * from the workspace root, which is the same folder.
 */
export function expandPath(value: string, context: Context): string {
  let out = value.trim();
  if (out === "~") {
    out = context.home;
  } else if (out.startsWith("~/") || out.startsWith("~\\")) {
    out = path.join(context.home, out.slice(2));
  }
  out = out.replace(/\$\{userHome\}/g, context.home);
  if (context.workspaceFolder !== undefined) {
    out = out.replace(/\$\{workspaceFolder\}/g, context.workspaceFolder);
  }
  return out;
}

/**
 * The section the server is sent, from a reader of `micros.<key>`. Empty
 * and non-string paths and non-boolean flags are left out, so the server
 * falls back to its own discovery (environment, flake.lock) and defaults.
 */
export function serverSettings(get: (key: ServerKey) => unknown, context: Context): ServerSettings {
  const settings: ServerSettings = {};
  for (const key of PATH_KEYS) {
    const value = get(key);
    if (typeof value === "string" && value.trim() !== "") {
      settings[key] = expandPath(value, context);
    }
  }
  for (const key of FLAG_KEYS) {
    const value = get(key);
    if (typeof value === "boolean") {
      settings[key] = value;
    }
  }
  const generic = get("diagnostics.generic");
  if (typeof generic === "boolean") {
    settings.genericDiagnostics = generic;
  }
  const command = get("formatting.command");
  if (Array.isArray(command) && command.length > 0 && command.every((word) => typeof word === "string")) {
    settings.formattingCommand = command.map((word, i) => (i === 0 ? expandPath(word, context) : word));
  }
  const lines = get("inlayHints.bindingEndMinLines");
  if (typeof lines === "number" && Number.isInteger(lines) && lines >= 0) {
    settings.bindingEndMinLines = lines;
  }
  return settings;
}

/**
 * The payload for initializationOptions and workspace/didChangeConfiguration.
 * Unset paths are sent as null and unset flags as false (the server ignores
 * a null flag), so that clearing a setting in the editor clears it in a
 * running server too.
 */
export function serverPayload(settings: ServerSettings): { micros: ServerSection } {
  const micros = {} as ServerSection;
  for (const key of PATH_KEYS) {
    micros[key] = settings[key] ?? null;
  }
  for (const key of FLAG_KEYS) {
    micros[key] = settings[key] ?? false;
  }
  micros.diagnostics = { generic: settings.genericDiagnostics ?? true };
  micros.formatting = { command: settings.formattingCommand ?? null };
  // null: the server's default (25 lines).
  micros.inlayHints = { bindingEndMinLines: settings.bindingEndMinLines ?? null };
  return { micros };
}

/** What a configuration change means for a running server. */
export type ChangeAction = "restart" | "notify" | "none";

export function changeAction(affects: (section: string) => boolean): ChangeAction {
  if (affects("micros.server.path")) {
    return "restart";
  }
  if (SERVER_KEYS.some((key) => affects(`micros.${key}`))) {
    return "notify";
  }
  return "none";
}

export function defaultContext(workspaceFolder?: string): Context {
  return { home: os.homedir(), workspaceFolder };
}
