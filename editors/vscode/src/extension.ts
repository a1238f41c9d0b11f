// The MicrOS extension: starts micros-lsp for Nix files, passes it the
// `micros` settings and forwards their changes, shows its state in the
// status bar and its log in an output channel, and restarts on command.

import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import { TOKEN_TYPES, lexNix, nixGrammarProviders, toLineTokens } from "./nixSyntax";
import { isExecutableFile, resolveServerPath } from "./serverPath";
import { changeAction, defaultContext, serverPayload, serverSettings } from "./settings";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let status: vscode.StatusBarItem;
let fallback: vscode.Disposable | undefined;
let extensionDir: string | undefined;

function workspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function currentPayload() {
  const config = vscode.workspace.getConfiguration("micros");
  return serverPayload(serverSettings((key) => config.get(key), defaultContext(workspaceFolder())));
}

function showStatus(state: "starting" | "running" | "stopped" | "error", detail: string) {
  const icon = { starting: "$(sync~spin)", running: "$(check)", stopped: "$(circle-slash)", error: "$(error)" }[state];
  status.text = `${icon} MicrOS`;
  status.tooltip = `micros-lsp: ${detail}\nClick for the server's output.`;
  status.backgroundColor = state === "error" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  status.show();
}

async function start(): Promise<void> {
  const resolution = resolveServerPath(
    vscode.workspace.getConfiguration("micros").get<string>("server.path"),
    defaultContext(workspaceFolder()),
    {
      platform: process.platform,
      path: process.env.PATH ?? process.env.Path,
      pathext: process.env.PATHEXT,
      cargoHome: process.env.CARGO_HOME,
      extensionDir,
      isExecutable: isExecutableFile,
    },
  );
  if (!resolution.ok) {
    output.appendLine(`error: ${resolution.message}`);
    showStatus("error", resolution.message);
    const choice = await vscode.window.showErrorMessage(`MicrOS: ${resolution.message}`, "Open Settings");
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "micros.server.path");
    }
    return;
  }
  output.appendLine(`starting ${resolution.path} (from ${resolution.from})`);
  const executable = { command: resolution.path, transport: TransportKind.stdio };
  const serverOptions: ServerOptions = { run: executable, debug: executable };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: "nix" }],
    // A function, so that a restart sends the settings of that moment.
    initializationOptions: () => currentPayload(),
    outputChannel: output,
  };
  const next = new LanguageClient("micros", "MicrOS language server", serverOptions, clientOptions);
  next.onDidChangeState((event) => {
    if (event.newState === State.Running) {
      const info = next.initializeResult?.serverInfo;
      showStatus("running", `${info?.name ?? "micros-lsp"} ${info?.version ?? ""} (${resolution.path})`);
    } else if (event.newState === State.Starting) {
      showStatus("starting", `starting ${resolution.path}`);
    } else {
      showStatus("stopped", "stopped; run “MicrOS: Restart the language server”");
    }
  });
  client = next;
  showStatus("starting", `starting ${resolution.path}`);
  try {
    await next.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    output.appendLine(`error: micros-lsp did not start: ${message}`);
    showStatus("error", `did not start: ${message}`);
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop(2000);
    } catch (error) {
      output.appendLine(`stopping micros-lsp: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

async function restart(): Promise<void> {
  output.appendLine("restarting micros-lsp");
  await stop();
  await start();
}

/** Comment rules and highlighting, only while no Nix extension provides them. */
function updateFallback(context: vscode.ExtensionContext): void {
  const others = nixGrammarProviders(
    vscode.extensions.all.map((ext) => ({ id: ext.id, packageJSON: ext.packageJSON })),
    context.extension.id,
  );
  if (others.length > 0) {
    if (fallback) {
      output.appendLine(`Nix highlighting comes from ${others.join(", ")}; turning ours off`);
      fallback.dispose();
      fallback = undefined;
    }
    return;
  }
  if (fallback) {
    return;
  }
  output.appendLine("no Nix extension provides a grammar; using MicrOS's minimal Nix highlighting");
  const legend = new vscode.SemanticTokensLegend([...TOKEN_TYPES], []);
  const provider: vscode.DocumentSemanticTokensProvider = {
    provideDocumentSemanticTokens(document) {
      const text = document.getText();
      const builder = new vscode.SemanticTokensBuilder(legend);
      for (const token of toLineTokens(text, lexNix(text))) {
        builder.push(token.line, token.character, token.length, TOKEN_TYPES.indexOf(token.type), 0);
      }
      return builder.build();
    },
  };
  fallback = vscode.Disposable.from(
    vscode.languages.setLanguageConfiguration("nix", {
      comments: { lineComment: "#", blockComment: ["/*", "*/"] },
      brackets: [
        ["{", "}"],
        ["[", "]"],
        ["(", ")"],
      ],
    }),
    vscode.languages.registerDocumentSemanticTokensProvider({ language: "nix" }, provider, legend),
  );
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extensionDir = context.extensionPath;
  output = vscode.window.createOutputChannel("MicrOS");
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status.name = "MicrOS language server";
  status.command = "micros.showOutput";
  context.subscriptions.push(
    output,
    status,
    vscode.commands.registerCommand("micros.restartServer", restart),
    vscode.commands.registerCommand("micros.showOutput", () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      const action = changeAction((section) => event.affectsConfiguration(section));
      if (action === "restart") {
        await restart();
      } else if (action === "notify" && client?.isRunning()) {
        const payload = currentPayload();
        output.appendLine(`settings changed: ${JSON.stringify(payload.micros)}`);
        await client.sendNotification(DidChangeConfigurationNotification.type, { settings: payload });
      }
    }),
    vscode.extensions.onDidChange(() => updateFallback(context)),
    { dispose: () => fallback?.dispose() },
  );
  updateFallback(context);
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}
