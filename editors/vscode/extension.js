// The unik extension: starts `unikc lsp` for .unik files.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("unik").get("server.path") || "unikc";
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "unik",
    "unikc",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "unik" }] },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
