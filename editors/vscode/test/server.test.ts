// The payload the extension sends, over the protocol library the extension
// uses, to the real micros-lsp: initializationOptions make it check the
// fixture configuration against the fixture options, and a
// didChangeConfiguration that clears `micros.source` turns the option
// checks off again; `eval: true` without Nix on PATH is one message and the
// options extracted without Nix, and clearing it goes back quietly. Needs a
// built server: MICROS_LSP or ../../target/release/micros-lsp.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";
import { serverPayload, serverSettings } from "../src/settings";

const repo = path.resolve(__dirname, "../../../..");
const server = process.env.MICROS_LSP ?? path.join(repo, "target/release/micros-lsp");

interface Diagnostic {
  code?: string | number;
  message: string;
}

test("the extension's settings payload reaches the real server", { skip: !fs.existsSync(server) && `no server at ${server}`, timeout: 60_000 }, async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "micros-vscode-"));
  const file = path.join(workspace, "configuration.nix");
  fs.copyFileSync(path.join(repo, "editors/fixture/configuration.nix"), file);
  const uri = pathToFileURL(file).href;
  const context = { home: os.homedir(), workspaceFolder: workspace };
  const configured = { source: path.join(repo, "tests/fixtures/micros"), nixpkgs: path.join(repo, "tests/fixtures/nixpkgs") };

  const env = { ...process.env };
  delete env.MICROS_SRC;
  delete env.MICROS_NIXPKGS;
  // No `nix` for the server to find: evaluation must fail and fall back.
  env.PATH = workspace;
  const child = spawn(server, [], { cwd: workspace, env, stdio: ["pipe", "pipe", "ignore"] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const published: Diagnostic[][] = [];
  // The server's messages in order: warnings (showMessage) come before the
  // summary line (logMessage) of the option load they belong to.
  const said: { shown: boolean; message: string }[] = [];
  let wake: () => void = () => {};
  connection.onNotification("textDocument/publishDiagnostics", (params: { uri: string; diagnostics: Diagnostic[] }) => {
    if (params.uri === uri) {
      published.push(params.diagnostics);
      wake();
    }
  });
  connection.onNotification("window/showMessage", (params: { message: string }) => {
    said.push({ shown: true, message: params.message });
    wake();
  });
  connection.onNotification("window/logMessage", (params: { message: string }) => {
    said.push({ shown: false, message: params.message });
    wake();
  });
  connection.listen();
  const next = (what: string, accept: (d: Diagnostic[]) => boolean) =>
    new Promise<Diagnostic[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; last: ${JSON.stringify(published.at(-1))}`)), 20_000);
      const check = () => {
        const found = published.find(accept);
        if (found) {
          clearTimeout(timer);
          published.length = 0;
          resolve(found);
        }
      };
      wake = check;
      check();
    });
  // The messages up to and including the next option load's summary.
  const nextLoad = (what: string) =>
    new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; said: ${JSON.stringify(said)}`)), 20_000);
      const check = () => {
        const end = said.findIndex((m) => !m.shown && /options/.test(m.message));
        if (end >= 0) {
          clearTimeout(timer);
          const shown = said.slice(0, end).filter((m) => m.shown).map((m) => m.message);
          said.splice(0, end + 1);
          resolve(shown);
        }
      };
      wake = check;
      check();
    });
  const unknownOption = (d: Diagnostic[]) => d.some((x) => x.code === "unknown-option" && x.message.includes("services.gety"));

  try {
    await connection.sendRequest("initialize", {
      processId: process.pid,
      rootUri: pathToFileURL(workspace).href,
      capabilities: {},
      initializationOptions: serverPayload(serverSettings((key) => configured[key as keyof typeof configured] ?? "", context)),
    });
    await connection.sendNotification("initialized", {});
    await connection.sendNotification("textDocument/didOpen", {
      textDocument: { uri, languageId: "nix", version: 1, text: fs.readFileSync(file, "utf8") },
    });
    await next("the unknown-option diagnostic", unknownOption);

    // Clearing micros.source: the server reloads, finds no micros tree, and
    // stops judging option names.
    await connection.sendNotification("workspace/didChangeConfiguration", { settings: serverPayload({}) });
    await next("diagnostics without option checks", (d) => !unknownOption(d));

    // Setting it again brings the check back.
    await connection.sendNotification("workspace/didChangeConfiguration", {
      settings: serverPayload(serverSettings((key) => configured[key as keyof typeof configured] ?? "", context)),
    });
    const again = await next("the unknown-option diagnostic after reconfiguring", unknownOption);
    assert.ok(again.some((d) => d.message.includes("did you mean `services.getty`?")));

    // micros.eval on, with no Nix: one message saying so, and the options
    // extracted without Nix still judge the names.
    said.length = 0;
    const withEval = serverSettings((key) => (key === "eval" ? true : (configured[key as keyof typeof configured] ?? "")), context);
    await connection.sendNotification("workspace/didChangeConfiguration", { settings: serverPayload(withEval) });
    const warned = await nextLoad("the option load with micros.eval");
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.match(warned[0], /evaluating the options with Nix failed/);
    await next("the unknown-option diagnostic with micros.eval and no Nix", unknownOption);

    // Cleared in the editor (sent as false): the server reloads without
    // trying Nix, so without the message.
    await connection.sendNotification("workspace/didChangeConfiguration", {
      settings: serverPayload(serverSettings((key) => configured[key as keyof typeof configured] ?? "", context)),
    });
    assert.deepEqual(await nextLoad("the option load after clearing micros.eval"), []);
    await next("the unknown-option diagnostic after clearing micros.eval", unknownOption);

    await connection.sendRequest("shutdown");
    await connection.sendNotification("exit");
  } finally {
    connection.dispose();
    child.kill();
    fs.rmSync(workspace, { recursive: true, force: true });
  }
});
