"""Check editors/helix/languages.toml: it parses as TOML, declares a server
whose command is the binary this repository builds, and adds it to Helix's
`nix` language as its only server (with the setting that keeps another
one beside it shown). Exits 1 with a message if not."""

import pathlib
import re
import sys
import tomllib

here = pathlib.Path(__file__).resolve().parent
repo = here.parents[2]
snippet = here.parent / "languages.toml"


def fail(message: str) -> None:
    print(f"FAIL: {snippet}: {message}", file=sys.stderr)
    sys.exit(1)


try:
    doc = tomllib.loads(snippet.read_text())
except tomllib.TOMLDecodeError as error:
    fail(f"not valid TOML: {error}")

# The binary names lsp/Cargo.toml declares.
cargo = (repo / "lsp" / "Cargo.toml").read_text()
binaries = re.findall(r'\[\[bin\]\]\s*name\s*=\s*"([^"]+)"', cargo)
if "micros-lsp" not in binaries:
    fail(f"lsp/Cargo.toml builds {binaries}, not micros-lsp")

server = doc.get("language-server", {}).get("micros-lsp")
if server is None:
    fail("no [language-server.micros-lsp] table")
command = server.get("command")
if command != "micros-lsp":
    fail(f"the server command is {command!r}, expected 'micros-lsp'")
if server.get("args", []) != []:
    fail(f"micros-lsp takes no arguments, the snippet passes {server['args']!r}")

settings = server.get("config", {}).get("micros", {})
kinds = {"source": str, "nixpkgs": str, "options": str, "eval": bool, "formatting": dict, "diagnostics": dict}
unknown = set(settings) - set(kinds)
if unknown:
    fail(f"settings the server does not read: {sorted(unknown)}")
for key, value in settings.items():
    # The server ignores a value of the wrong type.
    if not isinstance(value, kinds[key]):
        fail(f"config.micros.{key} is {value!r}, expected a {kinds[key].__name__}")

nix = [lang for lang in doc.get("language", []) if lang.get("name") == "nix"]
if len(nix) != 1:
    fail(f"expected one [[language]] named nix, found {len(nix)}")
servers = nix[0].get("language-servers", [])
names = [s if isinstance(s, str) else s.get("name") for s in servers]
if "micros-lsp" not in names:
    fail(f"the nix language's servers {names} do not include micros-lsp")
if names != ["micros-lsp"]:
    fail(f"micros-lsp serves nix files alone, the snippet lists {names}")
# The commented settings the snippet suggests must be ones the server reads.
commented = "\n".join(
    line.lstrip("# ") for line in snippet.read_text().splitlines() if re.match(r"#\s*[a-z.]+\s*=", line)
)
suggested = tomllib.loads(commented)
if suggested.get("diagnostics", {}).get("generic") is not False:
    fail("the snippet should show `diagnostics.generic = false` for keeping nil beside")
if not isinstance(suggested.get("formatting", {}).get("command"), list):
    fail("the snippet should show `formatting.command` as a list")
for key in suggested:
    if key not in kinds:
        fail(f"the snippet suggests a setting the server does not read: {key}")
for key in nix[0]:
    # Setting these would replace Helix's defaults for nix; the snippet must
    # only add a server.
    if key not in ("name", "language-servers"):
        fail(f"the [[language]] table sets {key!r}, which replaces a Helix default")

print(f"ok: {snippet.relative_to(repo)}: [language-server.micros-lsp] runs `{command}`; nix uses {names}")
