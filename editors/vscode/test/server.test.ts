// The payload the extension sends, over the protocol library the extension
// uses, to the real micros-lsp: initializationOptions make it check the
// fixture configuration against the fixture options, and a
// didChangeConfiguration that clears `micros.source` turns the option
// checks off again. Needs a built server: MICROS_LSP or
// ../../target/release/micros-lsp.

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
  const child = spawn(server, [], { cwd: workspace, env, stdio: ["pipe", "pipe", "ignore"] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const published: Diagnostic[][] = [];
  let wake: () => void = () => {};
  connection.onNotification("textDocument/publishDiagnostics", (params: { uri: string; diagnostics: Diagnostic[] }) => {
    if (params.uri === uri) {
      published.push(params.diagnostics);
      wake();
    }
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

    await connection.sendRequest("shutdown");
    await connection.sendNotification("exit");
  } finally {
    connection.dispose();
    child.kill();
    fs.rmSync(workspace, { recursive: true, force: true });
  }
});
