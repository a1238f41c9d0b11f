import assert from "node:assert/strict";
import { test } from "node:test";
import { lexNix, nixGrammarProviders, toLineTokens } from "../src/nixSyntax";

function show(text: string): string[] {
  return lexNix(text).map((t) => `${t.type}:${text.slice(t.start, t.start + t.length)}`);
}

test("keywords, attribute names, numbers, comments, paths", () => {
  assert.deepEqual(show("let x = 1; in { services.getty.enable = true; # on\n imports = [ ./hw.nix <nixpkgs> ]; }"), [
    "keyword:let",
    "property:x",
    "number:1",
    "keyword:in",
    "property:services",
    "property:getty",
    "property:enable",
    "keyword:true",
    "comment:# on",
    "property:imports",
    "string:./hw.nix",
    "string:<nixpkgs>",
  ]);
});

test("strings with interpolation, escapes and indented strings", () => {
  assert.deepEqual(show('"a\\"${b}c"'), ['string:"a\\"', "operator:${", "operator:}", 'string:c"']);
  assert.deepEqual(show("''x ''${y} ${z}''"), ["string:''x ''${y} ", "operator:${", "operator:}", "string:''"]);
  // A set inside an interpolation does not end it early.
  assert.deepEqual(show('"${ { a = 1; }.a }!"'), ['string:"', "operator:${", "property:a", "number:1", "operator:}", 'string:!"']);
});

test("unterminated input runs to the end without throwing", () => {
  assert.deepEqual(show('"abc'), ['string:"abc']);
  assert.deepEqual(show("/* abc"), ["comment:/* abc"]);
  assert.deepEqual(show("''${"), ["string:''", "operator:${"]);
});

test("division is not a path", () => {
  assert.deepEqual(show("a / b"), []);
  assert.deepEqual(show("x = a/b;"), ["property:x"]);
});

test("multi-line tokens are split per line with UTF-16 columns", () => {
  const text = "/* é\nb */ x = 1;";
  assert.deepEqual(toLineTokens(text, lexNix(text)), [
    { line: 0, character: 0, length: 4, type: "comment" },
    { line: 1, character: 0, length: 4, type: "comment" },
    { line: 1, character: 5, length: 1, type: "property" },
    { line: 1, character: 9, length: 1, type: "number" },
  ]);
});

test("another extension's Nix grammar turns the fallback off", () => {
  const self = { id: "micros-lsp.micros-lsp", packageJSON: { contributes: {} } };
  const nixIde = { id: "jnoortheen.nix-ide", packageJSON: { contributes: { grammars: [{ language: "nix" }] } } };
  const python = { id: "ms-python.python", packageJSON: { contributes: { grammars: [{ language: "python" }] } } };
  assert.deepEqual(nixGrammarProviders([self, python], "micros-lsp.micros-lsp"), []);
  assert.deepEqual(nixGrammarProviders([self, nixIde, python], "micros-lsp.micros-lsp"), ["jnoortheen.nix-ide"]);
});
