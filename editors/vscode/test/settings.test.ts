import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { FLAG_KEYS, PATH_KEYS, changeAction, expandPath, serverPayload, serverSettings } from "../src/settings";

const nested = { diagnostics: { generic: true }, formatting: { command: null }, inlayHints: { bindingEndMinLines: null } };

const context = { home: "/home/ada", workspaceFolder: "/work/site" };

test("settings map to the server's `micros` section, empty ones left out", () => {
  const values: Record<string, unknown> = { source: "~/src/micros", nixpkgs: "  ", options: 42 };
  assert.deepEqual(serverSettings((key) => values[key], context), { source: "/home/ada/src/micros" });
});

test("`eval` is sent as a boolean; strings and other values are not taken for one", () => {
  assert.deepEqual(serverSettings((key) => (key === "eval" ? true : undefined), context), { eval: true });
  assert.deepEqual(serverSettings((key) => (key === "eval" ? false : ""), context), { eval: false });
  for (const value of ["true", 1, null, undefined]) {
    assert.deepEqual(serverSettings((key) => (key === "eval" ? value : undefined), context), {});
  }
});

test("unset paths are sent as null and unset flags as false, so clearing a setting clears it in the server", () => {
  assert.deepEqual(serverPayload({ source: "/m" }), { micros: { source: "/m", nixpkgs: null, options: null, eval: false, ...nested } });
  assert.deepEqual(serverPayload({ eval: true }), { micros: { source: null, nixpkgs: null, options: null, eval: true, ...nested } });
  assert.deepEqual(serverPayload({}), { micros: { source: null, nixpkgs: null, options: null, eval: false, ...nested } });
  // What crosses the wire: a real JSON boolean, never null, for the flag.
  assert.equal(JSON.stringify(serverPayload({}).micros.eval), "false");
});

test("generic diagnostics can be left to another server; a formatter command is a list of words", () => {
  const values: Record<string, unknown> = { "diagnostics.generic": false, "formatting.command": ["~/bin/nixfmt", "-w", "100"] };
  const settings = serverSettings((key) => values[key], context);
  assert.deepEqual(settings, { genericDiagnostics: false, formattingCommand: ["/home/ada/bin/nixfmt", "-w", "100"] });
  assert.deepEqual(serverPayload(settings).micros.diagnostics, { generic: false });
  assert.deepEqual(serverPayload(settings).micros.formatting, { command: ["/home/ada/bin/nixfmt", "-w", "100"] });
  // An empty list, or one with something else than words, is no command.
  for (const command of [[], ["nixfmt", 3], "nixfmt"]) {
    assert.deepEqual(serverSettings((key) => (key === "formatting.command" ? command : undefined), context), {});
  }
  const affects = (section: string) => "micros.diagnostics.generic".startsWith(section);
  assert.equal(changeAction(affects), "notify");
});

test("the binding-end hint threshold is a whole number of lines, null when unset", () => {
  const lines = (value: unknown) => serverSettings((key) => (key === "inlayHints.bindingEndMinLines" ? value : undefined), context);
  assert.deepEqual(lines(10), { bindingEndMinLines: 10 });
  assert.deepEqual(lines(0), { bindingEndMinLines: 0 });
  for (const value of [-1, 2.5, "10", null]) {
    assert.deepEqual(lines(value), {});
  }
  assert.deepEqual(serverPayload({ bindingEndMinLines: 0 }).micros.inlayHints, { bindingEndMinLines: 0 });
  assert.deepEqual(serverPayload({}).micros.inlayHints, { bindingEndMinLines: null });
  const affects = (section: string) => "micros.inlayHints.bindingEndMinLines".startsWith(section);
  assert.equal(changeAction(affects), "notify");
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
  assert.equal(changeAction(affects(["micros.eval"])), "notify");
  assert.equal(changeAction(affects(["micros.options", "micros.server.path"])), "restart");
  assert.equal(changeAction(affects(["micros.trace.server"])), "none");
  assert.equal(changeAction(affects(["editor.fontSize"])), "none");
});

test("every key sent to the server is a setting in package.json, of the type it is sent as", () => {
  const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../package.json"), "utf8"));
  const properties = manifest.contributes.configuration.properties;
  for (const key of PATH_KEYS) {
    assert.equal(properties[`micros.${key}`]?.type, "string", `micros.${key}`);
    assert.equal(properties[`micros.${key}`].default, "", `micros.${key}`);
  }
  for (const key of FLAG_KEYS) {
    assert.equal(properties[`micros.${key}`]?.type, "boolean", `micros.${key}`);
    assert.equal(properties[`micros.${key}`].default, false, `micros.${key}`);
  }
  assert.equal(properties["micros.diagnostics.generic"]?.type, "boolean");
  assert.equal(properties["micros.diagnostics.generic"].default, true);
  assert.equal(properties["micros.formatting.command"]?.type, "array");
  assert.equal(properties["micros.formatting.command"].items.type, "string");
  assert.equal(properties["micros.inlayHints.bindingEndMinLines"]?.type, "integer");
  assert.equal(properties["micros.inlayHints.bindingEndMinLines"].default, 25);
  // Evaluation runs the flake's code: the setting says so.
  assert.match(properties["micros.eval"].markdownDescription, /runs the flake's Nix code/);
});
