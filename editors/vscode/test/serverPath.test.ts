import assert from "node:assert/strict";
import { test } from "node:test";
import { Environment, resolveServerPath } from "../src/serverPath";

const context = { home: "/home/ada", workspaceFolder: "/work/site" };

function env(executables: string[], overrides: Partial<Environment> = {}): Environment {
  const set = new Set(executables);
  return { platform: "linux", path: "/usr/local/bin:/usr/bin", isExecutable: (f) => set.has(f), ...overrides };
}

test("the setting wins over PATH", () => {
  const result = resolveServerPath("/opt/micros/bin/micros-lsp", context, env(["/opt/micros/bin/micros-lsp", "/usr/bin/micros-lsp"]));
  assert.deepEqual(result, { ok: true, path: "/opt/micros/bin/micros-lsp", from: "setting" });
});

test("a relative setting is taken from the workspace folder; ~ is expanded", () => {
  assert.deepEqual(resolveServerPath("target/release/micros-lsp", context, env(["/work/site/target/release/micros-lsp"])), {
    ok: true,
    path: "/work/site/target/release/micros-lsp",
    from: "setting",
  });
  assert.deepEqual(resolveServerPath("~/bin/micros-lsp", context, env(["/home/ada/bin/micros-lsp"])), {
    ok: true,
    path: "/home/ada/bin/micros-lsp",
    from: "setting",
  });
});

test("a setting that points nowhere is an error naming it, not a silent fallback", () => {
  const result = resolveServerPath("/nope/micros-lsp", context, env(["/usr/bin/micros-lsp"]));
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.message : "", /micros\.server\.path points at \/nope\/micros-lsp/);
});

test("a bare command name in the setting is looked up on PATH", () => {
  assert.deepEqual(resolveServerPath("micros-lsp-dev", context, env(["/usr/bin/micros-lsp-dev"])), {
    ok: true,
    path: "/usr/bin/micros-lsp-dev",
    from: "setting",
  });
  assert.equal(resolveServerPath("missing", context, env([])).ok, false);
});

test("without a setting: PATH in order, then ~/.cargo/bin (or CARGO_HOME)", () => {
  assert.deepEqual(resolveServerPath("", context, env(["/usr/bin/micros-lsp", "/usr/local/bin/micros-lsp"])), {
    ok: true,
    path: "/usr/local/bin/micros-lsp",
    from: "PATH",
  });
  assert.deepEqual(resolveServerPath(undefined, context, env(["/home/ada/.cargo/bin/micros-lsp"])), {
    ok: true,
    path: "/home/ada/.cargo/bin/micros-lsp",
    from: "cargo",
  });
  assert.deepEqual(resolveServerPath(undefined, context, env(["/c/bin/micros-lsp"], { cargoHome: "/c" })), {
    ok: true,
    path: "/c/bin/micros-lsp",
    from: "cargo",
  });
});

test("a per-platform package's own server comes after the setting and before PATH and cargo", () => {
  const extensionDir = "/home/ada/.vscode/extensions/micros-lsp.micros-lsp-0.1.0-linux-x64";
  const bundled = `${extensionDir}/server/micros-lsp`;
  const everywhere = env(["/opt/micros-lsp", bundled, "/usr/bin/micros-lsp", "/home/ada/.cargo/bin/micros-lsp"], { extensionDir });
  assert.deepEqual(resolveServerPath("/opt/micros-lsp", context, everywhere), { ok: true, path: "/opt/micros-lsp", from: "setting" });
  assert.deepEqual(resolveServerPath("", context, everywhere), { ok: true, path: bundled, from: "bundled" });
  // A universal package (no server/ inside) goes on to PATH, then cargo.
  assert.deepEqual(resolveServerPath("", context, env(["/usr/bin/micros-lsp"], { extensionDir })), {
    ok: true,
    path: "/usr/bin/micros-lsp",
    from: "PATH",
  });
  assert.deepEqual(resolveServerPath("", context, env(["/home/ada/.cargo/bin/micros-lsp"], { extensionDir })), {
    ok: true,
    path: "/home/ada/.cargo/bin/micros-lsp",
    from: "cargo",
  });
  // A setting that points nowhere is still an error, not the bundled server.
  assert.equal(resolveServerPath("/nope/micros-lsp", context, everywhere).ok, false);
});

test("Windows: the bundled server is server\\micros-lsp.exe", () => {
  const extensionDir = "C:\\Users\\ada\\.vscode\\extensions\\micros-lsp-win32-x64";
  const windows = env([`${extensionDir}\\server\\micros-lsp.exe`, "C:\\tools\\micros-lsp.exe"], {
    platform: "win32",
    path: "C:\\tools",
    pathext: ".EXE",
    extensionDir,
  });
  assert.deepEqual(resolveServerPath(undefined, { home: "C:\\Users\\ada" }, windows), {
    ok: true,
    path: `${extensionDir}\\server\\micros-lsp.exe`,
    from: "bundled",
  });
});

test("nothing found: the message says how to install or configure", () => {
  const result = resolveServerPath(undefined, context, env([]));
  assert.equal(result.ok, false);
  const message = !result.ok ? result.message : "";
  assert.match(message, /not on PATH/);
  assert.match(message, /micros\.server\.path/);
});

test("Windows: Path with ; and PATHEXT", () => {
  const windows = env(["C:\\tools\\micros-lsp.exe"], { platform: "win32", path: "C:\\Windows;C:\\tools", pathext: ".COM;.EXE" });
  assert.deepEqual(resolveServerPath(undefined, { home: "C:\\Users\\ada" }, windows), {
    ok: true,
    path: "C:\\tools\\micros-lsp.exe",
    from: "PATH",
  });
});
