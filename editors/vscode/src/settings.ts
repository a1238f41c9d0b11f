// The `micros` settings as the server reads them (lsp/src/server/settings.rs):
// the section `micros` with `source`, `nixpkgs` and `options`, each a path
// or absent. Pure, so that it is tested without VS Code.

import * as os from "node:os";
import * as path from "node:path";

/** The keys of the `micros` section the server reads. */
export const SERVER_KEYS = ["source", "nixpkgs", "options"] as const;
export type ServerKey = (typeof SERVER_KEYS)[number];

export type ServerSettings = Partial<Record<ServerKey, string>>;

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
 * and non-string values are left out, so the server falls back to its own
 * discovery (environment, flake.lock).
 */
export function serverSettings(get: (key: ServerKey) => unknown, context: Context): ServerSettings {
  const settings: ServerSettings = {};
  for (const key of SERVER_KEYS) {
    const value = get(key);
    if (typeof value === "string" && value.trim() !== "") {
      settings[key] = expandPath(value, context);
    }
  }
  return settings;
}

/**
 * The payload for initializationOptions and workspace/didChangeConfiguration.
 * Keys that are unset are sent as null so that clearing a setting in the
 * editor clears it in a running server too.
 */
export function serverPayload(settings: ServerSettings): { micros: Record<ServerKey, string | null> } {
  const micros = {} as Record<ServerKey, string | null>;
  for (const key of SERVER_KEYS) {
    micros[key] = settings[key] ?? null;
  }
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
