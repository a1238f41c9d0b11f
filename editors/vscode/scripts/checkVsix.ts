// A per-platform package as VS Code would install it: MICROS_VSIX is
// unpacked, the extension's own lookup (src/serverPath.ts, with no setting
// and an empty PATH) must find the server inside it, and that server must
// answer initialize and check a file. Run by .ci/steps/85-release.sh on the
// linux-x64 package: `node --test out/scripts/checkVsix.js`.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";
import { isExecutableFile, resolveServerPath } from "../src/serverPath";
import { serverPayload, serverSettings } from "../src/settings";

const repo = path.resolve(__dirname, "../../../..");
const vsix = process.env.MICROS_VSIX ?? "";

test("the package's own server is found and answers", { timeout: 60_000 }, async () => {
  assert.ok(fs.existsSync(vsix), `MICROS_VSIX=${vsix} is not a file`);
  const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), "micros-vsix-"));
  try {
    execFileSync("unzip", ["-q", vsix, "-d", unpacked]);
    const manifest = fs.readFileSync(path.join(unpacked, "extension.vsixmanifest"), "utf8");
    assert.match(manifest, /TargetPlatform="linux-x64"/);

    const extensionDir = path.join(unpacked, "extension");
    const context = { home: unpacked, workspaceFolder: unpacked };
    const found = resolveServerPath("", context, { platform: "linux", path: "", extensionDir, isExecutable: isExecutableFile });
    assert.deepEqual(found, { ok: true, path: path.join(extensionDir, "server/micros-lsp"), from: "bundled" });
    if (!found.ok) {
      return;
    }

    const file = path.join(unpacked, "configuration.nix");
    fs.copyFileSync(path.join(repo, "editors/fixture/configuration.nix"), file);
    const uri = pathToFileURL(file).href;
    const child = spawn(found.path, [], { cwd: unpacked, env: { PATH: "" }, stdio: ["pipe", "pipe", "ignore"] });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const diagnosed = new Promise<string[]>((resolve) => {
      connection.onNotification("textDocument/publishDiagnostics", (params: { uri: string; diagnostics: { code?: string }[] }) => {
        const codes = params.diagnostics.map((d) => String(d.code));
        if (params.uri === uri && codes.includes("unknown-option")) {
          resolve(codes);
        }
      });
    });
    connection.listen();
    try {
      const settings = { source: path.join(repo, "tests/fixtures/micros"), nixpkgs: path.join(repo, "tests/fixtures/nixpkgs") };
      const result = (await connection.sendRequest("initialize", {
        processId: process.pid,
        rootUri: pathToFileURL(unpacked).href,
        capabilities: {},
        initializationOptions: serverPayload(serverSettings((key) => settings[key as keyof typeof settings] ?? "", context)),
      })) as { serverInfo?: { name?: string }; capabilities?: { completionProvider?: unknown } };
      assert.equal(result.serverInfo?.name, "micros-lsp");
      assert.ok(result.capabilities?.completionProvider, JSON.stringify(result));
      await connection.sendNotification("initialized", {});
      await connection.sendNotification("textDocument/didOpen", {
        textDocument: { uri, languageId: "nix", version: 1, text: fs.readFileSync(file, "utf8") },
      });
      await diagnosed;
      await connection.sendRequest("shutdown");
      await connection.sendNotification("exit");
      assert.equal(await exited, 0);
    } finally {
      connection.dispose();
      child.kill();
    }
  } finally {
    fs.rmSync(unpacked, { recursive: true, force: true });
  }
});
