// Runs the TextMate grammar over .unik files (vscode-textmate with the
// Oniguruma engine VS Code itself uses).
//   node test/grammar.js PATH...          checks every file ends outside any
//                                          string, comment or brace
//   node test/grammar.js --json PATH...   prints each file's tokens (byte
//                                          offsets) for the Rust test to check
"use strict";
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const onig = require("vscode-oniguruma");

const grammarPath = path.join(__dirname, "..", "syntaxes", "unik.tmLanguage.json");

function files(p, out) {
  if (fs.statSync(p).isDirectory()) {
    for (const e of fs.readdirSync(p).sort()) {
      if (e !== "node_modules" && e !== "_build" && e !== "target") files(path.join(p, e), out);
    }
  } else if (p.endsWith(".unik")) {
    out.push(p);
  }
  return out;
}

async function grammar() {
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm"));
  await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new onig.OnigScanner(sources),
      createOnigString: (s) => new onig.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === "source.unik" ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath) : null,
  });
  return registry.loadGrammar("source.unik");
}

function tokenize(g, text) {
  let stack = vsctm.INITIAL;
  let offset = 0;
  const tokens = [];
  for (const line of text.split("\n")) {
    const r = g.tokenizeLine(line, stack);
    for (const t of r.tokens) {
      const start = offset + Buffer.byteLength(line.slice(0, t.startIndex));
      const end = offset + Buffer.byteLength(line.slice(0, t.endIndex));
      if (end > start) tokens.push([start, end, t.scopes.join(" ")]);
    }
    stack = r.ruleStack;
    offset += Buffer.byteLength(line) + 1;
  }
  // Depth 1 is the top level: no string, comment or brace left open.
  return { closed: stack.depth === 1, tokens };
}

async function main() {
  const args = process.argv.slice(2);
  const json = args[0] === "--json";
  const paths = (json ? args.slice(1) : args).flatMap((p) => files(p, []));
  if (paths.length === 0) throw new Error("no .unik files given");
  const g = await grammar();
  const results = paths.map((file) => ({ file, ...tokenize(g, fs.readFileSync(file, "utf8")) }));
  if (json) {
    process.stdout.write(JSON.stringify(results));
    return;
  }
  const open = results.filter((r) => !r.closed);
  for (const r of open) console.error(`${r.file}: the grammar is still inside a string, comment or brace at the end`);
  console.log(`${results.length - open.length}/${results.length} files tokenized back to the top level`);
  if (open.length > 0) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
