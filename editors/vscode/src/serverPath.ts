// Finding the micros-lsp executable: the `micros.server.path` setting, then
// the server a per-platform package carries (server/ in the extension, as
// rust-analyzer ships), then PATH, then cargo's install directory. Pure apart
// from the injected file system probe, so that it is tested without VS Code.

import * as fs from "node:fs";
import * as path from "node:path";
import { Context, expandPath } from "./settings";

export const SERVER_NAME = "micros-lsp";

export interface Environment {
  platform: NodeJS.Platform;
  /** PATH (Path on Windows). */
  path?: string;
  /** PATHEXT, on Windows. */
  pathext?: string;
  /** CARGO_HOME, if set. */
  cargoHome?: string;
  /** The extension's own directory; a per-platform .vsix has the server in its `server/`. */
  extensionDir?: string;
  /** Whether `file` is an executable regular file. */
  isExecutable: (file: string) => boolean;
}

export type Resolution =
  | { ok: true; path: string; from: "setting" | "bundled" | "PATH" | "cargo" }
  | { ok: false; message: string };

/** The probe the extension uses: an executable regular file. */
export function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (process.platform !== "win32") {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

function candidates(base: string, env: Environment): string[] {
  if (env.platform !== "win32") {
    return [base];
  }
  const exts = (env.pathext ?? ".EXE;.CMD;.BAT;.COM").split(";").filter((e) => e !== "");
  // Windows file names are case-insensitive: one spelling per extension.
  return path.win32.extname(base) !== "" ? [base] : [base, ...exts.map((ext) => base + ext.toLowerCase())];
}

function firstExecutable(base: string, env: Environment): string | undefined {
  return candidates(base, env).find((file) => env.isExecutable(file));
}

export function resolveServerPath(configured: string | undefined, context: Context, env: Environment): Resolution {
  const pathApi = env.platform === "win32" ? path.win32 : path.posix;
  const setting = (configured ?? "").trim();
  if (setting !== "") {
    let file = expandPath(setting, context);
    const bare = !file.includes("/") && !file.includes("\\");
    if (bare) {
      // A bare command name is looked up on PATH, as a shell would.
      const found = searchPath(file, env, pathApi);
      if (found) {
        return { ok: true, path: found, from: "setting" };
      }
      return { ok: false, message: `micros.server.path is \`${setting}\`, which is not on PATH.` };
    }
    if (!pathApi.isAbsolute(file) && context.workspaceFolder !== undefined) {
      file = pathApi.join(context.workspaceFolder, file);
    }
    const found = firstExecutable(file, env);
    if (found) {
      return { ok: true, path: found, from: "setting" };
    }
    return { ok: false, message: `micros.server.path points at ${file}, which is not an executable file.` };
  }
  if (env.extensionDir !== undefined) {
    const bundled = firstExecutable(bundledServer(env.extensionDir, env.platform), env);
    if (bundled) {
      return { ok: true, path: bundled, from: "bundled" };
    }
  }
  const onPath = searchPath(SERVER_NAME, env, pathApi);
  if (onPath) {
    return { ok: true, path: onPath, from: "PATH" };
  }
  const cargoHome = env.cargoHome ?? pathApi.join(context.home, ".cargo");
  const cargo = firstExecutable(pathApi.join(cargoHome, "bin", SERVER_NAME), env);
  if (cargo) {
    return { ok: true, path: cargo, from: "cargo" };
  }
  return {
    ok: false,
    message:
      `${SERVER_NAME} is not on PATH (nor in ${pathApi.join(cargoHome, "bin")}). ` +
      "Install it (cargo install --path lsp --bin micros-lsp, in a micros-lsp checkout) or set micros.server.path.",
  };
}

/** Where a per-platform package puts the server (the release workflow's .ci/vsix-build.sh). */
export function bundledServer(extensionDir: string, platform: NodeJS.Platform): string {
  const pathApi = platform === "win32" ? path.win32 : path.posix;
  return pathApi.join(extensionDir, "server", SERVER_NAME);
}

function searchPath(name: string, env: Environment, pathApi: typeof path.posix): string | undefined {
  const separator = env.platform === "win32" ? ";" : ":";
  for (const dir of (env.path ?? "").split(separator)) {
    if (dir === "") {
      continue;
    }
    const found = firstExecutable(pathApi.join(dir, name), env);
    if (found) {
      return found;
    }
  }
  return undefined;
}
