// Highlighting for Nix when no Nix extension is installed. VS Code has no
// way to contribute a TextMate grammar conditionally, so the extension
// contributes none and, only when no other extension provides a grammar
// for `nix`, registers a semantic tokens provider built on this small
// lexer. Pure, so that it is tested without VS Code.

export const TOKEN_TYPES = ["comment", "string", "number", "keyword", "property", "function", "operator"] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

export interface Token {
  /** UTF-16 offsets, as JavaScript strings index. */
  start: number;
  length: number;
  type: TokenType;
}

const KEYWORDS = new Set(["let", "in", "with", "rec", "inherit", "if", "then", "else", "assert", "or", "true", "false", "null"]);
const BUILTINS = new Set(["import", "builtins", "throw", "abort", "map", "toString", "derivation"]);

const IDENT_START = /[A-Za-z_]/;
const IDENT = /[A-Za-z0-9_'-]/;
const PATH_CHAR = /[A-Za-z0-9._+~/-]/;

type Mode = "code" | "interpolation" | "string" | "indented";

/**
 * Lex `text` into tokens. Never throws: unterminated strings and comments
 * run to the end of the text.
 */
export function lexNix(text: string): Token[] {
  const tokens: Token[] = [];
  // What each open `${`, `{` or string returns to when it closes.
  const stack: Mode[] = [];
  let mode: Mode = "code";
  // Where the string being lexed began (its opening quotes), until its
  // first token is pushed.
  let stringStart: number | undefined;
  let i = 0;
  const push = (start: number, end: number, type: TokenType) => {
    if (end > start) {
      tokens.push({ start, length: end - start, type });
    }
  };

  while (i < text.length) {
    if (mode === "string" || mode === "indented") {
      const start = stringStart ?? i;
      stringStart = undefined;
      const end = stringEnd(text, i, mode);
      push(start, end.at, "string");
      i = end.at;
      if (end.closed) {
        mode = stack.pop() ?? "code";
      } else if (i < text.length) {
        // At `${`.
        push(i, i + 2, "operator");
        stack.push(mode);
        mode = "interpolation";
        i += 2;
      }
      continue;
    }

    const c = text[i];
    const start = i;
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i += 1;
      push(start, i, "comment");
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      i = end === -1 ? text.length : end + 2;
      push(start, i, "comment");
    } else if (c === '"' || text.startsWith("''", i)) {
      stack.push(mode);
      mode = c === '"' ? "string" : "indented";
      stringStart = i;
      i += c === '"' ? 1 : 2;
    } else if (c === "{") {
      stack.push(mode);
      mode = "code";
      i += 1;
    } else if (c === "}") {
      if (mode === "interpolation") {
        push(i, i + 1, "operator");
      }
      mode = stack.pop() ?? "code";
      i += 1;
    } else if (/[0-9]/.test(c)) {
      while (i < text.length && /[0-9.eE]/.test(text[i])) i += 1;
      push(start, i, "number");
    } else if (c === "<" && /^<[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*>/.test(text.slice(i, i + 256))) {
      i = text.indexOf(">", i) + 1;
      push(start, i, "string");
    } else if (startsPath(text, i)) {
      while (i < text.length && PATH_CHAR.test(text[i])) i += 1;
      push(start, i, "string");
    } else if (IDENT_START.test(c)) {
      while (i < text.length && IDENT.test(text[i])) i += 1;
      const word = text.slice(start, i);
      if (KEYWORDS.has(word)) {
        push(start, i, "keyword");
      } else if (BUILTINS.has(word)) {
        push(start, i, "function");
      } else if (isAttributeName(text, i)) {
        push(start, i, "property");
      }
    } else {
      i += 1;
    }
  }
  return tokens;
}

/** The end of string text starting at `i`: after the closing quote, or at `${`. */
function stringEnd(text: string, i: number, mode: "string" | "indented"): { at: number; closed: boolean } {
  while (i < text.length) {
    if (mode === "string") {
      if (text[i] === "\\") {
        i += 2;
        continue;
      }
      if (text[i] === '"') {
        return { at: i + 1, closed: true };
      }
    } else if (text.startsWith("''", i)) {
      // `'''`, `''$` and `''\x` are escapes, not the end.
      if (text[i + 2] === "'" || text[i + 2] === "$") {
        i += 3;
        continue;
      }
      if (text[i + 2] === "\\") {
        i += 4;
        continue;
      }
      return { at: i + 2, closed: true };
    }
    if (text.startsWith("${", i)) {
      return { at: i, closed: false };
    }
    i += 1;
  }
  return { at: text.length, closed: false };
}

/** `./x`, `../x`, `~/x`, or `/x` where it cannot be a division. */
function startsPath(text: string, i: number): boolean {
  const c = text[i];
  if ((c === "." || c === "~") && text[i + 1] === "/") return true;
  if (text.startsWith("../", i)) return true;
  return c === "/" && IDENT.test(text[i + 1] ?? "") && !/[A-Za-z0-9_)\s]/.test(text[i - 1] ?? " ");
}

/** `name` followed by `=` (not `==`), or by `.` and another name: an attribute path segment. */
function isAttributeName(text: string, end: number): boolean {
  let j = end;
  while (j < text.length && (text[j] === " " || text[j] === "\t")) j += 1;
  if (text[j] === "=" && text[j + 1] !== "=") {
    return true;
  }
  return text[end] === "." && IDENT_START.test(text[end + 1] ?? "");
}

/** A token placed on one line, as semantic tokens must be. */
export interface LineToken {
  line: number;
  character: number;
  length: number;
  type: TokenType;
}

/** Split tokens at line ends and give them line/character positions. */
export function toLineTokens(text: string, tokens: Token[]): LineToken[] {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\n") lineStarts.push(i + 1);
  }
  const out: LineToken[] = [];
  let line = 0;
  for (const token of tokens) {
    let start = token.start;
    const end = token.start + token.length;
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= start) line += 1;
    while (start < end) {
      const lineEnd = line + 1 < lineStarts.length ? lineStarts[line + 1] - 1 : text.length;
      const pieceEnd = Math.min(end, lineEnd);
      if (pieceEnd > start) {
        out.push({ line, character: start - lineStarts[line], length: pieceEnd - start, type: token.type });
      }
      if (pieceEnd >= end) break;
      line += 1;
      start = lineStarts[line];
    }
  }
  return out;
}

/** The smallest part of an installed extension's manifest we look at. */
export interface ExtensionManifest {
  id: string;
  packageJSON: { contributes?: { grammars?: Array<{ language?: string }> } };
}

/** Extensions other than `selfId` that contribute a grammar for `nix`. */
export function nixGrammarProviders(extensions: readonly ExtensionManifest[], selfId: string): string[] {
  return extensions
    .filter((ext) => ext.id.toLowerCase() !== selfId.toLowerCase())
    .filter((ext) => (ext.packageJSON.contributes?.grammars ?? []).some((g) => g.language === "nix"))
    .map((ext) => ext.id);
}
