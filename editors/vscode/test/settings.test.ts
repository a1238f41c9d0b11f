import assert from "node:assert/strict";
import { test } from "node:test";
import { changeAction, expandPath, serverPayload, serverSettings } from "../src/settings";

const context = { home: "/home/ada", workspaceFolder: "/work/site" };

test("settings map to the server's `micros` section, empty ones left out", () => {
  const values: Record<string, unknown> = { source: "~/src/micros", nixpkgs: "  ", options: 42 };
  assert.deepEqual(serverSettings((key) => values[key], context), { source: "/home/ada/src/micros" });
});

test("unset keys are sent as null, so clearing a setting clears it in the server", () => {
  assert.deepEqual(serverPayload({ source: "/m" }), { micros: { source: "/m", nixpkgs: null, options: null } });
  assert.deepEqual(serverPayload({}), { micros: { source: null, nixpkgs: null, options: null } });
});

test("~ and ${workspaceFolder} are expanded; relative paths stay relative for the server", () => {
  assert.equal(expandPath("~", context), "/home/ada");
  assert.equal(expandPath("${workspaceFolder}/options.json", context), "/work/site/options.json");
  assert.equal(expandPath("${userHome}/m", context), "/home/ada/m");
  assert.equal(expandPath("vendor/micros", context), "vendor/micros");
  assert.equal(expandPath("/abs/~x", context), "/abs/~x");
  // Without a workspace folder the variable is left for the user to see.
  assert.equal(expandPath("${workspaceFolder}/x", { home: "/h" }), "${workspaceFolder}/x");
});

test("a changed server path restarts; a changed option source is forwarded; others are ignored", () => {
  const affects = (changed: string[]) => (section: string) => changed.some((c) => c === section || c.startsWith(section + "."));
  assert.equal(changeAction(affects(["micros.server.path"])), "restart");
  assert.equal(changeAction(affects(["micros.nixpkgs"])), "notify");
  assert.equal(changeAction(affects(["micros.options", "micros.server.path"])), "restart");
  assert.equal(changeAction(affects(["micros.trace.server"])), "none");
  assert.equal(changeAction(affects(["editor.fontSize"])), "none");
});
